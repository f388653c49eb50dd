import KafkaProtocol
import KafkaNet

/// A transactional producer's protocol state (KIP-98, KIP-447 group fencing, KIP-890
/// transactions V2) as a pure type: the application's calls are checked here (misuse is a typed
/// `KafkaError(.invalidState)`, never a trap), answers and the producer's progress are events,
/// and `next(now:)` says what to do; no I/O, no clock.
///
/// ```
/// uninitialized ─init→ initializing ─ok→ ready ─begin→ inTransaction ─commit→ committing ─ok→ ready
///                                          ↑                  │  ╲ abortable error     │
///                                          │                abort  ↘ abortableError ←──┘ (record failed,
///                                          └──ok── aborting ←─────────┘                  TRANSACTION_ABORTABLE…)
/// any state ─fatal error (fenced, not authorized, INVALID_TXN_STATE)→ fatalError (terminal)
/// ```
/// An operation (init, commit, abort, sendOffsets) is a list of steps run by the I/O one at a
/// time. Its outcome belongs to the operation, not to the caller: a caller that timed out leaves
/// it running, and calling the same method again continues it and returns its outcome (a
/// finished one is kept until then). EndTxn is retried until answered, so a commit whose
/// outcome is unknown is never reported as committed — only a successful answer is.
///
/// Its stored properties are set only by this type's own files (`+Steps.swift`).
struct TransactionMachine: Sendable {
    enum State: Sendable, Equatable {
        case uninitialized, initializing, ready, inTransaction, committing, aborting, abortableError, fatalError
    }

    /// The application's operations that take requests to finish.
    enum Operation: Sendable, Equatable {
        case initialize, commit, abort, sendOffsets
    }

    /// What starting an operation found.
    enum Start: Sendable {
        /// A new operation; the I/O should run it.
        case started
        /// The same operation is already running (a timed-out call called again): wait for it.
        case resumed
        /// It already finished while nobody waited: this is its outcome.
        case finished(Result<Void, KafkaError>)
    }

    struct Settings: Sendable {
        var transactionalId: String
        var transactionTimeout: Duration
        var retryBackoff: Duration = .milliseconds(100)
        var retryBackoffMax: Duration = .seconds(1)
    }

    /// One step of a running operation.
    enum Step: Sendable, Equatable {
        case request(TransactionRequest.Kind)
        case flush
        case dropUnsent
    }

    struct Running: Sendable {
        let operation: Operation
        var steps: [Step]
        var retryAt: ContinuousClock.Instant?
        var failures = 0
        /// A request of this operation is being sent.
        var inFlight = false
        /// Set when a step failed: the operation ends with it at the next `next`.
        var failure: KafkaError?
        /// sendOffsets: what is left to commit.
        var offsets: [TopicPartition: Int64] = [:]
        var group: ConsumerGroupMetadata?
    }

    let settings: Settings
    var state: State = .uninitialized
    /// Why the state is `abortableError` or `fatalError`.
    var error: KafkaError?
    var identity = ProducerIdentity.none
    /// KIP-890: no AddPartitionsToTxn, EndTxn bumps the epoch. Decided by InitProducerId.
    var transactionV2 = false
    /// Partitions in the transaction (V1: confirmed by AddPartitionsToTxn; V2: produced to).
    var partitions: Set<TopicPartition> = []
    /// V1: partitions with waiting batches not yet asked for.
    var newPartitions: Set<TopicPartition> = []
    /// V1: partitions of the AddPartitionsToTxn in flight.
    var addingPartitions: Set<TopicPartition> = []
    var addRetryAt: ContinuousClock.Instant?
    var addFailures = 0
    /// Offsets were added to the transaction (it is not empty even without records).
    var hasOffsets = false
    var running: Running?
    /// A finished operation's outcome no caller has taken yet (its caller timed out).
    var unclaimed: (operation: Operation, result: Result<Void, KafkaError>)?
    /// Batches with sequence numbers were dropped (abort): the abort ends with an epoch bump.
    var epochBumpNeeded = false
    /// An error that just spoiled the transaction or the producer: every unsent batch fails
    /// with it (`takeUnsentFailure`), as the Java sender aborts undrained batches.
    var failUnsentWith: KafkaError?

    init(settings: Settings) { self.settings = settings }

    // MARK: Queries

    /// Whether a batch of `tp` may be sent: V2 always, V1 once AddPartitionsToTxn added it.
    func mayProduce(_ tp: TopicPartition) -> Bool { transactionV2 || partitions.contains(tp) }

    /// Nothing was added to the transaction: EndTxn is not needed (the coordinator would answer
    /// INVALID_TXN_STATE for a transaction it never saw).
    var isEmpty: Bool { partitions.isEmpty && addingPartitions.isEmpty && !hasOffsets }

    /// Why a new record is refused now (nil: it may join the transaction).
    var recordRefusal: KafkaError? {
        switch state {
        case .inTransaction: return nil
        case .abortableError, .fatalError: return error
        case .uninitialized, .initializing: return Self.misuse("send before initTransactions() finished")
        case .ready: return Self.misuse("send outside a transaction: call beginTransaction() first")
        case .committing: return Self.misuse("send while the transaction commits")
        case .aborting: return Self.misuse("send while the transaction aborts")
        }
    }

    static func misuse(_ message: String) -> KafkaError { KafkaError(.invalidState, message) }

    // MARK: The application's calls

    /// `beginTransaction()`: ready → inTransaction.
    mutating func begin() throws(KafkaError) {
        try refuseIfFailed()
        guard state == .ready, running == nil else {
            throw Self.misuse(state == .uninitialized || state == .initializing
                ? "beginTransaction() before initTransactions() finished"
                : "beginTransaction() while a transaction is open (\(state))")
        }
        unclaimed = nil
        state = .inTransaction
        partitions = []
        newPartitions = []
        hasOffsets = false
    }

