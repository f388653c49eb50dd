// Produce · API key 0 · versions 3…12 · flexible from 9
// (Kafka 4.0 rejects 0–2, KIP-896, though it still advertises them.)
//   v3: transactional_id; record batches v2 (magic 2) only (KIP-98).
//   v4: the broker may answer KAFKA_STORAGE_ERROR.  v5: log_start_offset in the response.
//   v6: no layout change.  v7: ZStandard compression allowed (KIP-110).
//   v8: record_errors and error_message in the response (KIP-467).
//   v9: flexible (KIP-482).
//   v10: response gains current_leader (partition tag 0) and node_endpoints (tag 0) (KIP-951).
//   v11: the broker may answer TRANSACTION_ABORTABLE (KIP-890).
//   v12: no layout change; with transactions V2 a produce implicitly adds the partition to the
//        transaction (KIP-890 part 2).
//   v13 (schema only, not declared here): topic ids replace topic names (KIP-516).

/// Appends record batches to partition logs.
public struct ProduceRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = ProduceResponse
    public static let apiKey = ApiKey.produce
    public static let versions: ClosedRange<Int16> = 3 ... 12
    public static let flexibleFrom: Int16? = 9

    /// The record batches for one partition.
    public struct Partition: ProtocolStruct, Equatable {
        /// The partition index.
        public var index: Int32 = 0
        /// Encoded record batches (the `records` type); nil is sent as a null.
        public var records: [UInt8]?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - index: The partition index.
        ///   - records: Encoded record batches (the `records` type); nil is sent as a null.
        public init(index: Int32, records: [UInt8]?) {
            self.index = index
            self.records = records
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.int32(&index, "index")
            try c.nullableBytes(&records, "records", compact: flex, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The data for one topic.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partition_data`: the partitions to write, each with its records.
        public var partitionData: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - name: the topic name (`name`).
        ///   - partitionData: the partitions to write, each with its records (`partition_data`).
        public init(name: String, partitionData: [Partition]) {
            self.name = name
            self.partitionData = partitionData
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitionData, "partition_data", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The transactional id, or nil when not producing transactionally.
    public var transactionalId: String?
    /// 0 = no acknowledgement (and no response), 1 = leader only, -1 = all in-sync replicas
    /// (-1 here; the schema's default is 0).
    public var acks: Int16 = -1
    /// How long the broker may wait for the acknowledgements asked for (30 000 here; the
    /// schema's default is 0).
    public var timeoutMs: Int32 = 30000
    /// `topic_data`: the topics to write, each with its partitions.
    public var topicData: [Topic] = []
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - transactionalId: The transactional id, or nil when not producing transactionally.
    ///   - acks: 0 = no acknowledgement (and no response), 1 = leader only, -1 = all in-sync replicas (-1 here; the schema's default is 0).
    ///   - timeoutMs: How long the broker may wait for the acknowledgements asked for (30 000 here; the schema's default is 0).
    ///   - topicData: the topics to write, each with its partitions (`topic_data`).
    public init(transactionalId: String? = nil, acks: Int16, timeoutMs: Int32, topicData: [Topic]) {
        self.transactionalId = transactionalId
        self.acks = acks
        self.timeoutMs = timeoutMs
        self.topicData = topicData
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 9
        try c.nullableString(&transactionalId, "transactional_id", compact: flex, nullable: true)
        try c.int16(&acks, "acks")
        try c.int32(&timeoutMs, "timeout_ms")
        try c.structArray(&topicData, "topic_data", compact: flex, version: version)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The outcome of a produce, per partition. (With acks = 0 the broker sends no response.)
public struct ProduceResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.produce
    public static let versions: ClosedRange<Int16> = 3 ... 12
    public static let flexibleFrom: Int16? = 9

    /// A batch-relative record index that caused the whole batch to be dropped (v8+).
    public struct BatchIndexAndErrorMessage: ProtocolStruct, Equatable {
        /// `batch_index`: the index of the record in its batch that caused the error.
        public var batchIndex: Int32 = 0
        /// `batch_index_error_message`: why that record was rejected, or null.
        public var batchIndexErrorMessage: String?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - batchIndex: the index of the record in its batch that caused the error (`batch_index`).
        ///   - batchIndexErrorMessage: why that record was rejected, or null (`batch_index_error_message`).
        public init(batchIndex: Int32, batchIndexErrorMessage: String?) {
            self.batchIndex = batchIndex
            self.batchIndexErrorMessage = batchIndexErrorMessage
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.int32(&batchIndex, "batch_index")
            try c.nullableString(&batchIndexErrorMessage, "batch_index_error_message", compact: flex, nullable: true)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// The partition's current leader, sent with NOT_LEADER_OR_FOLLOWER (v10+, KIP-951).
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

    /// The outcome for one partition.
    public struct Partition: ProtocolStruct, Equatable {
        /// `index`: the partition index.
        public var index: Int32 = 0
        /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
        public var errorCode: Int16 = 0
        /// Offset of the first record appended.
        public var baseOffset: Int64 = 0
        /// The broker's append time when the topic uses LogAppendTime, else -1.
        public var logAppendTimeMs: Int64 = -1
        /// v5+: the partition's log start offset.
        public var logStartOffset: Int64 = -1
        /// v8+: the records that caused the batch to be dropped.
        public var recordErrors: [BatchIndexAndErrorMessage] = []
        /// v8+: a message summarizing the batch-level error.
        public var errorMessage: String?
        /// Tag 0 (v10+); nil when absent.
        public var currentLeader: LeaderIdAndEpoch?
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.int32(&index, "index")
            try c.int16(&errorCode, "error_code")
            try c.int64(&baseOffset, "base_offset")
            try c.int64(&logAppendTimeMs, "log_append_time_ms")
            try c.int64(&logStartOffset, "log_start_offset", present: version >= 5, default: -1, ignorable: true)
            try c.structArray(&recordErrors, "record_errors", compact: flex, version: version, present: version >= 8, ignorable: true)
            try c.nullableString(&errorMessage, "error_message", compact: flex, nullable: true, present: version >= 8, ignorable: true)
            if flex {
                try c.taggedFields(&unknownTaggedFields) { c in
                    if version >= 10 { try c.tag(0, &currentLeader, "current_leader") { c, v in try v.visit(&c, version: version) } }
                }
            }
            if version < 10 { try c.absent(&currentLeader, "current_leader", default: nil, ignorable: false) }
        }
    }

    /// The outcome for one topic.
    public struct Topic: ProtocolStruct, Equatable {
        /// `name`: the topic name.
        public var name = ""
        /// `partition_responses`: one result per partition.
        public var partitionResponses: [Partition] = []
        /// Tagged fields this version does not define, kept so that re-encoding is lossless.
        public var unknownTaggedFields: [TaggedField] = []
        /// A value with every field at its default.
        public init() {}
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            let flex = version >= 9
            try c.string(&name, "name", compact: flex)
            try c.structArray(&partitionResponses, "partition_responses", compact: flex, version: version)
            try c.taggedFields(&unknownTaggedFields, flexible: flex)
        }
    }

    /// A broker named in a `current_leader` (v10+, KIP-951).
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

    /// `responses`: one result per topic.
    public var responses: [Topic] = []
    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// Tag 0 (v10+): endpoints of the leaders named in `current_leader`; nil when absent.
    public var nodeEndpoints: [NodeEndpoint]?
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 9
        try c.structArray(&responses, "responses", compact: flex, version: version)
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        if flex {
            try c.taggedFields(&unknownTaggedFields) { c in
                if version >= 10 { try c.tag(0, &nodeEndpoints, "node_endpoints") { c, v in try c.structArray(&v, "", compact: true, version: version) } }
            }
        }
        if version < 10 { try c.absent(&nodeEndpoints, "node_endpoints", default: nil, ignorable: false) }
    }
}
