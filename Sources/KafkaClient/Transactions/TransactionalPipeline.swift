import Synchronization

/// Consume-transform-produce with exactly-once results: records read from input topics as a
/// member of a consumer group, turned into output records, and written in transactions that
/// also commit the group's offsets (KIP-98, KIP-447). A `read_committed` reader of the output
/// sees each input record's output exactly once, even when the process is killed at any moment
/// and started again with the same `transactional.id` and group.
///
/// ```swift
/// var input = ConsumerConfig(); input.client.bootstrapServers = ["localhost:9092"]; input.groupId = "copier"
/// var output = ProducerConfig(); output.client = input.client; output.transactionalId = "copier-1"
/// let pipeline = try TransactionalPipeline(consumer: input, producer: output)
/// try await pipeline.run(topics: ["orders"]) { record in
///     [ProducerRecord(topic: "orders-upper", key: record.key, value: record.value.map { Array(String(decoding: $0, as: UTF8.self).uppercased().utf8) })]
/// }
/// ```
///
/// The loop: poll; begin a transaction with the first records; send each record's outputs;
/// when `maxRecords` were consumed or the transaction is `maxDuration` old, send the consumed
/// offsets with the consumer's group metadata (`sendOffsetsToTransaction`) and commit. Any
/// abortable failure (a record that failed, the group fencing our generation, a commit that
/// failed) and any rebalance while a transaction is open abort it and rewind the consumer to
/// the group's committed offsets, so the aborted work is done again. A revocation waits for
/// that abort before the partitions move. A fatal error (another producer took the
/// `transactional.id`) ends `run` with it.
public final class TransactionalPipeline: Sendable {
    /// When transactions commit and how long a poll waits.
    public struct Settings: Sendable {
        /// Commit once this many input records are in the transaction. Default: 10,000.
        public var maxRecords = 10_000
        /// Commit a transaction at the latest this long after it began (when it consumed
        /// anything). Default: 100 ms.
        public var maxDuration: Duration = .milliseconds(100)
        /// The longest one poll waits for input. Default: 100 ms.
        public var pollTimeout: Duration = .milliseconds(100)
        /// Settings with the defaults.
        public init() {}
    }

    /// What a `run` achieved.
    public struct Progress: Sendable, Equatable {
        /// Transactions committed.
        public var committedTransactions = 0
        /// Transactions aborted (and their input read again).
        public var abortedTransactions = 0
        /// Input records whose transaction committed.
        public var consumedRecords = 0
        /// Output records whose transaction committed.
        public var producedRecords = 0
        /// No progress yet.
        public init() {}
    }

    /// The group member reading the input (`read_committed`, no auto-commit: offsets are
    /// committed only by the transactions).
    public let consumer: KafkaConsumer
    /// The transactional producer writing the output.
    public let producer: KafkaProducer
    /// When transactions commit.
    public let settings: Settings
    private let barrier: RebalanceBarrier
    /// The consumer's `max.poll.records`: a transaction spans several polls.
    private let pollRecords: Int

    /// Creates the consumer and the producer. `consumer` must name a `group.id` and `producer`
    /// a `transactional.id`; the consumer's `isolation.level` is set to read_committed (output
    /// of other transactions is input only once committed) and `enable.auto.commit` to false.
    /// - Parameters:
    ///   - consumer: The input's settings.
    ///   - producer: The output's settings.
    ///   - settings: When to commit.
    ///   - onRebalance: Also told of each rebalance (after the pipeline's own handling).
    /// - Throws: `KafkaError(.configuration)` without `group.id` or `transactional.id`, for
    ///   invalid settings (`maxRecords` below 1), or what the clients' initializers throw.
    public init(consumer: ConsumerConfig, producer: ProducerConfig, settings: Settings = Settings(), onRebalance: RebalanceHandler? = nil) throws {
        guard consumer.groupId != nil else { throw KafkaError(.configuration, "a TransactionalPipeline needs the consumer's group.id") }
        guard producer.transactionalId != nil else { throw KafkaError(.configuration, "a TransactionalPipeline needs the producer's transactional.id") }
        guard settings.maxRecords >= 1 else { throw KafkaError(.configuration, "TransactionalPipeline.Settings.maxRecords must be at least 1") }
        var input = consumer
        input.isolationLevel = .readCommitted
        input.enableAutoCommit = false
        let barrier = RebalanceBarrier()
        self.barrier = barrier
        pollRecords = input.maxPollRecords
        self.settings = settings
        self.consumer = try KafkaConsumer(config: input) { event in
            await barrier.handle(event)
            await onRebalance?(event)
        }
        self.producer = try KafkaProducer(config: producer)
    }

