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
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<[SocketAddress], any Error>) in
                guard once.set(cont) else { return }
                queue.async { once.resume(with: Result { try lookup() }) }
            }
        } onCancel: {
            once.resume(with: .failure(KafkaError(.cancelled, "resolving \(host) cancelled", context: .init(broker: "\(host):\(port)"))))
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

/// A continuation resumed exactly once by whichever comes first (an answer or cancellation);
/// a cancellation that comes before the continuation exists is kept and applied on `set`.
final class OnceContinuation<T: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<T, any Error>)
        case early(Result<T, any Error>)
        case done
    }
    private let state = Mutex<State>(.idle)

    init() {}

    /// Installs the continuation; false when it was resumed at once (cancelled before).
    func set(_ c: CheckedContinuation<T, any Error>) -> Bool {
        let early: Result<T, any Error>? = state.withLock { s in
            if case let .early(r) = s {
                s = .done
                return r
            }
            s = .waiting(c)
            return nil
        }
        if let early {
            c.resume(with: early)
            return false
        }
        return true
    }

    /// Resumes with `result` unless already resumed.
    func resume(with result: Result<T, any Error>) {
        let c: CheckedContinuation<T, any Error>? = state.withLock { s in
            switch s {
            case let .waiting(c):
                s = .done
                return c
            case .idle:
                s = .early(result)
                return nil
            case .early, .done:
                return nil
            }
        }
        c?.resume(with: result)
    }
}
