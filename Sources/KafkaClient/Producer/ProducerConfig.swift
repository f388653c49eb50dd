public import KafkaProtocol

/// Producer settings: everything in `ClientConfig` plus the producer's own properties.
///
/// Defaults follow librdkafka where it and the Java client differ in ways that matter for
/// throughput (`batch.size`), and the Java client otherwise.
public struct ProducerConfig: PropertyConfigurable {
    /// Connection, metadata and security settings.
    public var client = ClientConfig()
    /// `acks`: `.none` (0, no answer), `.leader` (1) or `.all` (-1/all, every in-sync
    /// replica). Default: `.all`.
    public var acks = Acks.all
    /// `linger.ms`: how long a batch waits for more messages. Default: 5 ms.
    public var linger: Duration = .milliseconds(5)
    /// `batch.size`: a batch is sent once it holds this many bytes. Default: 1,000,000.
    public var batchSize = 1_000_000
    /// `max.request.size` (librdkafka: `message.max.bytes`): the most a Produce request carries.
    /// Default: 1,048,576.
    public var maxRequestSize = 1_048_576
    /// `max.in.flight.requests.per.connection`: at most 5 with idempotence. Default: 5.
    public var maxInFlight = 5
    /// `buffer.memory` (librdkafka: `queue.buffering.max.kbytes`): bytes of unacknowledged
    /// messages held; `send` waits and `enqueue` fails with `.queueFull` beyond it. Default: 64 MiB.
    public var bufferMemory = 64 * 1024 * 1024
    /// `queue.buffering.max.messages`: most messages held unacknowledged (buffered, waiting
    /// for metadata or in flight), beside the byte bound `bufferMemory`: beyond it `enqueue`
    /// fails with `.queueFull` and `send` waits for room. Default: unbounded (`Int.max`, as the
    /// Java client; librdkafka's default is 100,000), so `buffer.memory` alone bounds.
    public var maxQueuedMessages = Int.max
    /// `batch.num.messages`: most records in one batch; a batch holding this many is sent
    /// without waiting for `linger.ms`. Default: 10,000 (librdkafka's; the Java client has no
    /// such bound). With small messages it keeps batches near 100 KB where `batch.size` alone
    /// would let them reach 1 MB: a batch, once written, is resent whole, so on a link that
    /// drops connections every few hundred KB a 1 MB batch could never get through.
    public var maxBatchRecords = 10_000
    /// `compression.type` (librdkafka: `compression.codec`). Default: none.
    public var compression = RecordCompression.none
    /// `compression.level`: codec level; nil for the codec's default.
    public var compressionLevel: Int?
    /// `retries`: resend attempts for retriable errors. Default: unlimited (bounded by
    /// `delivery.timeout.ms`).
    public var retries = Int.max
    /// `delivery.timeout.ms`: a message that is not acknowledged this long after it was
    /// enqueued fails with `.timeout`. Default: 120 000 ms; with a `transactionalId`, the
    /// `transactionTimeout` when that is shorter (librdkafka's rule: a message must not outlive
    /// its transaction). Set explicitly above `transactionTimeout`, `validate()` refuses it.
    public var deliveryTimeout: Duration {
        get { deliveryTimeoutSetting ?? (transactionalId == nil ? .seconds(120) : min(.seconds(120), transactionTimeout)) }
        set { deliveryTimeoutSetting = newValue }
    }
    /// `delivery.timeout.ms` as set (nil: the default above).
    private var deliveryTimeoutSetting: Duration?
    /// `enable.idempotence`: producer id and sequence numbers so that retries never duplicate or
    /// reorder. Default: true. A transactional producer needs it.
    public var enableIdempotence = true
    /// `transactional.id`: makes the producer transactional (KIP-98): `initTransactions()`
    /// once, then records only inside `beginTransaction()` … `commitTransaction()` /
    /// `abortTransaction()`. The id outlives the process: a new producer with the same id fences
    /// the old one and aborts what it left open. Default: nil (not transactional).
    public var transactionalId: String?
    /// `transaction.timeout.ms`: how long the coordinator lets a transaction stay open before
    /// it aborts it. Default: 60 000 ms.
    public var transactionTimeout: Duration = .seconds(60)
    /// `partitioner`: how records without an explicit partition are placed.
    public var partitioner = Partitioner.default

    /// Every setting at its default (no bootstrap servers yet).
    public init() {}

    /// A configuration with the given bootstrap servers.
    /// - Parameter bootstrapServers: `host:port` pairs.
    public init(bootstrapServers: [String]) {
        client.bootstrapServers = bootstrapServers
    }

    /// A configuration from Kafka property names (client and producer properties).
    /// - Parameter properties: Client and producer properties by their Kafka names.
    /// - Throws: `KafkaError(.configuration)` for an unknown key or a bad value.
    public init(properties: [String: String]) throws {
        try set(properties)
    }

    /// Checks the combination of settings.
    /// - Throws: `KafkaError(.configuration)` naming what is inconsistent.
    public func validate() throws {
        try client.validate()
        if enableIdempotence {
            guard acks == .all else { throw KafkaError(.configuration, "enable.idempotence=true needs acks=all (set enable.idempotence=false to use acks=\(acks))") }
            guard maxInFlight <= 5 else { throw KafkaError(.configuration, "enable.idempotence=true allows at most 5 max.in.flight.requests.per.connection") }
        }
        if let id = transactionalId {
            guard !id.isEmpty else { throw KafkaError(.configuration, "transactional.id must not be empty") }
            guard enableIdempotence else { throw KafkaError(.configuration, "transactional.id needs enable.idempotence=true") }
            guard deliveryTimeout <= transactionTimeout else {
                throw KafkaError(.configuration, "delivery.timeout.ms (\(deliveryTimeout.int32Milliseconds)) must not exceed transaction.timeout.ms (\(transactionTimeout.int32Milliseconds)) for a transactional producer")
            }
            guard transactionTimeout >= .milliseconds(1) else { throw KafkaError(.configuration, "transaction.timeout.ms must be positive") }
        }
        guard maxQueuedMessages >= 1 else { throw KafkaError(.configuration, "queue.buffering.max.messages must be at least 1") }
        guard maxBatchRecords >= 1 else { throw KafkaError(.configuration, "batch.num.messages must be at least 1") }
        guard batchSize <= maxRequestSize || batchSize <= bufferMemory else { throw KafkaError(.configuration, "batch.size exceeds buffer.memory") }
    }

