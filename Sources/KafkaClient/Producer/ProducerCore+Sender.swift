import KafkaProtocol
import KafkaNet

/// The sender task and the running of the machine's actions: the thin loop that asks the
/// machine what it needs (producer id, metadata), feeds it ticks and drain opportunities, and
/// hands its requests to the brokers' sinks.
extension ProducerCore {
    /// Applies `event` to the machine and runs what it decided.
    func feed(_ event: ProducerEvent) {
        run(state.withLock { s in s.claim(s.machine.handle(event)) })
    }

    /// Runs the machine's actions in order: outcomes delivered, requests sent through their
    /// broker's sink (each outcome fed back), then waiters and the sender woken once.
    func run(_ actions: [ProducerAction]) {
        var wakeWaiters = false, wakeSender = false
        for action in actions {
            switch action {
            case let .send(plan):
                let sink = ProducerSink(broker: plan.id.broker, cluster: cluster, acks: config.acks, requestTimeout: config.client.requestTimeout,
                                        transactionalId: config.transactionalId)
                Task { self.feedAnswer(await sink.send(plan)) }
            case let .complete(batch, outcome): finish(batch, outcome)
            case let .failWaiting(entry, error): finishWaiting(entry, error)
            case .wakeWaiters: wakeWaiters = true
            case .wakeSender: wakeSender = true
            }
        }
        if ProducerCore.State.delivers(actions) {
            state.withLock { $0.deliveriesRunning -= 1 }
            wakeWaiters = true
        }
        if wakeWaiters { wakeAll() }
        if wakeSender { signal.notify() }
    }

    /// Expires what waited past `delivery.timeout.ms`, now.
    func tick() { feed(.tick(now: .now)) }

    func runSender() async {
        var metadataFailures = 0
        while !Task.isCancelled {
            if state.withLock({ $0.machine.closed }) { return }
            // 1. Producer id for idempotence (KIP-98), or an epoch bump after losing sequence
            //    state (KIP-360).
            if let request = state.withLock({ $0.machine.producerIdRequest }) {
                do {
                    let response = try await whileExpiring { try await self.cluster.sendToAny(request) }
                    let code = KafkaErrorCode(rawValue: response.errorCode)
                    guard code.isSuccess else { throw KafkaError.broker(code, context: .init(apiKey: .initProducerId)) }
                    feed(.producerId(response.producerId, epoch: response.producerEpoch))
                } catch {
                    if let fatal = Self.unfixableByRetrying(error) {
                        await failUnsent(fatal)
                        continue
                    }
                    // Messages still expire while the cluster is unreachable.
                    tick()
                    try? await Task.sleep(for: config.client.retryBackoffPolicy.delay(afterFailures: 1))
                    continue
                }
            }
            // 2. Metadata for topics we know nothing about, or whose leaders are unknown.
            if let topics = state.withLock({ $0.machine.takeMetadataRequest() }) {
                do {
                    let m = try await whileExpiring { try await self.cluster.refreshMetadata(topics: topics) }
                    metadataFailures = 0
                    feed(.metadata(m))
                } catch {
                    if let fatal = Self.unfixableByRetrying(error) {
                        await failUnsent(fatal)
                        continue
                    }
                    metadataFailures += 1
                    feed(.metadataFailed(topics))
                    tick()
                    try? await Task.sleep(for: config.client.retryBackoffPolicy.delay(afterFailures: metadataFailures))
                    continue
                }
            }
            // 3. Transactions V1: partitions whose batches wait are added (in the background).
            let addPartitionsAt = startAddPartitions()
            // 4. Expire what waited too long, then send what is ready.
            let now = ContinuousClock.now
            let retryMetadata = now + config.client.retryBackoffPolicy.delay(afterFailures: 1)
            let (actions, deadline) = state.withLock { s -> ([ProducerAction], ContinuousClock.Instant?) in
                let actions = s.claim(s.machine.handle(.tick(now: now)) + s.machine.handle(.drain(now: now)))
                var deadline = s.machine.nextDeadline(now: now)
                // A ready batch without a leader wants metadata: ask again after a backoff
                // (not at once, which would spin while the cluster has no leader for it).
                if !s.machine.routes.wanted.isEmpty { deadline = min(deadline ?? retryMetadata, retryMetadata) }
                if let at = addPartitionsAt { deadline = min(deadline ?? at, at) }
                return (actions, deadline)
            }
            let sent = actions.contains { if case .send = $0 { true } else { false } }
            run(actions)
            wakeAll()
            // 5. Sleep until something becomes ready or a request completes.
            if !sent { await signal.wait(until: deadline) }
        }
    }

    /// Errors retrying cannot fix, only a configuration change: failed authentication (wrong
    /// credentials, an untrusted certificate) and unusable TLS settings.
    static func unfixableByRetrying(_ error: any Error) -> KafkaError? {
        guard let e = error as? KafkaError, e.kind == .authentication || e.kind == .configuration else { return nil }
        return e
    }

    /// After an error retrying cannot fix, every message not in flight fails with it at once
    /// (as the Java producer fails incomplete batches on an AuthenticationException) instead of
    /// waiting for `delivery.timeout.ms`. Then the sender waits for new messages before it
    /// tries to connect again, so a wrong password is not a background reconnect loop.
    private func failUnsent(_ error: KafkaError) async {
        feed(.unfixable(error))
        wakeAll()
        if state.withLock({ $0.machine.isIdle }) {
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
                self?.tick()
            }
        }
        defer { ticker.cancel() }
        return try await op()
    }
}

extension ProducerCore.State {
    /// Whether `actions` deliver outcomes to the application.
    static func delivers(_ actions: [ProducerAction]) -> Bool {
        actions.contains { a in
            switch a {
            case .complete, .failWaiting: true
            default: false
            }
        }
    }

    /// Notes, under the lock that decided them, that `actions` will deliver outcomes (`run`
    /// undoes it once they ran), so idleness waits for them.
    mutating func claim(_ actions: [ProducerAction]) -> [ProducerAction] {
        if Self.delivers(actions) { deliveriesRunning += 1 }
        return actions
    }
}
