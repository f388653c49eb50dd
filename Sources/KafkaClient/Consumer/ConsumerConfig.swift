import KafkaProtocol

/// Consumer settings: everything in `ClientConfig` plus the consumer's fetch properties.
public struct ConsumerConfig: PropertyConfigurable {
    /// Where to start when a partition has no valid position (`auto.offset.reset`).
    public enum OffsetReset: String, Sendable {
        /// The first offset still in the log.
        case earliest
        /// The end of the log: only records written from now on.
        case latest
        /// Fail with `.broker(.offsetOutOfRange)` instead of resetting.
        case none
    }

    /// Whether transactional records of aborted transactions are visible (`isolation.level`).
    public enum IsolationLevel: Int8, Sendable {
        /// Every record, including those of open and aborted transactions.
        case readUncommitted = 0
        /// Committed records only, up to the last stable offset.
        case readCommitted = 1
    }

    /// Connection, metadata and security settings.
    public var client = ClientConfig()
    /// `auto.offset.reset`. Default: latest.
    public var autoOffsetReset = OffsetReset.latest
    /// `fetch.min.bytes`: the broker waits for this much data (up to `fetch.max.wait.ms`). Default: 1.
    public var fetchMinBytes = 1
    /// `fetch.max.wait.ms`. Default: 500 ms.
    public var fetchMaxWait: Duration = .milliseconds(500)
    /// `fetch.max.bytes`: most data one Fetch response may carry. Default: 52,428,800.
    public var fetchMaxBytes = 50 * 1024 * 1024
    /// `max.partition.fetch.bytes`: most data per partition per Fetch. Default: 1,048,576.
    public var maxPartitionFetchBytes = 1024 * 1024
    /// `max.poll.records`: most records one `poll` returns. Default: 500.
    public var maxPollRecords = 500
    /// `queued.max.messages.kbytes` (in bytes here): fetched data buffered ahead of the reader;
    /// fetching pauses above it (backpressure). Default: 64 MiB.
    public var queuedMaxBytes = 64 * 1024 * 1024
    /// Most bytes one fetched batch may decompress to (a larger one is a decoding error for its
    /// partition); one Fetch response's batches together may decompress to the larger of this
    /// and `queuedMaxBytes`. Not a client property: tests lower it.
    var maxBatchInflation = 256 * 1024 * 1024
    /// `isolation.level`. Default: read_uncommitted.
    public var isolationLevel = IsolationLevel.readUncommitted
    /// `check.crcs`: verify record batch CRCs. Default: true.
    public var checkCRCs = true
    /// `enable.partition.eof`: raise a `PartitionEOF` on `KafkaConsumer.partitionEOF` each
    /// time a partition has been read to its end. Default: false (as librdkafka).
    public var enablePartitionEOF = false

    // Consumer groups (used by `subscribe`).

    /// `group.id`: the consumer group; required for `subscribe` and offset commits.
    public var groupId: String?
    /// `group.instance.id`: a static member id (KIP-345); a restart within the session timeout
    /// keeps its partitions without a rebalance.
    public var groupInstanceId: String?
    /// `session.timeout.ms`: a member silent for this long is removed. Default: 45 s.
    public var sessionTimeout: Duration = .seconds(45)
    /// `heartbeat.interval.ms`. Default: 3 s.
    public var heartbeatInterval: Duration = .seconds(3)
    /// `max.poll.interval.ms`: a member that does not ask for records for this long leaves the
    /// group (its partitions go to the others). Also the rebalance timeout. Default: 300 s.
    public var maxPollInterval: Duration = .seconds(300)
    /// The assignors this member offers the group, in order of preference (the JoinGroup
    /// protocols; the group picks one every member offers, and its leader runs it). Any
    /// `PartitionAssignor` value, including a type of your own; `partition.assignment.strategy`
    /// sets this list by name (range, roundrobin, cooperative-sticky, or Java's class names).
    /// Names must be unique, and eager and cooperative assignors must not be mixed (checked by
    /// `validate()`). Default: range, roundrobin (as librdkafka).
    public var assignors: [any PartitionAssignor] = [RangeAssignor(), RoundRobinAssignor()]

    /// The protocol names of `assignors`, in order: what `partition.assignment.strategy` shows.
    public var assignmentStrategies: [String] { assignors.map(\.name) }
    /// `enable.auto.commit`: commit processed positions every `auto.commit.interval.ms`, on
    /// revocation and on close. Default: true.
    public var enableAutoCommit = true
    /// `auto.commit.interval.ms`. Default: 5 s.
    public var autoCommitInterval: Duration = .seconds(5)
    /// `client.rack`: sent in the subscription for rack-aware assignors.
    public var clientRack: String?

    /// Every setting at its default (no bootstrap servers yet).
    public init() {}

    /// Defaults, with these bootstrap servers.
    /// - Parameter bootstrapServers: `host:port` pairs.
    public init(bootstrapServers: [String]) {
        client.bootstrapServers = bootstrapServers
    }

    /// Settings from Kafka property names (client and consumer properties).
    /// - Parameter properties: Property names and values, e.g. `["group.id": "billing"]`.
    /// - Throws: `KafkaError(.configuration)` for an unknown key or a bad value.
    public init(properties: [String: String]) throws {
        try set(properties)
    }

