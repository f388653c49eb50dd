#if canImport(Glibc)
import Glibc
#endif
import Synchronization
public import KafkaProtocol

/// Options for one TCP connection.
public struct ConnectionOptions: Sendable {
    /// Time allowed for TCP connect per address (`socket.connection.setup.timeout.ms`).
    public var connectTimeout: Duration = .seconds(10)
    /// Largest response frame accepted.
    public var maxFrameSize: Int = 100 * 1024 * 1024
    /// Client id sent in every request header (`client.id`).
    public var clientId: String? = "kafkawire"
    /// Upper bounds on the versions negotiated per API (for tests and pinning).
    public var versionCaps: [ApiKey: Int16] = [:]
    /// Backoff between reconnect attempts (`reconnect.backoff.ms`, `reconnect.backoff.max.ms`).
    public var reconnectBackoff = Backoff(base: .milliseconds(50), max: .seconds(1))
    /// SASL authentication after version negotiation; nil for none.
    public var sasl: SaslConfiguration?
    /// TLS for the connection; nil for plaintext.
    public var tls: TLSConfiguration?
    public init() {}
}

/// One framed TCP connection to a broker: requests in flight matched to responses by
/// correlation id, in order.
///
/// Requests are written in the order `send` is called and Kafka answers in that order, so the
/// in-flight list is a FIFO: a response whose correlation id is not the oldest outstanding one
/// means the stream is corrupt, and the connection is closed. Closing (for any reason) fails
/// every request in flight with a retriable `.connection` error.
public final class Connection: EventHandler, Sendable {
    /// `host:port` as configured (for error context).
    public let remote: String
    let fd: Int32
    let loop: EventLoop
    private let state: Mutex<State>
    /// Touched only by the loop thread; behind its own (uncontended) lock for Sendable safety.
    private let readSide: Mutex<ReadSide>

    private struct Pending {
        let correlationId: Int32
        var continuation: CheckedContinuation<[UInt8], any Error>?
        let deadline: ContinuousClock.Instant
        let token: UInt64
        let apiKey: ApiKey
        let apiVersion: Int16
        /// A bare SASL token exchange (after SaslHandshake v0): the answer is a size-prefixed
        /// frame with no response header, so it matches by position, not correlation id.
        var raw = false
    }

    private enum Phase {
        case connecting(CheckedContinuation<Void, any Error>?, deadline: ContinuousClock.Instant)
        case open
        case closed(KafkaError)
    }

    private struct State {
        var phase: Phase
        var outbound: [[UInt8]] = []
        var outboundHead = 0        // index of first unsent frame
        var outboundOffset = 0      // bytes of that frame already sent
        var inflight: [Pending] = []
        var inflightHead = 0
        var nextCorrelationId: Int32 = 1
        var nextToken: UInt64 = 1
        var wantWritable = false
        /// The TLS session once TCP is connected (only touched under this lock).
        var tls: TLSSession?
        /// True once the TCP connect finished (a TLS handshake may still be running).
        var tcpConnected = false
        /// Correlation ids of recent requests sent without expecting an answer (acks=0). Kafka
        /// never answers them, but some brokers (Tansu) do; such answers are dropped, not
        /// treated as a corrupt stream. Bounded.
        var unansweredIds: [Int32] = []
    }

    private struct ReadSide {
        var decoder: FrameDecoder
        var buffer: [UInt8]
    }

    /// TLS settings and the host name to verify/indicate, when TLS is on.
    private let tlsConfig: TLSConfiguration?
    private let serverName: String

    private init(fd: Int32, loop: EventLoop, remote: String, serverName: String, options: ConnectionOptions, deadline: ContinuousClock.Instant) {
        self.fd = fd
        self.loop = loop
        self.remote = remote
        self.serverName = serverName
        tlsConfig = options.tls
        state = Mutex(State(phase: .connecting(nil, deadline: deadline)))
        readSide = Mutex(ReadSide(decoder: FrameDecoder(maxFrameSize: options.maxFrameSize), buffer: [UInt8](repeating: 0, count: 256 * 1024)))
    }

    // MARK: Connecting

