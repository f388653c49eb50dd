import Synchronization
public import KafkaProtocol
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
/// when the reader stops, fetching stops. The bound counts the records' decoded bytes (or the
/// fetched bytes, if more), so compressed data cannot make it buffer far more than configured.
///
/// A partition whose data cannot be decoded (bad CRC, bad compression, impossible offsets) or
/// that fails with a non-retriable error does not stop the others: it is retried with
/// exponential backoff (`retry.backoff.ms` up to `retry.backoff.max.ms`), each failure goes to
/// `partitionErrors` (and is logged), and `poll` / `records` go on with the other partitions.
/// They throw only errors of the whole consumer (a fatal group error, closed, cancelled).
///
/// Every wait (`poll`, `records`, `commit`, `committed`) honours Task cancellation: it throws
/// `KafkaError(.cancelled)` and the consumer stays usable. A consumer dropped without `close()`
/// shuts itself down: its background tasks hold it only weakly.
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
    /// Per-partition failures, for `partitionErrors`.
    let partitionErrorStream: AsyncStream<KafkaError>
    let partitionErrorSink: AsyncStream<KafkaError>.Continuation
    /// End-of-partition events, for `partitionEOF`.
    let partitionEOFStream: AsyncStream<PartitionEOF>
    let partitionEOFSink: AsyncStream<PartitionEOF>.Continuation

    struct PartitionState: Sendable {
        /// Next offset to fetch and to hand out; nil while a reset is pending.
        var position: Int64?
        var reset: OffsetSpec?
        var paused = false
        /// nil until the first successful Fetch answer.
        var watermarks: Watermarks?
        /// Changed on every seek, so that a fetch started before the seek is discarded.
        var generation = 0
        /// A Fetch or ListOffsets for this partition is in flight: it is never in two at once
        /// (after a leader change the old leader's answer could otherwise repeat records).
        var inFlight = false
        /// After a retriable error: not fetched again before this (exponential backoff).
        var retryAt: ContinuousClock.Instant?
        var failures = 0
        /// When its data was last accepted (a counter): full fetches list partitions that waited
        /// longest first, so a response size limit cannot starve the later ones.
        var servedAt: UInt64 = 0
        /// The end last raised as a `PartitionEOF` (`enable.partition.eof`).
        var eofRaised: EOFMark?
    }

    /// Fetched records of one partition, handed out in order. Their offsets are below
    /// `Int64.max` (`FetchedRecordsDecoder` refuses others), so `offset + 1` cannot overflow.
    struct Chunk: Sendable {
        let tp: TopicPartition
        let generation: Int
        var records: [ConsumerRecord]
        var next = 0
        /// What it counts against `queued.max.messages.kbytes` (see `bufferCost`).
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
        /// Consecutive failed metadata / offset-reset rounds of the fetcher loop (its backoff).
        var fetcherFailures = 0
        /// Ends reached by the fetcher, raised once the reader has everything before them
        /// (see `raiseEOFs`).
        var pendingEOF: [TopicPartition: EOFMark] = [:]
    }

    /// Creates a consumer; nothing is fetched until partitions are assigned or subscribed.
    /// `onRebalance` is awaited on every group rebalance before partitions move.
    /// - Parameters:
    ///   - config: The settings (checked with `validate()`).
    ///   - onRebalance: Awaited with each `RebalanceEvent` before partitions move.
    /// - Throws: `KafkaError(.configuration)` for invalid settings.
    public init(config: ConsumerConfig, onRebalance: RebalanceHandler? = nil) throws {
        try config.validate()
        self.config = config
        let cluster = try Cluster(config: config.client)
        self.cluster = cluster
        state = Mutex(State())
        group = try config.groupId.map { try ConsumerGroup(groupId: $0, config: config, cluster: cluster, handler: onRebalance) }
        (partitionErrorStream, partitionErrorSink) = AsyncStream.makeStream(of: KafkaError.self, bufferingPolicy: .bufferingNewest(1024))
        (partitionEOFStream, partitionEOFSink) = AsyncStream.makeStream(of: PartitionEOF.self, bufferingPolicy: .bufferingNewest(1024))
        cluster.startPeriodicRefresh()
        // The loop holds the consumer only while it works, never while it waits, so a consumer
        // the application drops without close() is deinitialized (and shuts down) anyway.
        let signal = self.signal
        let task = Task { [weak self] in
            while !Task.isCancelled, let step = await self?.fetcherStep() {
                switch step {
                case let .wait(until): await signal.wait(until: until)
                case let .sleep(until): try? await Task.sleep(until: until, clock: .continuous)
                }
            }
        }
        fetcher.withLock { $0 = task }
    }

    /// The application dropped the consumer without `close()`: stop the background work and,
    /// best effort, commit what the application finished with (with `enable.auto.commit`) and
    /// leave the group.
    deinit {
        fetcher.withLock { $0?.cancel(); $0 = nil }
        partitionErrorSink.finish()
        partitionEOFSink.finish()
        signal.notify()
        let cluster = self.cluster
        let (closed, subscribed) = state.withLock { ($0.closed, $0.subscribed) }
        // The group's executor ends with a final leave (its host is gone, so it only leaves).
        let groupRuns = groupTask.withLock { $0 != nil }
        if let group, groupRuns, !closed {
            let timeout = config.client.requestTimeout
            let processed = config.enableAutoCommit && subscribed ? committablePositions(processedOnly: true, partitions: nil) : [:]
            Task {
                try? await group.commit(processed, onlyChanged: true)
                await group.leave(timeout: timeout, final: true)
                cluster.close()
            }
        } else if !closed {
            cluster.close()
        }
    }

    /// Every failure confined to one partition (decoding, a non-retriable error, an offset out
    /// of range with `auto.offset.reset=none`), each naming its topic and partition: the
    /// partition is retried with backoff while the others go on. Also the failures of
    /// `commitAsync()` calls made without a completion. Ends when the consumer
    /// closes. Like `rebalanceEvents`, one sequence: iterate it from one task. The newest 1024
    /// are kept when nobody reads them.
    public var partitionErrors: AsyncStream<KafkaError> { partitionErrorStream }

    /// With `enable.partition.eof=true`: an event each time the application has been handed
    /// every record of a partition up to its current end — after the `poll` that returned the
    /// partition's last record, or when the `records` iterator asks for the record after it
    /// (and at once for a partition that is empty where it starts). Raised again once new
    /// records were read to the new end, or after a `seek`. Without the property, an empty
    /// sequence that ends when the consumer closes. One sequence: iterate it from one task;
    /// the newest 1024 are kept when nobody reads them.
    public var partitionEOF: AsyncStream<PartitionEOF> { partitionEOFStream }

    /// A consumer configured by Kafka property names (`bootstrap.servers`, `group.id`, …).
    /// - Parameters:
    ///   - properties: Client and consumer properties by their Kafka names.
    ///   - onRebalance: Awaited with each `RebalanceEvent` before partitions move.
    /// - Throws: `KafkaError(.configuration)` for an unknown property or a bad value.
    public convenience init(properties: [String: String], onRebalance: RebalanceHandler? = nil) throws {
        try self.init(config: ConsumerConfig(properties: properties), onRebalance: onRebalance)
    }

    // MARK: Assignment and positions

    /// Replaces the assignment. Each partition starts at `from`, or by `auto.offset.reset` when nil.
    /// - Parameters:
    ///   - partitions: The partitions to read.
    ///   - from: Where to start; nil for `auto.offset.reset`.
    /// - Throws: `KafkaError(.configuration)` with `auto.offset.reset=none` and no `from`, or after `subscribe`; `.closed` after `close()`.
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
    /// - Parameters:
    ///   - tp: An assigned partition.
    ///   - spec: The new position.
    /// - Throws: `KafkaError(.configuration)` when `tp` is not assigned.
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
        group?.applicationProgressed()
    }

    /// The offset of the next record the application will receive for `tp` (nil while unknown).
    /// - Parameter tp: An assigned partition.
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
    /// - Parameter partitions: Assigned partitions (others are ignored).
    public func pause(_ partitions: [TopicPartition]) {
        state.withLock { s in for tp in partitions { s.partitions[tp]?.paused = true } }
    }

    /// Resumes fetching `partitions`.
    /// - Parameter partitions: Paused partitions.
    public func resume(_ partitions: [TopicPartition]) {
        state.withLock { s in for tp in partitions { s.partitions[tp]?.paused = false } }
        signal.notify()
    }

    /// Partitions currently paused.
    public var paused: [TopicPartition] { state.withLock { s in s.partitions.filter { $0.value.paused }.map(\.key) } }

    /// The watermarks from the successful Fetch answers for `tp`.
    /// - Parameter tp: An assigned partition.
    /// - Returns: nil for a partition not assigned and before its first successful Fetch answer.
    public func watermarks(_ tp: TopicPartition) -> Watermarks? { state.withLock { $0.partitions[tp]?.watermarks } }

    /// Messages between the position and the high watermark (nil while unknown).
    /// - Parameter tp: An assigned partition.
    public func lag(_ tp: TopicPartition) -> Int64? {
        guard let w = watermarks(tp), let p = position(tp) else { return nil }
        return max(0, w.high - p)
    }

    /// Bytes of fetched data waiting for the reader, as counted against
    /// `queued.max.messages.kbytes`: per partition's data, its records' decoded key, value and
    /// header bytes, or its fetched (possibly compressed) bytes if those are more.
    public var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    /// For tests: the key, value and header bytes of the records still buffered, recounted.
    package var bufferedRecordBytes: Int {
        state.withLock { s in
            var n = 0
            for i in s.bufferHead ..< s.buffer.count { n += Self.payloadBytes(s.buffer[i].records[s.buffer[i].next...]) }
            return n
        }
    }

    /// Decoded key, value and header bytes of `records`.
    static func payloadBytes(_ records: ArraySlice<ConsumerRecord>) -> Int {
        var n = 0
        for r in records {
            n += (r.key?.count ?? 0) + (r.value?.count ?? 0)
            for h in r.headers { n += h.key.utf8.count + (h.value?.count ?? 0) }
        }
        return n
    }

    func dropBuffered(_ s: inout State, _ tp: TopicPartition) {
        var kept: [Chunk] = []
        for i in s.bufferHead ..< s.buffer.count {
            if s.buffer[i].tp == tp { s.bufferedBytes -= s.buffer[i].bytes } else { kept.append(s.buffer[i]) }
        }
        s.buffer = kept
        s.bufferHead = 0
    }

    /// Stops fetching and closes every connection; `records` then ends.
    public func close() async {
        if let group, groupTask.withLock({ $0 != nil }) {
            // Revoke (the application and auto-commit see it) and leave before stopping; the
            // group's executor ends after it.
            await group.leave(timeout: config.client.requestTimeout, final: true)
            groupTask.withLock { $0 = nil }
        }
        state.withLock { s in s.closed = true }
        fetcher.withLock { $0?.cancel(); $0 = nil }
        signal.notify()
        wakeReader()
        partitionErrorSink.finish()
        partitionEOFSink.finish()
        cluster.close()
    }
}
