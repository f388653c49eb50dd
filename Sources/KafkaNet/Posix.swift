// Every libc call KafkaNet makes goes through this file: retried on EINTR and, on failure,
// turned into a `SystemCallError` that names the call.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which one and its errno.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public var description: String {
        let text = Posix.cString(strerror(errno)) ?? "errno \(errno)"
        return "\(call): \(text)"
    }
}

enum Posix {
    /// Runs `body` until it does not fail with EINTR. Returns its result or throws.
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemCallError) -> T {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw SystemCallError(call: call, errno: e)
        }
    }

    /// A NUL-terminated C string as a Swift string (nil for a null pointer).
    static func cString(_ p: UnsafePointer<CChar>?) -> String? {
        guard let p else { return nil }
        let n = strlen(p)
        return p.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
    }

    static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try retrying("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try retrying("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setNoDelay(_ fd: Int32) throws(SystemCallError) {
        var one: Int32 = 1
        _ = try retrying("setsockopt(TCP_NODELAY)") {
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    static func setKeepAlive(_ fd: Int32) throws(SystemCallError) {
        var one: Int32 = 1
        _ = try retrying("setsockopt(SO_KEEPALIVE)") {
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Pending socket error after a non-blocking connect (0 = connected).
    static func socketError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 { return errno }
        return err
    }

    static func close(_ fd: Int32) {
        // EINTR on close must not be retried on Linux: the descriptor is already released.
        _ = Glibc.close(fd)
    }
}
