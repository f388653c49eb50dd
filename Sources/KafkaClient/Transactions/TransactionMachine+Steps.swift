import KafkaProtocol

/// Running an operation: the next step for the I/O, and the answers and progress that end
/// each step — retried after a backoff, or turned into the transaction's or producer's error.
extension TransactionMachine {
    /// CONCURRENT_TRANSACTIONS clears once the coordinator wrote the previous transaction's
    /// markers, typically within milliseconds: retry sooner than `retry.backoff.ms` (the Java
    /// client's 20 ms).
    static let shortBackoff: Duration = .milliseconds(20)

    /// What the running operation needs now.
    mutating func next(now: ContinuousClock.Instant) -> TransactionAction {
        while var r = running {
            if r.inFlight { return .none }
            if let at = r.retryAt, now < at { return .wait(until: at) }
            guard let step = r.steps.first else { return finish(r.failure.map { .failure($0) } ?? .success(())) }
            switch step {
            case .flush: return .flush
            case .dropUnsent:
                return .dropUnsent(KafkaError(.invalidState, "the transaction was aborted before the record was sent"))
            case .request(.initProducerId):
                // At init, the first identity; in an abort (V1) only when batches with sequence
                // numbers were lost, to restart sequences under a new epoch (KIP-360).
                if r.operation == .abort && (transactionV2 || !epochBumpNeeded) {
                    popStep()
                    continue
                }
                r.inFlight = true
                running = r
                return .send(.initProducerId(current: r.operation == .abort ? identity : .none))
            case .request(.endTxn):
                // An AddPartitionsToTxn in flight may still add partitions: wait for its answer.
                if !addingPartitions.isEmpty { return .wait(until: now + Self.shortBackoff) }
                if isEmpty {
                    popStep()
                    continue
                }
                r.inFlight = true
                running = r
                return .send(.endTxn(commit: r.operation == .commit, identity))
            case .request(.addOffsets):
                r.inFlight = true
                running = r
                return .send(.addOffsets(groupId: r.group?.groupId ?? "", identity))
            case .request(.commitOffsets):
                guard let group = r.group, !r.offsets.isEmpty else {
                    popStep()
                    continue
                }
                r.inFlight = true
                running = r
                return .send(.commitOffsets(r.offsets, group, identity))
            }
        }
        return .none
    }

    /// Feeds one event; returns the finished operation's outcome when this event ended it
    /// (the next `next` would return it too).
    mutating func handle(_ event: TransactionEvent, now: ContinuousClock.Instant) {
        switch event {
        case .flushed:
            guard running?.steps.first == .flush else { return }
            popStep()
            if running?.operation == .commit, let e = error {
                // A record failed, or the producer was fenced: the commit cannot happen.
                if state == .committing { state = .abortableError }
                fail(e)
            }
        case .dropped:
            guard running?.steps.first == .dropUnsent else { return }
            popStep()
        case let .initAnswered(code, id, v2):
            guard answering(.initProducerId) else { return }
            if code.isSuccess {
                identity = id
                if running?.operation == .initialize { transactionV2 = v2 } else { epochBumpNeeded = false }
                popStep()
            } else {
                failed(KafkaError.broker(code, context: .init(apiKey: .initProducerId)), .of(code, api: .initProducerId), now: now)
            }
        case let .endTxnAnswered(code, id):
            guard answering(.endTxn) else { return }
            if code.isSuccess {
                // KIP-890: every EndTxn returns the bumped epoch.
                if transactionV2 && id.id >= 0 { identity = id }
                popStep()
            } else {
                failed(KafkaError.broker(code, context: .init(apiKey: .endTxn)), .of(code, api: .endTxn), now: now)
            }
        case let .addOffsetsAnswered(code):
            guard answering(.addOffsets) else { return }
            if code.isSuccess {
                hasOffsets = true
                popStep()
            } else {
                failed(KafkaError.broker(code, context: .init(apiKey: .addOffsetsToTxn)), .of(code, api: .addOffsetsToTxn), now: now)
            }
        case let .offsetsAnswered(codes):
            guard answering(.commitOffsets) else { return }
            offsetsAnswered(codes, now: now)
        case let .partitionsAnswered(codes):
            partitionsAnswered(codes, now: now)
        case let .notAnswered(api, e):
            if api == .addPartitionsToTxn {
                partitionsFailed(e, .of(e, api: api), now: now)
                return
            }
            guard let r = running, r.inFlight else { return }
            failed(e, .of(e, api: api), now: now)
        }
    }

    /// Whether the running operation's current request is `kind` and in flight (else the
    /// answer is stale and ignored); clears the in-flight mark.
    private mutating func answering(_ kind: TransactionRequest.Kind) -> Bool {
        guard let r = running, r.inFlight, r.steps.first == .request(kind) else { return false }
        running?.inFlight = false
        return true
    }

    private mutating func popStep() {
        running?.steps.removeFirst()
        running?.failures = 0
        running?.retryAt = nil
    }

