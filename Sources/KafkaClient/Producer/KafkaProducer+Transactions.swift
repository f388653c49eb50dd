/// Transactions (KIP-98): records of several partitions, and a consumer's offsets, become
/// visible to `read_committed` readers together or not at all.
///
/// ```swift
/// let producer = try KafkaProducer(properties: ["bootstrap.servers": "localhost:9092", "transactional.id": "orders-copy"])
/// try await producer.initTransactions()
/// try await producer.withTransaction { txn in
///     try txn.enqueue(ProducerRecord(topic: "orders-out", key: "o-1", value: "…"))
///     try await txn.sendOffsetsToTransaction(offsets, group: consumer.groupMetadata!)
/// }
/// ```
/// Errors come in three kinds. Retriable coordinator errors are retried inside each call.
/// After an abortable error (a record failed, `TRANSACTION_ABORTABLE`, the consumer was fenced
/// from its group) commit and new records fail with that error: abort, then begin anew.
/// After a fatal error (`PRODUCER_FENCED` — another producer with the same `transactional.id`
/// started —, `INVALID_PRODUCER_EPOCH`, `INVALID_TXN_STATE`, not authorized) every call fails
/// with it: close the producer. Calling a method out of order throws `KafkaError(.invalidState)`.
///
/// `initTransactions`, `commitTransaction` and `abortTransaction` wait at most
/// `default.api.timeout.ms`, then throw `.timeout` while the operation goes on: calling the
/// same method again continues it and returns its outcome. A commit is reported only when the
/// coordinator confirmed it.
extension KafkaProducer {
    /// Registers the `transactional.id` with its transaction coordinator: gets the producer id
    /// and epoch, fences any older producer with the same id and completes what it left open.
    /// Call once, before the first transaction.
    /// - Throws: `KafkaError`: `.invalidState` when not transactional or already initialized,
    ///   `.timeout` (call again to continue), or the fatal broker error.
    public func initTransactions() async throws {
        try await core.transactionOperation(.initialize)
    }

    /// Opens a transaction: records sent from now on belong to it.
    /// - Throws: `KafkaError(.invalidState)` before `initTransactions()` or while a transaction
    ///   is open; the fatal error after one.
    public func beginTransaction() throws {
        try core.beginTransaction()
    }

    /// Adds a consumer's positions to the transaction: they are committed for `group` when the
    /// transaction commits, and not at all when it aborts (TxnOffsetCommit; the generation,
    /// member id and instance id let the coordinator fence a consumer that lost its partitions,
    /// KIP-447).
    /// - Parameters:
    ///   - offsets: The NEXT offset to read per partition (the last processed offset + 1, as
    ///     `KafkaConsumer.commit(_:)` takes them).
    ///   - group: The consumer's `KafkaConsumer.groupMetadata`.
    /// - Throws: `KafkaError`: `.invalidState` outside a transaction, the abortable error
    ///   (`ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`, `FENCED_INSTANCE_ID`: abort and rewind), the
    ///   fatal one, or `.timeout`.
    public func sendOffsetsToTransaction(_ offsets: [TopicPartition: Int64], group: ConsumerGroupMetadata) async throws {
        try await core.transactionOperation(.sendOffsets, offsets: offsets, group: group)
    }

    /// Flushes the transaction's records, then commits it. Fails — leaving the transaction to
    /// abort — when any of its records failed.
    /// - Throws: `KafkaError`: the abortable error (call `abortTransaction()`), the fatal one,
    ///   `.timeout` (the outcome is not known yet: call `commitTransaction()` again), or
    ///   `.invalidState` without an open transaction.
    public func commitTransaction() async throws {
        try await core.transactionOperation(.commit)
    }

    /// Aborts the transaction: records not yet sent fail with `.invalidState` ("aborted before
    /// the record was sent"), those in flight are waited for, and the coordinator marks the
    /// rest aborted (`read_committed` readers skip them).
    /// - Throws: `KafkaError`: the fatal error, `.timeout` (call again to continue), or
    ///   `.invalidState` without a transaction to abort.
    public func abortTransaction() async throws {
        try await core.transactionOperation(.abort)
    }

    /// Runs `body` in a transaction: begins one, commits when `body` returns, aborts when it
    /// (or the commit) throws, and rethrows. A commit that timed out is resumed until it has an
    /// outcome (at most three more waits of `default.api.timeout.ms`).
    /// - Parameter body: The transaction's work; it gets this producer.
    /// - Returns: What `body` returned.
    /// - Throws: `body`'s error, or the commit's or abort's.
    public func withTransaction<T: Sendable>(_ body: (KafkaProducer) async throws -> T) async throws -> T {
        try beginTransaction()
        let value: T
        do {
            value = try await body(self)
        } catch {
            try? await abortTransaction()
            throw error
        }
        var attempts = 0
        while true {
            do {
                try await commitTransaction()
                return value
            } catch let e as KafkaError where e.kind == .timeout && attempts < 3 {
                attempts += 1
            } catch {
                // Abortable: abort so the producer can begin again. Fatal: abort throws too.
                if core.transactionState == .abortableError { try? await abortTransaction() }
                throw error
            }
        }
    }
}
