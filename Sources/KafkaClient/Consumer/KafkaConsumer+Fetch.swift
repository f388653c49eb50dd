// Over ~400 lines on purpose: the fetcher's round (plan, send, apply) reads as one piece, and
// its pure parts already live apart (FetchSession, FetchedRecordsDecoder, TopicRouter).
import KafkaProtocol
import KafkaNet

// The fetch path: metadata and leaders, offset resets, one Fetch per leader (KIP-227 sessions
// via `FetchSession`), decoding (`FetchedRecordsDecoder`) and buffering of the results.
extension KafkaConsumer {
    /// One Fetch to send: the leader, the request without its partitions, the partitions wanted
    /// (in priority order) and, per partition, the generation and position it was planned at.
    struct PlannedFetch: Sendable {
        let broker: Int32
        let base: FetchRequest
        let wanted: [(TopicPartition, FetchSession.PartitionRequest)]
        let planned: [TopicPartition: (generation: Int, offset: Int64)]
    }

    /// What the fetcher loop does after a step: wait for a signal (or the time), or sleep.
    enum FetcherPause: Sendable {
        case wait(until: ContinuousClock.Instant)
        case sleep(until: ContinuousClock.Instant)
    }

    /// One round of the fetcher loop (driven by `init`'s task, which holds the consumer only
    /// during a round; ends on `close` or when the consumer is dropped): refresh metadata when
    /// needed, resolve pending offset resets, start one Fetch per leader that has none in
    /// flight; then the loop sleeps until signalled (a fetch finished, the reader made room, the
    /// assignment changed) or until the next backoff ends. Nil: the consumer is closed.
    func fetcherStep() async -> FetcherPause? {
        guard !state.withLock({ $0.closed }) else { return nil }
        do {
            try await refreshMetadataIfNeeded()
            try await resolveResets()
            state.withLock { $0.fetcherFailures = 0 }
        } catch let e as KafkaError where !e.isRetriable {
            state.withLock { s in s.error = e }
            wakeReader()
            return .sleep(until: .now + .seconds(1))
        } catch {
            let failures = state.withLock { s in s.fetcherFailures += 1; return s.fetcherFailures }
            return .sleep(until: .now + config.client.retryBackoffPolicy.delay(afterFailures: failures))
        }
        for planned in plannedFetches() {
            Task { await self.fetch(planned) }
        }
        return .wait(until: nextWakeup())
    }

    /// When the fetcher loop must look again without being signalled: the end of the earliest
    /// partition backoff or metadata wait, and at least once a second.
    private func nextWakeup() -> ContinuousClock.Instant {
        state.withLock { s in
            var wake = ContinuousClock.now + .seconds(1)
            if s.needMetadata, s.metadataRetries > 0, let at = s.metadataNotBefore { wake = min(wake, at) }
            for p in s.partitions.values {
                if let at = p.retryAt { wake = min(wake, at) }
            }
            return wake
        }
    }

    /// Refreshes metadata (through the cluster's cache, which coalesces it with other
    /// requests) when a partition has no usable leader or its topic is unknown. Leaders and
    /// epochs live in the cluster's `TopicRouter`, which applies the epoch rules; this only
    /// decides when to ask again.
    private func refreshMetadataIfNeeded() async throws {
        let known = cluster.router
        let topics = state.withLock { s -> [String] in
            let topics = Array(Set(s.partitions.keys.map(\.topic)))
            let missing = topics.contains { known.partitions(of: $0) == nil }
            guard s.needMetadata || missing, !topics.isEmpty else { return [] }
            // After a refresh that left a partition without a usable leader, wait before the next.
            let now = ContinuousClock.now
            if s.metadataRetries > 0, let at = s.metadataNotBefore, now < at { return [] }
            s.metadataNotBefore = now + config.client.retryBackoffPolicy.delay(afterFailures: max(1, s.metadataRetries))
            return topics
        }
        guard !topics.isEmpty else { return }
        try await cluster.refreshMetadata(topics: topics)
        let router = cluster.router
        state.withLock { s in
            // A topic the router still wants was answered by a broker behind the newest
            // leader epoch (KIP-320), or is leaderless: ask again later.
            s.needMetadata = topics.contains { router.wanted.contains($0) }
            let leaderless = s.partitions.keys.contains { router.leader(for: $0) == nil }
            s.metadataRetries = leaderless || s.needMetadata ? s.metadataRetries + 1 : 0
        }
    }

