#if canImport(Glibc)
import Glibc
#endif
import KafkaClient
import KafkaProtocol

/// `kwire-bench produce`: end-to-end producer throughput against a real broker, with the
/// client's own CPU time per message and peak RSS (getrusage), as one JSON line. With a
/// transactional id, the same workload twice: idempotent, then in transactions of
/// `transactionSize` messages (each committed), one line each, so the cost of transactions
/// reads off side by side.
enum ProduceBench {
    struct Options {
        var bootstrap = ""
        var topic: String?
        var messages = 1_000_000
        var size = 100
        var properties: [String: String] = [:]
        var transactionalId: String?
        var transactionSize = 10_000
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    static func peakRSSMegabytes() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_maxrss) / 1024
    }

    static func run(_ o: Options) async throws {
        let topic = o.topic ?? "kwire-bench-\(UInt32.random(in: 0 ... .max))"
        if o.topic == nil {
            let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [o.bootstrap]))
            try await admin.createTopic(NewTopic(name: topic, partitions: 1, replicationFactor: 1))
            await admin.close()
        }
        var props = o.properties
        props["bootstrap.servers"] = o.bootstrap
        guard let id = o.transactionalId else {
            try await measure(props, topic: topic, o, transactionSize: nil)
            return
        }
        // The idempotent figure first, on the same topic and settings.
        let idempotent = try await measure(props, topic: topic, o, transactionSize: nil)
        props["transactional.id"] = id
        let transactional = try await measure(props, topic: topic, o, transactionSize: o.transactionSize)
        print(JSONValue.object([
            ("bench", .string("produce_transactional_vs_idempotent")),
            ("transaction_size", .int(Int64(o.transactionSize))),
            ("idempotent_msgs_per_s", .int(Int64(idempotent))), ("transactional_msgs_per_s", .int(Int64(transactional))),
            ("ratio", .double(Micro.round(transactional / idempotent, 3))),
        ]).serialized())
    }

    /// One run: `o.messages` messages (in transactions of `transactionSize` when given); prints
    /// its JSON line and returns messages per second.
    @discardableResult
    static func measure(_ props: [String: String], topic: String, _ o: Options, transactionSize: Int?) async throws -> Double {
        let producer = try KafkaProducer(properties: props)
        let value = [UInt8](repeating: 0x61, count: o.size)
        let record = ProducerRecord(topic: topic, key: nil, value: value)
        // Warm up: metadata and producer id (and the transaction coordinator), outside the measurement.
        if transactionSize != nil {
            try await producer.initTransactions()
            try await producer.withTransaction { _ = try await $0.send(record) }
        } else {
            _ = try await producer.send(record)
        }
        let cpu0 = cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        var i = 0, transactions = 0
        while i < o.messages {
            if let n = transactionSize, i % n == 0 { try producer.beginTransaction() }
            do {
                try producer.enqueue(record)
            } catch let e as KafkaError where e.kind == .queueFull {
                // Back-pressure: wait for room through the suspending path.
                _ = try await producer.send(record)
            }
            i += 1
            if let n = transactionSize, i % n == 0 || i == o.messages {
                try await producer.commitTransaction()
                transactions += 1
            }
        }
        if transactionSize == nil { try await producer.flush() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = cpuSeconds() - cpu0
        await producer.close()
        print(JSONValue.object([
            ("bench", .string("produce")), ("client", .string("kafkawire")), ("messages", .int(Int64(o.messages))), ("size", .int(Int64(o.size))),
            ("acks", .string(props["acks"] ?? "all")), ("compression", .string(props["compression.type"] ?? "none")),
            ("linger_ms", .string(props["linger.ms"] ?? "5")),
            ("mode", .string(transactionSize != nil ? "transactional" : (props["enable.idempotence"] == "false" ? "plain" : "idempotent"))),
            ("transactions", .int(Int64(transactions))),
            ("seconds", .double(Micro.round(seconds, 3))),
            ("msgs_per_s", .int(Int64(Double(o.messages) / seconds))),
            ("mb_per_s", .double(Micro.round(Double(o.messages * o.size) / seconds / 1e6, 1))),
            ("cpu_us_per_msg", .double(Micro.round(cpu / Double(o.messages) * 1e6, 3))),
            ("peak_rss_mb", .double(Micro.round(peakRSSMegabytes(), 1))),
        ]).serialized())
        return Double(o.messages) / seconds
    }
}
