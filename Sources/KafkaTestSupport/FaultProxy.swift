#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of one broker that injects network faults, for tests of
/// what a client does when the network misbehaves.
///
/// Faults (changeable at any time with `faults`; a change applies to open connections too,
/// counting from the moment of the change):
/// - `cutAfterClientBytes`: abort a connection (RST to both sides) once the client has sent that
///   many bytes towards the broker. The bytes up to the cut point are forwarded, so the broker
///   usually sees a partial request.
/// - `cutAfterBrokerBytes`: abort a connection once the client has received that many bytes
///   from the broker (the bytes before the cut point are delivered first). The broker has then
///   handled the request whose response is cut: the client cannot know whether it took effect.
/// - `cutAfterTime`: abort a connection that long after it opened.
/// - `responseDelay`: hold every broker→client chunk that long before forwarding it (order is
///   kept: a chunk never overtakes an earlier one).
///
/// `pause(.blackhole)` stops accepting and forwarding in both directions (connections stay open
/// and bytes wait in the kernel), like a network partition; `pause(.reject)` aborts every
/// connection and aborts each new one at once, like a broker that is down. `resume()` undoes
/// either; `dropAll()` aborts every open connection once.
///
/// One thread runs a `poll` loop over non-blocking sockets (blocking work is fine here: this is
/// test support, never on the cooperative pool). The upstream port may be set after the proxy
/// has chosen its own port (`upstreamPort`), so that a broker can advertise the proxy's address.
public final class FaultProxy: Sendable {
    /// What to break.
    public struct Faults: Sendable, Equatable {
        /// Cut each connection once the client has sent this many bytes to the broker (drawn per
        /// connection from the range).
        public var cutAfterClientBytes: ClosedRange<Int>?
        /// Cut each connection once the broker has sent this many bytes to the client (drawn per
        /// connection from the range).
        public var cutAfterBrokerBytes: ClosedRange<Int>?
        /// Cut each connection this long after it opened (drawn per connection).
        public var cutAfterTime: ClosedRange<Duration>?
        /// Delay each broker→client chunk by this much (drawn per chunk).
        public var responseDelay: ClosedRange<Duration>?

        public init(cutAfterClientBytes: ClosedRange<Int>? = nil, cutAfterBrokerBytes: ClosedRange<Int>? = nil, cutAfterTime: ClosedRange<Duration>? = nil, responseDelay: ClosedRange<Duration>? = nil) {
            self.cutAfterClientBytes = cutAfterClientBytes
            self.cutAfterBrokerBytes = cutAfterBrokerBytes
            self.cutAfterTime = cutAfterTime
            self.responseDelay = responseDelay
        }

        /// No faults: a transparent proxy.
        public static let none = Faults()
    }

    /// How `pause` makes the broker unreachable.
    public enum PauseMode: Sendable, Equatable {
        /// Nothing is accepted or forwarded; connections stay open and bytes wait.
        case blackhole
        /// Every connection is aborted, and each new one is aborted as soon as it is accepted.
        case reject
    }

    /// Counters since the proxy started.
    public struct Stats: Sendable, Equatable {
        /// Connections accepted and forwarded to the broker.
        public var connections = 0
        /// Connections aborted by `cutAfterClientBytes`, `cutAfterBrokerBytes` or `cutAfterTime`.
        public var cuts = 0
        /// Of `cuts`, those made by `cutAfterBrokerBytes` (after the broker answered something).
        public var responseCuts = 0
        /// Connections aborted on arrival (paused with `.reject`, or the broker unreachable).
        public var rejected = 0
        /// Connections aborted by `dropAll()` or `pause(.reject)`.
        public var dropped = 0
        /// Connections open now.
        public var open = 0
        /// Bytes forwarded client → broker and broker → client.
        public var bytesToBroker = 0
        public var bytesToClient = 0
    }

    /// The port the proxy listens on (127.0.0.1).
    public let port: Int
    /// `127.0.0.1:port`.
    public var address: String { "127.0.0.1:\(port)" }

    private struct Shared {
        var upstreamPort: Int?
        var faults = Faults()
        var faultGeneration = 0
        var paused: PauseMode?
        var dropGeneration = 0
        var stopped = false
        var stats = Stats()
    }

    private let shared: Mutex<Shared>
    private let listenFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// Starts listening on an ephemeral 127.0.0.1 port. Connections that arrive before
    /// `upstreamPort` is set are rejected.
    public init(upstreamPort: Int? = nil, faults: Faults = .none) throws {
        let (fd, port) = try LoopbackListener.open(backlog: 128, what: "FaultProxy")
        self.port = port
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { close(fd); throw FakeBrokerError("FaultProxy: pipe failed (errno \(errno))") }
        for p in fds {
            _ = fcntl(p, F_SETFL, fcntl(p, F_GETFL) | O_NONBLOCK)
            _ = fcntl(p, F_SETFD, FD_CLOEXEC)
        }
        listenFD = fd
        wakeRead = fds[0]
        wakeWrite = fds[1]
        shared = Mutex(Shared(upstreamPort: upstreamPort, faults: faults))
        let t = Thread { [self] in self.run() }
        t.name = "FaultProxy:\(port)"
        t.start()
    }

