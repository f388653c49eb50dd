import KafkaProtocol
import KafkaNet

/// The I/O around the `TransactionMachine`: each operation (init, commit, abort, sendOffsets)
/// is run by one background task that asks the machine for the next step and feeds back what
/// came of it; callers only wait for the operation's outcome. A caller that times out
/// (`default.api.timeout.ms`) or is cancelled leaves the task running, so calling the same
/// method again waits for the same operation.
extension ProducerCore {
    /// Starts or resumes `op` and waits for its outcome.
    func transactionOperation(_ op: TransactionMachine.Operation, offsets: [TopicPartition: Int64] = [:], group: ConsumerGroupMetadata? = nil) async throws {
        let start = try state.withLock { s throws(KafkaError) -> TransactionMachine.Start in
            guard s.machine.transaction != nil else { throw Self.notTransactional }
            if s.machine.closed || s.machine.closing { throw KafkaError(.closed, "producer is closed") }
            return try s.machine.transaction!.start(op, offsets: offsets, group: group)
        }
        switch start {
        case let .finished(result): return try result.get()
        case .started: Task { await self.driveTransaction() }
        case .resumed: break
        }
        try await waitForOutcome(of: op, deadline: .now + config.client.defaultApiTimeout)
    }

    /// `beginTransaction()`.
    func beginTransaction() throws {
        try state.withLock { s throws(KafkaError) in
            guard s.machine.transaction != nil else { throw Self.notTransactional }
            if s.machine.closed || s.machine.closing { throw KafkaError(.closed, "producer is closed") }
            try s.machine.transaction!.begin()
        }
    }

    static var notTransactional: KafkaError {
        KafkaError(.invalidState, "not a transactional producer: set transactional.id")
    }

    /// The transaction machine's state (tests, diagnostics).
    var transactionState: TransactionMachine.State? { state.withLock { $0.machine.transaction?.state } }

    /// Feeds a transactional event and runs what the producer machine made of it.
    func feedTransaction(_ event: TransactionEvent) {
        run(state.withLock { s in s.claim(s.machine.transactionEvent(event, now: .now)) })
    }

    /// Transactions V1: sends the AddPartitionsToTxn the machine wants (one at a time, in the
    /// background, so the sender goes on with partitions already added). Returns when a
    /// retry of it is due (the sender's next wake-up).
    func startAddPartitions() -> ContinuousClock.Instant? {
        let (request, retryAt) = state.withLock { s in
            (s.machine.transaction?.takeAddPartitions(now: .now), s.machine.transaction?.addPartitionsRetryAt)
        }
        if let request { Task { self.feedTransaction(await self.perform(request)) } }
        return retryAt
    }

    /// The operation's task: one step at a time until the machine says it finished.
    private func driveTransaction() async {
        while true {
            let (action, closed) = state.withLock { s in (s.machine.transaction?.next(now: .now) ?? .none, s.machine.closed) }
            if closed, case .send = action {
                resolveWaiters(nil, .failure(KafkaError(.closed, "producer closed during the transaction operation")))
                return
            }
            switch action {
            case let .send(request):
                feedTransaction(await perform(request))
            case .flush:
                // flush() ends when everything buffered is settled or the producer closed.
                try? await flush()
                feedTransaction(.flushed)
            case let .dropUnsent(error):
                run(state.withLock { s in s.claim(s.machine.dropForAbort(error)) })
                feedTransaction(.dropped)
            case let .wait(until):
                try? await Task.sleep(until: until, clock: .continuous)
            case let .finished(op, result):
                resolveWaiters(op, result)
                return
            case .none:
                return
            }
        }
    }

    /// Hands `result` to the callers waiting for `op` (every waiter when nil); with at least
    /// one of them the outcome is claimed, else it stays for the next call.
    private func resolveWaiters(_ op: TransactionMachine.Operation?, _ result: Result<Void, KafkaError>) {
        let waiters = state.withLock { s -> [OnceContinuation<Void>] in
            let ids = s.transactionWaiters.filter { op == nil || $0.value.operation == op }.map(\.key)
            let out = ids.compactMap { s.transactionWaiters.removeValue(forKey: $0)?.once }
            if let op, !out.isEmpty { s.machine.transaction?.claimed(op) }
            return out
        }
        for w in waiters { w.resume(with: result.mapError { $0 as any Error }) }
    }

    /// Waits for `op`'s outcome until `deadline`: then `.timeout` (the operation goes on; call
    /// the method again to continue). Cancellation throws `.cancelled` the same way.
    private func waitForOutcome(of op: TransactionMachine.Operation, deadline: ContinuousClock.Instant) async throws {
        let once = OnceContinuation<Void>()
        let id = state.withLock { s in defer { s.nextWaiterId &+= 1 }; return s.nextWaiterId }
        let name = TransactionMachine.name(op)
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            _ = self?.state.withLock { s in s.transactionWaiters.removeValue(forKey: id) }
            once.resume(with: .failure(KafkaError(.timeout, "\(name) did not finish within default.api.timeout.ms; it goes on: call \(name) again to wait for its outcome")))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                guard once.install(c, cancelledMessage: "\(name) cancelled; it goes on: call it again to wait for its outcome") else { return }
                let done: Result<Void, KafkaError>? = state.withLock { s in
                    guard let t = s.machine.transaction else { return .failure(Self.notTransactional) }
                    if t.running?.operation == op {
                        s.transactionWaiters[id] = (op, once)
                        return nil
                    }
                    // It finished before this waiter was registered.
                    if let u = t.unclaimed, u.operation == op {
                        s.machine.transaction?.claimed(op)
                        return u.result
                    }
                    return .failure(KafkaError(.invalidState, "\(name) is no longer in progress"))
                }
                if let done { once.resume(with: done.mapError { $0 as any Error }) }
            }
        } onCancel: {
            _ = state.withLock { s in s.transactionWaiters.removeValue(forKey: id) }
            once.cancel("\(name) cancelled; it goes on: call it again to wait for its outcome")
        }
    }
}
