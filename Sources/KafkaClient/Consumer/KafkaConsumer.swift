import Synchronization
import KafkaProtocol
import KafkaNet

/// Reads messages from manually assigned partitions.
///
/// ```swift
/// let consumer = try KafkaConsumer(properties: ["bootstrap.servers": "localhost:9092"])
/// try await consumer.assign([TopicPartition(topic: "orders", partition: 0)], from: .beginning)
/// for try await record in consumer.records { print(record.offset, record.valueString ?? "null") }
/// ```
/// One Fetch per leader broker covers all its assigned partitions and is re-issued as soon as
/// its response is buffered, so the next fetch is in flight while the application processes
/// records. Fetched data waiting for the reader is bounded (`queued.max.messages.kbytes`):
/// when the reader stops, fetching stops.
public final class KafkaConsumer: Sendable {
    let config: ConsumerConfig
    let cluster: Cluster
    let state: Mutex<State>
    let signal = Signal()
    private let fetcher = Mutex<Task<Void, Never>?>(nil)
    /// The consumer group (when `group.id` is set): membership for `subscribe`, offset commits.
    let group: ConsumerGroup?
    let groupTask = Mutex<Task<Void, Never>?>(nil)
    /// Where the `records` iterator is inside the chunk it holds (see `ReaderProgress`).
    let progress = ReaderProgress()

    struct PartitionState: Sendable {
        /// Next offset to fetch and to hand out; nil while a reset is pending.
        var position: Int64?
        var reset: OffsetSpec?
        var paused = false
        var watermarks = Watermarks(logStart: -1, high: -1, lastStable: -1)
        var leaderEpoch: Int32 = -1
        /// Changed on every seek, so that a fetch started before the seek is discarded.
        var generation = 0
        /// The leader broker (-1: unknown), with `leaderEpoch` from the same metadata.
        var leader: Int32 = -1
        /// A Fetch or ListOffsets for this partition is in flight: it is never in two at once
        /// (after a leader change the old leader's answer could otherwise repeat records).
        var inFlight = false
        /// After a retriable error: not fetched again before this (exponential backoff).
        var retryAt: ContinuousClock.Instant?
        var failures = 0
        /// When its data was last accepted (a counter): full fetches list partitions that waited
        /// longest first, so a response size limit cannot starve the later ones.
        var servedAt: UInt64 = 0
    }

    /// Fetched records of one partition, handed out in order.
    struct Chunk: Sendable {
        let tp: TopicPartition
        let generation: Int
        var records: [ConsumerRecord]
        var next = 0
        let bytes: Int
    }

    struct State: Sendable {
        var partitions: [TopicPartition: PartitionState] = [:]
        var buffer: [Chunk] = []
        var bufferHead = 0
        var bufferedBytes = 0
        var fetching: Set<Int32> = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
        var error: KafkaError?
        var metadata: ClusterMetadata?
        var needMetadata = true
        /// Offset after the last record handed to the application, per partition.
        var delivered: [TopicPartition: Int64] = [:]
        /// Offset after the last record the application has finished with: everything returned
        /// before its latest `poll` / `next()` call. Auto-commit commits these.
        var processed: [TopicPartition: Int64] = [:]
        /// The partition of the chunk the `records` iterator holds, and that chunk's end offset.
        var held: (tp: TopicPartition, end: Int64)?
        /// The record the iterator was on when its partition's revocation began: it counts as
        /// processed once the application asks for the next record.
        var revokedHeld: (tp: TopicPartition, end: Int64)?
        /// True once `subscribe` was called (partitions then come from the group).
        var subscribed = false
        /// No metadata refresh before this: at least `retry.backoff.ms` apart, growing while
        /// some partition has no leader (so a leaderless partition cannot cause a request storm).
        var metadataNotBefore: ContinuousClock.Instant?
        var metadataRetries = 0
        /// KIP-227 session per broker, with the connection it was used on.
        var sessions: [Int32: (session: FetchSession, connection: BrokerConnection?)] = [:]
        var served: UInt64 = 0
    }

    /// One Fetch to send: the leader, the request without its partitions, the partitions wanted
    /// (in priority order) and, per partition, the generation and position it was planned at.
    struct PlannedFetch: Sendable {
        let broker: Int32
        let base: FetchRequest
        let wanted: [(TopicPartition, FetchSession.PartitionRequest)]
        let planned: [TopicPartition: (generation: Int, offset: Int64)]
    }

