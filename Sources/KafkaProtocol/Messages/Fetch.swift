// Fetch · API key 1 · versions 4…17 · flexible from 12
// (Kafka 4.0 removed 0–3, KIP-896.)
//   v4: isolation_level; last_stable_offset and aborted_transactions in the response (KIP-98).
//   v5: log_start_offset (KIP-107).  v6: no layout change (KAFKA_STORAGE_ERROR possible).
//   v7: incremental fetch sessions: session_id, session_epoch, forgotten_topics_data; the
//       response gains error_code and session_id (KIP-227).
//   v8: no layout change (the broker answers before throttling).  v9: current_leader_epoch (KIP-320).
//   v10: no layout change (ZStandard data, KIP-110).  v11: rack_id; preferred_read_replica (KIP-392).
//   v12: flexible; last_fetched_epoch; cluster_id (tag 0); the response gains diverging_epoch
//        (tag 0), current_leader (tag 1) and snapshot_id (tag 2) per partition (KIP-595).
//   v13: topic ids replace topic names (KIP-516).
//   v14: no layout change (OFFSET_MOVED_TO_TIERED_STORAGE possible, KIP-405).
//   v15: replica_state (tag 1) replaces replica_id (KIP-903).
//   v16: node_endpoints (tag 0) in the response (KIP-951).
//   v17: replica_directory_id (partition tag 0, KIP-853); no response change.
//   v18 (schema only, not declared here): high_watermark (partition tag 1, KIP-1166).

