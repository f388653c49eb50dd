import Synchronization
public import KafkaProtocol

/// One framed connection to a broker: requests in flight matched to responses by correlation
/// id, in order.
///
/// The parts, each in its own file: `OwnedSocket` (the descriptor, closed exactly once, on the
/// loop thread once registered), a `ByteTransport` (plain TCP or TLS), `FrameDecoder` (size
/// prefixes), `InflightRequests` (correlation ids, deadlines, matching). This type is the glue:
/// the connect/handshake phases, the outbound queue, and the event-loop callbacks.
///
/// Requests are written in the order `send` is called and Kafka answers in that order: a
/// response whose correlation id is not the oldest outstanding one means the stream is
/// corrupt, and the connection is closed. Closing (for any reason) fails every request in
/// flight with a retriable `.connection` error.
public final class Connection: EventHandler, Sendable {
    /// `host:port` as configured (for error context).
    public let remote: String
    let loop: EventLoop
    private let socket: OwnedSocket
    private let transport: any ByteTransport
    private let state: Mutex<State>
    /// Touched only by the loop thread; behind its own (uncontended) lock for Sendable safety.
    private let readSide: Mutex<ReadSide>

    /// Most bytes read from one connection per loop wakeup: then the loop serves the other
    /// sockets and the deadline ticks before coming back (a flooding peer cannot stall them).
    static let readBudgetPerWakeup = 1 << 20

    typealias Waiter = CheckedContinuation<[UInt8], any Error>

    private enum Phase {
        /// TCP connect in progress.
        case connecting(CheckedContinuation<Void, any Error>?, deadline: ContinuousClock.Instant)
        /// TLS handshake in progress (plain connections skip this).
        case handshaking(CheckedContinuation<Void, any Error>?, deadline: ContinuousClock.Instant)
        case open
        case closed(KafkaError)
    }

    private struct State {
        var phase: Phase
        /// The event-loop registration, once registered (nil again once retired).
        var registration: UInt64?
        var outbound: [[UInt8]] = []
        var outboundHead = 0        // index of first unsent frame
        var outboundOffset = 0      // bytes of that frame already sent
        var inflight = InflightRequests<Waiter>()
        var nextToken: UInt64 = 1
        var wantWritable = false
        /// Bytes of frames queued and written since the connection opened: a request whose
        /// frame ends past `writtenBytes` when the connection dies was never completely written,
        /// so the broker cannot have processed it (`KafkaError.requestNotWritten`).
        var queuedBytes: UInt64 = 0
        var writtenBytes: UInt64 = 0
    }

    private struct ReadSide {
        var decoder: FrameDecoder
        var buffer: [UInt8]
    }

    private init(socket: OwnedSocket, transport: any ByteTransport, loop: EventLoop, remote: String, options: ConnectionOptions, deadline: ContinuousClock.Instant) {
        self.socket = socket
        self.transport = transport
        self.loop = loop
        self.remote = remote
        state = Mutex(State(phase: .connecting(nil, deadline: deadline)))
        readSide = Mutex(ReadSide(decoder: FrameDecoder(maxFrameSize: options.maxFrameSize), buffer: [UInt8](repeating: 0, count: 256 * 1024)))
    }

    // MARK: Connecting

    /// Resolves `host` and connects to the first address that accepts within the timeout.
    /// Cancelling the task ends every stage (TLS setup, name resolution, connect, handshake) at
    /// once with `.cancelled`.
    /// - Parameters:
    ///   - host: The host name or address to resolve.
    ///   - port: The port.
    ///   - options: Connect timeout, frame limit and TLS settings.
    ///   - loop: The I/O loop; nil for `EventLoop.shared()`.
    /// - Returns: An open connection (TLS handshake done, when configured).
    /// - Throws: `KafkaError`: `.connection` (resolution or connect failed), `.timeout`,
    ///   `.authentication` (TLS), or `.cancelled`.
    public static func connect(host: String, port: Int, options: ConnectionOptions = ConnectionOptions(), loop: EventLoop? = nil) async throws -> Connection {
        let loop = try loop ?? EventLoop.shared()
        let remote = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let context = KafkaError.Context(broker: remote)
        // The TLS context (trust store, client certificate) is built once per configuration,
        // off the loop and off the cooperative pool.
        var tls: (TLSConfiguration, TLSContext)?
        if let config = options.tls {
            do {
                tls = (config, try await config.contextCache.context(for: config))
            } catch let e as KafkaError {
                throw e.with(context)
            }
        }
        let addresses = try await AddressResolver.resolve(host: host, port: port)
        var lastError: KafkaError?
        for address in addresses {
            if Task.isCancelled { throw KafkaError(.cancelled, "connect to \(remote) cancelled", context: context) }
            do {
                return try await connect(address: address, remote: remote, serverName: host, tls: tls, options: options, loop: loop)
            } catch let e as KafkaError {
                if e.kind == .cancelled || e.kind == .configuration { throw e }
                lastError = e
            }
        }
        throw lastError ?? KafkaError(.connection, "cannot connect to \(remote)", context: context)
    }

