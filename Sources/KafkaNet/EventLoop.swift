#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CKafkaNetShims
import Synchronization
import KafkaProtocol

/// Something registered with the event loop: told when its socket is readable/writable, and
/// ticked regularly to enforce deadlines.
protocol EventHandler: AnyObject, Sendable {
    /// Called on the loop thread. Returns true when the handler stopped early with input still
    /// waiting (its per-wakeup budget ran out, or TLS holds decrypted bytes epoll cannot see):
    /// the loop then calls it again, after the other ready sockets, without waiting.
    func handleEvents(readable: Bool, writable: Bool, hangup: Bool) -> Bool
    /// Called on the loop thread about every `EventLoop.tickInterval`.
    func tick(now: ContinuousClock.Instant)
}

/// One thread running epoll for many sockets.
///
/// Socket reads and non-blocking writes that could not complete happen here, never on Swift's
/// cooperative pool. Callers write directly (non-blocking) when they can; the loop takes over
/// when the kernel buffer is full. Continuations are resumed from this thread; decoding of
/// responses happens afterwards on the awaiting task.
///
/// Invariants:
/// - A registered socket's descriptor is closed only here, on the loop thread, between two
///   rounds of events (`retire`), so no read on this thread can hit a descriptor number that
///   was closed and reused meanwhile.
/// - Events carry a registration id, never the descriptor: an event still queued for a retired
///   registration finds no handler and is dropped.
/// - No handler runs for long: each reads at most a budget per wakeup and asks to be called
///   again (`handleEvents` → true), so one flooding peer cannot starve the other sockets or the
///   deadline ticks.
public final class EventLoop: Sendable {
    /// How often handlers are ticked for deadlines.
    static let tickInterval: Duration = .milliseconds(50)

    private let epfd: Int32
    private let wakeFD: Int32
    private let state = Mutex(State())
    private let stopping = Atomic<Bool>(false)

    private struct Registration {
        let socket: OwnedSocket
        let handler: any EventHandler
    }

    private struct Retirement {
        let id: UInt64
        let socket: OwnedSocket
        /// Runs on the loop thread just before the descriptor is closed (e.g. send TLS
        /// close_notify and free the session, which writes to the descriptor).
        let beforeClose: (@Sendable () -> Void)?
    }

    private struct State {
        var handlers: [UInt64: Registration] = [:]
        var nextId: UInt64 = 1
        var retiring: [Retirement] = []
    }

    /// Registration id of the wakeup eventfd.
    private static let wakeId: UInt64 = 0

    private static let sharedLoop = Mutex<EventLoop?>(nil)

    /// The process-wide loop shared by all clients, created on first use. Throws only when the
    /// process cannot create an epoll instance (out of descriptors).
    /// - Returns: The shared loop.
    /// - Throws: `SystemCallError` when epoll or eventfd cannot be created.
    public static func shared() throws -> EventLoop {
        try sharedLoop.withLock { slot in
            if let loop = slot { return loop }
            let loop = try EventLoop()
            slot = loop
            return loop
        }
    }

    /// Creates a loop and starts its thread.
    /// - Throws: `SystemCallError` when epoll or eventfd cannot be created.
    public init() throws {
        epfd = try Posix.epollCreate()
        do {
            wakeFD = try Posix.eventFD()
            try Posix.epollControl(epfd, EPOLL_CTL_ADD, fd: wakeFD, events: EPOLLIN.rawValue, id: Self.wakeId)
        } catch {
            Posix.close(epfd)
            throw error
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "kafkawire-io"
        thread.start()
    }

    /// Stops the loop thread (tests only; the shared loop lives for the process).
    public func shutdown() {
        stopping.store(true, ordering: .releasing)
        wake()
    }

    func wake() { Posix.signal(eventFD: wakeFD) }

    /// Watches `socket` for `handler`; returns the registration id.
    func register(_ socket: OwnedSocket, handler: any EventHandler, writable: Bool) throws(SystemCallError) -> UInt64 {
        let id = state.withLock { s -> UInt64 in
            defer { s.nextId += 1 }
            s.handlers[s.nextId] = Registration(socket: socket, handler: handler)
            return s.nextId
        }
        do {
            try Posix.epollControl(epfd, EPOLL_CTL_ADD, fd: socket.fd, events: Self.events(writable: writable), id: id)
        } catch {
            _ = state.withLock { $0.handlers.removeValue(forKey: id) }
            throw error
        }
        return id
    }

    private static func events(writable: Bool) -> UInt32 {
        EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (writable ? EPOLLOUT.rawValue : 0)
    }

    /// Turns interest in writability on or off (epoll_ctl is thread-safe). Does nothing once the
    /// registration is retired.
    func setWritableInterest(_ id: UInt64, fd: Int32, _ on: Bool) {
        // The descriptor cannot be closed meanwhile: only this loop closes it, and only after
        // `retire`, which the caller's own close path issues after its last call here.
        try? Posix.epollControl(epfd, EPOLL_CTL_MOD, fd: fd, events: Self.events(writable: on), id: id)
    }

    /// Stops watching registration `id` and closes its socket — on the loop thread, after the
    /// current round of events — running `beforeClose` there first.
    func retire(_ id: UInt64, socket: OwnedSocket, beforeClose: (@Sendable () -> Void)? = nil) {
        state.withLock { $0.retiring.append(Retirement(id: id, socket: socket, beforeClose: beforeClose)) }
        wake()
    }

    /// Registrations not yet retired (for tests).
    var registrationCount: Int { state.withLock { $0.handlers.count } }

    private func closeRetired() {
        let retiring = state.withLock { s -> [Retirement] in
            defer { s.retiring = [] }
            for r in s.retiring { s.handlers.removeValue(forKey: r.id) }
            return s.retiring
        }
        for r in retiring {
            Posix.epollRemove(epfd, fd: r.socket.fd)
            r.beforeClose?()
            r.socket.close()
        }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var lastTick = ContinuousClock.now
        let tickMs = Int32(EventLoop.tickInterval.components.attoseconds / 1_000_000_000_000_000)
        // Handlers that stopped early with input left: called again before sleeping.
        var again: [UInt64] = []
        while !stopping.load(ordering: .acquiring) {
            let n = events.withUnsafeMutableBufferPointer { buf in
                Posix.epollWait(epfd, buf, timeoutMs: again.isEmpty ? tickMs : 0)
            }
            var stillPending: [UInt64] = []
            var handled: [UInt64] = []
            for i in 0 ..< n {
                let ev = events[i]
                let id = ev.data.u64
                if id == Self.wakeId {
                    Posix.drain(eventFD: wakeFD)
                    continue
                }
                guard let handler = state.withLock({ $0.handlers[id]?.handler }) else { continue }
                let bits = ev.events
                let more = handler.handleEvents(
                    readable: bits & EPOLLIN.rawValue != 0,
                    writable: bits & EPOLLOUT.rawValue != 0,
                    hangup: bits & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
                )
                if more { stillPending.append(id) }
                if !again.isEmpty { handled.append(id) }
            }
            for id in again where !handled.contains(id) {
                guard let handler = state.withLock({ $0.handlers[id]?.handler }) else { continue }
                if handler.handleEvents(readable: true, writable: false, hangup: false) { stillPending.append(id) }
            }
            again = stillPending
            let now = ContinuousClock.now
            if now - lastTick >= EventLoop.tickInterval {
                lastTick = now
                for handler in state.withLock({ $0.handlers.values.map(\.handler) }) { handler.tick(now: now) }
            }
            closeRetired()
        }
        closeRetired()
        Posix.close(wakeFD)
        Posix.close(epfd)
    }
}