    /// Checks the settings work together (the client settings, fetch sizes, group timeouts).
    /// - Throws: `KafkaError(.configuration)` naming the problem.
    public func validate() throws {
        try client.validate()
        guard maxPollRecords >= 1 else { throw KafkaError(.configuration, "max.poll.records must be at least 1") }
        guard heartbeatInterval < sessionTimeout else {
            throw KafkaError(.configuration, "heartbeat.interval.ms (\(heartbeatInterval)) must be lower than session.timeout.ms (\(sessionTimeout))")
        }
        if groupId?.isEmpty == true { throw KafkaError(.configuration, "group.id must not be empty") }
        if groupInstanceId?.isEmpty == true { throw KafkaError(.configuration, "group.instance.id must not be empty") }
        guard !assignors.isEmpty else { throw KafkaError(.configuration, "partition.assignment.strategy must name at least one assignor") }
        // The leader finds the group's choice by name, so a name offered twice is ambiguous.
        if let empty = assignors.first(where: { $0.name.isEmpty }) {
            throw KafkaError(.configuration, "assignor \(type(of: empty)) has an empty name")
        }
        if Set(assignmentStrategies).count < assignors.count {
            throw KafkaError(.configuration, "partition.assignment.strategy names an assignor twice: \(assignmentStrategies.joined(separator: ","))")
        }
        if Set(assignors.map(\.rebalanceProtocol)).count > 1 {
            throw KafkaError(.configuration, "partition.assignment.strategy mixes eager and cooperative assignors: \(assignmentStrategies.joined(separator: ","))")
        }
    }

    public static let properties: [ConfigProperty<ConsumerConfig>] =
        ClientConfig.properties.map { p in ConfigProperty(p.key, p.doc) { c, v in try p.apply(&c.client, v) } } + [
            .init("auto.offset.reset", "earliest, latest or none. Default: latest.") { c, v in
                switch try ConfigParse.choice("auto.offset.reset", v, ["earliest", "latest", "none", "smallest", "largest", "beginning", "end", "error"]) {
                case "earliest", "smallest", "beginning": c.autoOffsetReset = .earliest
                case "none", "error": c.autoOffsetReset = .none
                default: c.autoOffsetReset = .latest
                }
            },
            .init("fetch.min.bytes", "Default: 1.") { c, v in c.fetchMinBytes = try ConfigParse.int("fetch.min.bytes", v, min: 0, max: Int(Int32.max)) },
            .init("fetch.max.wait.ms", "Default: 500.") { c, v in c.fetchMaxWait = try ConfigParse.milliseconds("fetch.max.wait.ms", v) },
            .init("fetch.wait.max.ms", "librdkafka's name for fetch.max.wait.ms.") { c, v in c.fetchMaxWait = try ConfigParse.milliseconds("fetch.wait.max.ms", v) },
            .init("fetch.max.bytes", "Default: 52428800.") { c, v in c.fetchMaxBytes = try ConfigParse.int("fetch.max.bytes", v, min: 1024, max: Int(Int32.max)) },
            .init("max.partition.fetch.bytes", "Default: 1048576.") { c, v in c.maxPartitionFetchBytes = try ConfigParse.int("max.partition.fetch.bytes", v, min: 1, max: Int(Int32.max)) },
            .init("max.poll.records", "Default: 500.") { c, v in c.maxPollRecords = try ConfigParse.int("max.poll.records", v, min: 1, max: 1 << 24) },
            .init("queued.max.messages.kbytes", "Prefetch bound in KiB. Default: 65536.") { c, v in c.queuedMaxBytes = try ConfigParse.int("queued.max.messages.kbytes", v, min: 1, max: Int.max / 1024) * 1024 },
            .init("isolation.level", "read_uncommitted or read_committed. Default: read_uncommitted.") { c, v in
                c.isolationLevel = try ConfigParse.choice("isolation.level", v, ["read_uncommitted", "read_committed"]) == "read_committed" ? .readCommitted : .readUncommitted
            },
            .init("check.crcs", "Verify batch CRCs. Default: true.") { c, v in c.checkCRCs = try ConfigParse.bool("check.crcs", v) },
            .init("enable.partition.eof", "Raise an event at each partition's end. Default: false.") { c, v in c.enablePartitionEOF = try ConfigParse.bool("enable.partition.eof", v) },
            .init("group.id", "Consumer group id.") { c, v in c.groupId = v },
            .init("group.instance.id", "Static member id (KIP-345).") { c, v in c.groupInstanceId = v.isEmpty ? nil : v },
            .init("session.timeout.ms", "Default: 45000.") { c, v in c.sessionTimeout = try ConfigParse.milliseconds("session.timeout.ms", v, min: 1) },
            .init("heartbeat.interval.ms", "Default: 3000.") { c, v in c.heartbeatInterval = try ConfigParse.milliseconds("heartbeat.interval.ms", v, min: 1) },
            .init("max.poll.interval.ms", "Default: 300000.") { c, v in c.maxPollInterval = try ConfigParse.milliseconds("max.poll.interval.ms", v, min: 1) },
            .init("partition.assignment.strategy", "range, roundrobin, cooperative-sticky (comma-separated, preferred first). Default: range,roundrobin.") { c, v in
                let names = v.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
                guard !names.isEmpty else { throw ConfigParse.bad("partition.assignment.strategy", v, "a comma-separated list of assignors") }
                c.assignors = try names.map { try PartitionAssignors.named($0) }
            },
            .init("enable.auto.commit", "Default: true.") { c, v in c.enableAutoCommit = try ConfigParse.bool("enable.auto.commit", v) },
            .init("auto.commit.interval.ms", "Default: 5000.") { c, v in c.autoCommitInterval = try ConfigParse.milliseconds("auto.commit.interval.ms", v, min: 1) },
            .init("client.rack", "Rack id for rack-aware assignment.") { c, v in c.clientRack = v.isEmpty ? nil : v },
        ]
}