    /// Ends the running operation with `result` and moves the state accordingly.
    private mutating func finish(_ result: Result<Void, KafkaError>) -> TransactionAction {
        guard let r = running else { return .none }
        running = nil
        switch (r.operation, result) {
        case (.initialize, .success), (.commit, .success), (.abort, .success):
            state = .ready
            error = nil
            partitions = []
            newPartitions = []
            addRetryAt = nil
            hasOffsets = false
        case (.initialize, .failure):
            if state != .fatalError { state = .uninitialized }
        default: break
        }
        unclaimed = (r.operation, result)
        return .finished(r.operation, result)
    }

    /// Ends the running operation with `e` at the next `next` (the state already says what
    /// it means).
    private mutating func fail(_ e: KafkaError) {
        running?.steps = []
        running?.failure = e
        running?.inFlight = false
        running?.retryAt = nil
    }

    /// A request of the running operation failed: retried, or the transaction or producer fails.
    private mutating func failed(_ e: KafkaError, _ c: TransactionErrorClass, now: ContinuousClock.Instant) {
        guard let op = running?.operation else { return }
        running?.inFlight = false
        switch c {
        case let .retriable(short, _):
            let failures = (running?.failures ?? 0) + 1
            running?.failures = failures
            let delay = backoff(failures: failures, short: short)
            running?.retryAt = now + delay
        case .abortable where op == .initialize:
            // Nothing is open yet: init may be called again.
            fail(e)
        case .abortable where op == .abort:
            // The coordinator refuses to end the transaction: nothing else can.
            enterFatal(e)
            fail(e)
        case .abortable:
            enterAbortable(e)
            if state == .committing { state = .abortableError }
            fail(e)
        case .fatal:
            enterFatal(e)
            fail(e)
        }
    }

    private mutating func offsetsAnswered(_ codes: [TopicPartition: KafkaErrorCode], now: ContinuousClock.Instant) {
        var worst: (TransactionErrorClass, KafkaError)?
        for (tp, code) in codes.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            if code.isSuccess {
                running?.offsets[tp] = nil
                hasOffsets = true
                continue
            }
            let c = TransactionErrorClass.of(code, api: .txnOffsetCommit)
            let e = KafkaError.broker(code, context: .init(apiKey: .txnOffsetCommit, topic: tp.topic, partition: tp.partition))
            if worst == nil || Self.rank(c) > Self.rank(worst!.0) { worst = (c, e) }
        }
        if let (c, e) = worst {
            failed(e, c, now: now)
        } else {
            popStep()
        }
    }

    private static func rank(_ c: TransactionErrorClass) -> Int {
        switch c {
        case .retriable: 0
        case .abortable: 1
        case .fatal: 2
        }
    }

    private mutating func partitionsAnswered(_ codes: [TopicPartition: KafkaErrorCode], now: ContinuousClock.Instant) {
        guard !addingPartitions.isEmpty else { return }
        var worst: (TransactionErrorClass, KafkaError)?
        for tp in addingPartitions {
            let code = codes[tp] ?? .unknownServerError
            if code.isSuccess {
                partitions.insert(tp)
                addingPartitions.remove(tp)
                continue
            }
            let c = TransactionErrorClass.of(code, api: .addPartitionsToTxn)
            let e = KafkaError.broker(code, context: .init(apiKey: .addPartitionsToTxn, topic: tp.topic, partition: tp.partition))
            if worst == nil || Self.rank(c) > Self.rank(worst!.0) { worst = (c, e) }
        }
        if let (c, e) = worst {
            partitionsFailed(e, c, now: now)
        } else {
            addFailures = 0
            addRetryAt = nil
        }
    }

    /// The partitions being added were not: asked again after a backoff, or the error spoils
    /// the transaction (their batches then fail with the others not sent).
    private mutating func partitionsFailed(_ e: KafkaError, _ c: TransactionErrorClass, now: ContinuousClock.Instant) {
        guard !addingPartitions.isEmpty else { return }
        newPartitions.formUnion(addingPartitions)
        addingPartitions = []
        switch c {
        case let .retriable(short, _):
            addFailures += 1
            let delay = backoff(failures: addFailures, short: short)
            addRetryAt = now + delay
        case .abortable:
            enterAbortable(e)
        case .fatal:
            enterFatal(e)
        }
    }

    /// The delay before the `failures`th retry: doubling from `retry.backoff.ms` (or the
    /// short 20 ms) up to `retry.backoff.max.ms`, without jitter (the machine is deterministic).
    func backoff(failures: Int, short: Bool) -> Duration {
        var d = short ? Self.shortBackoff : settings.retryBackoff
        let cap = max(settings.retryBackoffMax, d)
        for _ in 1 ..< max(1, min(failures, 30)) {
            d = d * 2
            if d >= cap { return cap }
        }
        return min(d, cap)
    }
}