    /// `initTransactions()`, `commitTransaction()`, `abortTransaction()` or
    /// `sendOffsetsToTransaction`: starts the operation, or finds it running or finished.
    mutating func start(_ op: Operation, offsets: [TopicPartition: Int64] = [:], group: ConsumerGroupMetadata? = nil) throws(KafkaError) -> Start {
        if let u = unclaimed, u.operation == op, running == nil {
            unclaimed = nil
            return .finished(u.result)
        }
        if let r = running {
            if r.operation == op && op != .sendOffsets { return .resumed }
            throw Self.misuse("\(Self.name(op)) while \(Self.name(r.operation)) is in progress (call \(Self.name(r.operation)) again to finish it)")
        }
        switch (op, state) {
        case (_, .fatalError):
            throw error ?? Self.misuse("the producer failed")
        case (.initialize, .uninitialized):
            state = .initializing
            run(op, [.request(.initProducerId)])
        case (.initialize, _):
            throw Self.misuse("initTransactions() was already called")
        case (.commit, .inTransaction):
            state = .committing
            run(op, [.flush, .request(.endTxn)])
        case (.commit, .abortableError):
            throw error ?? Self.misuse("the transaction must be aborted")
        case (.abort, .inTransaction), (.abort, .abortableError):
            state = .aborting
            run(op, [.dropUnsent, .flush, .request(.endTxn), .request(.initProducerId)])
        case (.sendOffsets, .inTransaction):
            guard let group, !group.groupId.isEmpty else { throw KafkaError(.configuration, "sendOffsetsToTransaction needs a group id") }
            run(op, transactionV2 ? [.request(.commitOffsets)] : [.request(.addOffsets), .request(.commitOffsets)])
            running?.offsets = offsets
            running?.group = group
        case (.sendOffsets, .abortableError):
            throw error ?? Self.misuse("the transaction must be aborted")
        default:
            throw Self.misuse("\(Self.name(op)) in state \(state)")
        }
        return .started
    }

    /// A waiter took the outcome of the operation that just finished.
    mutating func claimed(_ op: Operation) {
        if unclaimed?.operation == op { unclaimed = nil }
    }

    private mutating func run(_ op: Operation, _ steps: [Step]) {
        unclaimed = nil
        running = Running(operation: op, steps: steps)
    }

    private func refuseIfFailed() throws(KafkaError) {
        if state == .fatalError { throw error ?? Self.misuse("the producer failed") }
    }

    static func name(_ op: Operation) -> String {
        switch op {
        case .initialize: "initTransactions()"
        case .commit: "commitTransaction()"
        case .abort: "abortTransaction()"
        case .sendOffsets: "sendOffsetsToTransaction()"
        }
    }

    // MARK: The producer's records

    /// A record was appended to `tp`'s queue inside the transaction (V1: it must be added).
    mutating func recordAppended(to tp: TopicPartition) {
        if transactionV2 {
            partitions.insert(tp)
        } else if !partitions.contains(tp) && !addingPartitions.contains(tp) {
            newPartitions.insert(tp)
        }
    }

    /// A record of the transaction failed: the transaction must abort, or the producer is
    /// fenced. Failures while aborting are the abort's own doing and change nothing.
    mutating func recordFailed(_ e: KafkaError) {
        guard state == .inTransaction || state == .committing || state == .abortableError else { return }
        // Its sequence numbers may have left a gap: the abort restarts them under a new epoch.
        epochBumpNeeded = true
        let wrapped = KafkaError(e.kind, "a record of the transaction failed: \(e.message)", context: e.context, underlying: e)
        if TransactionErrorClass.ofRecordFailure(e) == .fatal { enterFatal(wrapped) } else { enterAbortable(wrapped) }
    }

    /// The error unsent batches must fail with, once, after the transaction or producer failed.
    mutating func takeUnsentFailure() -> KafkaError? {
        defer { failUnsentWith = nil }
        return failUnsentWith
    }

    /// The open transaction can only be aborted now (a commit running finishes with `e`).
    mutating func enterAbortable(_ e: KafkaError) {
        guard state == .inTransaction || state == .committing else { return }
        if state == .inTransaction { state = .abortableError }
        // Only the first error fails the unsent batches (the others are its consequences).
        if error == nil {
            error = e
            failUnsentWith = e
        }
    }

    /// The producer can do nothing more: every call fails with `e` from now on.
    mutating func enterFatal(_ e: KafkaError) {
        guard state != .fatalError else { return }
        state = .fatalError
        error = e
        failUnsentWith = e
    }

    // MARK: AddPartitionsToTxn (V1), beside the operations

    /// The AddPartitionsToTxn to send now: every new partition in one request, one request at
    /// a time, after the backoff of a retriable error.
    mutating func takeAddPartitions(now: ContinuousClock.Instant) -> TransactionRequest? {
        guard !transactionV2, !newPartitions.isEmpty, addingPartitions.isEmpty,
              state == .inTransaction || state == .committing else { return nil }
        if let at = addRetryAt, now < at { return nil }
        addingPartitions = newPartitions
        newPartitions = []
        return .addPartitions(addingPartitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }, identity)
    }

    /// When the next AddPartitionsToTxn may go (nil: none waits for a backoff).
    var addPartitionsRetryAt: ContinuousClock.Instant? {
        newPartitions.isEmpty || !addingPartitions.isEmpty ? nil : addRetryAt
    }
}
