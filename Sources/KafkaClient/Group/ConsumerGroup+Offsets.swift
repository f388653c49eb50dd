import KafkaProtocol
import KafkaNet

/// OffsetCommit and OffsetFetch for the group. Called by the executor (auto-commits, start
/// positions) and directly by the consumer's `commit` / `committed`; what an answer means for
/// the membership is posted to the executor as an event, never applied here.
extension ConsumerGroup {
    /// Commits `offsets` for this member's generation (generation -1 for a consumer that is not
    /// a group member). Group-level errors are posted to the machine (rejoin / rediscover).
    func commit(_ offsets: [TopicPartition: Int64], onlyChanged: Bool = false) async throws {
        let todo = lastCommitted.withLock { last in onlyChanged ? offsets.filter { last[$0.key] != $0.value } : offsets }
        guard !todo.isEmpty else { return }
        // The generation is valid until the machine resets it (also while closing: the final
        // commit happens before LeaveGroup).
        let (generation, memberId) = machine.withLock { m in m.generation >= 0 ? (m.generation, m.memberId) : (-1, "") }
        var r = OffsetCommitRequest()
        r.groupId = groupId
        r.generationIdOrMemberEpoch = generation
        r.memberId = memberId
        r.groupInstanceId = generation >= 0 ? config.groupInstanceId : nil
        r.topics = Dictionary(grouping: todo, by: \.key.topic).map { topic, entries in
            var t = OffsetCommitRequest.Topic()
            t.name = topic
            t.partitions = entries.map { e in
                var p = OffsetCommitRequest.Partition()
                p.partitionIndex = e.key.partition
                p.committedOffset = e.value
                return p
            }.sorted { $0.partitionIndex < $1.partitionIndex }
            return t
        }
        let response: OffsetCommitResponse
        do {
            response = try await coordinatorOrFind().send(r)
        } catch let e as KafkaError {
            // The coordinator may be gone with its connection: the next attempt looks it up.
            forgetCoordinator()
            post(.coordinatorLost)
            throw e
        }
        var firstError: KafkaError?
        for t in response.topics {
            for p in t.partitions {
                let tp = TopicPartition(topic: t.name, partition: p.partitionIndex)
                let code = KafkaErrorCode(rawValue: p.errorCode)
                if code.isSuccess {
                    if let o = todo[tp] { lastCommitted.withLock { $0[tp] = o } }
                } else {
                    if cluster.coordinatorDirectory.coordinatorFailed(.group(groupId), code: code) { forgetCoordinator() }
                    post(.commitFailed(code: code))
                    if firstError == nil {
                        firstError = KafkaError.broker(code, context: .init(apiKey: .offsetCommit, topic: tp.topic, partition: tp.partition))
                    }
                }
            }
        }
        if let firstError { throw firstError }
    }

    /// The commit made when partitions are handed back (revocation, close). As the Java
    /// client's synchronous commit before a rebalance, a retriable failure — the coordinator
    /// moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE: it is looked up again), is loading,
    /// or its connection broke — is tried again within `budget`. Dropping it would hand the
    /// partitions on at older committed offsets, and their new owner would read again what
    /// this member already processed.
    func commitBeforeHandingBack(_ offsets: [TopicPartition: Int64], budget: Duration) async throws {
        var rounds = RetryRounds(config: config.client, budget: budget)
        while true {
            do {
                return try await rounds.attempt { [self] in try await commit(offsets, onlyChanged: true) }
            } catch let e as KafkaError where e.isRetriable {
                guard try await rounds.next() else { throw RetryRounds.timedOut("OffsetCommit for group \(groupId)", last: e) }
            }
        }
    }

    /// The committed offsets of `partitions` (absent: nothing committed).
    func committedOffsets(_ partitions: [TopicPartition], budget: Duration? = nil) async throws -> [TopicPartition: Int64] {
        let topics = Dictionary(grouping: partitions, by: \.topic).map { t, ps in (name: t, partitionIndexes: ps.map(\.partition).sorted()) }
        // Within the executor nothing heartbeats while this retries: give up (and rejoin)
        // well before the session could expire.
        return try await cluster.withRetries("OffsetFetch for group \(groupId)", budget: budget) { [self] in
            // require_stable (v7+): wait out pending transactional commits instead of reading past them.
            let link = try await coordinatorOrFind()
            let c = try await link.connection()
            let v = try c.version(for: OffsetFetchRequest.self)
            let response = try await c.send(OffsetFetchRequest(groupId: groupId, topics: topics, requireStable: v >= 7, version: v), version: v, timeout: config.client.requestTimeout)
            switch OffsetFetchAnswer.read(response, version: v, group: groupId, broker: c.remote) {
            case let .done(.success(offsets)): return offsets.mapValues(\.offset)
            case let .done(.failure(e)), let .retry(e): throw self.offsetFetchError(e)
            }
        }
    }

    /// An OffsetFetch error; a coordinator error makes the next call look the coordinator up.
    private func offsetFetchError(_ e: KafkaError) -> KafkaError {
        if let code = e.code, cluster.coordinatorDirectory.coordinatorFailed(.group(groupId), code: code) {
            coordinator.withLock { $0 = nil }
        }
        return e
    }

    /// Drops the coordinator (link and directory entry): the next commit or lookup finds it
    /// anew, and the executor's next request to it fails over to `.coordinatorLost`.
    private func forgetCoordinator() {
        cluster.coordinatorDirectory.invalidate(.group(groupId))
        coordinator.withLock { $0 = nil }
    }

    /// The coordinator link, finding the coordinator first when unknown (for commits and
    /// offset lookups outside the executor, e.g. a consumer with manual assignment).
    private func coordinatorOrFind() async throws -> BrokerLink {
        if let l = coordinator.withLock({ $0 }) { return l }
        return try await lookUpCoordinator()
    }
}