    /// Creates a consumer; nothing is fetched until partitions are assigned or subscribed.
    /// `onRebalance` is awaited on every group rebalance before partitions move.
    public init(config: ConsumerConfig, onRebalance: RebalanceHandler? = nil) throws {
        try config.validate()
        self.config = config
        let cluster = try Cluster(config: config.client)
        self.cluster = cluster
        state = Mutex(State())
        group = try config.groupId.map { try ConsumerGroup(groupId: $0, config: config, cluster: cluster, handler: onRebalance) }
        cluster.startPeriodicRefresh()
        let task = Task { [weak self] in _ = await self?.runFetcher() }
        fetcher.withLock { $0 = task }
    }

    /// A consumer configured by Kafka property names (`bootstrap.servers`, `group.id`, …).
    public convenience init(properties: [String: String], onRebalance: RebalanceHandler? = nil) throws {
        try self.init(config: ConsumerConfig(properties: properties), onRebalance: onRebalance)
    }

    // MARK: Assignment and positions

    /// Replaces the assignment. Each partition starts at `from`, or by `auto.offset.reset` when nil.
    public func assign(_ partitions: [TopicPartition], from: OffsetSpec? = nil) async throws {
        let reset: OffsetSpec? = from ?? {
            switch config.autoOffsetReset {
            case .earliest: return .beginning
            case .latest: return .end
            case .none: return nil
            }
        }()
        guard let reset else {
            throw KafkaError(.configuration, "auto.offset.reset=none: give a start position to assign(_:from:)")
        }
        try state.withLock { s in
            if s.subscribed { throw KafkaError(.configuration, "assign() cannot be used while subscribed to a group") }
            var next: [TopicPartition: PartitionState] = [:]
            for tp in partitions {
                var p = s.partitions[tp] ?? PartitionState()
                if case let .offset(o) = reset, o >= 0 {
                    p.position = o
                    p.reset = nil
                } else {
                    p.position = nil
                    p.reset = reset
                }
                p.generation += 1
                next[tp] = p
            }
            s.partitions = next
            s.buffer.removeAll()
            s.bufferHead = 0
            s.bufferedBytes = 0
            s.needMetadata = true
            s.delivered = s.delivered.filter { next[$0.key] != nil }
            s.processed = s.processed.filter { next[$0.key] != nil }
            s.held = nil
            progress.invalidate()
        }
        signal.notify()
    }

    /// The current assignment.
    public var assignment: [TopicPartition] { state.withLock { Array($0.partitions.keys) } }

    /// Moves a partition's position; records fetched for the old position are discarded.
    public func seek(_ tp: TopicPartition, to spec: OffsetSpec) throws {
        try state.withLock { s in
            guard var p = s.partitions[tp] else { throw KafkaError(.configuration, "\(tp) is not assigned") }
            p.generation += 1
            if case let .offset(o) = spec, o >= 0 {
                p.position = o
                p.reset = nil
            } else {
                p.position = nil
                p.reset = spec
            }
            s.partitions[tp] = p
            dropBuffered(&s, tp)
            // A commit after a seek commits the new position (as the Java client does).
            if case let .offset(o) = spec, o >= 0 {
                s.delivered[tp] = o
                s.processed[tp] = o
            } else {
                s.delivered[tp] = nil
                s.processed[tp] = nil
            }
            if s.held?.tp == tp {
                s.held = nil
                progress.invalidate()
            }
        }
        signal.notify()
    }

    /// The offset of the next record the application will receive for `tp` (nil while unknown).
    public func position(_ tp: TopicPartition) -> Int64? {
        state.withLock { s in
            // The iterator's held chunk first, then the next buffered record, else the fetch position.
            if let h = s.held, h.tp == tp {
                let d = progress.delivered.load(ordering: .relaxed)
                if d >= 0, d < h.end { return d }
            }
            for i in s.bufferHead ..< s.buffer.count where s.buffer[i].tp == tp && s.buffer[i].next < s.buffer[i].records.count {
                return s.buffer[i].records[s.buffer[i].next].offset
            }
            return s.partitions[tp]?.position
        }
    }