    public static let properties: [ConfigProperty<ProducerConfig>] =
        ClientConfig.properties.map { p in ConfigProperty(p.key, p.doc) { c, v in try p.apply(&c.client, v) } } + [
            .init("acks", "0, 1, all or -1. Default: all.") { c, v in
                guard let acks = Acks(property: v) else { throw ConfigParse.bad("acks", v, "0, 1, all or -1") }
                c.acks = acks
            },
            .init("linger.ms", "Batch wait. Default: 5.") { c, v in c.linger = try ConfigParse.milliseconds("linger.ms", v) },
            .init("queue.buffering.max.ms", "librdkafka's name for linger.ms.") { c, v in c.linger = try ConfigParse.milliseconds("queue.buffering.max.ms", v) },
            .init("batch.size", "Batch bytes. Default: 1000000.") { c, v in c.batchSize = try ConfigParse.int("batch.size", v, min: 1, max: 1 << 30) },
            .init("max.request.size", "Produce request bytes. Default: 1048576.") { c, v in c.maxRequestSize = try ConfigParse.int("max.request.size", v, min: 1024, max: 1 << 30) },
            .init("message.max.bytes", "librdkafka's name for max.request.size.") { c, v in c.maxRequestSize = try ConfigParse.int("message.max.bytes", v, min: 1024, max: 1 << 30) },
            .init("max.in.flight.requests.per.connection", "Requests in flight per broker. Default: 5.") { c, v in c.maxInFlight = try ConfigParse.int("max.in.flight.requests.per.connection", v, min: 1, max: 1000) },
            .init("max.in.flight", "librdkafka's name for max.in.flight.requests.per.connection.") { c, v in c.maxInFlight = try ConfigParse.int("max.in.flight", v, min: 1, max: 1000) },
            .init("buffer.memory", "Unacknowledged bytes held. Default: 67108864.") { c, v in c.bufferMemory = try ConfigParse.int("buffer.memory", v, min: 1024, max: Int.max) },
            .init("queue.buffering.max.kbytes", "librdkafka's buffer limit in KiB.") { c, v in c.bufferMemory = try ConfigParse.int("queue.buffering.max.kbytes", v, min: 1, max: Int.max / 1024) * 1024 },
            .init("queue.buffering.max.messages", "Unacknowledged messages held. Default: unbounded.") { c, v in c.maxQueuedMessages = try ConfigParse.int("queue.buffering.max.messages", v, min: 1, max: Int.max) },
            .init("batch.num.messages", "Records per batch. Default: 10000.") { c, v in c.maxBatchRecords = try ConfigParse.int("batch.num.messages", v, min: 1, max: Int.max) },
            .init("compression.type", "none, gzip, snappy, lz4, zstd. Default: none.") { c, v in c.compression = try parseCodec("compression.type", v) },
            .init("compression.codec", "librdkafka's name for compression.type.") { c, v in c.compression = try parseCodec("compression.codec", v) },
            .init("compression.level", "Codec level (-1 = default).") { c, v in
                let l = try ConfigParse.int("compression.level", v, min: -1, max: 22)
                c.compressionLevel = l == -1 ? nil : l
            },
            .init("retries", "Retry attempts. Default: unlimited.") { c, v in c.retries = try ConfigParse.int("retries", v, min: 0, max: Int.max) },
            .init("delivery.timeout.ms", "Delivery deadline. Default: 120000.") { c, v in c.deliveryTimeout = try ConfigParse.milliseconds("delivery.timeout.ms", v, min: 1) },
            .init("message.timeout.ms", "librdkafka's name for delivery.timeout.ms.") { c, v in c.deliveryTimeout = try ConfigParse.milliseconds("message.timeout.ms", v, min: 1) },
            .init("enable.idempotence", "Idempotent producer. Default: true.") { c, v in c.enableIdempotence = try ConfigParse.bool("enable.idempotence", v) },
            .init("transactional.id", "Makes the producer transactional. Default: none.") { c, v in c.transactionalId = v },
            .init("transaction.timeout.ms", "Coordinator's abort deadline. Default: 60000.") { c, v in c.transactionTimeout = try ConfigParse.milliseconds("transaction.timeout.ms", v, min: 1) },
            .init("partitioner", "murmur2_random (default), consistent_random, round_robin.") { c, v in
                switch try ConfigParse.choice("partitioner", v, ["murmur2_random", "murmur2", "default", "consistent_random", "round_robin"]) {
                case "consistent_random": c.partitioner = .consistentRandom
                case "round_robin": c.partitioner = .roundRobin
                default: c.partitioner = .default
                }
            },
        ]

    static func parseCodec(_ key: String, _ v: String) throws -> RecordCompression {
        switch try ConfigParse.choice(key, v, ["none", "gzip", "snappy", "lz4", "zstd"]) {
        case "gzip": return .gzip
        case "snappy": return .snappy
        case "lz4": return .lz4
        case "zstd": return .zstd
        default: return .none
        }
    }
}
