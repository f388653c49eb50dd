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
    public typealias Response = AddPartitionsToTxnResponse
    public static let apiKey = ApiKey.addPartitionsToTxn
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// The partitions of one topic to add. Schema struct `AddPartitionsToTxnTopic`.
    public struct Topic: ProtocolStruct, Equatable {
        public var name = ""
        public var partitions: [Int32] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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
        public var transactionalId = ""
        public var producerId: Int64 = 0
        public var producerEpoch: Int16 = 0
        /// Only check that the partitions are already in the transaction.
        public var verifyOnly = false
        public var topics: [Topic] = []
        public var unknownTaggedFields: [TaggedField] = []
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
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}
    /// A client request (v0–3).
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
        public var partitionIndex: Int32 = 0
        public var partitionErrorCode: Int16 = 0
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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
        public var name = ""
        public var resultsByPartition: [PartitionResult] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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
        public var transactionalId = ""
        public var topicResults: [TopicResult] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&transactionalId, "transactional_id", compact: true)
            try c.structArray(&topicResults, "topic_results", compact: true, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: true)
        }
    }

    public var throttleTimeMs: Int32 = 0
    /// v4+: a request-level error.
    public var errorCode: Int16 = 0
    /// v4+.
    public var resultsByTransaction: [TransactionResult] = []
    /// v0–3.
    public var resultsByTopicV3AndBelow: [TopicResult] = []
    public var unknownTaggedFields: [TaggedField] = []

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
    public typealias Response = AddOffsetsToTxnResponse
    public static let apiKey = ApiKey.addOffsetsToTxn
    public static let versions: ClosedRange<Int16> = 0 ... 4
    public static let flexibleFrom: Int16? = 3

    public var transactionalId = ""
    public var producerId: Int64 = 0
    public var producerEpoch: Int16 = 0
    public var groupId = ""
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}
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

    public var throttleTimeMs: Int32 = 0
    public var errorCode: Int16 = 0
    public var unknownTaggedFields: [TaggedField] = []

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
    public typealias Response = EndTxnResponse
    public static let apiKey = ApiKey.endTxn
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    public var transactionalId = ""
    public var producerId: Int64 = 0
    public var producerEpoch: Int16 = 0
    /// True to commit, false to abort.
    public var committed = false
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}
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

    public var throttleTimeMs: Int32 = 0
    public var errorCode: Int16 = 0
    /// v5+: the producer id to use next (KIP-890 part 2); -1 when not returned.
    public var producerId: Int64 = -1
    /// v5+: the (bumped) producer epoch to use next; -1 when not returned.
    public var producerEpoch: Int16 = -1
    public var unknownTaggedFields: [TaggedField] = []

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
    public typealias Response = TxnOffsetCommitResponse
    public static let apiKey = ApiKey.txnOffsetCommit
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 3

    /// The offset to commit for one partition. Schema struct `TxnOffsetCommitRequestPartition`.
    public struct Partition: ProtocolStruct, Equatable {
        public var partitionIndex: Int32 = 0
        public var committedOffset: Int64 = 0
        /// v2+: the leader epoch of the last consumed record; -1 when unknown.
        public var committedLeaderEpoch: Int32 = -1
        public var committedMetadata: String? = ""
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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
        public var name = ""
        public var partitions: [Partition] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
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

    public var transactionalId = ""
    public var groupId = ""
    public var producerId: Int64 = 0
    public var producerEpoch: Int16 = 0
    /// v3+: the consumer's generation, for fencing; -1 when unknown.
    public var generationId: Int32 = -1
    /// v3+: the consumer's member id; empty when unknown.
    public var memberId = ""
    /// v3+: the static member id, nil for dynamic membership.
    public var groupInstanceId: String?
    public var topics: [Topic] = []
    public var unknownTaggedFields: [TaggedField] = []

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
        public var partitionIndex: Int32 = 0
        public var errorCode: Int16 = 0
        public var unknownTaggedFields: [TaggedField] = []
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
        public var name = ""
        public var partitions: [Partition] = []
        public var unknownTaggedFields: [TaggedField] = []
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 3
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitions, "partitions", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    public var throttleTimeMs: Int32 = 0
    public var topics: [Topic] = []
    public var unknownTaggedFields: [TaggedField] = []

    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 3
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.structArray(&topics, "topics", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