    /// Stops fetching `partitions`; results of a fetch already in flight for them are dropped
    /// (records already buffered are still delivered).
    public func pause(_ partitions: [TopicPartition]) {
        state.withLock { s in for tp in partitions { s.partitions[tp]?.paused = true } }
    }

    /// Resumes fetching `partitions`.
    public func resume(_ partitions: [TopicPartition]) {
        state.withLock { s in for tp in partitions { s.partitions[tp]?.paused = false } }
        signal.notify()
    }

    /// Partitions currently paused.
    public var paused: [TopicPartition] { state.withLock { s in s.partitions.filter { $0.value.paused }.map(\.key) } }

    /// The watermarks from the latest Fetch response for `tp`.
    public func watermarks(_ tp: TopicPartition) -> Watermarks? { state.withLock { $0.partitions[tp]?.watermarks } }

    /// Messages between the position and the high watermark (nil while unknown).
    public func lag(_ tp: TopicPartition) -> Int64? {
        guard let w = watermarks(tp), w.high >= 0, let p = position(tp) else { return nil }
        return max(0, w.high - p)
    }

    /// Bytes of fetched data waiting for the reader.
    public var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    func dropBuffered(_ s: inout State, _ tp: TopicPartition) {
        var kept: [Chunk] = []
        for i in s.bufferHead ..< s.buffer.count {
            if s.buffer[i].tp == tp { s.bufferedBytes -= s.buffer[i].bytes } else { kept.append(s.buffer[i]) }
        }
        s.buffer = kept
        s.bufferHead = 0
    }

    // MARK: Reading

    /// Up to `max` records (default `max.poll.records`), waiting at most `timeout` for the first.
    public func poll(max: Int? = nil, timeout: Duration) async throws -> [ConsumerRecord] {
        let limit = max ?? config.maxPollRecords
        let deadline = ContinuousClock.now + timeout
        group?.polled()
        // Whatever the previous poll returned has been processed now.
        state.withLock { s in s.processed.merge(s.delivered) { _, d in d } }
        while true {
            var out: [ConsumerRecord] = []
            let done: Bool = try state.withLock { s in
                if let e = s.error { s.error = nil; throw e }
                if s.closed { throw KafkaError(.closed, "consumer is closed") }
                take(&s, into: &out, max: limit, markDelivered: true)
                return !out.isEmpty
            }
            if done {
                signal.notify()
                return out
            }
            if ContinuousClock.now >= deadline { return [] }
            await waitForData(until: deadline)
        }
    }

    /// Moves up to `max` records from the buffer into `out`, releasing consumed chunks.
    private func take(_ s: inout State, into out: inout [ConsumerRecord], max: Int, markDelivered: Bool) {
        while out.count < max, s.bufferHead < s.buffer.count {
            let h = s.bufferHead, from = s.buffer[h].next
            let left = s.buffer[h].records.count - from
            let n = Swift.min(max - out.count, left)
            if n > 0 {
                if markDelivered { s.delivered[s.buffer[h].tp] = s.buffer[h].records[from + n - 1].offset + 1 }
                if out.isEmpty && from == 0 && n == left {
                    // A whole chunk: hand over its array instead of copying each record.
                    swap(&out, &s.buffer[h].records)
                } else {
                    out.append(contentsOf: s.buffer[h].records[from ..< from + n])
                    s.buffer[h].next += n
                    if n < left { return }
                }
            }
            releaseHead(&s)
        }
    }

    /// Drops the first buffered chunk (used up).
    private func releaseHead(_ s: inout State) {
        let h = s.bufferHead
        s.bufferedBytes -= s.buffer[h].bytes
        s.buffer[h] = Chunk(tp: s.buffer[h].tp, generation: s.buffer[h].generation, records: [], bytes: 0)
        s.bufferHead += 1
        if s.bufferHead > 64 && s.bufferHead * 2 > s.buffer.count {
            s.buffer.removeFirst(s.bufferHead)
            s.bufferHead = 0
        }
    }