    // MARK: Control

    /// The broker's port on 127.0.0.1 (nil: every connection is rejected).
    public var upstreamPort: Int? {
        get { shared.withLock { $0.upstreamPort } }
        set { shared.withLock { $0.upstreamPort = newValue }; wake() }
    }

    /// The faults in force. Setting them re-arms the cut thresholds of open connections.
    public var faults: Faults {
        get { shared.withLock { $0.faults } }
        set {
            shared.withLock { s in
                s.faults = newValue
                s.faultGeneration += 1
            }
            wake()
        }
    }

    /// Makes the broker unreachable through the proxy until `resume()`.
    public func pause(_ mode: PauseMode = .blackhole) {
        shared.withLock { s in
            s.paused = mode
            if mode == .reject { s.dropGeneration += 1 }
        }
        wake()
    }

    /// Accepts and forwards again (bytes held by a blackhole pause flow on).
    public func resume() {
        shared.withLock { $0.paused = nil }
        wake()
    }

    /// Whether the proxy is paused, and how.
    public var pauseMode: PauseMode? { shared.withLock { $0.paused } }

    /// Aborts every open connection (RST to both sides).
    public func dropAll() {
        shared.withLock { $0.dropGeneration += 1 }
        wake()
    }

    /// Counters so far.
    public var stats: Stats { shared.withLock { $0.stats } }

