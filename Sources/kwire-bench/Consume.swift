#if canImport(Glibc)
import Glibc
#endif
import KafkaClient
import KafkaProtocol

/// `kwire-bench consume`: reads `messages` records with `KafkaConsumer.records` and prints one
/// JSON line (msgs/s, MB/s, client CPU µs per message, peak RSS). Without `--topic` it first
/// fills a fresh one-partition topic with our producer; with `--topic` it reads that topic's
/// partitions from the beginning as they are (so several clients can read the same data).
enum ConsumeBench {
    struct Options {
        var bootstrap = ""
        var topic: String?
        var messages = 1_000_000
        var size = 100
        var properties: [String: String] = [:]
    }

    static func run(_ o: Options) async throws {
        let topic: String
        var partitions: [TopicPartition]
        if let given = o.topic {
            topic = given
            let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [o.bootstrap]))
            let described = try await admin.describeTopics([given])
            await admin.close()
            let count = described.first?.partitions.count ?? 0
            guard count > 0 else { throw KafkaError(.configuration, "topic \(given) has no partitions") }
            partitions = (0 ..< Int32(count)).map { TopicPartition(topic: given, partition: $0) }
        } else {
            topic = "kwire-bench-consume-\(UInt32.random(in: 0 ... .max))"
            try await fill(topic: topic, bootstrap: o.bootstrap, messages: o.messages, size: o.size)
            partitions = [TopicPartition(topic: topic, partition: 0)]
        }
        var props = o.properties
        props["bootstrap.servers"] = o.bootstrap
        let consumer = try KafkaConsumer(properties: props)
        let cpu0 = ProduceBench.cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        try await consumer.assign(partitions, from: .beginning)
        var n = 0
        var bytes = 0
        for try await r in consumer.records {
            n += 1
            bytes &+= r.value?.count ?? 0
            if n == o.messages { break }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = ProduceBench.cpuSeconds() - cpu0
        await consumer.close()
        print(JSONValue.object([
            ("bench", .string("consume")), ("client", .string("kafkawire")), ("topic", .string(topic)), ("messages", .int(Int64(n))),
            ("size", .int(Int64(o.size))),
            ("seconds", .double(Micro.round(seconds, 3))), ("msgs_per_s", .int(Int64(Double(n) / seconds))),
            ("mb_per_s", .double(Micro.round(Double(bytes) / seconds / 1e6, 1))),
            ("cpu_us_per_msg", .double(Micro.round(cpu / Double(max(n, 1)) * 1e6, 3))),
            ("peak_rss_mb", .double(Micro.round(ProduceBench.peakRSSMegabytes(), 1))),
        ]).serialized())
    }

    /// Creates `topic` (one partition) and writes `messages` values of `size` bytes to it.
    static func fill(topic: String, bootstrap: String, messages: Int, size: Int) async throws {
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: 1, replicationFactor: 1))
        await admin.close()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "acks": "1", "enable.idempotence": "false"])
        let value = [UInt8](repeating: 0x61, count: size)
        for _ in 0 ..< messages {
            while true {
                do { try producer.enqueue(ProducerRecord(topic: topic, key: nil, value: value)); break } catch { try await producer.flush() }
            }
        }
        await producer.close()
    }
}