/// Reads records from partition logs.
public struct FetchRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = FetchResponse
    public static let apiKey = ApiKey.fetch
    public static let versions: ClosedRange<Int16> = 4 ... 17
    public static let flexibleFrom: Int16? = 12

    /// The fetching replica's identity (v15+, brokers only; KIP-903).
    public struct ReplicaState: ProtocolStruct, Equatable {
        /// -1 for consumers.
        public var replicaId: Int32 = -1
        /// -1 when unknown.
        public var replicaEpoch: Int64 = -1
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - replicaId: -1 for consumers.
        ///   - replicaEpoch: -1 when unknown.
        public init(replicaId: Int32, replicaEpoch: Int64) {
            self.replicaId = replicaId
            self.replicaEpoch = replicaEpoch
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int32(&replicaId, "replica_id")
            try c.int64(&replicaEpoch, "replica_epoch")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// One partition to fetch from.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition`: the partition index.
        public var partition: Int32 = 0
        /// v9+: the leader epoch the fetcher knows, for fencing (KIP-320); -1 when unknown.
        public var currentLeaderEpoch: Int32 = -1
        /// `fetch_offset`: the offset to fetch from.
        public var fetchOffset: Int64 = 0
        /// v12+: the epoch of the last fetched record, for divergence detection; -1 when unknown.
        public var lastFetchedEpoch: Int32 = -1
        /// v5+: the follower's log start offset (brokers only); -1 for consumers.
        public var logStartOffset: Int64 = -1
        /// The most bytes to return for this partition.
        public var partitionMaxBytes: Int32 = 0
        /// Tag 0 (v17+): the follower's directory id (brokers only); nil when absent.
        public var replicaDirectoryId: KafkaUUID?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partition: the partition index (`partition`).
        ///   - fetchOffset: the offset to fetch from (`fetch_offset`).
        ///   - partitionMaxBytes: The most bytes to return for this partition.
        ///   - currentLeaderEpoch: v9+: the leader epoch the fetcher knows, for fencing (KIP-320); -1 when unknown.
        ///   - lastFetchedEpoch: v12+: the epoch of the last fetched record, for divergence detection; -1 when unknown.
        public init(partition: Int32, fetchOffset: Int64, partitionMaxBytes: Int32, currentLeaderEpoch: Int32 = -1, lastFetchedEpoch: Int32 = -1) {
            self.partition = partition
            self.fetchOffset = fetchOffset
            self.partitionMaxBytes = partitionMaxBytes
            self.currentLeaderEpoch = currentLeaderEpoch
            self.lastFetchedEpoch = lastFetchedEpoch
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 12
            try c.int32(&partition, "partition")
            try c.int32(&currentLeaderEpoch, "current_leader_epoch", present: version >= 9, default: -1, ignorable: true)
            try c.int64(&fetchOffset, "fetch_offset")
            try c.int32(&lastFetchedEpoch, "last_fetched_epoch", present: version >= 12, default: -1)
            try c.int64(&logStartOffset, "log_start_offset", present: version >= 5, default: -1, ignorable: true)
            try c.int32(&partitionMaxBytes, "partition_max_bytes")
            if flex {
                try c.taggedFields(&unknownTaggedFields) { c in
                    if version >= 17 { try c.tag(0, &replicaDirectoryId, "replica_directory_id") { c, v in try c.uuid(&v, "") } }
                }
            }
            if version < 17 { try c.absent(&replicaDirectoryId, "replica_directory_id", default: nil, ignorable: true) }
        }
    }

    /// One topic to fetch from: by name up to v12, by id from v13.
    public struct Topic: ProtocolStruct, Equatable {
        /// v4–12.
        public var topic = ""
        /// v13+.
        public var topicId = KafkaUUID.zero
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - topic: v4–12.
        ///   - topicId: the topic's UUID (zero when unknown); v13+ (`topic_id`).
        ///   - partitions: one entry per partition (`partitions`).
        public init(topic: String, topicId: KafkaUUID = .zero, partitions: [Partition]) {
            self.topic = topic
            self.topicId = topicId
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 12
            try c.string(&topic, "topic", compact: flex, present: version <= 12, ignorable: true)
            try c.uuid(&topicId, "topic_id", present: version >= 13, ignorable: true)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// Partitions to remove from an incremental fetch session (v7+).
    public struct ForgottenTopic: ProtocolStruct, Equatable {
        /// v7–12.
        public var topic = ""
        /// v13+.
        public var topicId = KafkaUUID.zero
        /// `partitions`: the partition indexes to remove from the fetch session.
        public var partitions: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - topic: v7–12.
        ///   - topicId: the topic's UUID (zero when unknown); v13+ (`topic_id`).
        ///   - partitions: the partition indexes to remove from the fetch session (`partitions`).
        public init(topic: String, topicId: KafkaUUID = .zero, partitions: [Int32]) {
            self.topic = topic
            self.topicId = topicId
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 12
            try c.string(&topic, "topic", compact: flex, present: version <= 12, ignorable: true)
            try c.uuid(&topicId, "topic_id", present: version >= 13, ignorable: true)
            try c.int32Array(&partitions, "partitions", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// Tag 0 (v12+): the cluster id the fetcher expects (KRaft); nil when absent. A present
    /// null is rejected when decoding (Kafka never writes one: null is the default).
    public var clusterId: String?
    /// v4–14: the fetching broker's id, -1 for consumers (v15+ uses `replica_state`).
    public var replicaId: Int32 = -1
    /// Tag 1 (v15+): the fetching broker's identity; nil when absent (consumers).
    public var replicaState: ReplicaState?
    /// How long the broker may wait for `min_bytes` to accumulate (500 here; the schema's is 0).
    public var maxWaitMs: Int32 = 500
    /// The fewest bytes worth answering with (1 here; the schema's is 0).
    public var minBytes: Int32 = 1
    /// The most bytes to return in total.
    public var maxBytes: Int32 = Int32.max
    /// 0 = read uncommitted, 1 = read committed (KIP-98).
    public var isolationLevel: Int8 = 0
    /// v7+: the fetch session id; 0 for none (KIP-227).
    public var sessionId: Int32 = 0
    /// v7+: the fetch session epoch; -1 for a full fetch without a session.
    public var sessionEpoch: Int32 = -1
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// v7+: partitions to drop from the fetch session.
    public var forgottenTopicsData: [ForgottenTopic] = []
    /// v11+: the consumer's rack, for fetching from the closest replica (KIP-392).
    public var rackId = ""
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 12
        try c.int32(&replicaId, "replica_id", present: version <= 14, default: -1)
        try c.int32(&maxWaitMs, "max_wait_ms")
        try c.int32(&minBytes, "min_bytes")
        try c.int32(&maxBytes, "max_bytes")
        try c.int8(&isolationLevel, "isolation_level")
        try c.int32(&sessionId, "session_id", present: version >= 7, ignorable: true)
        try c.int32(&sessionEpoch, "session_epoch", present: version >= 7, default: -1, ignorable: true)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.structArray(&forgottenTopicsData, "forgotten_topics_data", compact: flex, version: version, present: version >= 7)
        try c.string(&rackId, "rack_id", compact: flex, present: version >= 11, ignorable: true)
        if flex {
            try c.taggedFields(&unknownTaggedFields) { c in
                try c.tag(0, &clusterId, "cluster_id") { c, v in try c.string(&v, "", compact: true) }
                if version >= 15 { try c.tag(1, &replicaState, "replica_state") { c, v in try v.visit(&c, version: version) } }
            }
        }
        if version < 12 { try c.absent(&clusterId, "cluster_id", default: nil, ignorable: true) }
        if version < 15 { try c.absent(&replicaState, "replica_state", default: nil, ignorable: false) }
    }
}

/// Records and offsets for each partition fetched.
public struct FetchResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.fetch
    public static let versions: ClosedRange<Int16> = 4 ... 17
    public static let flexibleFrom: Int16? = 12

    /// Where the fetcher's log diverges from the leader's (v12+, KRaft).
    public struct EpochEndOffset: ProtocolStruct, Equatable {
        /// `epoch`: the largest leader epoch not after the fetched one.
        public var epoch: Int32 = -1
        /// `end_offset`: the end offset of that epoch.
        public var endOffset: Int64 = -1
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - epoch: the largest leader epoch not after the fetched one (`epoch`).
        ///   - endOffset: the end offset of that epoch (`end_offset`).
        public init(epoch: Int32, endOffset: Int64) {
            self.epoch = epoch
            self.endOffset = endOffset
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int32(&epoch, "epoch")
            try c.int64(&endOffset, "end_offset")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// The partition's current leader, sent with NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH (v12+).
    public struct LeaderIdAndEpoch: ProtocolStruct, Equatable {
        /// -1 when unknown.
        public var leaderId: Int32 = -1
        /// -1 when unknown.
        public var leaderEpoch: Int32 = -1
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - leaderId: -1 when unknown.
        ///   - leaderEpoch: -1 when unknown.
        public init(leaderId: Int32, leaderEpoch: Int32) {
            self.leaderId = leaderId
            self.leaderEpoch = leaderEpoch
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int32(&leaderId, "leader_id")
            try c.int32(&leaderEpoch, "leader_epoch")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// The snapshot a KRaft follower must fetch instead (v12+).
    public struct SnapshotId: ProtocolStruct, Equatable {
        /// `end_offset`: the snapshot's end offset.
        public var endOffset: Int64 = -1
        /// `epoch`: the snapshot's epoch.
        public var epoch: Int32 = -1
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - endOffset: the snapshot's end offset (`end_offset`).
        ///   - epoch: the snapshot's epoch (`epoch`).
        public init(endOffset: Int64, epoch: Int32) {
            self.endOffset = endOffset
            self.epoch = epoch
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int64(&endOffset, "end_offset")
            try c.int32(&epoch, "epoch")
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// An aborted transaction in the returned range (read committed only).
    public struct AbortedTransaction: ProtocolStruct, Equatable {
        /// `producer_id`: the producer id (-1 for none).
        public var producerId: Int64 = 0
        /// The first offset of the aborted transaction.
        public var firstOffset: Int64 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - producerId: the producer id (-1 for none) (`producer_id`).
        ///   - firstOffset: The first offset of the aborted transaction.
        public init(producerId: Int64, firstOffset: Int64) {
            self.producerId = producerId
            self.firstOffset = firstOffset
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 12
            try c.int64(&producerId, "producer_id")
            try c.int64(&firstOffset, "first_offset")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The data for one partition.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// `high_watermark`: the offset after the last committed (fully replicated) record.
        public var highWatermark: Int64 = 0
        /// The last stable offset (end of the committed transactions); -1 when unknown.
        public var lastStableOffset: Int64 = -1
        /// v5+; -1 when unknown.
        public var logStartOffset: Int64 = -1
        /// Tag 0 (v12+); nil when absent.
        public var divergingEpoch: EpochEndOffset?
        /// Tag 1 (v12+); nil when absent.
        public var currentLeader: LeaderIdAndEpoch?
        /// Tag 2 (v12+); nil when absent.
        public var snapshotId: SnapshotId?
        /// Aborted transactions in the returned range; nil (or empty) when none.
        public var abortedTransactions: [AbortedTransaction]? = []
        /// v11+: the replica the consumer should fetch from instead, -1 for none (KIP-392).
        public var preferredReadReplica: Int32 = -1
        /// Encoded record batches (the `records` type).
        public var records: [UInt8]?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 12
            try c.int32(&partitionIndex, "partition_index")
            try c.int16(&errorCode, "error_code")
            try c.int64(&highWatermark, "high_watermark")
            try c.int64(&lastStableOffset, "last_stable_offset")
            try c.int64(&logStartOffset, "log_start_offset", present: version >= 5, default: -1, ignorable: true)
            try c.nullableStructArray(&abortedTransactions, "aborted_transactions", compact: flex, nullable: true, version: version)
            try c.int32(&preferredReadReplica, "preferred_read_replica", present: version >= 11, default: -1)
            try c.nullableBytes(&records, "records", compact: flex, nullable: true)
            if flex {
                try c.taggedFields(&unknownTaggedFields) { c in
                    try c.tag(0, &divergingEpoch, "diverging_epoch") { c, v in try v.visit(&c, version: version) }
                    try c.tag(1, &currentLeader, "current_leader") { c, v in try v.visit(&c, version: version) }
                    try c.tag(2, &snapshotId, "snapshot_id") { c, v in try v.visit(&c, version: version) }
                }
            } else {
                try c.absent(&divergingEpoch, "diverging_epoch", default: nil, ignorable: false)
                try c.absent(&currentLeader, "current_leader", default: nil, ignorable: false)
                try c.absent(&snapshotId, "snapshot_id", default: nil, ignorable: false)
            }
        }
    }

    /// The data for one topic: by name up to v12, by id from v13.
    public struct Topic: ProtocolStruct, Equatable {
        /// v4–12.
        public var topic = ""
        /// v13+.
        public var topicId = KafkaUUID.zero
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 12
            try c.string(&topic, "topic", compact: flex, present: version <= 12, ignorable: true)
            try c.uuid(&topicId, "topic_id", present: version >= 13, ignorable: true)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// A broker named in a `current_leader` (v16+, KIP-951).
    public struct NodeEndpoint: ProtocolStruct, Equatable {
        /// `node_id`: the broker's node id.
        public var nodeId: Int32 = 0
        /// `host`: the broker's host name.
        public var host = ""
        /// `port`: the broker's port.
        public var port: Int32 = 0
        /// `rack`: the broker's rack, or null.
        public var rack: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - nodeId: the broker's node id (`node_id`).
        ///   - host: the broker's host name (`host`).
        ///   - port: the broker's port (`port`).
        ///   - rack: the broker's rack, or null (`rack`).
        public init(nodeId: Int32, host: String, port: Int32, rack: String? = nil) {
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.rack = rack
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.int32(&nodeId, "node_id")
            try c.string(&host, "host", compact: true)
            try c.int32(&port, "port")
            try c.nullableString(&rack, "rack", compact: true, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// v7+: a top-level error (fetch session errors).
    public var errorCode: Int16 = 0
    /// v7+: the fetch session id, 0 when there is none.
    public var sessionId: Int32 = 0
    /// `responses`: the fetched data, per topic.
    public var responses: [Topic] = []
    /// Tag 0 (v16+): endpoints of the leaders named in `current_leader`; nil when absent.
    public var nodeEndpoints: [NodeEndpoint]?
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 12
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.int16(&errorCode, "error_code", present: version >= 7, ignorable: true)
        try c.int32(&sessionId, "session_id", present: version >= 7)
        try c.structArray(&responses, "responses", compact: flex, version: version)
        if flex {
            try c.taggedFields(&unknownTaggedFields) { c in
                if version >= 16 { try c.tag(0, &nodeEndpoints, "node_endpoints") { c, v in try c.structArray(&v, "", compact: true, version: version) } }
            }
        }
        if version < 16 { try c.absent(&nodeEndpoints, "node_endpoints", default: nil, ignorable: false) }
    }
}