    /// Whether a client connection is waiting to be accepted (e.g. held by a `.blackhole` pause):
    /// proof that a client tried to connect while the broker was unreachable.
    public var hasWaitingConnection: Bool {
        shared.withLock { s in
            // Under the lock: the loop closes the listener only after it has seen `stopped`.
            guard !s.stopped else { return false }
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, 0) == 1 && p.revents & Int16(POLLIN) != 0
        }
    }

    /// Stops listening and aborts every connection.
    public func stop() {
        let already = shared.withLock { s -> Bool in defer { s.stopped = true }; return s.stopped }
        if !already { wake() }
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    private func wake() {
        var b: UInt8 = 1
        _ = write(wakeWrite, &b, 1)
    }

    // MARK: The loop

    /// Bytes queued for one direction.
    private struct ByteQueue {
        var chunks: [[UInt8]] = []
        var head = 0
        var count = 0

        mutating func append(_ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return }
            chunks.append(bytes)
            count += bytes.count
        }

        /// Writes what the socket takes without blocking. Returns false on a socket error.
        mutating func flush(to fd: Int32) -> Bool {
            while let first = chunks.first {
                let n = first.withUnsafeBytes { send(fd, $0.baseAddress! + head, first.count - head, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno == EAGAIN || errno == EWOULDBLOCK
                }
                head += n
                count -= n
                if head == first.count {
                    chunks.removeFirst()
                    head = 0
                }
            }
            return true
        }
    }

    /// One proxied connection; touched only by the loop thread.
    private final class Conn {
        let client: Int32
        let upstream: Int32
        let opened = ContinuousClock.now
        var toBroker = ByteQueue()
        var toClient = ByteQueue()
        var delayed: [(due: ContinuousClock.Instant, bytes: [UInt8])] = []
        var delayedBytes = 0
        var clientBytes = 0
        var cutAtBytes: Int?
        var upstreamBytes = 0
        var cutAtUpstreamBytes: Int?
        /// The broker-side cut point was reached: abort once what precedes it is delivered.
        var cutWhenDelivered = false
        var cutAtTime: ContinuousClock.Instant?
        var faultGeneration = -1
        var clientEOF = false
        var upstreamEOF = false
        var upstreamShut = false
        var clientShut = false
        var done = false

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        var lastDue: ContinuousClock.Instant? { delayed.last?.due }
    }

    /// Per-direction buffering limit: stop reading a side whose bytes cannot be written on.
    private static let bufferLimit = 4 * 1024 * 1024

    private static func nanos(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    private static func draw(_ r: ClosedRange<Duration>) -> Duration {
        .nanoseconds(Int64.random(in: nanos(r.lowerBound) ... nanos(r.upperBound)))
    }

    private static func abort(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }

    private static func connectUpstream(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var r: Int32
        repeat {
            r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } while r < 0 && errno == EINTR
        guard r == 0 else { close(fd); return nil }
        prepare(fd)
        return fd
    }

    private static func prepare(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    private func run() {
        var conns: [Conn] = []
        var seenDrop = shared.withLock { $0.dropGeneration }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        func kill(_ c: Conn) {
            guard !c.done else { return }
            c.done = true
            FaultProxy.abort(c.client)
            FaultProxy.abort(c.upstream)
        }
        func cut(_ c: Conn) {
            guard !c.done else { return }
            kill(c)
            shared.withLock { $0.stats.cuts += 1 }
        }
        func responseCut(_ c: Conn) {
            guard !c.done else { return }
            kill(c)
            shared.withLock { $0.stats.cuts += 1; $0.stats.responseCuts += 1 }
        }

        while true {
            let (stopped, paused, drop, faults, faultGeneration, upstreamPort) = shared.withLock { s in
                (s.stopped, s.paused, s.dropGeneration, s.faults, s.faultGeneration, s.upstreamPort)
            }
            if stopped {
                for c in conns { kill(c) }
                // The wake pipe stays open until deinit: `wake()` may still be called.
                close(listenFD)
                shared.withLock { $0.stats.open = 0 }
                return
            }
            if drop != seenDrop {
                seenDrop = drop
                let n = conns.filter { !$0.done }.count
                for c in conns { kill(c) }
                shared.withLock { $0.stats.dropped += n }
            }
            let now = ContinuousClock.now
            for c in conns where !c.done {
                // (Re-)arm cut thresholds from the current faults.
                if c.faultGeneration != faultGeneration {
                    c.faultGeneration = faultGeneration
                    c.cutAtBytes = faults.cutAfterClientBytes.map { c.clientBytes + Int.random(in: $0) }
                    c.cutAtUpstreamBytes = faults.cutAfterBrokerBytes.map { c.upstreamBytes + Int.random(in: $0) }
                    c.cutAtTime = faults.cutAfterTime.map { now + FaultProxy.draw($0) }
                }
                if let t = c.cutAtTime, t <= now { cut(c); continue }
                if paused == nil {
                    while let first = c.delayed.first, first.due <= now {
                        c.delayed.removeFirst()
                        c.delayedBytes -= first.bytes.count
                        c.toClient.append(first.bytes)
                    }
                    if !c.toClient.flush(to: c.client) || !c.toBroker.flush(to: c.upstream) { kill(c); continue }
                    if c.cutWhenDelivered && c.toClient.count == 0 && c.delayed.isEmpty { responseCut(c); continue }
                }
                // Half-closes pass through once what was queued has been written.
                if c.clientEOF && !c.upstreamShut && c.toBroker.count == 0 {
                    c.upstreamShut = true
                    shutdown(c.upstream, Int32(SHUT_WR))
                }
                if c.upstreamEOF && !c.clientShut && c.toClient.count == 0 && c.delayed.isEmpty {
                    c.clientShut = true
                    shutdown(c.client, Int32(SHUT_WR))
                }
                if c.clientShut && c.upstreamShut {
                    c.done = true
                    close(c.client)
                    close(c.upstream)
                }
            }
            conns.removeAll { $0.done }
            shared.withLock { $0.stats.open = conns.count }

            // Poll set: wake pipe, listener (unless blackholed), then two entries per connection.
            var fds: [pollfd] = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let listening = paused != .blackhole
            fds.append(pollfd(fd: listening ? listenFD : -1, events: Int16(POLLIN), revents: 0))
            var deadline: ContinuousClock.Instant? = nil
            func consider(_ t: ContinuousClock.Instant?) {
                guard let t else { return }
                if deadline == nil || t < deadline! { deadline = t }
            }
            for c in conns {
                var ce: Int16 = 0, ue: Int16 = 0
                if paused == nil {
                    if !c.clientEOF && c.toBroker.count < FaultProxy.bufferLimit { ce |= Int16(POLLIN) }
                    if !c.upstreamEOF && !c.cutWhenDelivered && c.toClient.count + c.delayedBytes < FaultProxy.bufferLimit { ue |= Int16(POLLIN) }
                    if c.toClient.count > 0 { ce |= Int16(POLLOUT) }
                    if c.toBroker.count > 0 { ue |= Int16(POLLOUT) }
                    consider(c.delayed.first?.due)
                }
                consider(c.cutAtTime)
                fds.append(pollfd(fd: c.client, events: ce, revents: 0))
                fds.append(pollfd(fd: c.upstream, events: ue, revents: 0))
            }
            let polled = conns.count
            var timeoutMs: Int32 = 1000
            if let d = deadline {
                let ms = (FaultProxy.nanos(d - ContinuousClock.now) + 999_999) / 1_000_000
                timeoutMs = Int32(max(0, min(1000, ms)))
            }
            let r = poll(&fds, nfds_t(fds.count), timeoutMs)
            if r < 0 && errno != EINTR { continue }
            if fds[0].revents != 0 {
                while read(wakeRead, &buffer, buffer.count) > 0 {}
            }
            if listening && fds[1].revents & Int16(POLLIN) != 0 {
                while true {
                    // The pause state now, not when the poll began: a connection that arrives
                    // after `pause(.blackhole)` returned must stay in the backlog.
                    let pausedNow = shared.withLock { $0.paused }
                    if pausedNow == .blackhole { break }
                    let c = accept(listenFD, nil, nil)
                    if c < 0 {
                        if errno == EINTR { continue }
                        break
                    }
                    _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                    if pausedNow == .reject {
                        FaultProxy.abort(c)
                        shared.withLock { $0.stats.rejected += 1 }
                        continue
                    }
                    guard let port = upstreamPort, let u = FaultProxy.connectUpstream(port) else {
                        FaultProxy.abort(c)
                        shared.withLock { $0.stats.rejected += 1 }
                        continue
                    }
                    FaultProxy.prepare(c)
                    let conn = Conn(client: c, upstream: u)
                    conn.faultGeneration = faultGeneration
                    conn.cutAtBytes = faults.cutAfterClientBytes.map { Int.random(in: $0) }
                    conn.cutAtUpstreamBytes = faults.cutAfterBrokerBytes.map { Int.random(in: $0) }
                    conn.cutAtTime = faults.cutAfterTime.map { ContinuousClock.now + FaultProxy.draw($0) }
                    conns.append(conn)
                    shared.withLock { $0.stats.connections += 1 }
                }
            }
            // Again the state now: nothing read after `pause()` returned is forwarded.
            guard shared.withLock({ $0.paused }) == nil else { continue }
            // Only the connections that were polled (those accepted just now come next round).
            for (i, c) in conns.prefix(polled).enumerated() where !c.done {
                let cr = fds[2 + 2 * i].revents, ur = fds[3 + 2 * i].revents
                // Client → broker.
                if cr & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !c.clientEOF {
                    let n = buffer.withUnsafeMutableBytes { recv(c.client, $0.baseAddress!, $0.count, 0) }
                    if n == 0 {
                        c.clientEOF = true
                    } else if n < 0 {
                        if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { kill(c); continue }
                    } else {
                        var take = n
                        var cutNow = false
                        if let limit = c.cutAtBytes, c.clientBytes + n >= limit {
                            take = max(0, limit - c.clientBytes)
                            cutNow = true
                        }
                        c.clientBytes += n
                        c.toBroker.append(Array(buffer[0 ..< take]))
                        shared.withLock { $0.stats.bytesToBroker += take }
                        if cutNow {
                            // Hand the broker the bytes before the cut point, then abort.
                            _ = c.toBroker.flush(to: c.upstream)
                            cut(c)
                            continue
                        }
                        if !c.toBroker.flush(to: c.upstream) { kill(c); continue }
                    }
                }
                // Broker → client.
                if ur & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !c.upstreamEOF && !c.cutWhenDelivered {
                    let r = buffer.withUnsafeMutableBytes { recv(c.upstream, $0.baseAddress!, $0.count, 0) }
                    if r == 0 {
                        c.upstreamEOF = true
                    } else if r < 0 {
                        if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { kill(c); continue }
                    } else {
                        var n = r
                        if let limit = c.cutAtUpstreamBytes, c.upstreamBytes + r >= limit {
                            n = max(0, limit - c.upstreamBytes)
                            c.cutWhenDelivered = true
                        }
                        c.upstreamBytes += r
                        let chunk = Array(buffer[0 ..< n])
                        shared.withLock { $0.stats.bytesToClient += n }
                        if let d = faults.responseDelay {
                            var due = ContinuousClock.now + FaultProxy.draw(d)
                            if let last = c.lastDue, last > due { due = last }
                            c.delayed.append((due, chunk))
                            c.delayedBytes += n
                        } else if c.delayed.isEmpty {
                            c.toClient.append(chunk)
                            if !c.toClient.flush(to: c.client) { kill(c); continue }
                        } else {
                            // Keep order behind chunks still delayed from an earlier setting.
                            c.delayed.append((c.lastDue!, chunk))
                            c.delayedBytes += n
                        }
                    }
                }
                if c.cutWhenDelivered && c.toClient.count == 0 && c.delayed.isEmpty { responseCut(c); continue }
                // An error on a side already at end of stream (e.g. an RST after its FIN) is
                // reported whatever we poll for: the connection is over.
                if (c.clientEOF && cr & Int16(POLLERR | POLLNVAL) != 0) || (c.upstreamEOF && ur & Int16(POLLERR | POLLNVAL) != 0) { kill(c); continue }
                if cr & Int16(POLLOUT) != 0, !c.toClient.flush(to: c.client) { kill(c); continue }
                if ur & Int16(POLLOUT) != 0, !c.toBroker.flush(to: c.upstream) { kill(c); continue }
            }
        }
    }
}
