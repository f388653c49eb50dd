/// What `TransactionalPipeline`'s open transaction has consumed so far, and when it is due to
/// commit. Pure (the clock is a parameter), so the commit rule is tested without a broker.
///
/// The offsets are the next offsets to read per partition (the last consumed record's offset
/// + 1), which `sendOffsetsToTransaction` commits for the group with the transaction: after a
/// commit the group resumes after exactly the records whose output the transaction wrote.
struct PipelineTransaction: Sendable, Equatable {
    /// When the transaction began; nil while none is open.
    private(set) var startedAt: ContinuousClock.Instant?
    /// Records consumed into it.
    private(set) var records = 0
    /// Records produced in it.
    private(set) var produced = 0
    /// Per partition: the offset after the last record consumed into it.
    private(set) var offsets: [TopicPartition: Int64] = [:]
    /// Per partition: the first offset consumed into it (where an abort goes back to when the
    /// group has no committed offset for the partition).
    private(set) var firstOffsets: [TopicPartition: Int64] = [:]

    /// Whether a transaction is open.
    var isOpen: Bool { startedAt != nil }

    /// A transaction began at `now` (nothing consumed yet).
    mutating func begin(at now: ContinuousClock.Instant) {
        self = PipelineTransaction()
        startedAt = now
    }

    /// `record` was consumed and its `outputs` records were sent in the transaction. Offsets
    /// only move forward: a record at or before a partition's noted offset changes nothing.
    mutating func consumed(_ record: ConsumerRecord, outputs: Int) {
        records += 1
        produced += outputs
        let tp = TopicPartition(topic: record.topic, partition: record.partition)
        offsets[tp] = Swift.max(offsets[tp] ?? 0, record.offset + 1)
        firstOffsets[tp] = Swift.min(firstOffsets[tp] ?? record.offset, record.offset)
    }

    /// Where each partition must go back to after an abort, so that every record consumed since
    /// the last commit is read again: the group's committed offset, or — none committed — the
    /// first offset this transaction (or the polled but unprocessed `unprocessed`) consumed.
    /// Partitions that consumed nothing since the commit are left where they are.
    /// - Parameters:
    ///   - committed: The group's committed offsets (nil: none) of the assigned partitions.
    ///   - unprocessed: Records polled that the aborted transaction never took.
    func rewindTargets(committed: [TopicPartition: Int64?], unprocessed: [ConsumerRecord]) -> [TopicPartition: Int64] {
        var first = firstOffsets
        for r in unprocessed {
            let tp = TopicPartition(topic: r.topic, partition: r.partition)
            first[tp] = Swift.min(first[tp] ?? r.offset, r.offset)
        }
        var out: [TopicPartition: Int64] = [:]
        for (tp, c) in committed {
            if let c { out[tp] = c } else if let f = first[tp] { out[tp] = f }
        }
        return out
    }

    /// Whether to commit now: `maxRecords` consumed, or open for `maxDuration` with something
    /// consumed (an empty transaction is not committed on time alone: there is nothing to make
    /// visible, and it would cost an EndTxn per interval while the input is idle).
    func isDue(now: ContinuousClock.Instant, maxRecords: Int, maxDuration: Duration) -> Bool {
        guard let startedAt, records > 0 else { return false }
        return records >= maxRecords || now - startedAt >= maxDuration
    }

    /// How many more records fit before `maxRecords` (at least 1, the size of the next poll).
    func room(maxRecords: Int) -> Int { Swift.max(1, maxRecords - records) }
}
