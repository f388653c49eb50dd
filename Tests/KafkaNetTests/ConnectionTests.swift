import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
@testable import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// Connection behaviour against the in-process fake broker: negotiation, pipelining,
/// timeouts, correlation mismatches, drops and reconnects.
@Suite struct ConnectionTests {
    func connect(_ broker: FakeBroker, caps: [ApiKey: Int16] = [:]) async throws -> BrokerConnection {
        var o = ConnectionOptions()
        o.versionCaps = caps
        o.clientId = "kwire-test"
        return try await BrokerConnection.connect(host: "127.0.0.1", port: broker.port, options: o, requestTimeout: .seconds(5))
    }

    @Test func negotiatesHighestCommonVersions() async throws {
        let broker = try FakeBroker(apiRanges: [.apiVersions: 0 ... 4, .metadata: 0 ... 8, .createTopics: 0 ... 9])
        defer { broker.stop() }
        let c = try await connect(broker)
        defer { c.close() }
        #expect(c.apiVersionsVersion == 4)
        #expect(try c.version(for: MetadataRequest.self) == 8)
        #expect(try c.version(for: CreateTopicsRequest.self) == 7)
        #expect(throws: KafkaError.self) { try c.version(for: DeleteTopicsRequest.self) }
        let first = try #require(broker.received.first)
        #expect(first.header.apiKey == .apiVersions)
        #expect(first.header.clientId == "kwire-test")
        let req = try first.decode(ApiVersionsRequest.self)
        #expect(req.clientSoftwareName == "kafkawire")
    }

    @Test func apiVersionsFallsBackWhenBrokerRejectsOurVersion() async throws {
        let broker = try FakeBroker(apiRanges: [.apiVersions: 0 ... 2, .metadata: 0 ... 12])
        defer { broker.stop() }
        let c = try await connect(broker)
        defer { c.close() }
        #expect(c.apiVersionsVersion == 2)
        let versions = broker.received.filter { $0.header.apiKey == .apiVersions }.map(\.header.apiVersion)
        #expect(versions == [4, 2])
        #expect(try c.version(for: MetadataRequest.self) == 12)
    }

    @Test func pipelinesManyRequestsOnOneConnection() async throws {
        let broker = try FakeBroker()
        broker.addTopic("t", partitions: 2)
        defer { broker.stop() }
        let c = try await connect(broker)
        defer { c.close() }
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0 ..< 100 {
                group.addTask { try await c.send(MetadataRequest(topics: ["t"]), timeout: .seconds(5)).topics[0].partitions.count }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.count == 100 && results.allSatisfy { $0 == 2 })
        #expect(broker.connectionCount == 1)
        let ids = broker.received.filter { $0.header.apiKey == .metadata }.map(\.header.correlationId)
        #expect(Set(ids).count == 100, "correlation ids must be unique")
        #expect(ids == ids.sorted(), "requests are written in correlation-id order")
    }

