#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import KafkaProtocol
import KafkaNet

/// The producer's machinery behind `KafkaProducer`: buffering, the sender loop, requests and
/// completions. Its background tasks hold it strongly; the public `KafkaProducer` does not
/// appear in any of them, so an application that drops its producer without `close()` lets
/// the wrapper's `deinit` shut this down (`abandon`).
final class ProducerCore: Sendable {
    let config: ProducerConfig
    let cluster: Cluster
    private let state: Mutex<State>
    private let signal = Signal()
    private let sender = Mutex<Task<Void, Never>?>(nil)
    private let reportContinuation: AsyncStream<DeliveryReport>.Continuation
    private let onDelivery: (@Sendable (DeliveryReport) -> Void)?
    private let onMessageDelivery: (@Sendable (MessageDelivery) -> Void)?
    /// The per-message stream, made on first use of `messageDeliveries` (nil: nobody asked,
    /// so completing a batch builds no per-message outcomes for it).
    private let messageStream = Mutex<(stream: AsyncStream<MessageDelivery>, sink: AsyncStream<MessageDelivery>.Continuation)?>(nil)

    /// See `KafkaProducer.deliveryReports`.
    let deliveryReports: AsyncStream<DeliveryReport>

    /// A message waiting for its topic's metadata.
    private struct Waiting: Sendable {
        var record: ProducerRecord
        var timestamp: Int64
        var completion: Completion
        var size: Int
        var since: ContinuousClock.Instant
    }

    private struct State: Sendable {
        var accumulator: RecordAccumulator
        var chooser: PartitionChooser
        var metadata: ClusterMetadata?
        var waiting: [String: [Waiting]] = [:]
        var waitingBytes = 0
        /// Messages accepted by `enqueue` / `send` and not yet completed (buffered, waiting for
        /// metadata or in flight): the `queue.buffering.max.messages` bound.
        var queuedMessages = 0
        var wantMetadata: Set<String> = []
        var nextId: UInt64 = 1
        var inFlight: [Int32: Int] = [:]
        var producerId: Int64 = -1
        var producerEpoch: Int16 = -1
        var epochBumpNeeded = false
        var closing = false
        var closed = false
        /// `flush()` and `close()` waiting for idleness, by waiter id (removed when cancelled).
        var flushWaiters: [UInt64: OnceContinuation<Void>] = [:]
        /// `send` waiting for room in `buffer.memory`, by waiter id.
        var roomWaiters: [UInt64: OnceContinuation<Void>] = [:]
        var nextWaiterId: UInt64 = 0
        var fatal: KafkaError?
        /// Per-topic partition counts and partitions with a leader, rebuilt on each metadata
        /// update so the per-message path does not allocate.
        var topicInfo: [String: TopicInfo] = [:]

        var isIdle: Bool { accumulator.bufferedBytes == 0 && waiting.isEmpty && inFlight.values.allSatisfy { $0 == 0 } }
    }

    struct TopicInfo: Sendable {
        var partitionCount: Int32
        var available: [Int32]
    }

    init(config: ProducerConfig, onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil,
         onMessageDelivery: (@Sendable (MessageDelivery) -> Void)? = nil) throws {
        try config.validate()
        self.config = config
        var clientConfig = config.client
        // Producers create topics on first use where the broker allows it (as the Java client).
        clientConfig.allowAutoCreateTopics = true
        cluster = try Cluster(config: clientConfig)
        let settings = RecordAccumulator.Settings(
            batchSize: config.batchSize, linger: config.linger, maxRequestSize: config.maxRequestSize,
            bufferMemory: config.bufferMemory, compression: config.compression, compressionLevel: config.compressionLevel,
            deliveryTimeout: config.deliveryTimeout, retries: config.retries,
            retryBackoff: config.client.retryBackoffPolicy, idempotent: config.enableIdempotence,
            maxBatchRecords: config.maxBatchRecords
        )
        state = Mutex(State(accumulator: RecordAccumulator(settings: settings), chooser: PartitionChooser(partitioner: config.partitioner, batchSize: config.batchSize)))
        (deliveryReports, reportContinuation) = AsyncStream.makeStream(of: DeliveryReport.self, bufferingPolicy: .bufferingOldest(100_000))
        self.onDelivery = onDelivery
        self.onMessageDelivery = onMessageDelivery
        cluster.startPeriodicRefresh()
        let task = Task { [weak self] in _ = await self?.runSender() }
        sender.withLock { $0 = task }
    }

    // MARK: Producing

