public import KafkaProtocol

/// Consumer groups: subscriptions, offset commits, rebalance events.
extension KafkaConsumer {
    /// Joins the group (`group.id`) and reads the partitions it assigns to this member, for
    /// these topics. Partitions start at their committed offsets, else by `auto.offset.reset`.
    /// Calling it again changes the subscription (the group rebalances).
    /// - Parameter topics: The topics to read.
    /// - Throws: `KafkaError(.configuration)` without `group.id`, for an empty list, or after `assign`; `.closed` after `close()`.
    public func subscribe(topics: [String]) throws {
        guard !topics.isEmpty else { throw KafkaError(.configuration, "subscribe(topics:) needs at least one topic") }
        try startGroup(.topics(Array(Set(topics)).sorted()))
    }

    /// Subscribes to every topic whose whole name matches `pattern` (a regular expression, as in
    /// the Java client's `Pattern`); re-evaluated as topics appear and disappear.
    /// - Parameter pattern: A regular expression for whole topic names.
    /// - Throws: `KafkaError(.configuration)` for an invalid pattern, without `group.id` or after `assign`; `.closed` after `close()`.
    public func subscribe(pattern: String) throws {
        do {
            _ = try Regex(pattern)
        } catch {
            throw KafkaError(.configuration, "invalid topic pattern '\(pattern)': \(error)")
        }
        try startGroup(.pattern(pattern))
    }

    private func startGroup(_ subscription: Subscription) throws {
        guard let group else { throw KafkaError(.configuration, "subscribe needs group.id") }
        try state.withLock { s in
            if s.closed { throw KafkaError(.closed, "consumer is closed") }
            if !s.subscribed && !s.partitions.isEmpty {
                throw KafkaError(.configuration, "subscribe() cannot be used after assign(); create another consumer")
            }
            s.subscribed = true
        }
        group.setSubscription(subscription)
        groupTask.withLock { task in
            guard task == nil else { return }
            // The run loop holds the consumer weakly (see `GroupHost`).
            task = Task { [weak self] in await group.run(host: GroupHost(self)) }
        }
    }

    /// Leaves the group: the owned partitions are revoked (the handler runs, processed offsets
    /// are committed when `enable.auto.commit`), then LeaveGroup (unless a static member). The
    /// consumer can `subscribe` again, or `assign`.
    public func unsubscribe() async {
        guard let group, state.withLock({ $0.subscribed }) else { return }
        // An input to the group's executor like any other (a held JoinGroup in flight is
        // cancelled); the executor stays, idle, for the next subscribe.
        await group.leave(timeout: config.client.requestTimeout, final: false)
        state.withLock { s in
            s.subscribed = false
            for tp in s.partitions.keys { dropBuffered(&s, tp) }
            s.partitions = [:]
            s.delivered = [:]
            s.processed = [:]
        }
    }

    /// Rebalance events as they happen (also given to `onRebalance`, which is awaited first).
    /// Ends when the consumer closes. Without `group.id`, an empty sequence.
    public var rebalanceEvents: AsyncStream<RebalanceEvent> {
        group?.events ?? AsyncStream { $0.finish() }
    }

    /// Group failures the member recovers from by itself and that used to go unseen: an
    /// auto-commit that failed, an assignment from SyncGroup that could not be decoded (the
    /// member rejoins). Each is also logged as a warning. Ends when the consumer closes. Like
    /// `partitionErrors`, one sequence: iterate it from one task; the newest 1024 are kept
    /// when nobody reads them. Without `group.id`, an empty sequence.
    public var groupErrors: AsyncStream<ConsumerGroupError> {
        group?.errors ?? AsyncStream { $0.finish() }
    }

    /// This member's id in the group; nil before the coordinator gave one (first join) and
    /// for a consumer without `group.id`.
    public var memberId: String? {
        guard let id = group?.memberId, !id.isEmpty else { return nil }  // "" is the protocol's "none yet"
        return id
    }

    /// The group generation this member belongs to; nil when it is not a member (before the
    /// first join completes, after leaving or being fenced, or without `group.id`).
    public var generationId: Int32? {
        guard let generation = group?.generation, generation >= 0 else { return nil }  // -1: the protocol's "no generation"
        return generation
    }