    @Test func requestTimeoutFailsTheRequestAndClosesTheConnection() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .metadata ? .ignore : b.defaultAction(req) }
        defer { broker.stop() }
        let c = try await connect(broker)
        let start = ContinuousClock.now
        do {
            _ = try await c.send(MetadataRequest(topics: nil), timeout: .milliseconds(300))
            Issue.record("expected a timeout")
        } catch let e as KafkaError {
            #expect(e.kind == .timeout)
            #expect(e.isRetriable)
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(30))
        #expect(!c.isOpen)
    }

    @Test func correlationMismatchKillsTheConnectionAndFailsEverythingInFlight() async throws {
        // The first Metadata is answered with a wrong correlation id; a second one is in flight.
        let count = Mutex(0)
        let broker = try FakeBroker { req, b in
            guard req.header.apiKey == .metadata else { return b.defaultAction(req) }
            let n = count.withLock { c -> Int in c += 1; return c }
            if n == 1 { return .ignore }
            var w = ByteWriter()
            w.writeInt32(req.header.correlationId &+ 1000)
            return .rawPayload(w.take() + b.body(MetadataResponse(), for: req))
        }
        defer { broker.stop() }
        let c = try await connect(broker)
        let a = Task { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5)) }
        while c.connection.inflightCount < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let b = Task { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5)) }
        for r in [await a.result, await b.result] {
            guard case let .failure(e as KafkaError) = r else { Issue.record("expected failure, got \(r)"); continue }
            #expect(e.kind == .decoding || e.kind == .connection)
        }
        #expect(!c.isOpen)
    }

    @Test func brokerDroppingTheConnectionFailsInFlightWithARetriableError() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .metadata ? .disconnect : b.defaultAction(req) }
        defer { broker.stop() }
        let c = try await connect(broker)
        do {
            _ = try await c.send(MetadataRequest(topics: nil), timeout: .seconds(60))
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .connection)
            #expect(e.isRetriable)
        }
        #expect(!c.isOpen)
    }

    @Test func closeFailsEveryInFlightRequest() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .metadata ? .ignore : b.defaultAction(req) }
        defer { broker.stop() }
        let c = try await connect(broker)
        let tasks = (0 ..< 5).map { _ in Task { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(30)) } }
        while c.connection.inflightCount < 5 { try await Task.sleep(for: .milliseconds(5)) }
        c.close()
        for t in tasks {
            let r = await t.result
            guard case let .failure(e as KafkaError) = r else { Issue.record("expected failure"); continue }
            #expect(e.kind == .connection && e.isRetriable)
        }
        // A closed connection refuses new requests at once.
        await #expect(throws: KafkaError.self) { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(1)) }
    }

    @Test func oversizedResponseFrameClosesTheConnection() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .metadata ? .rawBytes([0x7F, 0xFF, 0xFF, 0xFF, 0]) : b.defaultAction(req) }
        defer { broker.stop() }
        let c = try await connect(broker)
        await #expect(throws: KafkaError.self) { try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5)) }
        #expect(!c.isOpen)
    }

    @Test func malformedResponseBodyIsADecodingErrorNamingTheField() async throws {
        let broker = try FakeBroker { req, b in
            guard req.header.apiKey == .metadata else { return b.defaultAction(req) }
            var w = ByteWriter()
            w.writeInt32(req.header.correlationId)
            w.writeBytes([0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF]) // throttle, then a huge broker count
            return .rawPayload(w.take())
        }
        defer { broker.stop() }
        let c = try await connect(broker, caps: [.metadata: 8])
        do {
            _ = try await c.send(MetadataRequest(topics: nil), timeout: .seconds(5))
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .decoding)
            #expect(e.message.contains("brokers"))
        }
    }

    @Test func connectionRefusedIsAConnectionError() async throws {
        let broker = try FakeBroker()
        let port = broker.port
        broker.stop()
        do {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: port)
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .connection)
            #expect(e.message.contains("refused"))
        }
    }

    @Test func connectsOverIPv6Loopback() async throws {
        let broker = try FakeBroker(ipv6: true)
        broker.addTopic("six", partitions: 2)
        defer { broker.stop() }
        let c = try await BrokerConnection.connect(host: "::1", port: broker.port)
        defer { c.close() }
        #expect(c.remote == "[::1]:\(broker.port)")
        let m = try await c.send(MetadataRequest(topics: ["six"]), timeout: .seconds(5))
        #expect(m.brokers.first?.host == "::1")
        #expect(m.topics.first?.partitions.count == 2)
    }

    @Test func connectTimesOutWhenTheBrokerNeverAccepts() async throws {
        // A listener with a zero backlog whose queue is already full: the kernel drops further
        // SYNs, so a connect stays pending until our own timeout fires.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in bind(fd, sa, len) == 0 && listen(fd, 0) == 0 && getsockname(fd, sa, &len) == 0 }
        }
        try #require(ok)
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0 ..< 4 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, len) } }
            fillers.append(s)
        }
        var o = ConnectionOptions()
        o.connectTimeout = .milliseconds(300)
        let start = ContinuousClock.now
        do {
            let c = try await Connection.connect(host: "127.0.0.1", port: Int(UInt16(bigEndian: addr.sin_port)), options: o)
            c.close()
            Issue.record("connect should have timed out")
        } catch let e as KafkaError {
            #expect(e.kind == .timeout)
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(30))
    }

    @Test func unresolvableHostIsAConnectionError() async throws {
        await #expect(throws: KafkaError.self) {
            _ = try await BrokerConnection.connect(host: "no-such-host.invalid", port: 9092)
        }
    }
}

@Suite struct BrokerLinkTests {
    @Test func reconnectsAfterTheBrokerDropsTheConnection() async throws {
        let broker = try FakeBroker()
        broker.addTopic("t", partitions: 1)
        defer { broker.stop() }
        let link = BrokerLink(host: "127.0.0.1", port: broker.port, options: ConnectionOptions(), requestTimeout: .seconds(5))
        defer { link.close() }
        _ = try await link.send(MetadataRequest(topics: ["t"]))
        #expect(broker.connectionCount == 1)
        broker.dropConnections()
        // The next request may fail (the drop races with it) but the one after reconnects.
        var answered = false
        for _ in 0 ..< 20 where !answered {
            if (try? await link.send(MetadataRequest(topics: ["t"]))) != nil { answered = true } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(answered)
        #expect(broker.connectionCount == 2)
    }

    @Test func failedConnectsBackOffExponentially() async throws {
        let broker = try FakeBroker()
        let port = broker.port
        broker.stop()
        var o = ConnectionOptions()
        o.reconnectBackoff = Backoff(base: .milliseconds(100), max: .seconds(1), jitter: 0)
        let link = BrokerLink(host: "127.0.0.1", port: port, options: o, requestTimeout: .seconds(1))
        defer { link.close() }
        let start = ContinuousClock.now
        for _ in 0 ..< 3 { _ = try? await link.connection() }
        let elapsed = ContinuousClock.now - start
        #expect(link.consecutiveFailures == 3)
        // Waits of 100 ms then 200 ms happened before the 2nd and 3rd attempts.
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(30), "bounded, with slack for a loaded machine")
    }

    @Test func closedLinkRefusesWork() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let link = BrokerLink(host: "127.0.0.1", port: broker.port, options: ConnectionOptions(), requestTimeout: .seconds(1))
        link.close()
        do {
            _ = try await link.connection()
            Issue.record("expected failure")
        } catch let e as KafkaError {
            #expect(e.kind == .closed)
        }
    }
}

