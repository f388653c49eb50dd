// InitProducerId · API key 22 · versions 0…5 · flexible from 2
//   v1: no layout change (the broker answers before throttling).  v2: flexible.
//   v3: producer_id and producer_epoch, to resume after INVALID_PRODUCER_EPOCH (KIP-360).
//   v4: PRODUCER_FENCED possible (KIP-588).  v5: TRANSACTION_ABORTABLE possible (KIP-890).
//   v6 (schema only, not declared here): enable_2pc and keep_prepared_txn; the response gains
//       ongoing_txn_producer_id/epoch (KIP-939).

/// Obtains a producer id and epoch, for idempotent or transactional producing.
public struct InitProducerIdRequest: KafkaRequest, Equatable {
    /// The response to this request.
    public typealias Response = InitProducerIdResponse
    public static let apiKey = ApiKey.initProducerId
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 2

    /// The transactional id, nil for an idempotent-only producer (nil here; the schema's
    /// default is "").
    public var transactionalId: String?
    /// How long the coordinator waits before aborting an idle transaction.
    public var transactionTimeoutMs: Int32 = 0
    /// v3+: the current producer id, to bump its epoch; -1 for a new producer.
    public var producerId: Int64 = -1
    /// v3+: the current producer epoch; -1 for a new producer.
    public var producerEpoch: Int16 = -1
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - transactionalId: The transactional id, nil for an idempotent-only producer (nil here; the schema's default is "").
    ///   - transactionTimeoutMs: How long the coordinator waits before aborting an idle transaction.
    ///   - producerId: the producer id (-1 for none); v3+: the current producer id, to bump its epoch; -1 for a new producer (`producer_id`).
    ///   - producerEpoch: the producer epoch, which fences older instances of the same producer; v3+: the current producer epoch; -1 for a new producer (`producer_epoch`).
    public init(transactionalId: String?, transactionTimeoutMs: Int32, producerId: Int64 = -1, producerEpoch: Int16 = -1) {
        self.transactionalId = transactionalId
        self.transactionTimeoutMs = transactionTimeoutMs
        self.producerId = producerId
        self.producerEpoch = producerEpoch
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.nullableString(&transactionalId, "transactional_id", compact: flex, nullable: true)
        try c.int32(&transactionTimeoutMs, "transaction_timeout_ms")
        try c.int64(&producerId, "producer_id", present: version >= 3, default: -1)
        try c.int16(&producerEpoch, "producer_epoch", present: version >= 3, default: -1)
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}

/// The producer id and epoch assigned.
public struct InitProducerIdResponse: KafkaMessage, Equatable {
    public static let apiKey = ApiKey.initProducerId
    public static let versions: ClosedRange<Int16> = 0 ... 5
    public static let flexibleFrom: Int16? = 2

    /// `throttle_time_ms`: how long the broker throttled this request for a quota, in ms (0: not throttled).
    public var throttleTimeMs: Int32 = 0
    /// `error_code`: the error code, 0 for none (see `KafkaErrorCode`).
    public var errorCode: Int16 = 0
    /// `producer_id`: the producer id (-1 for none).
    public var producerId: Int64 = -1
    /// `producer_epoch`: the producer epoch, which fences older instances of the same producer.
    public var producerEpoch: Int16 = 0
    /// Tagged fields this version does not define, kept so that re-encoding is lossless.
    public var unknownTaggedFields: [TaggedField] = []

    /// A value with every field at its default.
    public init() {}

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        let flex = version >= 2
        try c.int32(&throttleTimeMs, "throttle_time_ms")
        try c.int16(&errorCode, "error_code")
        try c.int64(&producerId, "producer_id")
        try c.int16(&producerEpoch, "producer_epoch")
        try c.taggedFields(&unknownTaggedFields, flexible: flex)
    }
}
