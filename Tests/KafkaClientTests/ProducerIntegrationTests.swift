import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// The producer against a real broker; what it wrote is read back by confluent-kafka.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && PeerClients.available, "needs KAFKA_BOOTSTRAP and python3 with confluent-kafka"))
struct ProducerIntegrationTests {
    static var bootstrap: String { IntegrationEnvironment.bootstrap?.split(separator: ",").first.map(String.init) ?? "" }

    func makeTopic(_ partitions: Int32) async throws -> String {
        let topic = IntegrationEnvironment.uniqueTopic("kw-produce")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: partitions, replicationFactor: 1))
        await admin.close()
        return topic
    }

    @Test func sendReturnsOffsetsAndPeersReadEverything() async throws {
        let topic = try await makeTopic(3)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap, "linger.ms": "2"])
        var metas: [RecordMetadata] = []
        for i in 0 ..< 30 {
            metas.append(try await producer.send(ProducerRecord(topic: topic, key: "key-\(i % 7)", value: "value-\(i)")))
        }
        // Same key → same partition, offsets increase per partition.
        let byKey = Dictionary(grouping: zip(0 ..< 30, metas), by: { $0.0 % 7 })
        for (_, group) in byKey { #expect(Set(group.map(\.1.partition)).count == 1) }
        for p in Set(metas.map(\.partition)) {
            let offsets = metas.filter { $0.partition == p }.compactMap(\.offset)
            #expect(offsets.count == metas.filter { $0.partition == p }.count && offsets == offsets.sorted() && offsets.first == 0)
        }
        await producer.close()
        let read = try await PeerClients.consume(client: "confluent", bootstrap: Self.bootstrap, topic: topic, count: 30)
        #expect(read.count == 30)
        #expect(Set(read.compactMap { $0["value"] as? String }) == Set((0 ..< 30).map { "value-\($0)" }))
    }

    @Test(arguments: [("none", "1"), ("gzip", "all"), ("snappy", "all"), ("lz4", "1"), ("zstd", "all")])
    func enqueueWithEveryCodec(codec: String, acks: String) async throws {
        let topic = try await makeTopic(2)
        let delivered = Mutex(0)
        let failed = Mutex(0)
        var props = ["bootstrap.servers": Self.bootstrap, "compression.type": codec, "acks": acks, "linger.ms": "5"]
        if acks != "all" { props["enable.idempotence"] = "false" }
        let producer = try KafkaProducer(properties: props) { report in
            if report.isSuccess { delivered.withLock { $0 += report.messageIds.count } } else { failed.withLock { $0 += report.messageIds.count } }
        }
        let n = 5000
        for i in 0 ..< n {
            try producer.enqueue(ProducerRecord(topic: topic, key: i % 10 == 0 ? nil : "k\(i)", value: "message \(i) " + String(repeating: "x", count: i % 50)))
        }
        try await producer.flush()
        #expect(delivered.withLock { $0 } == n)
        #expect(failed.withLock { $0 } == 0)
        await producer.close()
        let read = try await PeerClients.consume(client: "confluent", bootstrap: Self.bootstrap, topic: topic, count: n)
        #expect(read.count == n)
        let values = Set(read.compactMap { $0["value"] as? String })
        #expect(values.count == n)
        #expect(values.contains("message 4999 " + String(repeating: "x", count: 4999 % 50)))
    }

    @Test func closeRightAfterEnqueueDeliversEverything() async throws {
        let topic = try await makeTopic(1)
        let delivered = Mutex(0)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap]) { r in
            if r.isSuccess { delivered.withLock { $0 += r.messageIds.count } }
        }
        // Metadata for the topic is not known yet: these wait for it, and close must flush them.
        for i in 0 ..< 500 { try producer.enqueue(ProducerRecord(topic: topic, key: nil, value: "c\(i)")) }
        await producer.close()
        #expect(delivered.withLock { $0 } == 500)
    }

    @Test func acksZeroDeliversWithUnknownOffsets() async throws {
        let topic = try await makeTopic(1)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap, "acks": "0", "enable.idempotence": "false"])
        let m = try await producer.send(ProducerRecord(topic: topic, key: nil, value: "fire and forget"))
        #expect(m.offset == nil)
        for i in 0 ..< 99 { try producer.enqueue(ProducerRecord(topic: topic, key: nil, value: "v\(i)")) }
        await producer.close()
        let read = try await PeerClients.consume(client: "confluent", bootstrap: Self.bootstrap, topic: topic, count: 100)
        #expect(read.count == 100)
    }
}

/// One million messages through the producer, read back by confluent-kafka: the same count and
/// the same bytes in the same order.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && PeerClients.available, "needs KAFKA_BOOTSTRAP and python3 with confluent-kafka"))
struct ProducerMillionTests {
    @Test func aMillionMessagesArriveExactlyAsSent() async throws {
        let bootstrap = ProducerIntegrationTests.bootstrap
        let topic = IntegrationEnvironment.uniqueTopic("kw-million")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: 1, replicationFactor: 1))
        await admin.close()
        let n = 1_000_000
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "linger.ms": "5", "acks": "all"])
        var digestInput: [UInt8] = []
        digestInput.reserveCapacity(n * 104)
        for i in 0 ..< n {
            // 100-byte values that differ in content, not just length.
            var v = Array("m\(i)-".utf8)
            v += [UInt8](repeating: UInt8(97 + i % 26), count: 100 - v.count)
            digestInput += v
            digestInput.append(0x0A)
            while true {
                do {
                    try producer.enqueue(ProducerRecord(topic: topic, key: nil, value: v))
                    break
                } catch let e as KafkaError where e.kind == .queueFull {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
        try await producer.flush()
        #expect(producer.pendingMessages == 0)
        await producer.close()
        let expected = Int(CRC32.checksum(digestInput))
        let r = try await PeerClients.run(["/usr/bin/env", "python3", PeerClients.script, "--client", "confluent", "--bootstrap", bootstrap,
                                     "--topic", topic, "--count", String(n), "--timeout", "120", "--summary"])
        let summary = try JSONSerialization.jsonObject(with: r.out) as? [String: Any]
        #expect(summary?["count"] as? Int == n)
        #expect(summary?["crc32"] as? Int == expected)
        #expect(summary?["contiguous_offsets"] as? Bool == true)
    }
}