    private static func connect(address: SocketAddress, remote: String, serverName: String, tls: (TLSConfiguration, TLSContext)?, options: ConnectionOptions, loop: EventLoop) async throws -> Connection {
        let context = KafkaError.Context(broker: remote)
        let socket: OwnedSocket
        do {
            socket = try OwnedSocket.tcp(family: address.family)
            _ = try socket.connect(to: address)
        } catch {
            // The socket (if made) closes when released: it was never registered.
            throw KafkaError(.connection, "cannot connect to \(remote) (\(address)): \(error)", context: context, underlying: error)
        }
        let transport: any ByteTransport
        if let (config, tlsContext) = tls {
            transport = TLSTransport(session: try TLSSession(context: tlsContext, config: config, host: serverName, fd: socket.fd, remote: remote))
        } else {
            transport = PlainTransport(fd: socket.fd, remote: remote)
        }
        let connection = Connection(socket: socket, transport: transport, loop: loop, remote: remote, options: options, deadline: .now + options.connectTimeout)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
                connection.start(cont)
            }
        } onCancel: {
            connection.close(KafkaError(.cancelled, "connect to \(remote) cancelled", context: context))
        }
        return connection
    }

    /// Registers with the loop and waits for the connect. A close that came first (the task was
    /// cancelled before this ran) fails `cont` at once and registers nothing: the socket it
    /// closed must never reach the loop, whose descriptor number may belong to someone else by now.
    private func start(_ cont: CheckedContinuation<Void, any Error>) {
        let failure: KafkaError? = state.withLock { s in
            guard case let .connecting(_, deadline) = s.phase else {
                if case let .closed(e) = s.phase { return e }
                return KafkaError(.connection, "connection to \(remote) started twice", context: .init(broker: remote))
            }
            do {
                // Under the lock, so that a concurrent close sees either no registration (and
                // closes the socket itself) or this one (and retires it through the loop).
                s.registration = try loop.register(socket, handler: self, writable: true)
                // Writability is how a non-blocking connect reports completion.
                s.wantWritable = true
            } catch {
                let e = KafkaError(.connection, "cannot watch the socket to \(remote): \(error)", context: .init(broker: remote), underlying: error)
                s.phase = .closed(e)
                return e
            }
            s.phase = .connecting(cont, deadline: deadline)
            return nil
        }
        if let failure {
            if state.withLock({ $0.registration == nil }) {
                transport.shutdown()
                socket.close()
            }
            cont.resume(throwing: failure)
        }
    }

    /// TCP connect finished (or failed): start the TLS handshake, or open.
    private func finishConnect() {
        let err = socket.pendingError
        if err != 0 {
            close(KafkaError(.connection, "cannot connect to \(remote): \(SystemCallError(call: "connect", errno: err))", context: .init(broker: remote)))
            return
        }
        state.withLock { s in
            guard case let .connecting(c, deadline) = s.phase else { return }
            s.phase = .handshaking(c, deadline: deadline)
        }
        driveHandshake()
    }

    /// Advances the handshake (plain transports finish at once); called on every socket event
    /// until done.
    private func driveHandshake() {
        enum Next { case wait, done(CheckedContinuation<Void, any Error>?), fail(KafkaError) }
        let next: Next = state.withLock { s in
            guard case let .handshaking(c, _) = s.phase else { return .wait }
            switch transport.handshake() {
            case .done:
                s.phase = .open
                setWritableLocked(&s, s.outboundHead < s.outbound.count)
                return .done(c)
            case .wantRead:
                setWritableLocked(&s, false)
                return .wait
            case .wantWrite:
                setWritableLocked(&s, true)
                return .wait
            case .closed: return .fail(KafkaError(.connection, "\(remote) closed the connection during the TLS handshake", context: .init(broker: remote)))
            case let .failed(e): return .fail(e)
            }
        }
        switch next {
        case .wait: return
        case let .done(cont): cont?.resume()
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

    /// The socket's descriptor number (tests: it must stay open until the loop retires it).
    var descriptor: Int32 { socket.fd }

    /// Number of requests awaiting a response.
    public var inflightCount: Int { state.withLock { $0.inflight.count } }

    /// Sends one complete request frame (size prefix included) and returns the response payload
    /// (the bytes after the size prefix, starting with the correlation id).
    ///
    /// The frame's correlation id (bytes 8..<12) is overwritten with the next id. With
    /// `expectResponse: false` (Produce with acks=0) it returns `[]` once the frame is queued.
    /// A task cancelled before the frame is queued sends nothing; one cancelled later stops
    /// waiting (the request was written; its answer is dropped).
    /// - Parameters:
    ///   - frame: The whole request frame, size prefix included.
    ///   - apiKey: The request's API, for error context.
    ///   - apiVersion: The request's version, for error context.
    ///   - expectResponse: False when the broker sends no answer.
    ///   - timeout: How long to wait for the answer.
    /// - Returns: The response payload, or `[]` without a response.
    /// - Throws: `KafkaError`: `.connection` (closed or lost), `.timeout`, `.encoding` (a frame
    ///   too short to hold a header), or `.cancelled`.
    public func send(frame: [UInt8], apiKey: ApiKey, apiVersion: Int16, expectResponse: Bool = true, timeout: Duration) async throws -> [UInt8] {
        guard frame.count >= 12 else { throw KafkaError(.encoding, "frame too short", context: .init(broker: remote, apiKey: apiKey, apiVersion: apiVersion)) }
        return try await submit(frame, apiKey: apiKey, apiVersion: apiVersion, expectResponse: expectResponse, raw: false, timeout: timeout)
    }

    /// Sends one bare SASL token as a size-prefixed frame without a request header and returns
    /// the broker's bare answer (possibly empty): the legacy exchange after SaslHandshake v0,
    /// for brokers without SaslAuthenticate (KIP-43; Kafka < 1.0). Nothing else may be in flight.
    /// - Parameters:
    ///   - token: The SASL token.
    ///   - timeout: How long to wait for the answer.
    /// - Returns: The broker's answer token.
    /// - Throws: `KafkaError`: `.connection`, `.timeout` or `.cancelled`.
    public func sendRawSaslToken(_ token: [UInt8], timeout: Duration) async throws -> [UInt8] {
        var frame = [UInt8]()
        frame.reserveCapacity(4 + token.count)
        let n = UInt32(truncatingIfNeeded: token.count)
        frame += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        frame += token
        return try await submit(frame, apiKey: .saslHandshake, apiVersion: 0, expectResponse: true, raw: true, timeout: timeout)
    }

    private func submit(_ frame: [UInt8], apiKey: ApiKey, apiVersion: Int16, expectResponse: Bool, raw: Bool, timeout: Duration) async throws -> [UInt8] {
        let ticket = SubmitTicket()
        let context = KafkaError.Context(broker: remote, apiKey: apiKey, apiVersion: apiVersion)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: Waiter) in
                enqueue(frame, cont: cont, ticket: ticket, apiKey: apiKey, apiVersion: apiVersion, expectResponse: expectResponse, raw: raw, deadline: .now + timeout)
            }
        } onCancel: {
            if let token = ticket.cancel() { abandon(token: token, with: KafkaError(.cancelled, "request cancelled", context: context)) }
        }
    }

    private func enqueue(_ frame: [UInt8], cont: Waiter, ticket: SubmitTicket, apiKey: ApiKey, apiVersion: Int16, expectResponse: Bool, raw: Bool, deadline: ContinuousClock.Instant) {
        var frame = frame
        enum Outcome { case fail(KafkaError), queued(fatal: KafkaError?), done(fatal: KafkaError?) }
        let outcome: Outcome = state.withLock { s in
            switch s.phase {
            case let .closed(e): return .fail(e)
            case .connecting, .handshaking: return .fail(KafkaError(.connection, "not connected yet", context: .init(broker: remote)))
            case .open: break
            }
            let token = s.nextToken
            // Checked under this lock: a cancellation either came first (nothing is sent) or
            // finds the request in flight and abandons it.
            guard ticket.markEnqueued(token) else {
                return .fail(KafkaError(.cancelled, "request cancelled before it was sent", context: .init(broker: remote, apiKey: apiKey, apiVersion: apiVersion)))
            }
            s.nextToken &+= 1
            var id: Int32 = 0
            if !raw {
                id = s.inflight.assignCorrelationId()
                frame.withUnsafeMutableBytes { bytes in bytes.storeBytes(of: UInt32(bitPattern: id).bigEndian, toByteOffset: 8, as: UInt32.self) }
            }
            s.queuedBytes &+= UInt64(frame.count)
            s.outbound.append(frame)
            if expectResponse {
                s.inflight.append(correlationId: id, waiter: cont, deadline: deadline, token: token, apiKey: apiKey, apiVersion: apiVersion, raw: raw, endsAt: s.queuedBytes)
            } else {
                s.inflight.noteUnanswered(id)
            }
            let fatal = flushLocked(&s)
            return expectResponse ? .queued(fatal: fatal) : .done(fatal: fatal)
        }
        switch outcome {
        case let .fail(e):
            // Refused before it was queued: not one byte of it went out.
            cont.resume(throwing: e.with(.init(broker: remote, apiKey: apiKey, apiVersion: apiVersion)).markingRequestNotWritten())
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
        while s.outboundHead < s.outbound.count {
            switch transport.write(s.outbound, head: s.outboundHead, offset: s.outboundOffset) {
            case let .done(written):
                s.writtenBytes &+= UInt64(written)
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
            case .wantWrite, .wantRead:
                setWritableLocked(&s, true)
                return nil
            case .closed:
                return KafkaError(.connection, "connection closed by \(remote)", context: .init(broker: remote))
            case let .failed(e):
                return e
            }
        }
        // Everything queued was written: reset the queue and stop watching for writability.
        s.outbound.removeAll(keepingCapacity: true)
        s.outboundHead = 0
        s.outboundOffset = 0
        setWritableLocked(&s, false)
        return nil
    }

    /// Turns writability interest on or off, only while registered and not closed (a retired
    /// registration's descriptor may be closed and reused).
    private func setWritableLocked(_ s: inout State, _ on: Bool) {
        guard s.wantWritable != on, let id = s.registration else { return }
        if case .closed = s.phase { return }
        s.wantWritable = on
        loop.setWritableInterest(id, fd: socket.fd, on)
    }

    /// Gives up waiting for one request (cancellation). Its response, if it comes, is dropped.
    private func abandon(token: UInt64, with error: KafkaError) {
        state.withLock { $0.inflight.abandon(token: token) }?.resume(throwing: error)
    }

    // MARK: Loop callbacks

    func handleEvents(readable: Bool, writable: Bool, hangup: Bool) -> Bool {
        enum Kind { case connecting, handshaking, open, closed }
        let kind: Kind = state.withLock { s in
            switch s.phase {
            case .connecting: return .connecting
            case .handshaking: return .handshaking
            case .open: return .open
            case .closed: return .closed
            }
        }
        switch kind {
        case .closed: return false
        case .connecting:
            if writable || hangup { finishConnect() }
            return false
        case .handshaking:
            driveHandshake()
            return false
        case .open: break
        }
        if writable, let fatal = state.withLock({ flushLocked(&$0) }) {
            close(fatal)
            return false
        }
        guard readable || hangup else { return false }
        let more = readAvailable()
        // A TLS write that wanted a read (renegotiation, key update) can go on now.
        if !transport.readIsIndependentOfWrites, let fatal = state.withLock({ s in s.outboundHead < s.outbound.count ? flushLocked(&s) : nil }) {
            close(fatal)
            return false
        }
        return more
    }

    /// Reads what the socket has, up to the per-wakeup budget, delivering each frame as soon as
    /// it completes. Returns true when it stopped with input left.
    private func readAvailable() -> Bool {
        var failure: KafkaError?
        var more = false
        readSide.withLock { side in
            var budget = Self.readBudgetPerWakeup
            while failure == nil {
                if budget <= 0 {
                    more = true
                    return
                }
                let r: TransportIO
                if transport.readIsIndependentOfWrites {
                    r = side.buffer.withUnsafeMutableBytes { transport.read(into: $0) }
                } else {
                    // SSL objects are not thread-safe: reads take the lock that writes hold.
                    r = side.buffer.withUnsafeMutableBytes { raw in
                        state.withLock { s -> TransportIO in
                            guard case .open = s.phase else { return .wantRead }
                            let r = transport.read(into: raw)
                            if case .wantWrite = r { setWritableLocked(&s, true) }
                            return r
                        }
                    }
                }
                switch r {
                case let .done(n):
                    budget -= n
                    do {
                        try side.buffer.withUnsafeBytes { raw in
                            try side.decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0 ..< n])) { deliver($0) }
                        }
                    } catch let e as KafkaError {
                        failure = e.with(.init(broker: remote))
                        return
                    } catch {
                        failure = KafkaError(.decoding, "\(error)", context: .init(broker: remote))
                        return
                    }
                    // A short plain read means the socket is drained; TLS reads go on until
                    // OpenSSL wants more from the socket.
                    if n < side.buffer.count && transport.readIsIndependentOfWrites { return }
                case .wantRead, .wantWrite:
                    return
                case .closed:
                    failure = KafkaError(.connection, "connection closed by \(remote)", context: .init(broker: remote))
                case let .failed(e):
                    failure = e
                }
            }
        }
        if let failure {
            close(failure)
            return false
        }
        if !more && !transport.readIsIndependentOfWrites {
            // Decrypted bytes inside OpenSSL are invisible to epoll.
            more = state.withLock { s in
                if case .open = s.phase { return transport.hasBufferedInput }
                return false
            }
        }
        return more
    }

    /// Hands one response frame to its waiter (or closes on a corrupt stream).
    private func deliver(_ frame: [UInt8]) {
        let match: InflightRequests<Waiter>.Match? = state.withLock { s in
            if case .closed = s.phase { return nil }
            return s.inflight.match(frame)
        }
        switch match {
        case nil, .unsolicited?: return
        case let .answer(entry)?:
            entry.waiter?.resume(returning: frame)
        case let .mismatch(id, expected)?:
            close(KafkaError(.decoding, "response correlation id \(id) does not match the oldest request in flight (\(expected.map(String.init) ?? "none"))", context: .init(broker: remote)))
        case .short?:
            close(KafkaError(.decoding, "response frame of \(frame.count) bytes has no correlation id", context: .init(broker: remote)))
        }
    }

    func tick(now: ContinuousClock.Instant) {
        enum Expiry { case none, connect, request(InflightRequests<Waiter>.Entry) }
        let expiry: Expiry = state.withLock { s in
            switch s.phase {
            case let .connecting(_, deadline), let .handshaking(_, deadline): return now >= deadline ? .connect : .none
            case .closed: return .none
            case .open: return s.inflight.firstExpired(now: now).map { .request($0) } ?? .none
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
            let waiter = state.withLock { $0.inflight.abandon(token: p.token) }
            close(KafkaError(.connection, "connection to \(remote) closed after a request timed out", context: .init(broker: remote)))
            waiter?.resume(throwing: timeout)
        }
    }

    // MARK: Closing

    /// Closes the connection, failing every request in flight with `error` (default: a
    /// retriable `.connection` error). Idempotent; callable from any thread. The descriptor
    /// itself is closed on the loop thread.
    /// - Parameter error: What requests in flight fail with; nil for a `.connection` error.
    public func close(_ error: KafkaError? = nil) {
        let err = error ?? KafkaError(.connection, "connection to \(remote) closed", context: .init(broker: remote))
        var connectCont: CheckedContinuation<Void, any Error>?
        var pending: [InflightRequests<Waiter>.Entry] = []
        var registration: UInt64?
        var writtenBytes: UInt64 = 0
        let wasOpen: Bool = state.withLock { s in
            switch s.phase {
            case .closed: return false
            case let .connecting(c, _), let .handshaking(c, _): connectCont = c
            case .open: break
            }
            s.phase = .closed(err)
            writtenBytes = s.writtenBytes
            pending = s.inflight.removeAll()
            s.outbound = []
            s.outboundHead = 0
            s.outboundOffset = 0
            registration = s.registration
            s.registration = nil
            return true
        }
        guard wasOpen else { return }
        if let registration {
            loop.retire(registration, socket: socket, beforeClose: { [transport] in transport.shutdown() })
        } else {
            // Never registered (start() has not run yet): nobody else can see the descriptor.
            transport.shutdown()
            socket.close()
        }
        connectCont?.resume(throwing: err)
        for p in pending {
            let e = err.with(.init(apiKey: p.apiKey, apiVersion: p.apiVersion))
            // Kafka reads whole frames only: one cut short never reached the broker's handler.
            p.waiter?.resume(throwing: p.endsAt > writtenBytes ? e.markingRequestNotWritten() : e)
        }
    }
}

/// Whether a request's task was cancelled before the request was queued (then it is never
/// sent) or after (then it is abandoned in flight).
final class SubmitTicket: Sendable {
    private enum State { case fresh, cancelled, enqueued(UInt64) }
    private let state = Mutex(State.fresh)

    /// Marks the request queued under `token`; false when it was cancelled first.
    func markEnqueued(_ token: UInt64) -> Bool {
        state.withLock { s in
            if case .cancelled = s { return false }
            s = .enqueued(token)
            return true
        }
    }

    /// Marks it cancelled; returns its token when it was already queued.
    func cancel() -> UInt64? {
        state.withLock { s in
            if case let .enqueued(t) = s { return t }
            s = .cancelled
            return nil
        }
    }
}