    /// Takes the records left in the first buffered chunk (the iterator's fast path): one
    /// partition, so the iterator's progress inside it is one offset.
    fileprivate func nextChunk() async throws -> (records: [ConsumerRecord], epoch: UInt64)? {
        group?.polled()
        while true {
            // The records leave the lock as the closure's result (not through a captured
            // variable), so the array reaches the iterator uniquely referenced.
            let taken: (records: [ConsumerRecord], epoch: UInt64)?? = try state.withLock { s in
                // The chunk the iterator held is finished: all of it delivered and processed.
                if let h = s.held, s.partitions[h.tp] != nil {
                    s.delivered[h.tp] = h.end
                    s.processed[h.tp] = h.end
                }
                s.held = nil
                if let r = s.revokedHeld {
                    if s.partitions[r.tp] != nil { s.processed[r.tp] = Swift.max(s.processed[r.tp] ?? r.end, r.end) }
                    s.revokedHeld = nil
                }
                if let e = s.error { s.error = nil; throw e }
                if s.closed { return .some(nil) }
                while s.bufferHead < s.buffer.count, s.buffer[s.bufferHead].next >= s.buffer[s.bufferHead].records.count {
                    releaseHead(&s)
                }
                guard s.bufferHead < s.buffer.count else { return nil }
                var out: [ConsumerRecord] = []
                let c = s.buffer[s.bufferHead]
                take(&s, into: &out, max: c.records.count - c.next, markDelivered: false)
                guard let last = out.last else { return nil }
                s.held = (c.tp, last.offset + 1)
                return .some((out, progress.begin()))
            }
            switch taken {
            case .some(nil): return nil
            case let .some(.some(chunk)):
                signal.notify()
                return chunk
            case .none:
                await waitForData(until: nil)
            }
        }
    }

    private func waitForData(until deadline: ContinuousClock.Instant?) async {
        let timer: Task<Void, Never>? = deadline.map { d in
            Task { [weak self] in
                try? await Task.sleep(until: d, clock: .continuous)
                self?.wakeReader()
            }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                if s.bufferHead < s.buffer.count || s.closed || s.error != nil { return true }
                s.waiter?.resume()
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
        timer?.cancel()
    }

    func wakeReader() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume()
    }

    /// Every record, in order per partition, as it arrives. Suspends only when nothing is buffered.
    public var records: Records { Records(consumer: self) }

    /// `AsyncSequence` of records; see `KafkaConsumer.records`.
    public struct Records: AsyncSequence, Sendable {
        public typealias Element = ConsumerRecord
        let consumer: KafkaConsumer
        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        public struct Iterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            /// The held chunk's records not yet handed out, in reverse order: `removeLast` moves
            /// each one out instead of copying it (a copy costs a retain and a release per
            /// reference in the record).
            var pending: [ConsumerRecord] = []
            /// Offset after the record handed out last from the held chunk (-1: none yet).
            var after: Int64 = -1
            var epoch: UInt64 = 0

            public mutating func next() async throws -> ConsumerRecord? {
                try await next(isolation: nil)
            }

            /// Runs on the caller's actor (SE-0421); suspends only when nothing is buffered.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> ConsumerRecord? {
                let progress = consumer.progress
                // A seek or revocation since the chunk was taken makes the rest of it stale.
                let current = progress.epoch.load(ordering: .relaxed) == epoch
                // Asking for the next record means the previous one is processed.
                if current && after >= 0 { progress.processed.store(after, ordering: .relaxed) }
                if current && !pending.isEmpty {
                    let r = pending.removeLast()
                    after = r.offset + 1
                    progress.delivered.store(after, ordering: .relaxed)
                    return r
                }
                pending = []
                after = -1
                guard case (var records, let e)? = try await consumer.nextChunk() else { return nil }
                Self.reverseByMoving(&records)
                pending = consume records
                epoch = e
                let r = pending.removeLast()
                after = r.offset + 1
                progress.delivered.store(after, ordering: .relaxed)
                return r
            }

