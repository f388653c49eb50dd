import Foundation
import Testing
import KafkaClient
import KafkaTestSupport

/// The consumer against a real broker: data from our producer and from confluent-kafka.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && PeerClients.available, "needs KAFKA_BOOTSTRAP and python3 with confluent-kafka"))
struct ConsumerIntegrationTests {
    static var bootstrap: String { ProducerIntegrationTests.bootstrap }

    func topic(_ partitions: Int32) async throws -> String {
        let t = IntegrationEnvironment.uniqueTopic("kw-consume")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        try await admin.createTopic(NewTopic(name: t, partitions: partitions, replicationFactor: 1))
        await admin.close()
        return t
    }

    func consumer(_ extra: [String: String] = [:]) throws -> KafkaConsumer {
        var props = ["bootstrap.servers": Self.bootstrap, "fetch.max.wait.ms": "100"]
        for (k, v) in extra { props[k] = v }
        return try KafkaConsumer(properties: props)
    }

    /// Reads until `count` records arrived (bounded by `timeout`).
    func read(_ c: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
        var out: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + timeout
        while out.count < count, ContinuousClock.now < deadline {
            out += try await c.poll(max: 10000, timeout: .milliseconds(500))
        }
        return out
    }

    @Test func readsBackWhatOurProducerWrote() async throws {
        let t = try await topic(3)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap, "compression.type": "lz4"])
        let n = 20000
        for i in 0 ..< n { try producer.enqueue(ProducerRecord(topic: t, key: "key-\(i % 50)", value: "value-\(i)")) }
        try await producer.flush()
        await producer.close()
        let c = try consumer()
        try await c.assign((0 ..< 3).map { TopicPartition(topic: t, partition: $0) }, from: .beginning)
        let got = try await read(c, count: n)
        #expect(got.count == n)
        #expect(Set(got.compactMap(\.valueString)).count == n)
        // Offsets are contiguous from 0 within each partition.
        for p in Int32(0) ..< 3 {
            let offsets = got.filter { $0.partition == p }.map(\.offset)
            #expect(offsets == Array(0 ..< Int64(offsets.count)))
            let marks = try #require(c.watermarks(TopicPartition(topic: t, partition: p)))
            #expect(marks.high == Int64(offsets.count))
            #expect(c.lag(TopicPartition(topic: t, partition: p)) == 0)
        }
        await c.close()
    }

    @Test(arguments: ["none", "gzip", "snappy", "lz4", "zstd"])
    func readsExactlyWhatConfluentKafkaProduced(codec: String) async throws {
        let t = try await topic(1)
        let n = 500
        let r = try await PeerClients.run(["/usr/bin/env", "python3", KwireCLITests.root.appendingPathComponent("scripts/peer_produce.py").path,
                                     "--bootstrap", Self.bootstrap, "--topic", t, "--count", String(n), "--compression", codec])
        #expect(r.status == 0)
        let c = try consumer()
        try await c.assign([TopicPartition(topic: t, partition: 0)], from: .beginning)
        let got = try await read(c, count: n)
        #expect(got.count == n)
        for (i, rec) in got.enumerated() {
            #expect(rec.offset == Int64(i))
            #expect(rec.keyString == (i % 10 == 0 ? nil : "k\(i)"), "key \(i)")
            let value: String? = i % 7 == 0 ? nil : (i % 11 == 0 ? "" : "v\(i)-\(codec)")
            #expect(rec.valueString == value, "value \(i)")
            #expect(rec.headers.first?.key == "i")
            #expect(rec.headers.first?.value.map { String(decoding: $0, as: UTF8.self) } == String(i))
        }
        await c.close()
    }

    @Test func seekPauseResumeAndEnd() async throws {
        let t = try await topic(1)
        let tp = TopicPartition(topic: t, partition: 0)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap])
        for i in 0 ..< 100 { _ = try await producer.send(ProducerRecord(topic: t, key: nil, value: "m\(i)")) }
        let c = try consumer()
        try await c.assign([tp], from: .offset(40))
        let first = try await read(c, count: 60)
        #expect(first.first?.offset == 40 && first.count == 60)
        try c.seek(tp, to: .offset(10))
        let again = try await read(c, count: 1)
        #expect(again.first?.offset == 10)
        #expect(again.first?.valueString == "m10")
        // Pause: new messages are not fetched until resumed.
        try c.seek(tp, to: .end)
        _ = try await c.poll(timeout: .milliseconds(300))
        c.pause([tp])
        _ = try await producer.send(ProducerRecord(topic: t, key: nil, value: "after-pause"))
        #expect(try await c.poll(timeout: .milliseconds(500)).isEmpty)
        c.resume([tp])
        let resumed = try await read(c, count: 1)
        #expect(resumed.first?.valueString == "after-pause")
        #expect(resumed.first?.offset == 100)
        await producer.close()
        await c.close()
    }

    @Test func theAsyncSequenceDeliversInOrder() async throws {
        let t = try await topic(1)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap])
        for i in 0 ..< 1000 { try producer.enqueue(ProducerRecord(topic: t, key: nil, value: "s\(i)")) }
        await producer.close()
        let c = try consumer()
        try await c.assign([TopicPartition(topic: t, partition: 0)], from: .beginning)
        var expected: Int64 = 0
        // Closing ends the sequence: bound the test instead of hanging if records never come.
        let guardTask = Task { try await Task.sleep(for: .seconds(30)); await c.close() }
        defer { guardTask.cancel() }
        for try await r in c.records {
            #expect(r.offset == expected)
            expected += 1
            if expected == 1000 { break }
        }
        #expect(expected == 1000)
        await c.close()
    }

    @Test func fetchingStopsWhenTheReaderStops() async throws {
        let t = try await topic(1)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap])
        let value = [UInt8](repeating: 0x42, count: 1000)
        for _ in 0 ..< 20000 { try producer.enqueue(ProducerRecord(topic: t, key: nil, value: value)) }
        await producer.close()
        let c = try consumer(["queued.max.messages.kbytes": "512", "max.partition.fetch.bytes": "65536"])
        try await c.assign([TopicPartition(topic: t, partition: 0)], from: .beginning)
        // Wait (bounded) until the prefetch buffer has filled, without reading.
        let deadline = ContinuousClock.now + .seconds(30)
        while c.bufferedBytes < 512 * 1024, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let filled = c.bufferedBytes
        try await Task.sleep(for: .milliseconds(500))
        // Flat while nobody reads: no fetch is issued above the limit. (One response can overshoot
        // it: Tansu answers ~5 MB per Fetch whatever max.partition.fetch.bytes says.)
        #expect(filled >= 512 * 1024)
        #expect(c.bufferedBytes == filled)
        #expect(c.bufferedBytes < 512 * 1024 + 8 * 1024 * 1024)
        #expect(c.bufferedBytes < 20000 * 1000, "not everything was prefetched")
        let got = try await read(c, count: 20000)
        #expect(got.count == 20000)
        await c.close()
    }
}