    /// ListOffsets for partitions waiting for a position (per leader broker).
    private func resolveResets() async throws {
        let now = ContinuousClock.now
        let router = cluster.router
        let byLeader = state.withLock { s in
            var byLeader: [Int32: [(TopicPartition, OffsetSpec, Int)]] = [:]
            for (tp, p) in s.partitions {
                guard let spec = p.reset, !p.inFlight, p.retryAt.map({ $0 <= now }) ?? true else { continue }
                guard let leader = router.leader(for: tp) else {
                    s.needMetadata = true
                    continue
                }
                byLeader[leader, default: []].append((tp, spec, p.generation))
            }
            return byLeader
        }
        for (leader, items) in byLeader {
            var topics: [String: [ListOffsetsRequest.Partition]] = [:]
            for (tp, spec, _) in items {
                let ts: Int64
                switch spec {
                case .beginning: ts = -2
                case .end: ts = -1
                case let .timestamp(t): ts = t
                case .offset: continue
                }
                topics[tp.topic, default: []].append(.init(partitionIndex: tp.partition, timestamp: ts))
            }
            let request = ListOffsetsRequest(isolationLevel: config.isolationLevel.rawValue, topics: topics.map { .init(name: $0.key, partitions: $0.value) })
            let response = try await cluster.link(forNode: leader).send(request)
            state.withLock { s in
                for t in response.topics {
                    for p in t.partitions {
                        let tp = TopicPartition(topic: t.name, partition: p.partitionIndex)
                        guard let gen = items.first(where: { $0.0 == tp })?.2, s.partitions[tp]?.generation == gen else { continue }
                        let code = KafkaErrorCode(rawValue: p.errorCode)
                        if code.isSuccess {
                            // No offset for a timestamp (-1): start at the end, as the Java client does.
                            s.partitions[tp]?.position = p.offset >= 0 ? p.offset : nil
                            s.partitions[tp]?.reset = p.offset >= 0 ? nil : .end
                        } else if code.isRetriable {
                            s.needMetadata = true
                            cluster.partitionFailed(tp, code: code)
                            backOff(&s, tp)
                        } else {
                            partitionFailed(&s, tp, KafkaError.broker(code, context: .init(apiKey: .listOffsets, topic: tp.topic, partition: tp.partition)))
                        }
                    }
                }
            }
        }
    }

    /// A partition that failed with a retriable error waits before it is fetched again.
    private func backOff(_ s: inout State, _ tp: TopicPartition) {
        guard var p = s.partitions[tp] else { return }
        p.failures += 1
        p.retryAt = .now + config.client.retryBackoffPolicy.delay(afterFailures: p.failures)
        s.partitions[tp] = p
    }

    /// A failure confined to one partition (undecodable data, a non-retriable error): only that
    /// partition stops, and is tried again after a growing backoff (the data may be fixed, the
    /// ACL granted, or the application may seek past it); the application gets the error on
    /// `partitionErrors`. Logged on the first failure of a streak, so a partition that stays
    /// broken does not flood the log.
    private func partitionFailed(_ s: inout State, _ tp: TopicPartition, _ error: KafkaError) {
        backOff(&s, tp)
        if s.partitions[tp]?.failures ?? 1 <= 1 {
            config.client.warn("fetch", "\(tp): \(error) (retrying with backoff; other partitions go on)")
        }
        partitionErrorSink.yield(error.with(.init(topic: tp.topic, partition: tp.partition)))
    }

