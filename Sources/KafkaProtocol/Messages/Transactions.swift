// The transaction APIs (KIP-98). In all four, v2 only adds PRODUCER_FENCED (KIP-588), v3 is the
// first flexible version, and a later version adds TRANSACTION_ABORTABLE (KIP-890).
//
// AddPartitionsToTxn · API key 24 · versions 0…5 · flexible from 3
//   v1: no layout change (the broker answers before throttling).
//   v4: batching of several transactions, verify_only, top-level error_code; v4+ is for brokers
//       only (KIP-890 part 1) — clients use v0–3, whose fields are named v3_and_below_*.
//   v5: no layout change (TRANSACTION_ABORTABLE possible).
// AddOffsetsToTxn · API key 25 · versions 0…4 · flexible from 3
//   v1: no layout change.  v4: no layout change (TRANSACTION_ABORTABLE possible).
// EndTxn · API key 26 · versions 0…5 · flexible from 3
//   v1: no layout change.  v4: no layout change (TRANSACTION_ABORTABLE possible).
//   v5: the epoch is bumped on every transaction; the response returns producer_id and
//       producer_epoch (KIP-890 part 2).
// TxnOffsetCommit · API key 28 · versions 0…5 · flexible from 3
//   v1: no layout change.  v2: committed_leader_epoch (KIP-320).
//   v3: generation_id, member_id, group_instance_id for group fencing (KIP-447); flexible.
//   v4: no layout change (TRANSACTION_ABORTABLE possible).
//   v5: no layout change; with transactions V2 it implicitly adds the group to the
//       transaction (KIP-890 part 2).

// MARK: AddPartitionsToTxn