    /// This member's group metadata, one consistent snapshot of group id, generation, member id
    /// and instance id, for `KafkaProducer.sendOffsetsToTransaction(_:group:)`. Nil without
    /// `group.id`.
    public var groupMetadata: ConsumerGroupMetadata? {
        guard let group else { return nil }
        let (memberId, generation) = group.membership
        return ConsumerGroupMetadata(
            groupId: group.groupId,
            generationId: generation >= 0 ? generation : nil,  // -1: the protocol's "no generation"
            memberId: memberId.isEmpty ? nil : memberId,       // "": the protocol's "none yet"
            groupInstanceId: group.config.groupInstanceId)
    }

    // MARK: Commits

    /// Commits the position after every record handed to the application (by `poll` or the
    /// `records` iterator), for every assigned partition that has one, and waits for the answer.
    /// - Throws: `KafkaError`: `.configuration` without `group.id`, the coordinator's error (e.g. `.broker(.rebalanceInProgress)`), or `.cancelled` when the task is cancelled.
    public func commit() async throws {
        try await commit(committablePositions(processedOnly: false, partitions: nil))
    }

    /// Commits these offsets (the offset of the NEXT record to read, as in Kafka) and waits.
    /// - Parameter offsets: The next offset to read, per partition.
    /// - Throws: `KafkaError`: `.configuration` without `group.id`, the coordinator's error, or `.cancelled` when the task is cancelled.
    public func commit(_ offsets: [TopicPartition: Int64]) async throws {
        guard let group else { throw KafkaError(.configuration, "commit needs group.id") }
        do {
            try await group.commit(offsets)
        } catch is CancellationError {
            // (A cancelled backoff sleep; a cancelled request already says `.cancelled`.)
            throw KafkaError(.cancelled, "commit cancelled")
        }
    }

    /// Commits the position after `record` (its offset + 1, the next record to read) for its
    /// partition and waits for the answer — confluent-kafka's `commit(message=…)` with
    /// `asynchronous=False`. Other partitions' committed offsets are left as they are.
    /// - Parameter record: A record this consumer handed out (or any record of a partition of
    ///   the group's topics).
    /// - Throws: `.configuration` without `group.id`; `.cancelled` when the task is cancelled;
    ///   the broker's error (e.g. `.broker(.rebalanceInProgress)`) when the commit is refused.
    public func commit(_ record: ConsumerRecord) async throws {
        try await commit(Self.offsetsAfter(CollectionOfOne(record)))
    }

    /// Commits, for every partition among `records`, the position after its highest-offset
    /// record (that offset + 1), in one request, and waits for the answer — confluent-kafka's
    /// `commit(offsets=…)` for a batch from `consume(num_messages)`. An empty sequence commits
    /// nothing and returns at once.
    /// - Parameter records: Records this consumer handed out, in any order.
    /// - Throws: `.configuration` without `group.id`; `.cancelled` when the task is cancelled;
    ///   the broker's error when the commit is refused.
    public func commit(_ records: some Sequence<ConsumerRecord>) async throws {
        let offsets = Self.offsetsAfter(records)
        guard !offsets.isEmpty else { return }
        try await commit(offsets)
    }

    /// The offset after the highest record of each partition in `records`. An offset of
    /// `Int64.max` (possible only from a broken broker) stays `Int64.max` rather than trapping.
    static func offsetsAfter(_ records: some Sequence<ConsumerRecord>) -> [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for r in records {
            let next = r.offset.saturatingAdding(1)
            out[r.topicPartition] = max(out[r.topicPartition] ?? Int64.min, next)
        }
        return out
    }

    /// Starts a commit of everything delivered so far and returns at once.
    ///
    /// - Parameter completion: Gets the outcome (nil on success). Without it, a failure is not
    ///   lost: it is logged (context `cgrp`, through `logHandler` or standard error) and
    ///   yielded on `partitionErrors`.
    public func commitAsync(completion: (@Sendable (KafkaError?) -> Void)? = nil) {
        let offsets = committablePositions(processedOnly: false, partitions: nil)
        Task {
            let failure: KafkaError?
            do {
                try await commit(offsets)
                failure = nil
            } catch let e as KafkaError {
                failure = e
            } catch {
                failure = KafkaError(.connection, "\(error)")
            }
            if let completion {
                completion(failure)
            } else if let failure {
                commitAsyncFailed(failure, offsets: offsets)
            }
        }
    }

    /// A `commitAsync` without a completion failed: the application asked for no callback, so
    /// the error goes where the consumer's other unsolicited failures go, rather than nowhere.
    private func commitAsyncFailed(_ error: KafkaError, offsets: [TopicPartition: Int64]) {
        let partitions = offsets.keys.map(\.description).sorted().joined(separator: ", ")
        config.client.warn("cgrp", "commitAsync of [\(partitions)] failed: \(error)")
        partitionErrorSink.yield(error)
    }