    /// One Fetch per leader broker with no fetch in flight, for its fetchable partitions.
    private func plannedFetches() -> [PlannedFetch] {
        let router = cluster.router
        return state.withLock { s in
            guard s.bufferedBytes < config.queuedMaxBytes else { return [] }
            let now = ContinuousClock.now
            var byLeader: [Int32: [(TopicPartition, PartitionState)]] = [:]
            for (tp, p) in s.partitions where !p.paused && p.reset == nil && !p.inFlight && p.position != nil {
                if let at = p.retryAt, at > now { continue }
                guard let leader = router.leader(for: tp) else {
                    s.needMetadata = true
                    continue
                }
                byLeader[leader, default: []].append((tp, p))
            }
            var base = FetchRequest()
            base.maxWaitMs = config.fetchMaxWait.int32Milliseconds
            base.minBytes = Int32(clamping: config.fetchMinBytes)
            base.maxBytes = Int32(clamping: config.fetchMaxBytes)
            base.isolationLevel = config.isolationLevel.rawValue
            let maxBytes = Int32(clamping: config.maxPartitionFetchBytes)
            var out: [PlannedFetch] = []
            for (leader, items) in byLeader where !s.fetching.contains(leader) {
                // Longest-waiting partitions first (then a stable order).
                let sorted = items.sorted { a, b in
                    a.1.servedAt != b.1.servedAt ? a.1.servedAt < b.1.servedAt : (a.0.topic, a.0.partition) < (b.0.topic, b.0.partition)
                }
                var wanted: [(TopicPartition, FetchSession.PartitionRequest)] = []
                var planned: [TopicPartition: (generation: Int, offset: Int64)] = [:]
                for (tp, p) in sorted {
                    guard let pos = p.position else { continue }
                    let id = router.metadata.topics[tp.topic]?.topicId ?? .zero
                    // KIP-320: the epoch we believe current, so a stale leader answers FENCED_LEADER_EPOCH.
                    wanted.append((tp, .init(topicId: id, fetchOffset: pos, currentLeaderEpoch: router.leaderEpoch(for: tp) ?? -1, maxBytes: maxBytes)))
                    planned[tp] = (p.generation, pos)
                    s.partitions[tp]?.inFlight = true
                }
                s.fetching.insert(leader)
                out.append(PlannedFetch(broker: leader, base: base, wanted: wanted, planned: planned))
            }
            return out
        }
    }