    /// Subscribes to `topics` and runs the loop until `shouldStop` says so (asked between
    /// transactions, with none open), the task is cancelled (the open transaction is aborted),
    /// or a fatal error.
    /// - Parameters:
    ///   - topics: The input topics.
    ///   - shouldStop: Asked with no transaction open, after each commit and each idle poll.
    ///   - transform: One input record's output records (none to drop it). Throwing aborts
    ///     the transaction and ends `run` with the error.
    /// - Returns: What was committed.
    /// - Throws: `transform`'s error, a fatal producer error (`PRODUCER_FENCED`, …), a consumer
    ///   error, or `KafkaError(.cancelled)`.
    @discardableResult
    public func run(
        topics: [String], until shouldStop: @Sendable (TransactionalPipeline) -> Bool = { _ in false },
        transform: (ConsumerRecord) async throws -> [ProducerRecord]
    ) async throws -> Progress {
        defer { barrier.stop() }
        try consumer.subscribe(topics: topics)
        try await resumingTimeouts { try await self.producer.initTransactions() }
        var progress = Progress()
        var txn = PipelineTransaction()
        var seen = barrier.rebalances
        var failures = 0
        while true {
            var batch: [ConsumerRecord] = []
            do {
                if Task.isCancelled { throw KafkaError(.cancelled, "TransactionalPipeline.run cancelled") }
                batch = try await consumer.poll(max: min(pollRecords, txn.room(maxRecords: settings.maxRecords)), timeout: settings.pollTimeout)
                if barrier.rebalances != seen {
                    // Partitions moved: whatever the open transaction holds may no longer be ours.
                    seen = barrier.rebalances
                    try await abortAndRewind(&txn, unprocessed: batch, progress: &progress)
                    continue
                }
                if !batch.isEmpty {
                    if !txn.isOpen {
                        try producer.beginTransaction()
                        txn.begin(at: .now)
                        barrier.opened()
                    }
                    for r in batch {
                        let outputs: [ProducerRecord]
                        do { outputs = try await transform(r) } catch { throw TransformFailure(error: error) }
                        for o in outputs { try await send(o) }
                        txn.consumed(r, outputs: outputs.count)
                    }
                    batch = []
                }
                if txn.isDue(now: .now, maxRecords: settings.maxRecords, maxDuration: settings.maxDuration) {
                    guard barrier.rebalances == seen, let group = consumer.groupMetadata else {
                        seen = barrier.rebalances
                        try await abortAndRewind(&txn, unprocessed: [], progress: &progress)
                        continue
                    }
                    try await producer.sendOffsetsToTransaction(txn.offsets, group: group)
                    try await resumingTimeouts { try await self.producer.commitTransaction() }
                    progress.committedTransactions += 1
                    progress.consumedRecords += txn.records
                    progress.producedRecords += txn.produced
                    txn = PipelineTransaction()
                    barrier.closed()
                    failures = 0
                }
                if !txn.isOpen, shouldStop(self) { return progress }
            } catch let f as TransformFailure {
                try? await abortAndRewind(&txn, unprocessed: batch, progress: &progress)
                throw f.error
            } catch let e as KafkaError where Self.mayAbortAndRetry(e) && failures < Self.maxConsecutiveFailures {
                // Abortable: the abort succeeds, the input is read again. Fatal (fenced): the
                // abort fails too, and `run` ends with the error that led to it.
                do { try await abortAndRewind(&txn, unprocessed: batch, progress: &progress) } catch { throw e }
                failures += 1
                try await Task.sleep(for: .milliseconds(min(1000, 50 * failures)))
            } catch {
                if txn.isOpen { try? await abortAndRewind(&txn, unprocessed: batch, progress: &progress) }
                throw error
            }
        }
    }

    /// Consecutive failed transactions after which `run` gives up (the failure is not going away).
    static let maxConsecutiveFailures = 20

    /// Whether aborting and doing the work again may get past `e`: not for a closed client, a
    /// configuration error or a cancelled task.
    static func mayAbortAndRetry(_ e: KafkaError) -> Bool {
        ![.cancelled, .closed, .configuration].contains(e.kind)
    }

    /// `transform` threw: `run` ends with its error after aborting.
    private struct TransformFailure: Error { let error: any Error }

    /// Closes the consumer (leaving the group) and the producer.
    public func close() async {
        barrier.stop()
        await consumer.close()
        await producer.close()
    }

    /// Sends one output record; a full buffer waits for room through `send`.
    private func send(_ record: ProducerRecord) async throws {
        do {
            try producer.enqueue(record)
        } catch let e as KafkaError where e.kind == .queueFull {
            _ = try await producer.send(record)
        }
    }

    /// Aborts the open transaction (if any) and moves every assigned partition back to the
    /// group's committed offset, so the aborted input is consumed again.
    private func abortAndRewind(_ txn: inout PipelineTransaction, unprocessed: [ConsumerRecord], progress: inout Progress) async throws {
        if txn.isOpen {
            try await resumingTimeouts { try await self.producer.abortTransaction() }
            progress.abortedTransactions += 1
        }
        barrier.closed()
        let assigned = consumer.assignment
        let committed = assigned.isEmpty ? [:] : try await consumer.committed(assigned)
        for (tp, offset) in txn.rewindTargets(committed: committed, unprocessed: unprocessed) {
            try? consumer.seek(tp, to: .offset(offset))  // a partition revoked meanwhile is not ours to seek
        }
        txn = PipelineTransaction()
    }

    /// Runs a resumable transaction call again while it times out (it continues the same
    /// operation), at most five times.
    private func resumingTimeouts(_ call: () async throws -> Void) async throws {
        var attempt = 0
        while true {
            do { return try await call() } catch let e as KafkaError where e.kind == .timeout && attempt < 5 { attempt += 1 }
        }
    }
}
