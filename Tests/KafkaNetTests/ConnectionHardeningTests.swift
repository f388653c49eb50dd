import Dispatch
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// Cancellation and lifecycle of the connection layer, and a peer that floods: each test names
/// the hazard it guards against.
@Suite(.serialized) struct ConnectionHardeningTests {
    /// Fails (instead of hanging the suite) when `body` does not finish within `limit`.
    func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { g in
            g.addTask { try await body() }
            g.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { g.cancelAll() }
            guard let first = try await g.next(), let value = first else {
                throw FakeBrokerError("\(what) did not finish within \(limit)")
            }
            return value
        }
    }

    func waitUntil(_ limit: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    // MARK: Item 10 — a request cancelled before it is queued is never sent

    @Test func aRequestCancelledBeforeItIsQueuedIsNeverSent() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, requestTimeout: .seconds(5))
        defer { c.close() }
        let outcome = await Task { () -> Result<MetadataResponse, any Error> in
            withUnsafeCurrentTask { $0?.cancel() }
            return await capture { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5)) }
        }.value
        guard case let .failure(e as KafkaError) = outcome, e.kind == .cancelled else {
            Issue.record("expected .cancelled, got \(outcome)")
            return
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(broker.received.filter { $0.header.apiKey == .metadata }.isEmpty, "the cancelled request reached the broker")
        // The connection is still good.
        _ = try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5))
        #expect(broker.received.filter { $0.header.apiKey == .metadata }.count == 1)
    }

    @Test func aRequestCancelledInFlightReturnsAtOnceAndTheConnectionGoesOn() async throws {
        let broker = try FakeBroker { req, b in
            req.header.apiKey == .metadata && req.header.correlationId == 2 ? .respondAfter(.seconds(2), b.body(MetadataResponse(), for: req)) : b.defaultAction(req)
        }
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, requestTimeout: .seconds(30))
        defer { c.close() }
        let slow = Task { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        slow.cancel()
        let r = await slow.result
        #expect(ContinuousClock.now - start < .seconds(1))
        guard case let .failure(e as KafkaError) = r, e.kind == .cancelled else { Issue.record("expected .cancelled, got \(r)"); return }
        // The late answer is matched and dropped; the next request gets its own answer.
        _ = try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5))
        #expect(c.isOpen)
    }

    // MARK: Item 8 — cancelling a connect (or a lookup) ends every wait and leaks nothing

    @Test func aConnectInACancelledTaskEndsAtOnceAndRegistersNothing() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let port = broker.port
        let r = try await within(.seconds(5), "a cancelled connect") {
            await Task { () -> Result<Connection, any Error> in
                withUnsafeCurrentTask { $0?.cancel() }
                return await capture { try await Connection.connect(host: "127.0.0.1", port: port, loop: loop) }
            }.value
        }
        guard case let .failure(e as KafkaError) = r, e.kind == .cancelled else { Issue.record("expected .cancelled, got \(r)"); return }
        #expect(await waitUntil { loop.registrationCount == 0 })
    }

    @Test func connectsCancelledAtRandomMomentsAllFinishAndLeaveNoRegistration() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let port = broker.port
        var cancelled = 0, connected = 0
        for i in 0 ..< 60 {
            let t = Task { try await Connection.connect(host: "127.0.0.1", port: port, loop: loop) }
            if i % 3 != 0 { try await Task.sleep(for: .microseconds(Int.random(in: 0 ... 1500))) }
            t.cancel()
            let r = try await within(.seconds(5), "connect #\(i)") { await t.result }
            switch r {
            case let .success(c):
                connected += 1
                c.close()
            case let .failure(e as KafkaError) where e.kind == .cancelled: cancelled += 1
            case let .failure(e): Issue.record("connect #\(i): \(e)")
            }
        }
        #expect(cancelled > 0)
        #expect(await waitUntil { loop.registrationCount == 0 }, "\(loop.registrationCount) registrations left")
    }

    @Test func aCancelledLookupEndsAtOnce() async throws {
        let release = DispatchSemaphore(value: 0)
        defer { release.signal() }
        let t = Task {
            try await AddressResolver.resolve(host: "slow.invalid", port: 9092) {
                _ = release.wait(timeout: .now() + 30)
                return []
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        t.cancel()
        let r = try await within(.seconds(5), "a cancelled lookup") { await t.result }
        #expect(ContinuousClock.now - start < .seconds(1))
        guard case let .failure(e as KafkaError) = r, e.kind == .cancelled else { Issue.record("expected .cancelled, got \(r)"); return }
    }

    @Test func brokerLinkCloseDuringAConnectEndsTheWaiter() async throws {
        // A listener that never accepts fills its backlog: connects to it hang in SYN_SENT.
        let listener = try RawListener(backlog: 0)
        defer { listener.close() }
        var fillers: [OwnedSocket] = []
        for _ in 0 ..< 8 {
            let s = try OwnedSocket.tcp(family: AF_INET)
            _ = try? s.connect(to: listener.address)
            fillers.append(s)
        }
        var o = ConnectionOptions()
        o.connectTimeout = .seconds(60)
        let link = BrokerLink(host: "127.0.0.1", port: listener.port, options: o, requestTimeout: .seconds(60))
        let waiter = Task { try await link.connection() }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        link.close()
        let r = try await within(.seconds(5), "a waiter of a closed link") { await waiter.result }
        #expect(ContinuousClock.now - start < .seconds(2))
        if case .success = r { Issue.record("expected the waiter to fail") }
        withExtendedLifetime(fillers) {}
    }

    // MARK: Item 9 — descriptors are closed on the loop thread only

    /// Blocks the loop thread inside `handleEvents` until released.
    final class BlockingHandler: EventHandler, @unchecked Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        private let once = Atomic<Bool>(false)
        func handleEvents(readable: Bool, writable: Bool, hangup: Bool) -> Bool {
            if !once.exchange(true, ordering: .relaxed) {
                entered.signal()
                _ = release.wait(timeout: .now() + 10)
            }
            return false
        }
        func tick(now: ContinuousClock.Instant) {}
    }

    @Test func closeFromAnotherThreadLeavesTheDescriptorOpenUntilTheLoopRetiresIt() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let c = try await Connection.connect(host: "127.0.0.1", port: broker.port, loop: loop)
        let fd = c.descriptor
        // An unconnected TCP socket is writable (and hung up) at once: the loop thread enters
        // the blocking handler and stays there.
        let blocker = BlockingHandler()
        let idle = try OwnedSocket.tcp(family: AF_INET)
        let id = try loop.register(idle, handler: blocker, writable: true)
        #expect(blocker.entered.wait(timeout: .now() + 5) == .success)
        // Closed from this thread while the loop may be about to read it: the descriptor must
        // stay ours (not closed, so its number cannot be reused) until the loop is done.
        c.close()
        #expect(!c.isOpen)
        #expect(fcntl(fd, F_GETFD) != -1, "close() closed the descriptor off the loop thread")
        blocker.release.signal()
        loop.retire(id, socket: idle)
        #expect(await waitUntil { loop.registrationCount == 0 })
    }

    @Test func eventsForARetiredRegistrationNeverReachTheNextOwnerOfItsNumber() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let loop = try EventLoop()
        defer { loop.shutdown() }
        // Open and close many connections while others work: with descriptors closed off the
        // loop or events keyed by descriptor, a reused number could deliver one connection's
        // bytes to another (a correlation mismatch or a wrong answer).
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0 ..< 8 {
                g.addTask {
                    for _ in 0 ..< 15 {
                        let c = try await Connection.connect(host: "127.0.0.1", port: broker.port, loop: loop)
                        let b = try await BrokerConnection.negotiate(c, clientId: "k", timeout: .seconds(5), cap: nil)
                        #expect(b.1 >= 0)
                        c.close()
                    }
                }
            }
            try await g.waitForAll()
        }
        #expect(await waitUntil { loop.registrationCount == 0 })
    }

    // MARK: Item 5 — a flooding peer cannot stall the loop

    @Test func aFloodingPeerDoesNotStallOtherConnectionsOrHoldBackCompleteFrames() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        // Peer A answers the first request at once, then streams one endless frame for up to
        // 3 s (at most 1 GiB).
        let flooder = try RawListener(backlog: 4)
        defer { flooder.close() }
        let floodDone = Atomic<Bool>(false)
        flooder.serveOnce { fd in
            var size = [UInt8](repeating: 0, count: 4)
            var got = 0
            while got < 4 { let n = read(fd, &size[got], 4 - got); if n <= 0 { return }; got += n }
            let length = Int(UInt32(size[0]) << 24 | UInt32(size[1]) << 16 | UInt32(size[2]) << 8 | UInt32(size[3]))
            var request = [UInt8](repeating: 0, count: length)
            got = 0
            while got < length { let n = request.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, length - got) }; if n <= 0 { return }; got += n }
            // Response: size 4, the request's correlation id (bytes 4..<8 of the request).
            var out: [UInt8] = [0, 0, 0, 4] + request[4 ..< 8]
            out += [0x3F, 0xFF, 0xFF, 0xFF] // the flood frame: ~1 GiB announced
            let chunk = [UInt8](repeating: 0x55, count: 1 << 20)
            let end = ContinuousClock.now + .seconds(3)
            var sent = 0
            _ = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            while ContinuousClock.now < end && sent < (1 << 30) - (1 << 20) {
                let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            floodDone.store(true, ordering: .releasing)
        }
        var o = ConnectionOptions()
        o.maxFrameSize = Int(Int32.max)
        let a = try await Connection.connect(host: "127.0.0.1", port: flooder.port, options: o, loop: loop)
        defer { a.close() }
        // Peer B never answers: its request must time out on schedule during the flood.
        let silent = try FakeBroker { req, b in req.header.apiKey == .metadata ? .ignore : b.defaultAction(req) }
        defer { silent.stop() }
        let b = try await Connection.connect(host: "127.0.0.1", port: silent.port, loop: loop)
        defer { b.close() }
        let frame = try BrokerConnection.frame(MetadataRequest(topics: nil), version: 4, clientId: "k")
        let answer = try await a.send(frame: frame, apiKey: .metadata, apiVersion: 4, timeout: .seconds(10))
        // The answer was complete before the flood: it must not wait for the flood to end.
        #expect(answer.count == 4)
        let endedBeforeAnswer = floodDone.load(ordering: .acquiring)
        #expect(!endedBeforeAnswer, "the answer was held back until the flood ended")
        let start = ContinuousClock.now
        do {
            _ = try await b.send(frame: frame, apiKey: .metadata, apiVersion: 4, timeout: .milliseconds(300))
            Issue.record("expected a timeout")
        } catch let e as KafkaError {
            #expect(e.kind == .timeout)
        }
        let took = ContinuousClock.now - start
        #expect(took < .milliseconds(1500), "the timeout fired after \(took) while a peer flooded")
        let endedBeforeTimeout = floodDone.load(ordering: .acquiring)
        #expect(!endedBeforeTimeout, "the flood ended before the timeout was checked (test did not flood)")
    }
}

/// `body`'s outcome as a value.
func capture<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

/// A plain listening socket on 127.0.0.1 that a test drives by hand.
final class RawListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    var address: SocketAddress {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bytes = withUnsafeBytes(of: &a) { Array($0) }
        return SocketAddress(family: AF_INET, storage: bytes, text: "127.0.0.1:\(port)")
    }

    init(backlog: Int32) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        guard ok == 0, listen(fd, backlog) == 0 else { throw FakeBrokerError("bind/listen failed") }
        var len = size
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: a.sin_port))
    }

    /// Accepts one connection on a thread and runs `body` with it, then closes it.
    func serveOnce(_ body: @escaping @Sendable (Int32) -> Void) {
        let listenFD = fd
        Thread {
            let c = accept(listenFD, nil, nil)
            guard c >= 0 else { return }
            body(c)
            shutdown(c, Int32(SHUT_RDWR))
            Glibc.close(c)
        }.start()
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