    private func fetch(_ f: PlannedFetch) async {
        defer {
            state.withLock { s in
                _ = s.fetching.remove(f.broker)
                for tp in f.planned.keys { s.partitions[tp]?.inFlight = false }
            }
            signal.notify()
        }
        let response: FetchResponse
        let plan: FetchSession.Plan
        let version: Int16
        do {
            let connection = try await cluster.link(forNode: f.broker).connection()
            var v = try connection.version(for: FetchRequest.self)
            if v >= 13, f.wanted.contains(where: { $0.1.topicId == .zero }) {
                // Topic ids replace names from v13: without an id for every topic, speak v12.
                guard let low = connection.brokerRange(for: .fetch)?.lowerBound, low <= 12 else {
                    throw KafkaError(.unsupportedVersion, "Fetch v13+ needs topic ids, and the metadata has none", context: .init(broker: connection.remote, apiKey: .fetch))
                }
                v = 12
            }
            let useIds = v >= 13
            (plan, version) = (state.withLock { s in
                var slot = s.sessions[f.broker] ?? (FetchSession(), nil)
                if slot.connection !== connection {
                    // A new connection (the old one was lost): start the session afresh.
                    if slot.connection != nil { slot.session.handleSendError() }
                    slot.connection = connection
                }
                let p = slot.session.plan(f.wanted, useTopicIds: useIds, sessionsSupported: v >= 7)
                s.sessions[f.broker] = slot
                return p
            }, v)
            let timeout = config.client.requestTimeout + config.fetchMaxWait
            response = try await connection.send(plan.request(base: f.base, useTopicIds: useIds), version: v, timeout: timeout)
        } catch {
            state.withLock { s in
                s.sessions[f.broker]?.session.handleSendError()
                s.needMetadata = true
            }
            try? await Task.sleep(for: config.client.retryBackoff)
            return
        }
        // v13+ responses name topics by id only.
        var nameById: [KafkaUUID: String] = [:]
        for (tp, r) in plan.session where r.topicId != .zero { nameById[r.topicId] = tp.topic }
        var mentioned: [TopicPartition] = []
        for t in response.responses {
            let name = version >= 13 ? (nameById[t.topicId] ?? "") : t.topic
            for p in t.partitions { mentioned.append(TopicPartition(topic: name, partition: p.partitionIndex)) }
        }
        let code = KafkaErrorCode(rawValue: response.errorCode)
        let verdict = state.withLock { s in
            s.sessions[f.broker]?.session.handleResponse(errorCode: code, sessionId: response.sessionId, mentioned: mentioned, sent: plan) ?? .accept
        }
        guard verdict == .accept else {
            // A lost incremental session is re-created at once by a full fetch; anything else
            // (a broker-wide error, a response naming unknown topic ids or not matching the
            // request) refreshes metadata and waits first.
            let sessionLost = !plan.isFull && (code == .fetchSessionIdNotFound || code == .invalidFetchSessionEpoch)
            if !sessionLost {
                if case let .reject(reason) = verdict, code.isSuccess {
                    config.client.warn("fetch", "broker \(f.broker): Fetch response ignored: \(reason)")
                }
                // Each planned partition backs off (growing with repeated broken answers).
                state.withLock { s in
                    s.needMetadata = true
                    for tp in f.planned.keys { backOff(&s, tp) }
                }
                try? await Task.sleep(for: config.client.retryBackoff)
            }
            return
        }
        // One budget for the whole response: each batch may inflate to `maxBatchInflation`,
        // all of them together to the larger of that and the prefetch bound. Without it, 50 MB
        // of 1000:1 batches would become 50 GB before the buffer bound was even consulted.
        let budget = DecompressionBudget(bytes: Swift.max(config.queuedMaxBytes, config.maxBatchInflation))
        let decompress = budget.decompressor(maxPerBatch: config.maxBatchInflation)
        var chunks: [Chunk] = []
        var updates: [(TopicPartition, PartitionUpdate)] = []
        var index = 0
        for t in response.responses {
            for p in t.partitions {
                let tp = mentioned[index]
                index += 1
                guard let (gen, fetchOffset) = f.planned[tp] else { continue }
                let code = KafkaErrorCode(rawValue: p.errorCode)
                var u = PartitionUpdate(generation: gen, fetchOffset: fetchOffset, code: code,
                                        wireMarks: (p.logStartOffset, p.highWatermark, p.lastStableOffset))
                if code.isSuccess {
                    do {
                        let inflatedBefore = budget.used
                        let (records, next) = try FetchedRecordsDecoder.decode(
                            p.records, abortedTransactions: p.abortedTransactions, topic: tp.topic, partition: tp.partition, from: fetchOffset,
                            readCommitted: config.isolationLevel == .readCommitted, verifyCRC: config.checkCRCs, decompress: decompress)
                        if !records.isEmpty {
                            chunks.append(Chunk(tp: tp, generation: gen, records: records,
                                                bytes: Self.bufferCost(fetched: p.records?.count ?? 0, decompressed: budget.used - inflatedBefore)))
                        }
                        u.next = next
                    } catch {
                        u.failure = KafkaError(.decoding, "\(tp) at offset \(fetchOffset): \(error)", context: .init(topic: tp.topic, partition: tp.partition))
                    }
                } else {
                    // The router applies the epoch rules to the KIP-951 hint (CurrentLeader);
                    // only a move to a newer epoch at a known broker is retried at once.
                    if let leader = p.currentLeader, leader.leaderId >= 0 {
                        u.leaderMoved = cluster.leaderMoved(tp, leader: leader.leaderId, epoch: leader.leaderEpoch) == .moved
                    }
                    cluster.partitionFailed(tp, code: code)
                }
                updates.append((tp, u))
            }
        }
        let accepted = state.withLock { s in apply(&s, updates: updates, chunks: chunks) }
        if accepted { wakeReader() }
    }

