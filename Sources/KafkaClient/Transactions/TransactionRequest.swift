import KafkaProtocol

/// The producer id and epoch a transactional request carries (-1/-1: none yet).
struct ProducerIdentity: Sendable, Equatable {
    var id: Int64
    var epoch: Int16

    static let none = ProducerIdentity(id: -1, epoch: -1)
}

/// One request the `TransactionMachine` wants sent, with every value it carries, so the I/O
/// around it builds the wire request without reading the machine again.
enum TransactionRequest: Sendable, Equatable {
    /// InitProducerId to the transaction coordinator. `current` is the identity to bump
    /// (KIP-360, after an abort that dropped batches with sequence numbers); `.none` at init.
    case initProducerId(current: ProducerIdentity)
    /// AddPartitionsToTxn (transactions V1 only): every partition not yet in the transaction
    /// whose batches wait, in one request.
    case addPartitions([TopicPartition], ProducerIdentity)
    /// AddOffsetsToTxn (V1 only): the group's offsets partition joins the transaction.
    case addOffsets(groupId: String, ProducerIdentity)
    /// TxnOffsetCommit to the GROUP coordinator, with the member's generation, member id and
    /// instance id (KIP-447 fencing).
    case commitOffsets([TopicPartition: Int64], ConsumerGroupMetadata, ProducerIdentity)
    /// EndTxn: commit or abort.
    case endTxn(commit: Bool, ProducerIdentity)

    /// The requests an operation's steps name (their values are filled in when sent).
    enum Kind: Sendable, Equatable {
        case initProducerId, addOffsets, commitOffsets, endTxn
    }

    /// Which API this is (for error context and answer matching).
    var apiKey: ApiKey {
        switch self {
        case .initProducerId: .initProducerId
        case .addPartitions: .addPartitionsToTxn
        case .addOffsets: .addOffsetsToTxn
        case .commitOffsets: .txnOffsetCommit
        case .endTxn: .endTxn
        }
    }
}

/// What happened to a transactional request or step, fed to `TransactionMachine.handle`.
enum TransactionEvent: Sendable {
    /// InitProducerId answered; `transactionV2`: the coordinator's finalized features and
    /// versions allow KIP-890 (transaction.version ≥ 2, Produce ≥ 12, EndTxn ≥ 5, TxnOffsetCommit ≥ 5).
    case initAnswered(KafkaErrorCode, ProducerIdentity, transactionV2: Bool)
    /// AddPartitionsToTxn answered, one code per partition (a top-level error for all of them).
    case partitionsAnswered([TopicPartition: KafkaErrorCode])
    /// AddOffsetsToTxn answered.
    case addOffsetsAnswered(KafkaErrorCode)
    /// TxnOffsetCommit answered, one code per partition.
    case offsetsAnswered([TopicPartition: KafkaErrorCode])
    /// EndTxn answered; from v5 (V2) with the bumped identity (`.none` before).
    case endTxnAnswered(KafkaErrorCode, ProducerIdentity)
    /// The request got no answer, or could not be sent (no coordinator, connection lost,
    /// timeout, version): `error.isRetriable` decides whether it is tried again.
    case notAnswered(ApiKey, KafkaError)
    /// The producer has nothing buffered or in flight any more (a `.flush` step ended).
    case flushed
    /// Unsent batches were dropped (an `.dropUnsent` step ended).
    case dropped
}

/// What the I/O around the machine must do next for the running operation.
enum TransactionAction: Sendable {
    /// Send this request and feed back its answer.
    case send(TransactionRequest)
    /// Wait until everything buffered is acknowledged or failed, then feed `.flushed`.
    case flush
    /// Fail every batch not in flight with this error, then feed `.dropped`.
    case dropUnsent(KafkaError)
    /// Nothing to do before this instant (a retry backoff); ask again then.
    case wait(until: ContinuousClock.Instant)
    /// The operation ended with this outcome.
    case finished(TransactionMachine.Operation, Result<Void, KafkaError>)
    /// Nothing: no operation runs, or its request is being answered.
    case none
}