            /// Reverses in place with moves only (`reverse()` swaps through copies).
            static func reverseByMoving(_ a: inout [ConsumerRecord]) {
                a.withUnsafeMutableBufferPointer { b in
                    guard var i = b.baseAddress, b.count > 1 else { return }
                    var j = i + (b.count - 1)
                    while i < j {
                        let t = i.move()
                        i.moveInitialize(from: j, count: 1)
                        j.initialize(to: t)
                        i += 1
                        j -= 1
                    }
                }
            }
        }
    }

    /// Stops fetching and closes every connection; `records` then ends.
    public func close() async {
        if let group, state.withLock({ $0.subscribed }) {
            // Revoke (the application and auto-commit see it) and leave before stopping.
            await group.close(host: self, timeout: config.client.requestTimeout)
            groupTask.withLock { $0?.cancel(); $0 = nil }
        }
        state.withLock { s in s.closed = true }
        fetcher.withLock { $0?.cancel(); $0 = nil }
        signal.notify()
        wakeReader()
        cluster.close()
    }

    // MARK: Fetching

    private func runFetcher() async {
        var failures = 0
        while !Task.isCancelled, !state.withLock({ $0.closed }) {
            do {
                try await refreshMetadataIfNeeded()
                try await resolveResets()
                failures = 0
            } catch let e as KafkaError where !e.isRetriable {
                state.withLock { s in s.error = e }
                wakeReader()
                try? await Task.sleep(for: .seconds(1))
                continue
            } catch {
                failures += 1
                try? await Task.sleep(for: config.client.retryBackoffPolicy.delay(afterFailures: failures))
                continue
            }
            for planned in plannedFetches() {
                Task { await self.fetch(planned) }
            }
            await signal.wait(until: nextWakeup())
        }
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

    private func refreshMetadataIfNeeded() async throws {
        let topics = state.withLock { s -> [String] in
            let topics = Array(Set(s.partitions.keys.map(\.topic)))
            let missing = topics.contains { s.metadata?.topics[$0] == nil }
            guard s.needMetadata || missing, !topics.isEmpty else { return [] }
            // After a refresh that left a partition without a usable leader, wait before the next.
            let now = ContinuousClock.now
            if s.metadataRetries > 0, let at = s.metadataNotBefore, now < at { return [] }
            s.metadataNotBefore = now + config.client.retryBackoffPolicy.delay(afterFailures: max(1, s.metadataRetries))
            return topics
        }
        guard !topics.isEmpty else { return }
        let m = try await cluster.refreshMetadata(topics: topics)
        state.withLock { s in
            s.metadata = m
            s.needMetadata = false
            var leaderless = false
            for (tp, p) in s.partitions {
                guard let fresh = m.topics[tp.topic]?.partitions.first(where: { $0.partition == tp.partition }) else {
                    leaderless = true
                    continue
                }
                // A broker that has not caught up may still name an older leader: keep the
                // newer one we know (KIP-320), and ask again later.
                if fresh.leaderEpoch >= 0, p.leaderEpoch >= 0, fresh.leaderEpoch < p.leaderEpoch {
                    s.needMetadata = true
                    continue
                }
                s.partitions[tp]?.leader = fresh.leader
                s.partitions[tp]?.leaderEpoch = fresh.leaderEpoch
                if fresh.leader < 0 { leaderless = true }
            }
            s.metadataRetries = leaderless || s.needMetadata ? s.metadataRetries + 1 : 0
        }
    }

    /// ListOffsets for partitions waiting for a position (per leader broker).
    private func resolveResets() async throws {
        let now = ContinuousClock.now
        let byLeader = state.withLock { s in
            var byLeader: [Int32: [(TopicPartition, OffsetSpec, Int)]] = [:]
            for (tp, p) in s.partitions {
                guard let spec = p.reset, !p.inFlight, p.retryAt.map({ $0 <= now }) ?? true else { continue }
                guard p.leader >= 0 else {
                    s.needMetadata = true
                    continue
                }
                byLeader[p.leader, default: []].append((tp, spec, p.generation))
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
                            backOff(&s, tp)
                        } else {
                            s.error = KafkaError.broker(code, context: .init(apiKey: .listOffsets, topic: tp.topic, partition: tp.partition))
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

    /// One Fetch per leader broker with no fetch in flight, for its fetchable partitions.
    private func plannedFetches() -> [PlannedFetch] {
        state.withLock { s in
            guard s.bufferedBytes < config.queuedMaxBytes else { return [] }
            let now = ContinuousClock.now
            var byLeader: [Int32: [(TopicPartition, PartitionState)]] = [:]
            for (tp, p) in s.partitions where !p.paused && p.reset == nil && !p.inFlight && p.position != nil {
                if let at = p.retryAt, at > now { continue }
                guard p.leader >= 0 else {
                    s.needMetadata = true
                    continue
                }
                byLeader[p.leader, default: []].append((tp, p))
            }
            var base = FetchRequest()
            base.maxWaitMs = Int32(clamping: config.fetchMaxWait.components.seconds * 1000 + config.fetchMaxWait.components.attoseconds / 1_000_000_000_000_000)
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
                    let id = s.metadata?.topics[tp.topic]?.topicId ?? .zero
                    wanted.append((tp, .init(topicId: id, fetchOffset: pos, currentLeaderEpoch: p.leaderEpoch, maxBytes: maxBytes)))
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
            // (a broker-wide error, a response that does not match) waits first.
            let sessionLost = !plan.isFull && (code == .fetchSessionIdNotFound || code == .invalidFetchSessionEpoch)
            if !sessionLost {
                if !code.isSuccess && !code.isFetchSessionError { state.withLock { $0.needMetadata = true } }
                try? await Task.sleep(for: config.client.retryBackoff)
            }
            return
        }
        let decompress = Compression.recordDecompressor(maxOutput: 256 << 20)
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
                                        marks: Watermarks(logStart: p.logStartOffset, high: p.highWatermark, lastStable: p.lastStableOffset))
                if code.isSuccess {
                    do {
                        let (records, next) = try FetchedRecordsDecoder.decode(
                            p.records, abortedTransactions: p.abortedTransactions, topic: tp.topic, partition: tp.partition, from: fetchOffset,
                            readCommitted: config.isolationLevel == .readCommitted, verifyCRC: config.checkCRCs, decompress: decompress)
                        if !records.isEmpty {
                            chunks.append(Chunk(tp: tp, generation: gen, records: records, bytes: p.records?.count ?? 0))
                        }
                        u.next = next
                    } catch {
                        u.failure = KafkaError(.decoding, "\(tp) at offset \(fetchOffset): \(error)", context: .init(topic: tp.topic, partition: tp.partition))
                    }
                } else if let leader = p.currentLeader, leader.leaderId >= 0 {
                    u.newLeader = (leader.leaderId, leader.leaderEpoch)
                }
                updates.append((tp, u))
            }
        }
        let accepted = state.withLock { s in apply(&s, updates: updates, chunks: chunks) }
        if accepted { wakeReader() }
    }

    /// What one Fetch response says about one partition.
    struct PartitionUpdate: Sendable {
        let generation: Int
        let fetchOffset: Int64
        let code: KafkaErrorCode
        let marks: Watermarks
        var next: Int64?
        var failure: KafkaError?
        /// From the response (v12+, KIP-951): where the partition's leadership moved.
        var newLeader: (id: Int32, epoch: Int32)?
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
            s.partitions[tp]?.watermarks = u.marks
            if let e = u.failure {
                s.error = e
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
            case .offsetOutOfRange:
                switch config.autoOffsetReset {
                case .earliest: s.partitions[tp]?.reset = .beginning; s.partitions[tp]?.position = nil
                case .latest: s.partitions[tp]?.reset = .end; s.partitions[tp]?.position = nil
                case .none: s.error = KafkaError.broker(u.code, context: .init(apiKey: .fetch, topic: tp.topic, partition: tp.partition))
                }
            default:
                guard u.code.isRetriable else {
                    s.error = KafkaError.broker(u.code, context: .init(apiKey: .fetch, topic: tp.topic, partition: tp.partition))
                    continue
                }
                // NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, …: the
                // position stays; ask for metadata and try again after a backoff — or at once at
                // the new leader the broker named, if it is newer and known.
                s.needMetadata = true
                if let (id, epoch) = u.newLeader, epoch > p.leaderEpoch, id != p.leader, s.metadata?.brokers[id] != nil {
                    s.partitions[tp]?.leader = id
                    s.partitions[tp]?.leaderEpoch = epoch
                } else {
                    backOff(&s, tp)
                }
            }
        }
        var buffered = false
        for c in chunks where current.contains(c.tp) {
            s.buffer.append(c)
            s.bufferedBytes += c.bytes
            buffered = true
        }
        return buffered
    }
}