    /// What a chunk counts against `queued.max.messages.kbytes`: the bytes its records keep
    /// alive — the decompressed batch sections they slice (what the response's
    /// `DecompressionBudget` was charged for this partition), or the fetched bytes when more
    /// (uncompressed records slice the response itself). Computed without a pass over the
    /// records (iterating them copies each record, retains included, on the hot path).
    static func bufferCost(fetched: Int, decompressed: Int) -> Int {
        Swift.max(fetched, decompressed)
    }

    /// What one Fetch response says about one partition.
    struct PartitionUpdate: Sendable {
        let generation: Int
        let fetchOffset: Int64
        let code: KafkaErrorCode
        /// The answer's log start, high watermark and last stable offset as sent (-1: not said).
        let wireMarks: (logStart: Int64, high: Int64, lastStable: Int64)
        var next: Int64?
        var failure: KafkaError?
        /// The response (v12+, KIP-951) named a newer leader and the router moved the partition there.
        var leaderMoved = false
    }

    /// Applies a Fetch response's per-partition outcomes and buffers its records; returns
    /// whether any records were buffered. A result counts only if the partition is still where
    /// the fetch left it: same generation (no seek since), not paused, and still at the fetch
    /// offset — so no record is delivered twice and none is skipped.
    private func apply(_ s: inout State, updates: [(TopicPartition, PartitionUpdate)], chunks: [Chunk]) -> Bool {
        var current = Set<TopicPartition>()
        for (tp, u) in updates {
            // Paused meanwhile: drop the result and keep the position, so the data is fetched
            // again after resume (a paused partition yields nothing new, as in the Java client).
            guard let p = s.partitions[tp], p.generation == u.generation, !p.paused, p.position == u.fetchOffset else { continue }
            // As the Java client: only a successful answer moves the watermarks, and only those
            // it knows (>= 0); an error answer carries -1 (Kafka) or 0 (kfake), not the log's.
            if u.code == .noError {
                s.partitions[tp]?.watermarks = Watermarks.merging(p.watermarks, logStart: u.wireMarks.logStart, high: u.wireMarks.high, lastStable: u.wireMarks.lastStable)
            }
            if let e = u.failure {
                partitionFailed(&s, tp, e)
                continue
            }
            switch u.code {
            case .noError:
                current.insert(tp)
                s.partitions[tp]?.failures = 0
                s.partitions[tp]?.retryAt = nil
                if let next = u.next {
                    s.partitions[tp]?.position = next
                    s.served &+= 1
                    s.partitions[tp]?.servedAt = s.served
                }
                noteEnd(&s, tp)
            case .offsetOutOfRange:
                switch config.autoOffsetReset {
                case .earliest: s.partitions[tp]?.reset = .beginning; s.partitions[tp]?.position = nil
                case .latest: s.partitions[tp]?.reset = .end; s.partitions[tp]?.position = nil
                case .none: partitionFailed(&s, tp, KafkaError.broker(u.code, context: .init(apiKey: .fetch, topic: tp.topic, partition: tp.partition)))
                }
            default:
                guard u.code.isRetriable else {
                    partitionFailed(&s, tp, KafkaError.broker(u.code, context: .init(apiKey: .fetch, topic: tp.topic, partition: tp.partition)))
                    continue
                }
                // NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, …: the
                // position stays; ask for metadata and try again after a backoff — or at once at
                // the new leader the broker named, if it is newer and known.
                s.needMetadata = true
                if !u.leaderMoved { backOff(&s, tp) }
            }
        }
        var buffered = false
        for c in chunks where current.contains(c.tp) {
            s.buffer.append(c)
            s.bufferedBytes += c.bytes
            buffered = true
        }
        raiseEOFs(&s)
        return buffered
    }
}
