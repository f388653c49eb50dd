import KafkaProtocol

/// The producer machine's side of a transaction: the `TransactionMachine` it holds decides
/// which partitions may be sent (`drain` filters on `mayProduce`), refuses records outside a
/// transaction (`append`), learns every failed batch (`complete`) and changes the producer's
/// identity (init, KIP-360 bump, KIP-890 epoch per transaction). This file applies what it
/// decides to the batches.
extension ProducerMachine {
    /// The transaction machine for `config`, nil without `transactional.id`.
    static func transactionMachine(_ config: ProducerConfig) -> TransactionMachine? {
        guard let id = config.transactionalId else { return nil }
        return TransactionMachine(settings: .init(
            transactionalId: id, transactionTimeout: config.transactionTimeout,
            retryBackoff: config.client.retryBackoff, retryBackoffMax: config.client.retryBackoffMax
        ))
    }

    /// After an event: when the transaction or the producer just failed, every batch not in
    /// flight fails with that error (as the Java sender aborts undrained batches), so a commit
    /// waiting for the flush ends instead of waiting for batches that can never be sent.
    mutating func settleTransaction(_ actions: inout [ProducerAction]) {
        guard let e = transaction?.takeUnsentFailure() else { return }
        failUnsent(e, &actions)
        forwardEpochBump()
        // Failing them is the error's consequence, not a new one.
        _ = transaction?.takeUnsentFailure()
    }

    /// `failUnsent` notes dropped batches with sequence numbers as a needed epoch bump; for a
    /// transactional producer that bump is the abort's (InitProducerId to the coordinator).
    private mutating func forwardEpochBump() {
        guard epochBumpNeeded else { return }
        epochBumpNeeded = false
        transaction?.epochBumpNeeded = true
    }

    /// Feeds `event` to the transaction machine and applies what changed: a new producer id or
    /// epoch restarts sequences, a spoiled transaction fails its unsent batches, added
    /// partitions become sendable (the sender is woken).
    mutating func transactionEvent(_ event: TransactionEvent, now: ContinuousClock.Instant) -> [ProducerAction] {
        guard transaction != nil else { return [] }
        transaction?.handle(event, now: now)
        var actions = adoptTransactionIdentity()
        settleTransaction(&actions)
        actions.append(.wakeSender)
        if actions.contains(where: \.endsAMessage) { actions.append(.wakeWaiters) }
        return actions
    }

    /// An abort's first step: every batch not yet sent fails with `error`; those in flight are
    /// waited for by the next step (a flush).
    mutating func dropForAbort(_ error: KafkaError) -> [ProducerAction] {
        var actions: [ProducerAction] = []
        failUnsent(error, &actions)
        forwardEpochBump()
        actions.append(.wakeSender)
        if actions.contains(where: \.endsAMessage) { actions.append(.wakeWaiters) }
        return actions
    }

    /// The transaction machine's producer id and epoch, applied: a change restarts every
    /// partition's sequence at 0 (a new epoch has no sequence state at the broker).
    private mutating func adoptTransactionIdentity() -> [ProducerAction] {
        guard let id = transaction?.identity, id.id >= 0, id.id != producerId || id.epoch != producerEpoch else { return [] }
        epochBumpNeeded = true
        return handle(.producerId(id.id, epoch: id.epoch))
    }
}
