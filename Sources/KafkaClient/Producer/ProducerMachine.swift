import KafkaProtocol
import KafkaNet

/// A batch's outcome in the broker's wire values (-1: unknown offset, e.g. acks=0 or a duplicate;
/// -1: create time), or why it failed. `ProducerCore.finish` turns it into `BatchOutcome`.
typealias BatchAnswer = Result<(baseOffset: Int64, logAppendTime: Int64), KafkaError>

/// One Produce request the machine decided to send: its batches, in drain order.
struct ProduceRequestPlan: Sendable {
    let id: ProduceRequestID
    let batches: [(TopicPartition, [UInt8])]
    /// The earliest delivery deadline of its batches (the request waits no longer).
    let deadline: ContinuousClock.Instant
}

/// What happened, fed to `ProducerMachine.handle`. Every instant is the caller's: the machine
/// reads no clock.
enum ProducerEvent: Sendable {
    /// A metadata answer (route the messages that waited for it).
    case metadata(ClusterMetadata)
    /// The metadata request for these topics failed.
    case metadataFailed([String])
    /// KIP-951 hints in a Produce answer moved these partitions (the router's view after the
    /// moves). Fed before that answer, so its retries go to the new leaders.
    case leadersMoved(ClusterMetadata, Set<TopicPartition>)
    /// InitProducerId answered (KIP-98), or bumped the epoch (KIP-360).
    case producerId(Int64, epoch: Int16)
    /// An error no retry can fix (authentication, configuration): fail everything not in flight.
    case unfixable(KafkaError)
    /// The sender may send: every broker with a free in-flight slot drains its ready batches.
    case drain(now: ContinuousClock.Instant)
    /// The broker answered request `id`.
    case answered(ProduceRequestID, ProduceResponse, now: ContinuousClock.Instant)
    /// acks=0: request `id` was written; no answer will come.
    case writtenWithoutAnswer(ProduceRequestID)
    /// Request `id` got no usable answer; `written`: it may have reached the broker.
    case failed(ProduceRequestID, KafkaError, written: Bool, now: ContinuousClock.Instant)
    /// Time passed: expire what waited past `delivery.timeout.ms`.
    case tick(now: ContinuousClock.Instant)
    /// `close()` ran out of time, or the producer was released: fail everything with this error
    /// (or `.outcomeUnknown` for a batch that may have been written).
    case close(KafkaError)
}

/// What the I/O around the machine must do.
enum ProducerAction: Sendable {
    /// Send this request to `plan.id.broker` (through its `ProducerSink`) and feed the outcome back.
    case send(ProduceRequestPlan)
    /// Report this outcome to every message of the batch.
    case complete(ProducerBatch, BatchAnswer)
    /// Fail a message that never reached a batch (no metadata for its topic).
    case failWaiting(MetadataWaitList.Entry, KafkaError)
    /// `flush`/`close`/`send` waiters may be done (the producer may be idle, or have room).
    case wakeWaiters
    /// The sender loop should run now (metadata wanted, batches became sendable).
    case wakeSender

    /// Whether it settles a message (so flush and room waiters may be done).
    var endsAMessage: Bool {
        switch self {
        case .complete, .failWaiting: true
        case .send, .wakeWaiters, .wakeSender: false
        }
    }
}

