#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import KafkaProtocol

/// One resolved socket address (IPv4 or IPv6), as returned by getaddrinfo.
struct SocketAddress: Sendable, CustomStringConvertible {
    let family: Int32
    let storage: [UInt8]   // the raw sockaddr bytes
    let text: String

    var description: String { text }

    func withSockAddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        storage.withUnsafeBytes { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }
}

/// Name resolution. getaddrinfo blocks, so it runs on a Dispatch queue — never on Swift's
/// cooperative pool.
enum AddressResolver {
    private static let queue = DispatchQueue(label: "kafkawire.resolver", attributes: .concurrent)

    /// Resolves `host`. Cancelling the task ends the wait at once with `.cancelled` (getaddrinfo
    /// itself cannot be interrupted; its late answer is dropped), so a link closed during a
    /// slow DNS lookup never leaves a waiter behind.
    static func resolve(host: String, port: Int) async throws -> [SocketAddress] {
        try await resolve(host: host, port: port) { try resolveBlocking(host: host, port: port) }
    }

    /// `resolve` with the blocking lookup injected (tests: one that never returns).
    static func resolve(host: String, port: Int, lookup: @escaping @Sendable () throws -> [SocketAddress]) async throws -> [SocketAddress] {
        let once = OnceContinuation<[SocketAddress]>()
        let what = "resolving \(host) cancelled"
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<[SocketAddress], any Error>) in
                guard once.install(cont, cancelledMessage: what) else { return }
                queue.async { once.resume(with: Result { try lookup() }) }
            }
        } onCancel: {
            once.cancel(what, context: .init(broker: "\(host):\(port)"))
        }
    }

    private static func resolveBlocking(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            let why = Posix.cString(gai_strerror(rc)) ?? "error \(rc)"
            throw KafkaError(.connection, "cannot resolve \(host): \(why)", context: .init(broker: "\(host):\(port)"))
        }
        defer { freeaddrinfo(first) }
        var out: [SocketAddress] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            if let addr = ai.pointee.ai_addr, ai.pointee.ai_family == AF_INET || ai.pointee.ai_family == AF_INET6 {
                let bytes = Array(UnsafeRawBufferPointer(start: addr, count: Int(ai.pointee.ai_addrlen)))
                out.append(SocketAddress(family: ai.pointee.ai_family, storage: bytes, text: numericName(addr, ai.pointee.ai_addrlen, port)))
            }
            p = ai.pointee.ai_next
        }
        if out.isEmpty { throw KafkaError(.connection, "no usable address for \(host)", context: .init(broker: "\(host):\(port)")) }
        return out
    }

    private static func numericName(_ addr: UnsafeMutablePointer<sockaddr>, _ len: socklen_t, _ port: Int) -> String {
        var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        if getnameinfo(addr, len, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
            let host = buf.withUnsafeBufferPointer { Posix.cString($0.baseAddress) } ?? "?"
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        return "?:\(port)"
    }
}

