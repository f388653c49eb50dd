#if canImport(Glibc)
import Glibc
#endif
import KafkaClient

/// `kwire-bench consume`: fills a fresh topic with our producer, then measures reading it back
/// (msgs/s, MB/s, client CPU µs per message, peak RSS) as one JSON line.
enum ConsumeBench {
    static func run(bootstrap: String, messages: Int, size: Int, properties: [String: String]) async throws {
        let topic = "kwire-bench-consume-\(UInt32.random(in: 0 ... .max))"
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: 1, replicationFactor: 1))
        await admin.close()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "acks": "1", "enable.idempotence": "false"])
        let value = [UInt8](repeating: 0x61, count: size)
        for _ in 0 ..< messages {
            while true {
                do { try producer.enqueue(ProducerRecord(topic: topic, key: nil, value: value)); break } catch { await producer.flush() }
            }
        }
        await producer.close()

        var props = properties
        props["bootstrap.servers"] = bootstrap
        let consumer = try KafkaConsumer(properties: props)
        let cpu0 = ProduceBench.cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        try await consumer.assign([TopicPartition(topic: topic, partition: 0)], from: .beginning)
        var n = 0
        var bytes = 0
        for try await r in consumer.records {
            n += 1
            bytes &+= r.value?.count ?? 0
            if n == messages { break }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = ProduceBench.cpuSeconds() - cpu0
        await consumer.close()
        print(JSONValue.object([
            ("bench", .string("consume")), ("client", .string("kafkawire")), ("messages", .int(Int64(n))), ("size", .int(Int64(size))),
            ("seconds", .double(Micro.round(seconds, 3))), ("msgs_per_s", .int(Int64(Double(n) / seconds))),
            ("mb_per_s", .double(Micro.round(Double(bytes) / seconds / 1e6, 1))),
            ("cpu_us_per_msg", .double(Micro.round(cpu / Double(max(n, 1)) * 1e6, 3))),
            ("peak_rss_mb", .double(Micro.round(ProduceBench.peakRSSMegabytes(), 1))),
        ]).serialized())
    }
}