/// The producer's whole state, pure: buffered batches, messages waiting for metadata, the
/// producer id and sequence numbers (idempotence), each broker's requests in flight, and the
/// message-count bound. Fed `ProducerEvent`s (and, on the per-message path, `append`), it
/// returns `ProducerAction`s; it does no I/O and reads no clock. `ProducerCore` holds it under one
/// lock and runs the actions.
struct ProducerMachine: Sendable {
    let config: ProducerConfig
    var accumulator: RecordAccumulator
    var chooser: PartitionChooser
    /// Metadata as the producer uses it (the one place to switch to a shared cache).
    var routes = ProducerRoutes()
    var waiting = MetadataWaitList()
    /// Each broker's pure sink state (requests in flight, request-size window).
    var sinks: [Int32: SinkState] = [:]
    private var nextSerial: UInt64 = 1
    /// The serial of the newest request handed out (0: none yet).
    var lastSerialSent: UInt64 { nextSerial &- 1 }
    /// Messages accepted and not yet completed: the `queue.buffering.max.messages` bound.
    private(set) var queuedMessages = 0
    private(set) var nextMessageId = MessageID(1)
    private(set) var producerId: Int64 = -1
    private(set) var producerEpoch: Int16 = -1
    /// The broker lost our sequence state, or batches with sequence numbers were dropped: the
    /// next InitProducerId bumps the epoch and sequences restart at 0 (KIP-360).
    var epochBumpNeeded = false
    /// `close()` began: new messages are refused, accepted ones still go out.
    var closing = false
    /// A transactional producer's state (`ProducerMachine+Transactions.swift`); nil otherwise.
    var transaction: TransactionMachine?
    private(set) var closed = false

    init(config: ProducerConfig) {
        self.config = config
        var settings = RecordAccumulator.Settings(
            batchSize: config.batchSize, linger: config.linger, maxRequestSize: config.maxRequestSize,
            bufferMemory: config.bufferMemory, compression: config.compression, compressionLevel: config.compressionLevel,
            deliveryTimeout: config.deliveryTimeout, retries: config.retries,
            retryBackoff: config.client.retryBackoffPolicy, idempotent: config.enableIdempotence,
            maxBatchRecords: config.maxBatchRecords
        )
        settings.transactional = config.transactionalId != nil
        accumulator = RecordAccumulator(settings: settings)
        chooser = PartitionChooser(partitioner: config.partitioner, batchSize: config.batchSize)
        transaction = Self.transactionMachine(config)
    }

    // MARK: Queries

    /// Nothing buffered, waiting or in flight.
    var isIdle: Bool { accumulator.bufferedBytes == 0 && waiting.isEmpty && !accumulator.anyInFlight }

    /// Messages buffered, waiting for metadata or in flight.
    var pendingMessages: Int { accumulator.pendingMessages + waiting.count }

    /// Bytes held against `buffer.memory`.
    var heldBytes: Int { accumulator.bufferedBytes + waiting.bytes }

    /// Whether one more message of `size` bytes fits: within `buffer.memory` (a message larger
    /// than the whole buffer fits an empty one) and within `queue.buffering.max.messages`.
    func hasRoom(_ size: Int) -> Bool {
        (heldBytes + size <= config.bufferMemory || heldBytes == 0) && queuedMessages < config.maxQueuedMessages
    }

    /// Whether `send`s waiting for room should look again.
    var roomMayHaveFreed: Bool {
        (heldBytes < config.bufferMemory && queuedMessages < config.maxQueuedMessages) || closed
    }

    /// True while `flush` waits: everything buffered is ready regardless of linger.
    var flushing: Bool {
        get { accumulator.flushing }
        set { accumulator.flushing = newValue }
    }