    /// Wall-clock milliseconds since the epoch (record timestamps).
    static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func estimatedSize(_ r: ProducerRecord) -> Int {
        (r.key?.count ?? 0) + (r.value?.count ?? 0) + r.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 8 } + 32
    }

    /// See `KafkaProducer.enqueue`.
    func enqueue(_ record: ProducerRecord) throws -> MessageID {
        // Stamped here, outside the lock (append would stamp it anyway): the per-message
        // outcome reports it when the broker does not use log-append time.
        var record = record
        let timestamp = record.timestamp ?? Self.nowMillis()
        record.timestamp = timestamp
        let (id, wake) = try state.withLock { s -> (MessageID, Bool) in
            let id = MessageID(s.nextId)
            if !s.closed && !s.closing && s.queuedMessages >= config.maxQueuedMessages {
                throw KafkaError(.queueFull, "producer queue is full (queue.buffering.max.messages \(config.maxQueuedMessages))", context: .init(topic: record.topic))
            }
            let wake = try append(&s, record, completion: .id(id, timestamp: timestamp), ignoreLimit: false)
            s.nextId &+= 1
            s.queuedMessages += 1
            return (id, wake)
        }
        if wake { signal.notify() }
        return id
    }

    /// See `KafkaProducer.send`.
    func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        let size = Self.estimatedSize(record)
        // Wait for room first (bounded buffering); then append even if a racing enqueue took the
        // bytes meanwhile, so `send` never fails with queueFull. The message slot
        // (`queue.buffering.max.messages`) is reserved here, under the same lock as the check:
        // room waiters woken together cannot all take the one slot that came free.
        while true {
            let waiting: Bool = try state.withLock { s in
                if s.closed || s.closing { throw KafkaError(.closed, "producer is closed") }
                guard hasRoom(s, size) else { return true }
                s.queuedMessages += 1
                return false
            }
            if !waiting { break }
            try await waitForRoom(size)
        }
        let timestamp = record.timestamp ?? Self.nowMillis()
        // Cancellation after the record is in a batch cannot take it back: the awaiting call
        // returns `.cancelled` at once, the record may still be delivered (as in the Java
        // client and franz-go), and the batch's completion later finds the waiter resumed.
        let once = OnceContinuation<RecordMetadata>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<RecordMetadata, any Error>) in
                guard once.install(c, cancelledMessage: "send cancelled before the record was accepted") else {
                    releaseReservedSlot()
                    return
                }
                var r = record
                r.timestamp = timestamp
                let result: Result<Bool, any Error> = state.withLock { s in
                    Result { try append(&s, r, completion: .waiter(once, timestamp: timestamp), ignoreLimit: true) }
                }
                switch result {
                case let .success(wake): if wake { signal.notify() }
                case let .failure(e):
                    releaseReservedSlot()
                    once.resume(with: .failure(e))
                }
            }
        } onCancel: {
            once.cancel("send cancelled; the record may still be delivered", context: .init(topic: record.topic))
        }
    }

    /// A `send` reserved a message slot but its record was not appended (cancelled first, or
    /// refused): give the slot back and wake whoever waits for one.
    private func releaseReservedSlot() {
        state.withLock { s in s.queuedMessages = max(0, s.queuedMessages - 1) }
        wakeAll()
    }

    /// Whether one more message of `size` bytes fits: within `buffer.memory` (a message larger
    /// than the whole buffer fits an empty one) and within `queue.buffering.max.messages`.
    private func hasRoom(_ s: State, _ size: Int) -> Bool {
        let held = s.accumulator.bufferedBytes + s.waitingBytes
        return (held + size <= config.bufferMemory || held == 0) && s.queuedMessages < config.maxQueuedMessages
    }

    /// Waits until a message of `size` bytes fits (`hasRoom`, or the producer closes); throws
    /// `.cancelled` when the task is cancelled.
    private func waitForRoom(_ size: Int) async throws {
        let once = OnceContinuation<Void>()
        let id = state.withLock { s in defer { s.nextWaiterId &+= 1 }; return s.nextWaiterId }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                guard once.install(c, cancelledMessage: "send cancelled while waiting for buffer.memory") else { return }
                let now: Bool = state.withLock { s in
                    if hasRoom(s, size) || s.closed || s.closing { return true }
                    s.roomWaiters[id] = once
                    return false
                }
                if now { once.resume(with: .success(())) }
            }
        } onCancel: {
            state.withLock { s in s.roomWaiters[id] = nil }
            once.cancel("send cancelled while waiting for buffer.memory")
        }
    }

    /// Appends under the lock. Returns whether the sender should be woken.
    private func append(_ s: inout State, _ record: ProducerRecord, completion: Completion, ignoreLimit: Bool, accepted: Bool = false) throws -> Bool {
        // `accepted`: a message the producer already took (routed after metadata arrived); it
        // must still go out while `close()` flushes.
        if s.closed || (s.closing && !accepted) { throw KafkaError(.closed, "producer is closed") }
        if let fatal = s.fatal { throw fatal }
        guard !record.topic.isEmpty else { throw KafkaError(.configuration, "record has no topic") }
        let timestamp = record.timestamp ?? Self.nowMillis()
        guard let info = s.topicInfo[record.topic] else {
            let now = ContinuousClock.now
            // Unknown topic: hold the message until metadata arrives (counted against the buffer).
            let size = Self.estimatedSize(record)
            if !ignoreLimit && s.accumulator.bufferedBytes + s.waitingBytes + size > config.bufferMemory && s.accumulator.bufferedBytes + s.waitingBytes > 0 {
                throw KafkaError(.queueFull, "producer queue is full (buffer.memory \(config.bufferMemory) bytes)", context: .init(topic: record.topic))
            }
            s.waiting[record.topic, default: []].append(Waiting(record: record, timestamp: timestamp, completion: completion, size: size, since: now))
            s.waitingBytes += size
            let first = s.wantMetadata.insert(record.topic).inserted
            return first
        }
        let count = info.partitionCount
        let partition: Int32
        if let p = record.partition {
            guard p >= 0 && p < count else {
                throw KafkaError(.broker(.unknownTopicOrPartition), "partition \(p) does not exist (topic has \(count))", context: .init(topic: record.topic, partition: p))
            }
            partition = p
        } else {
            partition = s.chooser.partition(topic: record.topic, key: record.key, size: Self.estimatedSize(record), partitionCount: count, available: info.available)
            // A custom partitioner may answer anything: check it like the Java client does.
            guard partition >= 0 && partition < count else {
                throw KafkaError(.configuration, "the partitioner chose partition \(partition), but the topic has \(count)", context: .init(topic: record.topic))
            }
        }
        let tp = TopicPartition(topic: record.topic, partition: partition)
        s.accumulator.overcommit = ignoreLimit
        defer { s.accumulator.overcommit = false }
        switch try s.accumulator.append(tp, timestamp: timestamp, key: record.key, value: record.value, headers: record.headers, completion: completion, now: .now) {
        case .bufferFull:
            throw KafkaError(.queueFull, "producer queue is full (buffer.memory \(config.bufferMemory) bytes)", context: .init(topic: tp.topic, partition: tp.partition))
        case let .appended(ready, first):
            if ready { s.chooser.batchCompleted(topic: tp.topic, partition: tp.partition) }
            return ready || first
        }
    }

    /// See `KafkaProducer.flush`.
    func flush() async throws {
        try await waitUntilIdle(deadline: nil)
    }

    /// See `KafkaProducer.flush(timeout:)`.
    func flush(timeout: Duration) async throws -> Int {
        // A bound far beyond any real wait keeps `now + timeout` from overflowing.
        let bounded = min(max(timeout, .zero), .seconds(Int64(1) << 40))
        do {
            try await waitUntilIdle(deadline: .now + bounded)
        } catch let e as KafkaError where e.kind == .timeout {
            // The deadline passed: report what is left (still queued, nothing failed).
        }
        return pendingMessages
    }

    /// Waits until every message so far is acknowledged or has failed, making everything
    /// buffered ready regardless of linger. Throws `.cancelled` on cancellation and `.timeout`
    /// at `deadline`. Event-driven: `wakeAll` resumes it when the producer becomes idle.
    private func waitUntilIdle(deadline: ContinuousClock.Instant?) async throws {
        let once = OnceContinuation<Void>()
        let id = state.withLock { s in defer { s.nextWaiterId &+= 1 }; return s.nextWaiterId }
        let timer: Task<Void, Never>? = deadline.map { d in
            Task { [weak self] in
                try? await Task.sleep(until: d, clock: .continuous)
                guard !Task.isCancelled else { return }
                self?.state.withLock { s in
                    s.flushWaiters[id] = nil
                    // The last flush gave up: linger applies again.
                    if s.flushWaiters.isEmpty { s.accumulator.flushing = false }
                }
                once.resume(with: .failure(KafkaError(.timeout, "producer not idle by the deadline")))
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                guard once.install(c, cancelledMessage: "flush cancelled") else { return }
                let done: Bool = state.withLock { s in
                    if s.isIdle || s.closed { return true }
                    s.accumulator.flushing = true
                    s.flushWaiters[id] = once
                    return false
                }
                if done { once.resume(with: .success(())) } else { signal.notify() }
            }
        } onCancel: {
            state.withLock { s in
                s.flushWaiters[id] = nil
                if s.flushWaiters.isEmpty { s.accumulator.flushing = false }
            }
            once.cancel("flush cancelled")
        }
    }

    /// See `KafkaProducer.close`.
    func close(timeout: Duration) async {
        let already = state.withLock { s -> Bool in
            defer { s.closing = true }
            return s.closing
        }
        if !already {
            // Ends when the last batch is settled (an event, not polling), at the timeout, or
            // when the calling task is cancelled.
            try? await waitUntilIdle(deadline: .now + timeout)
        }
        shutDown(KafkaError(.closed, "producer closed before the message was delivered"))
    }

    /// The wrapper was released without `close()`: everything still pending fails at once with
    /// a clear error, the sender stops and connections close. Never suspends.
    func abandon() {
        let already = state.withLock { s -> Bool in
            defer { s.closing = true }
            return s.closed
        }
        guard !already else { return }
        shutDown(KafkaError(.closed, "producer released without close(): message not delivered"))
    }

    /// Fails whatever is left — batches already written to a broker with `.outcomeUnknown`
    /// (they may be in the log), the rest with `notDelivered` — and closes everything.
    private func shutDown(_ notDelivered: KafkaError) {
        let (batches, waiting) = state.withLock { s -> ([ProducerBatch], [Waiting]) in
            s.closed = true
            let w = s.waiting.values.flatMap { $0 }
            s.waiting = [:]
            s.waitingBytes = 0
            return (s.accumulator.drainAll(), w)
        }
        for b in batches {
            if b.everSent {
                finish(b, .failure(KafkaError(.outcomeUnknown, "producer closed while the message was sent but not acknowledged: it may or may not have been written", context: notDelivered.context, underlying: notDelivered)))
            } else {
                finish(b, .failure(notDelivered))
            }
        }
        for w in waiting { finishWaiting(w, notDelivered) }
        sender.withLock { $0?.cancel(); $0 = nil }
        signal.notify()
        wakeAll()
        reportContinuation.finish()
        messageStream.withLock { $0?.sink.finish() }
        cluster.close()
    }

    /// Whether completing a batch builds `MessageDelivery` values: only for a callback or a
    /// stream someone made.
    static func wantsPerMessage(callback: Bool, stream: Bool) -> Bool { callback || stream }

    /// For tests: whether per-message outcomes are being built now.
    var buildsMessageDeliveries: Bool {
        Self.wantsPerMessage(callback: onMessageDelivery != nil, stream: messageStream.withLock { $0 != nil })
    }

    /// See `KafkaProducer.messageDeliveries`: made on first use, the same stream afterwards.
    var messageDeliveries: AsyncStream<MessageDelivery> {
        let (stream, finishNow) = messageStream.withLock { m -> (AsyncStream<MessageDelivery>, AsyncStream<MessageDelivery>.Continuation?) in
            if let m { return (m.stream, nil) }
            let made = AsyncStream.makeStream(of: MessageDelivery.self, bufferingPolicy: .bufferingOldest(1_000_000))
            m = (made.stream, made.continuation)
            return (made.stream, made.continuation)
        }
        // Made after close: it ends at once (shutDown finished only what existed then).
        if let finishNow, state.withLock({ $0.closed }) { finishNow.finish() }
        return stream
    }

    /// Messages buffered or in flight.
    var pendingMessages: Int { state.withLock { $0.accumulator.pendingMessages + $0.waiting.values.reduce(0) { $0 + $1.count } } }

    // MARK: Completing

    /// Reports a batch's outcome to every message in it.
    private func finish(_ batch: ProducerBatch, _ result: Result<(baseOffset: Int64, logAppendTime: Int64), KafkaError>) {
        // One lock per batch (not per message); room waiters are woken by the caller's wakeAll.
        state.withLock { s in s.queuedMessages = max(0, s.queuedMessages - batch.completions.count) }
        var ids: [MessageID] = []
        let tp = batch.topicPartition
        // Per-message outcomes only when someone asked for them.
        let messageSink = messageStream.withLock { $0?.sink }
        let perMessage = Self.wantsPerMessage(callback: onMessageDelivery != nil, stream: messageSink != nil)
        var deliveries: [MessageDelivery] = []
        // Messages that never got a partition (no metadata) carry -1: leave it out of errors.
        let where_ = KafkaError.Context(topic: tp.topic, partition: tp.partition >= 0 ? tp.partition : nil)
        let result = result.map { BatchOutcome(wireBaseOffset: $0.baseOffset, wireLogAppendTime: $0.logAppendTime, count: batch.completions.count) }
        for (i, c) in batch.completions.enumerated() {
            switch c {
            case let .id(id, timestamp):
                ids.append(id)
                if perMessage {
                    deliveries.append(MessageDelivery(messageId: id, result: result.map { $0.metadata(tp, index: i, createTime: timestamp) }.mapError { $0.with(where_) }))
                }
            case let .waiter(cont, timestamp):
                cont.resume(with: result.map { $0.metadata(tp, index: i, createTime: timestamp) }.mapError { $0.with(where_) as any Error })
            }
        }
        if !ids.isEmpty {
            let report = DeliveryReport(topicPartition: tp, messageIds: ids, result: result.map(\.baseOffset).mapError { $0.with(where_) })
            onDelivery?(report)
            reportContinuation.yield(report)
        }
        for d in deliveries {
            onMessageDelivery?(d)
            messageSink?.yield(d)
        }
    }

    private func finishWaiting(_ w: Waiting, _ error: KafkaError) {
        var b = ProducerBatch(topicPartition: TopicPartition(topic: w.record.topic, partition: -1), compression: .none, capacity: 0, now: w.since)
        b.completions = [w.completion]
        b.recordCount = 1
        finish(b, .failure(error))
    }

    /// Resumes flush waiters when idle and room waiters when there is room.
    private func wakeAll() {
        let (flush, room) = state.withLock { s -> ([OnceContinuation<Void>], [OnceContinuation<Void>]) in
            var f: [OnceContinuation<Void>] = []
            if s.isIdle || s.closed {
                f = Array(s.flushWaiters.values)
                s.flushWaiters = [:]
                s.accumulator.flushing = false
            }
            var r: [OnceContinuation<Void>] = []
            if (s.accumulator.bufferedBytes + s.waitingBytes < config.bufferMemory && s.queuedMessages < config.maxQueuedMessages) || s.closed {
                r = Array(s.roomWaiters.values)
                s.roomWaiters = [:]
            }
            return (f, r)
        }
        for c in flush { c.resume(with: .success(())) }
        for c in room { c.resume(with: .success(())) }
    }

    // MARK: The sender

    private func runSender() async {
        var metadataFailures = 0
        while !Task.isCancelled {
            if state.withLock({ $0.closed }) { return }
            // 1. Producer id for idempotence (KIP-98), or an epoch bump after losing sequence
            //    state (KIP-360).
            if config.enableIdempotence, state.withLock({ $0.producerId < 0 || $0.epochBumpNeeded }) {
                do {
                    try await whileExpiring { try await self.initProducerId() }
                } catch {
                    if let fatal = Self.unfixableByRetrying(error) {
                        await failUnsent(fatal)
                        continue
                    }
                    // Messages still expire while the cluster is unreachable.
                    expire()
                    try? await Task.sleep(for: config.client.retryBackoffPolicy.delay(afterFailures: 1))
                    continue
                }
            }
            // 2. Metadata for topics we know nothing about, or whose leaders are unknown.
            let wanted = state.withLock { s -> [String] in
                defer { s.wantMetadata = [] }
                return Array(s.wantMetadata)
            }
            if !wanted.isEmpty || state.withLock({ $0.metadata == nil }) {
                do {
                    let known = state.withLock { s in Set(s.metadata?.topics.keys.map { $0 } ?? []) }
                    let m = try await whileExpiring { try await self.cluster.refreshMetadata(topics: Array(known.union(wanted))) }
                    metadataFailures = 0
                    routeWaiting(with: m)
                } catch {
                    if let fatal = Self.unfixableByRetrying(error) {
                        await failUnsent(fatal)
                        continue
                    }
                    metadataFailures += 1
                    state.withLock { s in for t in wanted { s.wantMetadata.insert(t) } }
                    expire()
                    try? await Task.sleep(for: config.client.retryBackoffPolicy.delay(afterFailures: metadataFailures))
                    continue
                }
            }
            // 3. Expire what waited too long, then send what is ready.
            expire()
            let requests = drainReady()
            for r in requests {
                Task { await self.send(r) }
            }
            wakeAll()
            // 4. Sleep until something becomes ready or a request completes.
            let deadline = state.withLock { s -> ContinuousClock.Instant? in
                var d = s.accumulator.nextDeadline(now: .now)
                if let oldest = s.waiting.values.flatMap({ $0 }).map(\.since).min() {
                    let t = oldest + config.deliveryTimeout
                    if d == nil || t < d! { d = t }
                }
                return d
            }
            if requests.isEmpty { await signal.wait(until: deadline) }
        }
    }

    /// Errors retrying cannot fix, only a configuration change: failed authentication (wrong
    /// credentials, an untrusted certificate) and unusable TLS settings.
    private static func unfixableByRetrying(_ error: any Error) -> KafkaError? {
        guard let e = error as? KafkaError, e.kind == .authentication || e.kind == .configuration else { return nil }
        return e
    }

    /// After an error retrying cannot fix, every message not in flight fails with it at once
    /// (as the Java producer fails incomplete batches on an AuthenticationException) instead of
    /// waiting for `delivery.timeout.ms`. Then the sender waits for new messages before it
    /// tries to connect again, so a wrong password is not a background reconnect loop.
    private func failUnsent(_ error: KafkaError) async {
        let (batches, waiting) = state.withLock { s -> ([ProducerBatch], [Waiting]) in
            let w = s.waiting.values.flatMap { $0 }
            s.waiting = [:]
            s.waitingBytes = 0
            s.wantMetadata = []
            let b = s.accumulator.removeNotInFlight()
            // Dropped batches that had sequence numbers leave a gap: start over under a new epoch.
            if config.enableIdempotence, s.producerId >= 0, b.contains(where: { $0.baseSequence >= 0 }) { s.epochBumpNeeded = true }
            return (b, w)
        }
        for b in batches { finish(b, .failure(error)) }
        for w in waiting { finishWaiting(w, error) }
        wakeAll()
        if state.withLock({ $0.isIdle }) {
            await signal.wait(until: nil)
        } else {
            try? await Task.sleep(for: config.client.retryBackoffPolicy.delay(afterFailures: 1))
        }
    }

    /// Runs `op` while a ticker keeps expiring messages (an unreachable broker can hold `op` for
    /// request.timeout.ms, longer than delivery.timeout.ms).
    private func whileExpiring<T: Sendable>(_ op: @Sendable () async throws -> T) async throws -> T {
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                if Task.isCancelled { return }
                self?.expire()
            }
        }
        defer { ticker.cancel() }
        return try await op()
    }

    private func initProducerId() async throws {
        let (pid, epoch) = state.withLock { ($0.producerId, $0.producerEpoch) }
        var request = InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1)
        if pid >= 0 {
            request.producerId = pid
            request.producerEpoch = epoch
        }
        let response = try await cluster.sendToAny(request)
        let code = KafkaErrorCode(rawValue: response.errorCode)
        guard code.isSuccess else { throw KafkaError.broker(code, context: .init(apiKey: .initProducerId)) }
        state.withLock { s in
            s.producerId = response.producerId
            s.producerEpoch = response.producerEpoch
            if s.epochBumpNeeded {
                s.epochBumpNeeded = false
                s.accumulator.resetSequences()
            }
        }
    }

    /// Moves messages that waited for metadata into their partitions.
    private func routeWaiting(with m: ClusterMetadata) {
        var failed: [(Waiting, KafkaError)] = []
        let wake: Bool = state.withLock { s in
            s.metadata = m
            var info: [String: TopicInfo] = [:]
            for (name, t) in m.topics where t.error == nil && !t.partitions.isEmpty {
                info[name] = TopicInfo(partitionCount: Int32(t.partitions.count), available: t.partitions.compactMap { $0.leader >= 0 ? $0.partition : nil })
            }
            s.topicInfo = info
            var any = false
            for (topic, list) in s.waiting {
                guard let t = m.topics[topic], t.error == nil, !t.partitions.isEmpty else {
                    s.wantMetadata.insert(topic)
                    continue
                }
                s.waiting[topic] = nil
                for w in list {
                    s.waitingBytes -= w.size
                    do {
                        any = try append(&s, w.record, completion: w.completion, ignoreLimit: true, accepted: true) || any
                    } catch let e as KafkaError {
                        failed.append((w, e))
                    } catch {
                        failed.append((w, KafkaError(.encoding, "\(error)")))
                    }
                }
            }
            return any
        }
        for (w, e) in failed { finishWaiting(w, e) }
        if wake { signal.notify() }
    }

    private func expireWaiting() {
        let now = ContinuousClock.now
        let expired: [Waiting] = state.withLock { s in
            var out: [Waiting] = []
            for (topic, list) in s.waiting {
                let (old, young) = (list.filter { now - $0.since >= config.deliveryTimeout }, list.filter { now - $0.since < config.deliveryTimeout })
                out += old
                s.waiting[topic] = young.isEmpty ? nil : young
                for w in old { s.waitingBytes -= w.size }
            }
            return out
        }
        for w in expired { finishWaiting(w, KafkaError(.timeout, "no metadata for topic \(w.record.topic) within delivery.timeout.ms", context: .init(topic: w.record.topic))) }
        // Flush and room waiters may be done now (this runs on paths that skip the main loop's
        // own wakeAll, e.g. while metadata keeps failing).
        if !expired.isEmpty { wakeAll() }
    }

    private func expire() {
        expireWaiting()
        let expired = state.withLock { $0.accumulator.expire(now: .now) }
        for b in expired {
            let context = KafkaError.Context(topic: b.topicPartition.topic, partition: b.topicPartition.partition)
            let timeout = KafkaError(.timeout, "message not delivered within delivery.timeout.ms", context: context)
            // A batch written at least once may be in the log (its answer was lost, or it waits
            // to be retried after a lost connection): that is not "not delivered".
            finish(b, .failure(b.everSent
                ? KafkaError(.outcomeUnknown, "delivery.timeout.ms passed after the message was sent without an acknowledgement: it may or may not have been written", context: context, underlying: timeout)
                : timeout))
        }
        if !expired.isEmpty { wakeAll() }
    }

    /// One Produce request for one broker.
    private struct PendingRequest: Sendable {
        let broker: Int32
        let batches: [(TopicPartition, [UInt8])]
        /// The earliest delivery deadline of its batches.
        let deadline: ContinuousClock.Instant
    }

    /// Drains ready batches into one request per broker with room for another in flight.
    private func drainReady() -> [PendingRequest] {
        var failed: [(ProducerBatch, KafkaError)] = []
        let requests: [PendingRequest] = state.withLock { s in
            let now = ContinuousClock.now
            let ready = s.accumulator.readyPartitions(now: now)
            guard !ready.isEmpty else { return [] }
            var byBroker: [Int32: [TopicPartition]] = [:]
            for tp in ready {
                guard let leader = s.metadata?.topics[tp.topic]?.partitions.first(where: { $0.partition == tp.partition })?.leader, leader >= 0 else {
                    s.wantMetadata.insert(tp.topic)
                    continue
                }
                byBroker[leader, default: []].append(tp)
            }
            var out: [PendingRequest] = []
            for (broker, tps) in byBroker {
                guard s.inFlight[broker, default: 0] < config.maxInFlight else { continue }
                let (batches, f) = s.accumulator.drain(tps, producerId: s.producerId, producerEpoch: s.producerEpoch, now: now)
                failed += f
                guard !batches.isEmpty else { continue }
                s.inFlight[broker, default: 0] += 1
                let deadline = batches.compactMap { s.accumulator.queues[$0.0]?.batches.first?.createdAt }.min().map { $0 + config.deliveryTimeout } ?? now + config.deliveryTimeout
                out.append(PendingRequest(broker: broker, batches: batches, deadline: deadline))
            }
            return out
        }
        for (b, e) in failed { finish(b, .failure(e)) }
        return requests
    }

    private func send(_ r: PendingRequest) async {
        defer {
            state.withLock { s in s.inFlight[r.broker, default: 1] -= 1 }
            wakeAll()
            signal.notify()
        }
        var byTopic: [String: [ProduceRequest.Partition]] = [:]
        for (tp, bytes) in r.batches { byTopic[tp.topic, default: []].append(.init(index: tp.partition, records: bytes)) }
        let timeoutMs = config.client.requestTimeout.int32Milliseconds
        let request = ProduceRequest(acks: config.acks.wireValue, timeoutMs: timeoutMs, topicData: byTopic.map { .init(name: $0.key, partitionData: $0.value) })
        do {
            let link = try cluster.link(forNode: r.broker)
            let connection = try await link.connection()
            let version = try connection.version(for: ProduceRequest.self)
            if config.acks == .none {
                try await connection.sendWithoutResponse(request, version: version, timeout: config.client.requestTimeout)
                let done = state.withLock { s in r.batches.compactMap { s.accumulator.complete($0.0) } }
                for b in done { finish(b, .success((-1, -1))) }
                return
            }
            let left = max(r.deadline - .now, .milliseconds(1))
            let response = try await connection.send(request, version: version, timeout: min(config.client.requestTimeout, left))
            handle(response, for: r)
        } catch {
            let e = error as? KafkaError ?? KafkaError(.connection, "\(error)")
            requestFailed(r, e)
        }
    }

    private func handle(_ response: ProduceResponse, for r: PendingRequest) {
        // A response that answers for a partition this request did not carry, or for one
        // partition twice, is broken: acting on it could complete another request's batch (the
        // partition's in-flight head) or one batch twice. None of it is trusted; the request's
        // batches are treated as unanswered (retried with their sequence numbers, so with
        // idempotence a batch that did get written is recognised as a duplicate).
        let sent = Set(r.batches.map(\.0))
        var seen = Set<TopicPartition>()
        for t in response.responses {
            for p in t.partitionResponses {
                let tp = TopicPartition(topic: t.name, partition: p.index)
                guard sent.contains(tp), seen.insert(tp).inserted else {
                    let why = sent.contains(tp) ? "answered twice for \(tp)" : "answered for \(tp), which the request did not carry"
                    requestFailed(r, KafkaError(.decoding, "broken Produce response: it \(why)", context: .init(apiKey: .produce, topic: tp.topic, partition: tp.partition)), retriable: true)
                    return
                }
            }
        }
        var results: [(ProducerBatch, Result<(baseOffset: Int64, logAppendTime: Int64), KafkaError>)] = []
        var refresh = false
        state.withLock { s in
            let now = ContinuousClock.now
            var answered = Set<TopicPartition>()
            for t in response.responses {
                for p in t.partitionResponses {
                    let tp = TopicPartition(topic: t.name, partition: p.index)
                    answered.insert(tp)
                    let code = KafkaErrorCode(rawValue: p.errorCode)
                    switch code {
                    case .noError:
                        if let b = s.accumulator.complete(tp) { results.append((b, .success((p.baseOffset, p.logAppendTimeMs)))) }
                    case .duplicateSequenceNumber:
                        // Already written by an earlier attempt: success, offset unknown.
                        if let b = s.accumulator.complete(tp) { results.append((b, .success((-1, -1)))) }
                    case .outOfOrderSequenceNumber, .unknownProducerId, .invalidProducerEpoch:
                        // The broker lost our sequence state: bump the epoch and resend (KIP-360).
                        s.epochBumpNeeded = true
                        if let b = s.accumulator.retry(tp, now: now) { results.append((b, .failure(KafkaError.broker(code, p.errorMessage)))) }
                    default:
                        if code.isRetriable {
                            refresh = true
                            if let b = s.accumulator.retry(tp, now: now) { results.append((b, .failure(KafkaError.broker(code, p.errorMessage)))) }
                        } else if let b = s.accumulator.fail(tp) {
                            results.append((b, .failure(KafkaError.broker(code, p.errorMessage, context: .init(apiKey: .produce)))))
                        }
                    }
                }
            }
            // A partition the broker did not mention is retried (defensive; Kafka answers all).
            for (tp, _) in r.batches where !answered.contains(tp) {
                if let b = s.accumulator.retry(tp, now: now) { results.append((b, .failure(KafkaError(.decoding, "broker did not answer for \(tp)")))) }
            }
            if refresh { for (tp, _) in r.batches { s.wantMetadata.insert(tp.topic) } }
        }
        for (b, result) in results { finish(b, result) }
    }

    /// The request got no usable answer. `retriable` overrides the error's own retriability
    /// (a broken response is retried like a lost one).
    private func requestFailed(_ r: PendingRequest, _ e: KafkaError, retriable: Bool? = nil) {
        var results: [(ProducerBatch, KafkaError)] = []
        state.withLock { s in
            let now = ContinuousClock.now
            for (tp, _) in r.batches {
                if retriable ?? e.isRetriable {
                    if let b = s.accumulator.retry(tp, now: now) {
                        // Written but unanswered: it may or may not be in the log.
                        results.append((b, KafkaError(.outcomeUnknown, "delivery not confirmed: \(e.message)", context: e.context, underlying: e)))
                    }
                } else if let b = s.accumulator.fail(tp) {
                    results.append((b, e))
                }
                s.wantMetadata.insert(tp.topic)
            }
        }
        for (b, err) in results { finish(b, .failure(err)) }
    }
}