/// Adds partitions to a transaction (clients: v0–3; brokers verifying: v4+).
public struct AddPartitionsToTxnRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = AddPartitionsToTxnResponse
    public static let apiKey = ApiKey.addPartitionsToTxn
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// The partitions of one topic to add. Schema struct `AddPartitionsToTxnTopic`.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [Int32] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - partitions: one entry per partition (`partitions`).
        public init(name: String, partitions: [Int32]) {
            self.name = name
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.string(&name, "name", compact: flex)
            try c.int32Array(&partitions, "partitions", compact: flex)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// One transaction's partitions (v4+). Schema struct `AddPartitionsToTxnTransaction`.
    public struct Transaction: ProtocolStruct, Equatable {
        /// `transactional_id`: the transactional id of the producer.
        public var transactionalId = ""
        /// `producer_id`: the producer id (-1 for none).
        public var producerId: Int64 = 0
        /// `producer_epoch`: the producer epoch, which fences older instances of the same producer.
        public var producerEpoch: Int16 = 0
        /// Only check that the partitions are already in the transaction.
        public var verifyOnly = false
        /// `topics`: the topics and partitions to add.
        public var topics: [Topic] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&transactionalId, "transactional_id", compact: true)
            try c.int64(&producerId, "producer_id")
            try c.int16(&producerEpoch, "producer_epoch")
            try c.bool(&verifyOnly, "verify_only")
            try c.structArray(&topics, "topics", compact: true, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// v4+ (brokers only).
    public var transactions: [Transaction] = []
    /// v0–3.
    public var v3AndBelowTransactionalId = ""
    /// v0–3.
    public var v3AndBelowProducerId: Int64 = 0
    /// v0–3.
    public var v3AndBelowProducerEpoch: Int16 = 0
    /// v0–3.
    public var v3AndBelowTopics: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A client request (v0–3).
    /// - Parameters:
    ///   - transactionalId: The producer's transactional id (`v3_and_below_transactional_id`).
    ///   - producerId: Its producer id.
    ///   - producerEpoch: Its producer epoch.
    ///   - topics: The partitions to add to the transaction, per topic.
    public init(transactionalId: String, producerId: Int64, producerEpoch: Int16, topics: [Topic]) {
        v3AndBelowTransactionalId = transactionalId
        v3AndBelowProducerId = producerId
        v3AndBelowProducerEpoch = producerEpoch
        v3AndBelowTopics = topics
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.structArray(&transactions, "transactions", compact: flex, version: version, present: version >= 4)
        try c.string(&v3AndBelowTransactionalId, "v3_and_below_transactional_id", compact: flex, present: version <= 3)
        try c.int64(&v3AndBelowProducerId, "v3_and_below_producer_id", present: version <= 3)
        try c.int16(&v3AndBelowProducerEpoch, "v3_and_below_producer_epoch", present: version <= 3)
        try c.structArray(&v3AndBelowTopics, "v3_and_below_topics", compact: flex, version: version, present: version <= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each partition added.
public struct AddPartitionsToTxnResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.addPartitionsToTxn
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// The outcome for one partition. Schema struct `AddPartitionsToTxnPartitionResult`.
    public struct PartitionResult: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `partition_error_code`: the partition's error code, 0 for none.
        public var partitionErrorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - partitionErrorCode: the partition's error code, 0 for none (`partition_error_code`).
        public init(partitionIndex: Int32, partitionErrorCode: Int16) {
            self.partitionIndex = partitionIndex
            self.partitionErrorCode = partitionErrorCode
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.int32(&partitionIndex, "partition_index")
            try c.int16(&partitionErrorCode, "partition_error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The outcome for one topic. Schema struct `AddPartitionsToTxnTopicResult`.
    public struct TopicResult: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `results_by_partition`: one result per partition.
        public var resultsByPartition: [PartitionResult] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - resultsByPartition: one result per partition (`results_by_partition`).
        public init(name: String, resultsByPartition: [PartitionResult]) {
            self.name = name
            self.resultsByPartition = resultsByPartition
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.string(&name, "name", compact: flex)
            try c.structArray(&resultsByPartition, "results_by_partition", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The outcome for one transaction (v4+). Schema struct `AddPartitionsToTxnResult`.
    public struct TransactionResult: ProtocolStruct, Equatable {
        /// `transactional_id`: the transactional id of the producer.
        public var transactionalId = ""
        /// `topic_results`: one result per topic.
        public var topicResults: [TopicResult] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&transactionalId, "transactional_id", compact: true)
            try c.structArray(&topicResults, "topic_results", compact: true, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// v4+: a request-level error.
    public var errorCode: Int16 = 0
    /// v4+.
    public var resultsByTransaction: [TransactionResult] = []
    /// v0–3.
    public var resultsByTopicV3AndBelow: [TopicResult] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.int16(&errorCode, "error_code", present: version >= 4, ignorable: true)
        try c.structArray(&resultsByTransaction, "results_by_transaction", compact: flex, version: version, present: version >= 4)
        try c.structArray(&resultsByTopicV3AndBelow, "results_by_topic_v3_and_below", compact: flex, version: version, present: version <= 3)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

// MARK: AddOffsetsToTxn

/// Adds a consumer group's offsets to a transaction (before TxnOffsetCommit).
public struct AddOffsetsToTxnRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = AddOffsetsToTxnResponse
    public static let apiKey = ApiKey.addOffsetsToTxn
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 3

    /// `transactional_id`: the transactional id of the producer.
    public var transactionalId = ""
    /// `producer_id`: the producer id (-1 for none).
    public var producerId: Int64 = 0
    /// `producer_epoch`: the producer epoch, which fences older instances of the same producer.
    public var producerEpoch: Int16 = 0
    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - transactionalId: the transactional id of the producer (`transactional_id`).
    ///   - producerId: the producer id (-1 for none) (`producer_id`).
    ///   - producerEpoch: the producer epoch, which fences older instances of the same producer (`producer_epoch`).
    ///   - groupId: the consumer group id (`group_id`).
    public init(transactionalId: String, producerId: Int64, producerEpoch: Int16, groupId: String) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.groupId = groupId
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.string(&transactionalId, "transactional_id", compact: flex)
        try c.int64(&producerId, "producer_id")
        try c.int16(&producerEpoch, "producer_epoch")
        try c.string(&groupId, "group_id", compact: flex)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome of AddOffsetsToTxn.
public struct AddOffsetsToTxnResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.addOffsetsToTxn
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 3

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.int16(&errorCode, "error_code")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

// MARK: EndTxn

/// Commits or aborts a transaction.
public struct EndTxnRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = EndTxnResponse
    public static let apiKey = ApiKey.endTxn
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// `transactional_id`: the transactional id of the producer.
    public var transactionalId = ""
    /// `producer_id`: the producer id (-1 for none).
    public var producerId: Int64 = 0
    /// `producer_epoch`: the producer epoch, which fences older instances of the same producer.
    public var producerEpoch: Int16 = 0
    /// True to commit, false to abort.
    public var committed = false
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - transactionalId: the transactional id of the producer (`transactional_id`).
    ///   - producerId: the producer id (-1 for none) (`producer_id`).
    ///   - producerEpoch: the producer epoch, which fences older instances of the same producer (`producer_epoch`).
    ///   - committed: True to commit, false to abort.
    public init(transactionalId: String, producerId: Int64, producerEpoch: Int16, committed: Bool) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.committed = committed
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.string(&transactionalId, "transactional_id", compact: flex)
        try c.int64(&producerId, "producer_id")
        try c.int16(&producerEpoch, "producer_epoch")
        try c.bool(&committed, "committed")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome of EndTxn.
public struct EndTxnResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.endTxn
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// v5+: the producer id to use next (KIP-890 part 2); -1 when not returned.
    public var producerId: Int64 = -1
    /// v5+: the (bumped) producer epoch to use next; -1 when not returned.
    public var producerEpoch: Int16 = -1
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.int16(&errorCode, "error_code")
        try c.int64(&producerId, "producer_id", present: version >= 5, default: -1, ignorable: true)
        try c.int16(&producerEpoch, "producer_epoch", present: version >= 5, default: -1, ignorable: true)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

// MARK: TxnOffsetCommit

/// Commits consumer offsets as part of a transaction.
public struct TxnOffsetCommitRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = TxnOffsetCommitResponse
    public static let apiKey = ApiKey.txnOffsetCommit
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// The offset to commit for one partition. Schema struct `TxnOffsetCommitRequestPartition`.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `committed_offset`: the offset to commit: the next record to read.
        public var committedOffset: Int64 = 0
        /// v2+: the leader epoch of the last consumed record; -1 when unknown.
        public var committedLeaderEpoch: Int32 = -1
        /// `committed_metadata`: application metadata stored with the offset, or null.
        public var committedMetadata: String? = ""
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - partitionIndex: the partition index (`partition_index`).
        ///   - committedOffset: the offset to commit: the next record to read (`committed_offset`).
        ///   - committedLeaderEpoch: v2+: the leader epoch of the last consumed record; -1 when unknown.
        ///   - committedMetadata: application metadata stored with the offset, or null (`committed_metadata`).
        public init(partitionIndex: Int32, committedOffset: Int64, committedLeaderEpoch: Int32 = -1, committedMetadata: String? = "") {
            self.partitionIndex = partitionIndex
            self.committedOffset = committedOffset
            self.committedLeaderEpoch = committedLeaderEpoch
            self.committedMetadata = committedMetadata
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.int32(&partitionIndex, "partition_index")
            try c.int64(&committedOffset, "committed_offset")
            try c.int32(&committedLeaderEpoch, "committed_leader_epoch", present: version >= 2, default: -1, ignorable: true)
            try c.nullableString(&committedMetadata, "committed_metadata", compact: flex, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The offsets to commit for one topic. Schema struct `TxnOffsetCommitRequestTopic`.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - partitions: one entry per partition (`partitions`).
        public init(name: String, partitions: [Partition]) {
            self.name = name
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `transactional_id`: the transactional id of the producer.
    public var transactionalId = ""
    /// `group_id`: the consumer group id.
    public var groupId = ""
    /// `producer_id`: the producer id (-1 for none).
    public var producerId: Int64 = 0
    /// `producer_epoch`: the producer epoch, which fences older instances of the same producer.
    public var producerEpoch: Int16 = 0
    /// v3+: the consumer's generation, for fencing; -1 when unknown.
    public var generationId: Int32 = -1
    /// v3+: the consumer's member id; empty when unknown.
    public var memberId = ""
    /// v3+: the static member id, nil for dynamic membership.
    public var groupInstanceId: String?
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.string(&transactionalId, "transactional_id", compact: flex)
        try c.string(&groupId, "group_id", compact: flex)
        try c.int64(&producerId, "producer_id")
        try c.int16(&producerEpoch, "producer_epoch")
        try c.int32(&generationId, "generation_id", present: version >= 3, default: -1)
        try c.string(&memberId, "member_id", compact: flex, present: version >= 3)
        try c.nullableString(&groupInstanceId, "group_instance_id", compact: flex, nullable: true, present: version >= 3)
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome for each partition committed.
public struct TxnOffsetCommitResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.txnOffsetCommit
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// The outcome for one partition. Schema struct `TxnOffsetCommitResponsePartition`.
    public struct Partition: ProtocolStruct, Equatable {
        /// `partition_index`: the partition index.
        public var partitionIndex: Int32 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.int32(&partitionIndex, "partition_index")
            try c.int16(&errorCode, "error_code")
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The outcome for one topic. Schema struct `TxnOffsetCommitResponseTopic`.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partitions`: one entry per partition.
        public var partitions: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `topics`: one entry per topic.
    public var topics: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