    /// The InitProducerId request to make before sending (nil: none needed).
    var producerIdRequest: InitProducerIdRequest? {
        // A transactional producer gets its id from its transaction coordinator (initTransactions).
        guard config.enableIdempotence, transaction == nil, !closed, producerId < 0 || epochBumpNeeded else { return nil }
        var request = InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1)
        if producerId >= 0 {
            request.producerId = producerId
            request.producerEpoch = producerEpoch
        }
        return request
    }

    /// The earliest instant the machine wants a `tick` or a `drain` (nil: only on events).
    func nextDeadline(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let a = accumulator.nextDeadline(now: now)
        guard let w = waiting.nextDeadline(timeout: config.deliveryTimeout) else { return a }
        return a.map { min($0, w) } ?? w
    }

    /// Requests in flight to `broker`.
    func inFlightRequests(to broker: Int32) -> Int { sinks[broker]?.inFlight.count ?? 0 }

    // MARK: Messages in

    /// `enqueue`: checks `queue.buffering.max.messages`, appends and returns the message id and
    /// whether the sender should be woken.
    mutating func enqueue(_ record: ProducerRecord, timestamp: Int64, now: @autoclosure () -> ContinuousClock.Instant) throws(KafkaError) -> (id: MessageID, wake: Bool) {
        let id = nextMessageId
        if !closed && !closing && queuedMessages >= config.maxQueuedMessages {
            throw KafkaError(.queueFull, "producer queue is full (queue.buffering.max.messages \(config.maxQueuedMessages))", context: .init(topic: record.topic))
        }
        let wake = try append(record, timestamp: timestamp, completion: .id(id, timestamp: timestamp), ignoreLimit: false, now: now())
        nextMessageId = MessageID(nextMessageId.rawValue &+ 1)
        queuedMessages += 1
        return (id, wake)
    }

    /// `send`: reserves a message slot when one more message of `size` fits; false means wait
    /// for room. Throws `.closed` once closing.
    mutating func reserveSlot(size: Int) throws(KafkaError) -> Bool {
        if closed || closing { throw KafkaError(.closed, "producer is closed") }
        guard hasRoom(size) else { return false }
        queuedMessages += 1
        return true
    }

    /// A reserved slot whose record was not appended (cancelled first, or refused).
    mutating func releaseSlot() { queuedMessages = max(0, queuedMessages - 1) }

    /// Appends one record: to its partition's open batch, or — topic unknown — to the wait list.
    /// Returns whether the sender should be woken. `ignoreLimit`: the caller already waited for
    /// room. `accepted`: a message the producer already took (routed after metadata arrived);
    /// it must still go out while `close()` flushes.
    mutating func append(
        _ record: ProducerRecord, timestamp: Int64, completion: Completion, ignoreLimit: Bool, accepted: Bool = false,
        now: @autoclosure () -> ContinuousClock.Instant
    ) throws(KafkaError) -> Bool {
        if closed || (closing && !accepted) { throw KafkaError(.closed, "producer is closed") }
        guard !record.topic.isEmpty else { throw KafkaError(.configuration, "record has no topic") }
        if !accepted, let refusal = transaction?.recordRefusal { throw refusal }
        guard let info = routes.topics[record.topic] else {
            // Unknown topic: hold the message until metadata arrives (counted against the buffer).
            let size = Self.estimatedSize(record)
            if !ignoreLimit && heldBytes + size > config.bufferMemory && heldBytes > 0 {
                throw KafkaError(.queueFull, "producer queue is full (buffer.memory \(config.bufferMemory) bytes)", context: .init(topic: record.topic))
            }
            waiting.add(.init(record: record, timestamp: timestamp, completion: completion, size: size, since: now()))
            return routes.want(record.topic)
        }
        let count = info.partitionCount
        let partition: Int32
        if let p = record.partition {
            guard p >= 0 && p < count else {
                throw KafkaError(.broker(.unknownTopicOrPartition), "partition \(p) does not exist (topic has \(count))", context: .init(topic: record.topic, partition: p))
            }
            partition = p
        } else {
            partition = chooser.partition(topic: record.topic, key: record.key, size: Self.estimatedSize(record), partitionCount: count, available: info.available)
            // A custom partitioner may answer anything: check it like the Java client does.
            guard partition >= 0 && partition < count else {
                throw KafkaError(.configuration, "the partitioner chose partition \(partition), but the topic has \(count)", context: .init(topic: record.topic))
            }
        }
        let tp = TopicPartition(topic: record.topic, partition: partition)
        accumulator.overcommit = ignoreLimit
        defer { accumulator.overcommit = false }
        switch try accumulator.append(tp, timestamp: timestamp, key: record.key, value: record.value, headers: record.headers, completion: completion, now: now()) {
        case .bufferFull:
            throw KafkaError(.queueFull, "producer queue is full (buffer.memory \(config.bufferMemory) bytes)", context: .init(topic: tp.topic, partition: tp.partition))
        case let .appended(ready, first):
            transaction?.recordAppended(to: tp)
            if ready { chooser.batchCompleted(topic: tp.topic, partition: tp.partition) }
            // A new queue starts at batch.size: give it its broker's window when that is smaller.
            if first { applyWindow(to: tp) }
            return ready || first
        }
    }

    /// A message's size as counted against `buffer.memory` before it is in a batch.
    static func estimatedSize(_ r: ProducerRecord) -> Int {
        (r.key?.count ?? 0) + (r.value?.count ?? 0) + r.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 8 } + 32
    }

    /// The topics for the next metadata request (nil: none needed).
    mutating func takeMetadataRequest() -> [String]? {
        closed ? nil : routes.takeRequest()
    }

    // MARK: Events

    /// Applies one event and returns what to do about it, in order.
    mutating func handle(_ event: ProducerEvent) -> [ProducerAction] {
        var actions: [ProducerAction] = []
        switch event {
        case let .metadata(m): routeWaiting(m, &actions)
        case let .metadataFailed(topics): routes.requestFailed(topics)
        case let .leadersMoved(m, moved):
            routeWaiting(m, &actions)
            routes.noteMoved(moved)
        case let .producerId(id, epoch):
            producerId = id
            producerEpoch = epoch
            if epochBumpNeeded {
                epochBumpNeeded = false
                accumulator.resetSequences()
            }
        case let .unfixable(e): failUnsent(e, &actions)
        case let .drain(now): drain(now: now, &actions)
        case let .answered(id, response, now): answered(id, response, now: now, &actions)
        case let .writtenWithoutAnswer(id):
            if let r = sinks[id.broker]?.settle(id.serial) {
                // acks=0: a completed write is all the link will ever confirm; without this a
                // window shrunk by one cut would never grow back.
                sinks[id.broker]?.window.requestAnswered(bytes: r.bytes)
                applyWindow(of: id.broker)
                for tp in r.partitions {
                    if let b = accumulator.complete(tp, request: id) { complete(b, .success((-1, -1)), &actions) }
                }
                actions.append(.wakeSender)
                actions.append(.wakeWaiters)
            }
        case let .failed(id, e, written, now): failed(id, e, written: written, retriable: nil, now: now, &actions)
        case let .tick(now): expire(now: now, &actions)
        case let .close(e): close(e, &actions)
        }
        if transaction != nil { settleTransaction(&actions) }
        if actions.contains(where: \.endsAMessage) { actions.append(.wakeWaiters) }
        return actions
    }

    /// Hands a finished batch to its completions (and frees its message slots).
    mutating func complete(_ b: ProducerBatch, _ outcome: BatchAnswer, _ actions: inout [ProducerAction]) {
        queuedMessages = max(0, queuedMessages - b.completions.count)
        if case let .failure(e) = outcome { transaction?.recordFailed(e) }
        actions.append(.complete(b, outcome))
    }

    private mutating func failWaiting(_ e: MetadataWaitList.Entry, _ error: KafkaError, _ actions: inout [ProducerAction]) {
        queuedMessages = max(0, queuedMessages - 1)
        actions.append(.failWaiting(e, error))
    }

    /// Moves messages that waited for metadata into their partitions.
    private mutating func routeWaiting(_ m: ClusterMetadata, _ actions: inout [ProducerAction]) {
        routes.update(m)
        var wake = false
        for topic in waiting.topics {
            guard let t = m.topics[topic], t.error == nil, !t.partitions.isEmpty else {
                routes.want(topic)
                continue
            }
            for w in waiting.take(topic) {
                do {
                    wake = try append(w.record, timestamp: w.timestamp, completion: w.completion, ignoreLimit: true, accepted: true, now: w.since) || wake
                } catch {
                    failWaiting(w, error, &actions)
                }
            }
        }
        if wake { actions.append(.wakeSender) }
    }

    /// Drains, for every broker with a free in-flight slot, its ready batches into one request.
    private mutating func drain(now: ContinuousClock.Instant, _ actions: inout [ProducerAction]) {
        guard !closed else { return }
        var ready = accumulator.readyPartitions(now: now)
        // Transactions V1: a partition's batches wait until AddPartitionsToTxn added it.
        if let t = transaction { ready = ready.filter(t.mayProduce) }
        guard !ready.isEmpty else { return }
        var byBroker: [Int32: [TopicPartition]] = [:]
        for tp in ready {
            // No leader: the topic is wanted; the sender refreshes metadata on its next turn.
            guard let leader = routes.leader(of: tp) else { continue }
            byBroker[leader, default: []].append(tp)
        }
        for (broker, partitions) in byBroker { drain(broker: broker, partitions, now: now, &actions) }
    }

    /// A drain opportunity for one broker: one request from its ready `partitions`.
    private mutating func drain(broker: Int32, _ partitions: [TopicPartition], now: ContinuousClock.Instant, _ actions: inout [ProducerAction]) {
        var sink = sinks[broker] ?? SinkState(broker: broker, maxRequestSize: config.maxRequestSize, batchSize: config.batchSize)
        guard sink.hasFreeSlot(maxInFlight: config.maxInFlight) else { return }
        let id = ProduceRequestID(broker: broker, serial: nextSerial)
        let (batches, failed) = accumulator.drain(partitions, producerId: producerId, producerEpoch: producerEpoch, now: now, request: id, maxBytes: sink.window.limit)
        for (b, e) in failed { complete(b, .failure(e), &actions) }
        guard !batches.isEmpty else { return }
        nextSerial &+= 1
        sink.sent(id.serial, partitions: batches.map(\.0), bytes: batches.reduce(0) { $0 + $1.1.count })
        sinks[broker] = sink
        let oldest = batches.compactMap { accumulator.queues[$0.0]?.batches.first?.createdAt }.min() ?? now
        actions.append(.send(ProduceRequestPlan(id: id, batches: batches, deadline: oldest + config.deliveryTimeout)))
    }

    /// Expires messages and batches past `delivery.timeout.ms`. A batch that may have been
    /// written (in flight, or unanswered before) is "outcome unknown", not "not delivered".
    private mutating func expire(now: ContinuousClock.Instant, _ actions: inout [ProducerAction]) {
        for w in waiting.expire(now: now, timeout: config.deliveryTimeout) {
            failWaiting(w, KafkaError(.timeout, "no metadata for topic \(w.record.topic) within delivery.timeout.ms", context: .init(topic: w.record.topic)), &actions)
        }
        for b in accumulator.expire(now: now) {
            let context = KafkaError.Context(topic: b.topicPartition.topic, partition: b.topicPartition.partition)
            let timeout = KafkaError(.timeout, "message not delivered within delivery.timeout.ms", context: context)
            complete(b, .failure(b.mayBeWritten
                ? KafkaError(.outcomeUnknown, "delivery.timeout.ms passed after the message was sent without an acknowledgement: it may or may not have been written" + oversizeNote(b), context: context, underlying: timeout)
                : timeout), &actions)
        }
    }

    /// After an error retrying cannot fix, every message not in flight fails with it at once
    /// (as the Java producer fails incomplete batches on an AuthenticationException).
    mutating func failUnsent(_ e: KafkaError, _ actions: inout [ProducerAction]) {
        for w in waiting.takeAll() { failWaiting(w, e, &actions) }
        routes.clearWanted()
        let dropped = accumulator.removeNotInFlight()
        // Dropped batches that had sequence numbers leave a gap: start over under a new epoch.
        if config.enableIdempotence, producerId >= 0, dropped.contains(where: { $0.baseSequence >= 0 }) { epochBumpNeeded = true }
        for b in dropped { complete(b, .failure(e), &actions) }
    }

    /// Fails whatever is left — batches that may have been written with `.outcomeUnknown`, the
    /// rest with `notDelivered` — and refuses everything from now on.
    private mutating func close(_ notDelivered: KafkaError, _ actions: inout [ProducerAction]) {
        guard !closed else { return }
        closed = true
        closing = true
        for b in accumulator.drainAll() {
            complete(b, .failure(b.mayBeWritten
                ? KafkaError(.outcomeUnknown, "producer closed while the message was sent but not acknowledged: it may or may not have been written", context: notDelivered.context, underlying: notDelivered)
                : notDelivered), &actions)
        }
        for w in waiting.takeAll() { failWaiting(w, notDelivered, &actions) }
        routes.clearWanted()
        sinks = [:]
    }
}