    /// The group's committed offsets for `partitions` (nil: nothing committed).
    /// - Parameter partitions: The partitions to ask about.
    /// - Returns: Each partition's committed offset, nil when none is committed.
    /// - Throws: `KafkaError`: `.configuration` without `group.id`, the coordinator's error, or `.cancelled` when the task is cancelled.
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64?] {
        guard let group else { throw KafkaError(.configuration, "committed() needs group.id") }
        let found: [TopicPartition: Int64]
        do {
            found = try await group.committedOffsets(partitions)
        } catch is CancellationError {
            throw KafkaError(.cancelled, "committed() cancelled")
        }
        var out: [TopicPartition: Int64?] = [:]
        for tp in partitions { out[tp] = found[tp] }
        return out
    }

    // MARK: Hooks for ConsumerGroup

    /// Offsets to commit: after each record delivered, or (`processedOnly`) after each record the
    /// application has finished with. Only assigned partitions.
    func committablePositions(processedOnly: Bool, partitions: [TopicPartition]?) -> [TopicPartition: Int64] {
        state.withLock { s in
            var out = processedOnly ? s.processed : s.delivered
            if let h = s.held {
                let v = processedOnly ? progress.processed.load(ordering: .relaxed) : progress.delivered.load(ordering: .relaxed)
                if v >= 0 { out[h.tp] = v }
            }
            let wanted = partitions.map(Set.init)
            return out.filter { s.partitions[$0.key] != nil && (wanted?.contains($0.key) ?? true) }
        }
    }

    /// Revocation begins: stop fetching these partitions and drop what is buffered for them,
    /// so that nothing more of them reaches the application.
    func groupStopFetching(_ partitions: [TopicPartition]) {
        state.withLock { s in
            for tp in partitions where s.partitions[tp] != nil {
                s.partitions[tp]?.paused = true
                s.partitions[tp]?.generation += 1
                dropBuffered(&s, tp)
                if s.held?.tp == tp {
                    // Freeze what the iterator got to; the rest of its chunk is dropped.
                    let d = progress.delivered.load(ordering: .relaxed)
                    let p = progress.processed.load(ordering: .relaxed)
                    if d >= 0 {
                        s.delivered[tp] = d
                        s.revokedHeld = (tp, d)
                    }
                    if p >= 0 { s.processed[tp] = p }
                    s.held = nil
                    progress.invalidate()
                }
            }
        }
    }

    /// True when the application has finished with every record of `partitions` it was given
    /// (it asked for more since), so committing `processed` loses and repeats nothing.
    func groupProcessedAll(_ partitions: [TopicPartition]) -> Bool {
        state.withLock { s in
            s.closed || partitions.allSatisfy { tp in
                guard let d = s.delivered[tp] else { return true }
                return (s.processed[tp] ?? -1) >= d
            }
        }
    }

    /// The partitions are no longer ours.
    func groupRemove(_ partitions: [TopicPartition]) {
        state.withLock { s in
            for tp in partitions {
                s.partitions[tp] = nil
                s.delivered[tp] = nil
                s.processed[tp] = nil
                dropBuffered(&s, tp)
            }
        }
    }

    /// New partitions from the group: start at the committed offset, else `auto.offset.reset`.
    func groupAdd(_ partitions: [TopicPartition], committed: [TopicPartition: Int64]) {
        state.withLock { s in
            for tp in partitions {
                var p = s.partitions[tp] ?? PartitionState()
                p.paused = false
                p.generation += 1
                if let c = committed[tp] {
                    p.position = c
                    p.reset = nil
                    s.delivered[tp] = c
                    s.processed[tp] = c
                } else {
                    p.position = nil
                    switch config.autoOffsetReset {
                    case .earliest: p.reset = .beginning
                    case .latest: p.reset = .end
                    case .none:
                        p.reset = nil
                        s.error = KafkaError.broker(.offsetOutOfRange, "\(tp) has no committed offset and auto.offset.reset=none",
                                                    context: .init(topic: tp.topic, partition: tp.partition))
                    }
                }
                s.partitions[tp] = p
            }
            s.needMetadata = true
        }
        signal.notify()
    }

    /// A fatal group error: the application sees it on its next read.
    func groupFailed(_ error: KafkaError) {
        state.withLock { $0.error = error }
        wakeReader()
    }
}
