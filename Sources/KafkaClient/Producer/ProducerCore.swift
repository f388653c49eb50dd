#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import KafkaProtocol
import KafkaNet

/// The producer's I/O around its pure `ProducerMachine`: the lock holding it, the waits
/// (`send` for room, `flush`, `close`), the sender task (`ProducerCore+Sender.swift`) and the
/// delivery of outcomes (`ProducerCore+Delivery.swift`). Its background tasks hold it strongly;
/// the public `KafkaProducer` does not appear in any of them, so an application that drops its
/// producer without `close()` lets the wrapper's `deinit` shut this down (`abandon`).
final class ProducerCore: Sendable {
    let config: ProducerConfig
    let cluster: Cluster
    let state: Mutex<State>
    let signal = Signal()
    let sender = Mutex<Task<Void, Never>?>(nil)
    let reportContinuation: AsyncStream<DeliveryReport>.Continuation
    let onDelivery: (@Sendable (DeliveryReport) -> Void)?
    let onMessageDelivery: (@Sendable (MessageDelivery) -> Void)?
    /// The per-message stream, made on first use of `messageDeliveries` (nil: nobody asked,
    /// so completing a batch builds no per-message outcomes for it).
    let messageStream = Mutex<(stream: AsyncStream<MessageDelivery>, sink: AsyncStream<MessageDelivery>.Continuation)?>(nil)

    /// See `KafkaProducer.deliveryReports`.
    let deliveryReports: AsyncStream<DeliveryReport>

    struct State: Sendable {
        var machine: ProducerMachine
        /// `flush()` and `close()` waiting for idleness, by waiter id (removed when cancelled).
        var flushWaiters: [UInt64: OnceContinuation<Void>] = [:]
        /// Actions runs that deliver outcomes (`complete`/`failWaiting`) decided under this lock
        /// and not yet run: the machine is idle as soon as it decides, but `flush` must not
        /// return before the delivery reports of a batch another broker's task is still running.
        var deliveriesRunning = 0
        /// `send` waiting for room in `buffer.memory`, by waiter id.
        var roomWaiters: [UInt64: OnceContinuation<Void>] = [:]
        var nextWaiterId: UInt64 = 0
        /// Callers of a transaction operation waiting for its outcome, by waiter id.
        var transactionWaiters: [UInt64: (operation: TransactionMachine.Operation, once: OnceContinuation<Void>)] = [:]
    }

    init(config: ProducerConfig, onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil,
         onMessageDelivery: (@Sendable (MessageDelivery) -> Void)? = nil) throws {
        try config.validate()
        self.config = config
        var clientConfig = config.client
        // Producers create topics on first use where the broker allows it (as the Java client).
        clientConfig.allowAutoCreateTopics = true
        cluster = try Cluster(config: clientConfig)
        state = Mutex(State(machine: ProducerMachine(config: config)))
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

    /// See `KafkaProducer.enqueue`.
    func enqueue(_ record: ProducerRecord) throws -> MessageID {
        // Stamped here, outside the lock: the per-message outcome reports it when the broker
        // does not use log-append time.
        let timestamp = record.timestamp ?? Self.nowMillis()
        let (id, wake) = try state.withLock { s throws(KafkaError) in
            try s.machine.enqueue(record, timestamp: timestamp, now: .now)
        }
        if wake { signal.notify() }
        return id
    }

    /// See `KafkaProducer.send`.
    func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        let size = ProducerMachine.estimatedSize(record)
        // Wait for room first (bounded buffering); then append even if a racing enqueue took the
        // bytes meanwhile, so `send` never fails with queueFull. The message slot
        // (`queue.buffering.max.messages`) is reserved here, under the same lock as the check:
        // room waiters woken together cannot all take the one slot that came free.
        while try !state.withLock({ s throws(KafkaError) in try s.machine.reserveSlot(size: size) }) {
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
                let result: Result<Bool, KafkaError> = state.withLock { s in
                    Result { () throws(KafkaError) in try s.machine.append(record, timestamp: timestamp, completion: .waiter(once, timestamp: timestamp), ignoreLimit: true, now: .now) }
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
        state.withLock { s in s.machine.releaseSlot() }
        wakeAll()
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
                    if s.machine.hasRoom(size) || s.machine.closed || s.machine.closing { return true }
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
                    if s.flushWaiters.isEmpty { s.machine.flushing = false }
                }
                once.resume(with: .failure(KafkaError(.timeout, "producer not idle by the deadline")))
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                guard once.install(c, cancelledMessage: "flush cancelled") else { return }
                let done: Bool = state.withLock { s in
                    if (s.machine.isIdle && s.deliveriesRunning == 0) || s.machine.closed { return true }
                    s.machine.flushing = true
                    s.flushWaiters[id] = once
                    return false
                }
                if done { once.resume(with: .success(())) } else { signal.notify() }
            }
        } onCancel: {
            state.withLock { s in
                s.flushWaiters[id] = nil
                if s.flushWaiters.isEmpty { s.machine.flushing = false }
            }
            once.cancel("flush cancelled")
        }
    }

    /// See `KafkaProducer.close`.
    func close(timeout: Duration) async {
        let already = state.withLock { s -> Bool in
            defer { s.machine.closing = true }
            return s.machine.closing
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
            defer { s.machine.closing = true }
            return s.machine.closed
        }
        guard !already else { return }
        shutDown(KafkaError(.closed, "producer released without close(): message not delivered"))
    }

    /// Fails whatever is left — batches that may have been written with `.outcomeUnknown`, the
    /// rest with `notDelivered` — and closes everything.
    private func shutDown(_ notDelivered: KafkaError) {
        let actions = state.withLock { s in s.claim(s.machine.handle(.close(notDelivered))) }
        run(actions)
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
        if let finishNow, state.withLock({ $0.machine.closed }) { finishNow.finish() }
        return stream
    }

    /// Messages buffered or in flight.
    var pendingMessages: Int { state.withLock { $0.machine.pendingMessages } }
}
