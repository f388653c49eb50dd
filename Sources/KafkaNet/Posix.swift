// Every libc call KafkaNet makes goes through this file: retried on EINTR and, on failure,
// turned into a `SystemCallError` that names the call.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CKafkaNetShims

/// A failed system call: which one and its errno.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    /// The call's name, e.g. `connect`.
    public let call: String
    /// The errno it failed with.
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

    /// A non-blocking, close-on-exec TCP socket of `family`.
    static func tcpSocket(family: Int32) throws(SystemCallError) -> Int32 {
        try retrying("socket") { socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// Starts a non-blocking connect. True when it completed at once, false while in progress.
    static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemCallError) -> Bool {
        if Glibc.connect(fd, address, length) == 0 { return true }
        let e = errno
        if e == EINPROGRESS || e == EINTR { return false }
        throw SystemCallError(call: "connect", errno: e)
    }

    /// Outcome of a non-blocking read or write.
    enum IOResult {
        /// Bytes transferred (0 from a read: the peer closed).
        case bytes(Int)
        /// The kernel buffer is empty (read) or full (write).
        case wouldBlock
        case failed(SystemCallError)
    }

    /// read(2), retried on EINTR.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return .bytes(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            return .failed(SystemCallError(call: "read", errno: e))
        }
    }

    /// sendmsg(2) of a gather list with MSG_NOSIGNAL — a write to a connection the peer reset
    /// fails with EPIPE instead of raising SIGPIPE (which kills the process by default).
    static func send(_ fd: Int32, _ iov: UnsafeMutableBufferPointer<iovec>) -> IOResult {
        while true {
            var msg = msghdr()
            msg.msg_iov = iov.baseAddress
            msg.msg_iovlen = iov.count
            let n = sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            return .failed(SystemCallError(call: "sendmsg", errno: e))
        }
    }

    static func epollCreate() throws(SystemCallError) -> Int32 {
        try retrying("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    static func eventFD() throws(SystemCallError) -> Int32 {
        try retrying("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// epoll_ctl with the registration `id` as the event's data (never the fd: a stale event
    /// for a descriptor number reused by another socket must not reach the new owner).
    static func epollControl(_ epfd: Int32, _ op: Int32, fd: Int32, events: UInt32, id: UInt64) throws(SystemCallError) {
        var ev = epoll_event()
        ev.events = events
        ev.data.u64 = id
        _ = try retrying("epoll_ctl") { epoll_ctl(epfd, op, fd, &ev) }
    }

    static func epollRemove(_ epfd: Int32, fd: Int32) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    /// epoll_wait; EINTR counts as "no events".
    static func epollWait(_ epfd: Int32, _ events: UnsafeMutableBufferPointer<epoll_event>, timeoutMs: Int32) -> Int {
        let n = epoll_wait(epfd, events.baseAddress, Int32(events.count), timeoutMs)
        return n < 0 ? 0 : Int(n)
    }

    /// Adds one to an eventfd counter (wakes a loop blocked in epoll_wait).
    static func signal(eventFD fd: Int32) {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    /// Resets an eventfd counter.
    static func drain(eventFD fd: Int32) {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
    }

    static func close(_ fd: Int32) {
        // EINTR on close must not be retried on Linux: the descriptor is already released.
        _ = Glibc.close(fd)
    }
}
