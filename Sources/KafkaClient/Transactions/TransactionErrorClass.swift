import KafkaProtocol

/// How a transactional request's error code is handled, as librdkafka and the Java client
/// classify them.
enum TransactionErrorClass: Sendable, Equatable {
    /// Try the same request again after a backoff (`short`: CONCURRENT_TRANSACTIONS, which
    /// clears within milliseconds once the coordinator finished the previous transaction);
    /// `coordinatorMoved`: look the coordinator up again first.
    case retriable(short: Bool, coordinatorMoved: Bool)
    /// The transaction can only be aborted; the producer stays usable.
    case abortable
    /// The producer can do nothing more (fenced, not authorized, the coordinator says our
    /// state is impossible): every later call fails with the error.
    case fatal

    /// The codes no retry or abort can fix.
    static let fatalCodes: Set<KafkaErrorCode> = [.producerFenced, .invalidProducerEpoch, .invalidTxnState, .transactionalIdAuthorizationFailed]
    /// The codes that spoil the transaction but not the producer.
    static let abortableCodes: Set<KafkaErrorCode> = [
        .transactionAbortable, .unknownProducerId,
        // KIP-447: the consumer whose offsets these are is no longer the group's member.
        .illegalGeneration, .unknownMemberId, .fencedInstanceId,
        .groupAuthorizationFailed, .topicAuthorizationFailed,
    ]

    /// The class of `code` answered to `api`. An unexpected non-retriable code is fatal for
    /// InitProducerId and EndTxn (the producer's identity or the transaction's end is then
    /// unknown) and abortable for the requests inside a transaction.
    static func of(_ code: KafkaErrorCode, api: ApiKey) -> TransactionErrorClass {
        if fatalCodes.contains(code) { return .fatal }
        if abortableCodes.contains(code) { return .abortable }
        if code == .concurrentTransactions { return .retriable(short: true, coordinatorMoved: false) }
        if CoordinatorDirectory.isCoordinatorError(code) { return .retriable(short: false, coordinatorMoved: true) }
        if code.isRetriable || code == .unknownTopicOrPartition { return .retriable(short: false, coordinatorMoved: false) }
        return api == .initProducerId || api == .endTxn ? .fatal : .abortable
    }

    /// The class of a failure without an answer: retriable when retrying may help (connection,
    /// timeout, a retriable broker code from the coordinator lookup), else by its code, else as
    /// an unexpected error.
    static func of(_ error: KafkaError, api: ApiKey) -> TransactionErrorClass {
        if let code = error.code { return of(code, api: api) }
        if error.isRetriable { return .retriable(short: false, coordinatorMoved: error.kind == .connection) }
        return api == .initProducerId || api == .endTxn ? .fatal : .abortable
    }

    /// The class of a record's failure inside a transaction: fencing is fatal, anything else
    /// (a broker error, a timeout, an unknown outcome) makes the transaction abortable.
    static func ofRecordFailure(_ error: KafkaError) -> TransactionErrorClass {
        if let code = error.code, fatalCodes.contains(code) { return .fatal }
        return .abortable
    }
}