    /// Resolves `host` and connects to the first address that accepts within the timeout.
    public static func connect(host: String, port: Int, options: ConnectionOptions = ConnectionOptions(), loop: EventLoop? = nil) async throws -> Connection {
        let loop = try loop ?? EventLoop.shared()
        let remote = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let addresses = try await AddressResolver.resolve(host: host, port: port)
        var lastError: KafkaError?
        for address in addresses {
            do {
                return try await connect(address: address, remote: remote, serverName: host, options: options, loop: loop)
            } catch let e as KafkaError {
                lastError = e
            }
        }
        throw lastError ?? KafkaError(.connection, "cannot connect to \(remote)", context: .init(broker: remote))
    }

    private static func connect(address: SocketAddress, remote: String, serverName: String, options: ConnectionOptions, loop: EventLoop) async throws -> Connection {
        let context = KafkaError.Context(broker: remote)
        let fd: Int32
        do {
            fd = try Posix.retrying("socket") { socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
            try Posix.setNoDelay(fd)
            try? Posix.setKeepAlive(fd)
        } catch {
            throw KafkaError(.connection, "cannot create socket: \(error)", context: context, underlying: error)
        }
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc < 0 && errno != EINPROGRESS && errno != EINTR {
            let e = SystemCallError(call: "connect", errno: errno)
            Posix.close(fd)
            throw KafkaError(.connection, "cannot connect to \(remote) (\(address)): \(e)", context: context, underlying: e)
        }
        let connection = Connection(fd: fd, loop: loop, remote: remote, serverName: serverName, options: options, deadline: .now + options.connectTimeout)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
                connection.state.withLock { s in
                    if case let .connecting(_, deadline) = s.phase { s.phase = .connecting(cont, deadline: deadline) }
                }
                do {
                    try loop.register(fd: fd, handler: connection, writable: true)
                } catch {
                    connection.close(KafkaError(.connection, "cannot watch socket: \(error)", context: context, underlying: error))
                }
            }
        } onCancel: {
            connection.close(KafkaError(.cancelled, "connect cancelled", context: context))
        }
        return connection
    }

    private func finishConnect() {
        let err = Posix.socketError(fd)
        if err != 0 {
            close(KafkaError(.connection, "cannot connect to \(remote): \(SystemCallError(call: "connect", errno: err))", context: .init(broker: remote)))
            return
        }
        if let tlsConfig {
            do {
                let session = try TLSSession(config: tlsConfig, host: serverName, fd: fd, remote: remote)
                state.withLock { s in
                    s.tls = session
                    s.tcpConnected = true
                }
            } catch {
                close(error as? KafkaError ?? KafkaError(.configuration, "\(error)", context: .init(broker: remote)))
                return
            }
            driveHandshake()
            return
        }
        let cont: CheckedContinuation<Void, any Error>? = state.withLock { s in
            guard case let .connecting(c, _) = s.phase else { return nil }
            s.tcpConnected = true
            s.phase = .open
            s.wantWritable = false
            return c
        }
        loop.setWritableInterest(fd: fd, false)
        cont?.resume()
    }

    /// Advances the TLS handshake; called on connect and on every socket event until done.
    private func driveHandshake() {
        enum Next { case wait(writable: Bool), done(CheckedContinuation<Void, any Error>?), fail(KafkaError) }
        let next: Next = state.withLock { s in
            guard case let .connecting(c, _) = s.phase, let tls = s.tls else { return .wait(writable: false) }
            switch tls.handshake() {
            case .done:
                s.phase = .open
                s.wantWritable = false
                return .done(c)
            case .wantRead: return .wait(writable: false)
            case .wantWrite: return .wait(writable: true)
            case .closed: return .fail(KafkaError(.connection, "\(remote) closed the connection during the TLS handshake", context: .init(broker: remote)))
            case let .failed(e): return .fail(e)
            }
        }
        switch next {
        case let .wait(writable): loop.setWritableInterest(fd: fd, writable)
        case let .done(cont):
            loop.setWritableInterest(fd: fd, false)
            cont?.resume()
        case let .fail(e): close(e)
        }
    }

    // MARK: Sending

    /// True until the connection is closed.
    public var isOpen: Bool {
        state.withLock { s in
            if case .closed = s.phase { return false }
            return true
        }
    }

    /// The error the connection closed with, if closed.
    public var closeError: KafkaError? {
        state.withLock { s in
            if case let .closed(e) = s.phase { return e }
            return nil
        }
    }

    /// Number of requests awaiting a response.
    public var inflightCount: Int { state.withLock { $0.inflight.count - $0.inflightHead } }

    /// Sends one complete request frame (size prefix included) and returns the response payload
    /// (the bytes after the size prefix, starting with the correlation id).
    ///
    /// The frame's correlation id (bytes 8..<12) is overwritten with the next id. With
    /// `expectResponse: false` (Produce with acks=0) it returns `[]` once the frame is queued.
    public func send(frame: [UInt8], apiKey: ApiKey, apiVersion: Int16, expectResponse: Bool = true, timeout: Duration) async throws -> [UInt8] {
        guard frame.count >= 12 else { throw KafkaError(.encoding, "frame too short", context: .init(broker: remote, apiKey: apiKey, apiVersion: apiVersion)) }
        return try await submit(frame, apiKey: apiKey, apiVersion: apiVersion, expectResponse: expectResponse, raw: false, timeout: timeout)
    }

    /// Sends one bare SASL token as a size-prefixed frame without a request header and returns
    /// the broker's bare answer (possibly empty): the legacy exchange after SaslHandshake v0,
    /// for brokers without SaslAuthenticate (KIP-43; Kafka < 1.0). Nothing else may be in flight.
    public func sendRawSaslToken(_ token: [UInt8], timeout: Duration) async throws -> [UInt8] {
        var frame = [UInt8]()
        frame.reserveCapacity(4 + token.count)
        let n = UInt32(truncatingIfNeeded: token.count)
        frame += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        frame += token
        return try await submit(frame, apiKey: .saslHandshake, apiVersion: 0, expectResponse: true, raw: true, timeout: timeout)
    }

    private func submit(_ frame: [UInt8], apiKey: ApiKey, apiVersion: Int16, expectResponse: Bool, raw: Bool, timeout: Duration) async throws -> [UInt8] {
        let token = state.withLock { s -> UInt64 in
            defer { s.nextToken &+= 1 }
            return s.nextToken
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<[UInt8], any Error>) in
                enqueue(frame, cont: cont, token: token, apiKey: apiKey, apiVersion: apiVersion, expectResponse: expectResponse, raw: raw, deadline: .now + timeout)
            }
        } onCancel: {
            abandon(token: token, with: KafkaError(.cancelled, "request cancelled", context: .init(broker: remote, apiKey: apiKey, apiVersion: apiVersion)))
        }
    }

    private func enqueue(_ frame: [UInt8], cont: CheckedContinuation<[UInt8], any Error>, token: UInt64, apiKey: ApiKey, apiVersion: Int16, expectResponse: Bool, raw: Bool, deadline: ContinuousClock.Instant) {
        var frame = frame
        enum Outcome { case fail(KafkaError), queued(fatal: KafkaError?), done(fatal: KafkaError?) }
        let outcome: Outcome = state.withLock { s in
            switch s.phase {
            case let .closed(e): return .fail(e)
            case .connecting: return .fail(KafkaError(.connection, "not connected yet", context: .init(broker: remote)))
            case .open: break
            }
            var id: Int32 = 0
            if !raw {
                id = s.nextCorrelationId
                s.nextCorrelationId = id == Int32.max ? 1 : id + 1
                frame.withUnsafeMutableBytes { bytes in bytes.storeBytes(of: UInt32(bitPattern: id).bigEndian, toByteOffset: 8, as: UInt32.self) }
            }
            s.outbound.append(frame)
            if expectResponse {
                s.inflight.append(Pending(correlationId: id, continuation: cont, deadline: deadline, token: token, apiKey: apiKey, apiVersion: apiVersion, raw: raw))
            } else {
                if s.unansweredIds.count >= 256 { s.unansweredIds.removeFirst(128) }
                s.unansweredIds.append(id)
            }
            let fatal = flushLocked(&s)
            return expectResponse ? .queued(fatal: fatal) : .done(fatal: fatal)
        }
        switch outcome {
        case let .fail(e):
            cont.resume(throwing: e.with(.init(broker: remote, apiKey: apiKey, apiVersion: apiVersion)))
        case let .queued(fatal):
            if let fatal { close(fatal) }
        case let .done(fatal):
            if let fatal {
                cont.resume(throwing: fatal)
                close(fatal)
            } else {
                cont.resume(returning: [])
            }
        }
    }

    /// Writes queued frames until done or the kernel buffer is full. Returns an error when the
    /// socket failed (the caller closes outside the lock).
    private func flushLocked(_ s: inout State) -> KafkaError? {
        if s.tls != nil { return flushTLSLocked(&s) }
        while s.outboundHead < s.outbound.count {
            // Gather up to 16 frames into one writev.
            let end = min(s.outbound.count, s.outboundHead + 16)
            var iov = [iovec]()
            iov.reserveCapacity(end - s.outboundHead)
            let written: Int = s.outbound.withUnsafeBufferPointer { frames in
                // The frames are kept alive by `s.outbound` for the duration of the call.
                for i in s.outboundHead ..< end {
                    frames[i].withUnsafeBytes { raw in
                        let skip = i == s.outboundHead ? s.outboundOffset : 0
                        iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip))
                    }
                }
                while true {
                    // sendmsg with MSG_NOSIGNAL: a write to a connection the peer reset must
                    // fail with EPIPE, not raise SIGPIPE (which kills the process by default).
                    let n = iov.withUnsafeMutableBufferPointer { p -> Int in
                        var msg = msghdr()
                        msg.msg_iov = p.baseAddress
                        msg.msg_iovlen = p.count
                        return sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
                    }
                    if n < 0 && errno == EINTR { continue }
                    return n < 0 ? -Int(errno) : n
                }
            }
            if written < 0 {
                let e = Int32(-written)
                if e == EAGAIN || e == EWOULDBLOCK {
                    if !s.wantWritable {
                        s.wantWritable = true
                        loop.setWritableInterest(fd: fd, true)
                    }
                    return nil
                }
                return KafkaError(.connection, "write to \(remote) failed: \(SystemCallError(call: "writev", errno: e))", context: .init(broker: remote))
            }
            var left = written
            while left > 0 && s.outboundHead < s.outbound.count {
                let remainingInFrame = s.outbound[s.outboundHead].count - s.outboundOffset
                if left >= remainingInFrame {
                    left -= remainingInFrame
                    s.outbound[s.outboundHead] = []
                    s.outboundHead += 1
                    s.outboundOffset = 0
                } else {
                    s.outboundOffset += left
                    left = 0
                }
            }
        }
        outboundDrainedLocked(&s)
        return nil
    }

    /// Everything queued was written: reset the queue and stop watching for writability.
    private func outboundDrainedLocked(_ s: inout State) {
        s.outbound.removeAll(keepingCapacity: true)
        s.outboundHead = 0
        s.outboundOffset = 0
        if s.wantWritable {
            s.wantWritable = false
            loop.setWritableInterest(fd: fd, false)
        }
    }

    /// TLS variant of `flushLocked`: SSL_write frame by frame (partial writes enabled).
    private func flushTLSLocked(_ s: inout State) -> KafkaError? {
        guard let tls = s.tls else { return nil }
        while s.outboundHead < s.outbound.count {
            let offset = s.outboundOffset
            let result = s.outbound[s.outboundHead].withUnsafeBytes { raw in
                tls.write(UnsafeRawBufferPointer(rebasing: raw[offset...]))
            }
            switch result {
            case let .done(n):
                s.outboundOffset += n
                if s.outboundOffset >= s.outbound[s.outboundHead].count {
                    s.outbound[s.outboundHead] = []
                    s.outboundHead += 1
                    s.outboundOffset = 0
                }
            case .wantWrite, .wantRead:
                // WANT_READ during a write (renegotiation) resumes on the next readable event.
                if !s.wantWritable {
                    s.wantWritable = true
                    loop.setWritableInterest(fd: fd, true)
                }
                return nil
            case .closed:
                return KafkaError(.connection, "connection closed by \(remote)", context: .init(broker: remote))
            case let .failed(e):
                return e
            }
        }
        outboundDrainedLocked(&s)
        return nil
    }

    /// Gives up waiting for one request (cancellation). Its response, if it comes, is dropped.
    private func abandon(token: UInt64, with error: KafkaError) {
        let cont: CheckedContinuation<[UInt8], any Error>? = state.withLock { s in
            guard let i = s.inflight[s.inflightHead...].firstIndex(where: { $0.token == token }) else { return nil }
            defer { s.inflight[i].continuation = nil }
            return s.inflight[i].continuation
        }
        cont?.resume(throwing: error)
    }

    // MARK: Loop callbacks

    func handleEvents(readable: Bool, writable: Bool, hangup: Bool) {
        let connecting: Bool = state.withLock { s in
            if case .connecting = s.phase { return true }
            return false
        }
        if connecting {
            let tcpDone = state.withLock { $0.tcpConnected }
            if tcpDone {
                driveHandshake()
            } else if writable || hangup {
                finishConnect()
            }
            return
        }
        if writable {
            if let fatal = state.withLock({ flushLocked(&$0) }) { close(fatal) }
        }
        if readable || hangup {
            readAvailable()
            // A TLS write that wanted a read (renegotiation, key update) can go on now.
            if tlsConfig != nil, let fatal = state.withLock({ s in s.outboundHead < s.outbound.count ? flushLocked(&s) : nil }) { close(fatal) }
        }
    }

    private func readAvailable() {
        var frames: [[UInt8]] = []
        var failure: KafkaError?
        readSide.withLock { side in
            while true {
                var n: Int
                if tlsConfig != nil {
                    // SSL objects are not thread-safe: reads take the state lock that writes hold.
                    enum R { case n(Int), stop, fail(KafkaError) }
                    let r: R = side.buffer.withUnsafeMutableBytes { raw in
                        state.withLock { s -> R in
                            guard let tls = s.tls else { return .fail(KafkaError(.connection, "connection to \(remote) closed", context: .init(broker: remote))) }
                            switch tls.read(into: raw) {
                            case let .done(k): return .n(k)
                            case .wantRead: return .stop
                            case .wantWrite:
                                if !s.wantWritable {
                                    s.wantWritable = true
                                    loop.setWritableInterest(fd: fd, true)
                                }
                                return .stop
                            case .closed: return .n(0)
                            case let .failed(e): return .fail(e)
                            }
                        }
                    }
                    switch r {
                    case let .n(k): n = k
                    case .stop: return
                    case let .fail(e): failure = e; return
                    }
                } else {
                    n = side.buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress, raw.count) }
                }
                if n > 0 {
                    do {
                        try side.buffer.withUnsafeBytes { raw in
                            try side.decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0 ..< n])) { frames.append($0) }
                        }
                    } catch let e as KafkaError {
                        failure = e.with(.init(broker: remote))
                        return
                    } catch {
                        failure = KafkaError(.decoding, "\(error)", context: .init(broker: remote))
                        return
                    }
                    // A short plain read means the socket is drained; TLS reads go on until
                    // OpenSSL says it wants more from the socket.
                    if n < side.buffer.count && tlsConfig == nil { return }
                    continue
                }
                if n == 0 {
                    failure = KafkaError(.connection, "connection closed by \(remote)", context: .init(broker: remote))
                    return
                }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                failure = KafkaError(.connection, "read from \(remote) failed: \(SystemCallError(call: "read", errno: errno))", context: .init(broker: remote))
                return
            }
        }
        for frame in frames { deliver(frame) }
        if let failure { close(failure) }
    }

    private func deliver(_ frame: [UInt8]) {
        enum Match { case resume(CheckedContinuation<[UInt8], any Error>?), mismatch(got: Int32, expected: Int32?), short }
        let match: Match = state.withLock { s in
            // A bare SASL token answer has no header: it belongs to the oldest request, which
            // is the raw token (nothing else is in flight during authentication).
            if s.inflightHead < s.inflight.count, s.inflight[s.inflightHead].raw {
                return .resume(popOldestLocked(&s))
            }
            guard frame.count >= 4 else { return .short }
            let id = Int32(bitPattern: UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3]))
            if let i = s.unansweredIds.firstIndex(of: id) {
                s.unansweredIds.remove(at: i)
                return .resume(nil)
            }
            guard s.inflightHead < s.inflight.count, s.inflight[s.inflightHead].correlationId == id else {
                return .mismatch(got: id, expected: s.inflightHead < s.inflight.count ? s.inflight[s.inflightHead].correlationId : nil)
            }
            return .resume(popOldestLocked(&s))
        }
        switch match {
        case let .resume(cont):
            cont?.resume(returning: frame)
        case let .mismatch(id, expected):
            close(KafkaError(.decoding, "response correlation id \(id) does not match the oldest request in flight (\(expected.map(String.init) ?? "none"))", context: .init(broker: remote)))
        case .short:
            close(KafkaError(.decoding, "response frame of \(frame.count) bytes has no correlation id", context: .init(broker: remote)))
        }
    }

    /// Removes the oldest request in flight and returns its continuation.
    private func popOldestLocked(_ s: inout State) -> CheckedContinuation<[UInt8], any Error>? {
        let cont = s.inflight[s.inflightHead].continuation
        s.inflightHead += 1
        if s.inflightHead == s.inflight.count {
            s.inflight.removeAll(keepingCapacity: true)
            s.inflightHead = 0
        } else if s.inflightHead > 1024 {
            s.inflight.removeFirst(s.inflightHead)
            s.inflightHead = 0
        }
        return cont
    }

    func tick(now: ContinuousClock.Instant) {
        enum Expiry { case none, connect, request(Pending) }
        let expiry: Expiry = state.withLock { s in
            switch s.phase {
            case let .connecting(_, deadline): return now >= deadline ? .connect : .none
            case .closed: return .none
            case .open:
                for p in s.inflight[s.inflightHead...] where p.continuation != nil && now >= p.deadline { return .request(p) }
                return .none
            }
        }
        switch expiry {
        case .none: return
        case .connect:
            close(KafkaError(.timeout, "connect to \(remote) timed out", context: .init(broker: remote)))
        case let .request(p):
            // Responses come in order, so a request that timed out leaves the stream stuck behind
            // it: fail it with a timeout and close, which fails the rest as retriable.
            // Close first, so that whoever sees the timeout also sees a closed connection.
            let timeout = KafkaError(.timeout, "no response from \(remote) within the request timeout", context: .init(broker: remote, apiKey: p.apiKey, apiVersion: p.apiVersion))
            let cont: CheckedContinuation<[UInt8], any Error>? = state.withLock { s in
                guard let i = s.inflight[s.inflightHead...].firstIndex(where: { $0.token == p.token }) else { return nil }
                defer { s.inflight[i].continuation = nil }
                return s.inflight[i].continuation
            }
            close(KafkaError(.connection, "connection to \(remote) closed after a request timed out", context: .init(broker: remote)))
            cont?.resume(throwing: timeout)
        }
    }

    // MARK: Closing

    /// Closes the connection, failing every request in flight with `error` (default: a
    /// retriable `.connection` error). Idempotent.
    public func close(_ error: KafkaError? = nil) {
        let err = error ?? KafkaError(.connection, "connection to \(remote) closed", context: .init(broker: remote))
        var connectCont: CheckedContinuation<Void, any Error>?
        var pending: [Pending] = []
        let wasOpen: Bool = state.withLock { s in
            switch s.phase {
            case .closed: return false
            case let .connecting(c, _): connectCont = c
            case .open: break
            }
            s.phase = .closed(err)
            pending = Array(s.inflight[s.inflightHead...])
            s.inflight = []
            s.inflightHead = 0
            s.outbound = []
            s.outboundHead = 0
            return true
        }
        guard wasOpen else { return }
        loop.deregister(fd: fd)
        state.withLock { s in
            s.tls?.shutdown()
            s.tls = nil
        }
        Posix.close(fd)
        connectCont?.resume(throwing: err)
        for p in pending {
            p.continuation?.resume(throwing: err.with(.init(apiKey: p.apiKey, apiVersion: p.apiVersion)))
        }
    }

    deinit {
        // A connection dropped without close() still releases its descriptor.
        let open: Bool = state.withLock { s in
            if case .closed = s.phase { return false }
            return true
        }
        if open { Posix.close(fd) }
    }
}
