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
    /// Called on the loop thread.
    func handleEvents(readable: Bool, writable: Bool, hangup: Bool)
    /// Called on the loop thread about every `EventLoop.tickInterval`.
    func tick(now: ContinuousClock.Instant)
}

/// One thread running epoll for many sockets.
///
/// Socket reads and non-blocking writes that could not complete happen here, never on Swift's
/// cooperative pool. Callers write directly (non-blocking) when they can; the loop takes over
/// when the kernel buffer is full. Continuations are resumed from this thread; decoding of
/// responses happens afterwards on the awaiting task.
public final class EventLoop: Sendable {
    /// How often handlers are ticked for deadlines.
    static let tickInterval: Duration = .milliseconds(50)

    private let epfd: Int32
    private let wakeFD: Int32
    private let handlers = Mutex<[Int32: any EventHandler]>([:])
    private let stopping = Atomic<Bool>(false)

    private static let sharedLoop = Mutex<EventLoop?>(nil)

    /// The process-wide loop shared by all clients, created on first use. Throws only when the
    /// process cannot create an epoll instance (out of descriptors).
    public static func shared() throws -> EventLoop {
        try sharedLoop.withLock { slot in
            if let loop = slot { return loop }
            let loop = try EventLoop()
            slot = loop
            return loop
        }
    }

    /// Creates a loop and starts its thread.
    public init() throws {
        epfd = try Posix.retrying("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            wakeFD = try Posix.retrying("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        } catch {
            Posix.close(epfd)
            throw error
        }
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue
        ev.data.fd = wakeFD
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &ev)
        let thread = Thread { [self] in self.run() }
        thread.name = "kafkawire-io"
        thread.start()
    }

    /// Stops the loop thread (tests only; the shared loop lives for the process).
    public func shutdown() {
        stopping.store(true, ordering: .releasing)
        wake()
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    func register(fd: Int32, handler: any EventHandler, writable: Bool) throws {
        handlers.withLock { $0[fd] = handler }
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        ev.data.fd = fd
        do {
            _ = try Posix.retrying("epoll_ctl(ADD)") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) }
        } catch {
            _ = handlers.withLock { $0.removeValue(forKey: fd) }
            throw error
        }
    }

    /// Turns interest in writability on or off (epoll_ctl is thread-safe).
    func setWritableInterest(fd: Int32, _ on: Bool) {
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (on ? EPOLLOUT.rawValue : 0)
        ev.data.fd = fd
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Removes `fd` before it is closed.
    func deregister(fd: Int32) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
        _ = handlers.withLock { $0.removeValue(forKey: fd) }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var lastTick = ContinuousClock.now
        let tickMs = Int32(EventLoop.tickInterval.components.attoseconds / 1_000_000_000_000_000)
        while !stopping.load(ordering: .acquiring) {
            let n = events.withUnsafeMutableBufferPointer { buf in
                epoll_wait(epfd, buf.baseAddress, Int32(buf.count), tickMs)
            }
            if n > 0 {
                for i in 0 ..< Int(n) {
                    let ev = events[i]
                    let fd = ev.data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = read(wakeFD, &value, 8)
                        continue
                    }
                    guard let handler = handlers.withLock({ $0[fd] }) else { continue }
                    let bits = ev.events
                    handler.handleEvents(
                        readable: bits & EPOLLIN.rawValue != 0,
                        writable: bits & EPOLLOUT.rawValue != 0,
                        hangup: bits & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
                    )
                }
            }
            let now = ContinuousClock.now
            if now - lastTick >= EventLoop.tickInterval {
                lastTick = now
                for handler in handlers.withLock({ Array($0.values) }) { handler.tick(now: now) }
            }
        }
        Posix.close(wakeFD)
        Posix.close(epfd)
    }
}
