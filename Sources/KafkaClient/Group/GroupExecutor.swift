import KafkaProtocol

/// The one task that runs a group's `GroupStateMachine`: it feeds the machine every input
/// (answers, due timers, the inbox's events, polls and leave requests), then carries out the
/// returned actions strictly one at a time. Its state is its own (no lock): only this task
/// touches it.
///
/// Ordering rules:
/// - Inputs that arrived while an action ran are fed before that action's answer, so a leave
///   requested during a held JoinGroup closes the machine first and the late answer is ignored.
/// - Requests that may be held by the broker (FindCoordinator, JoinGroup, SyncGroup,
///   Heartbeat, metadata) run as cancellable tasks; a leave cancels the one in flight.
/// - A leave keeps the pending hand-overs (revoke, lose, assign: the machine already moved
///   those partitions) and drops pending requests, then runs the machine's close actions.
final class GroupExecutor {
    let group: ConsumerGroup
    let host: GroupHost
    private var pending: [GroupStateMachine.Action] = []
    private var timers: [GroupStateMachine.Timer: ContinuousClock.Instant] = [:]
    private var subscription: Subscription = .topics([])
    /// Topics the subscription resolved to at the last check, and their partition counts.
    private var matched: [String: Int32] = [:]
    private var lastJoin: JoinGroupResponse?
    /// Partitions a revocation waits for the application to finish with.
    private var watched: [TopicPartition]?
    private var lastPollSeen: ContinuousClock.Instant?
    /// The leave being carried out.
    private var closing: ConsumerGroup.LeaveRequest?
    /// A subscription asked for while an unsubscribe was still running: applied after it.
    private var heldSubscription: Subscription?

    init(group: ConsumerGroup, host: GroupHost) {
        self.group = group
        self.host = host
    }

    var config: ConsumerConfig { group.config }

    func run() async {
        while true {
            absorbInbox()
            if let w = watched, host.consumer?.groupProcessedAll(w) ?? true {
                stopWatching()
                feed(.applicationFinished)
                continue
            }
            if let c = closing, ContinuousClock.now >= c.deadline, !pending.isEmpty {
                // Out of time: what is left is dropped (the session timeout removes us).
                pending = []
            }
            if !pending.isEmpty {
                await perform(pending.removeFirst())
                continue
            }
            if let c = closing {
                group.resumeLeaveWaiters(c.ids)
                if c.final {
                    group.inbox.withLock { $0.finished = true }
                    let late = group.inbox.withLock { ib in defer { ib.leaveWaiters = [:] }; return Array(ib.leaveWaiters.keys) }
                    group.resumeLeaveWaiters(late)
                    group.eventSink.finish()
                    group.errorSink.finish()
                    return
                }
                startOver()
                continue
            }
            let now = ContinuousClock.now
            if let (timer, _) = timers.filter({ $0.value <= now }).min(by: { $0.value < $1.value }) {
                timers[timer] = nil
                feed(.timerFired(timer), now: now)
                continue
            }
            await group.wake.wait(until: timers.values.min())
        }
    }

    // MARK: Inputs

    /// Feeds one event to the machine: timer changes are applied at once, the rest queued.
    private func feed(_ event: GroupStateMachine.Event, now: ContinuousClock.Instant = .now) {
        let (actions, waitsForPoll) = group.machine.withLock { m in (m.handle(event, now: now), m.phase == .pollTimedOut) }
        for a in actions {
            switch a {
            case let .arm(t, at): timers[t] = at
            case let .disarm(t): timers[t] = nil
            default: pending.append(a)
            }
        }
        group.inbox.withLock { $0.wakeOnPoll = waitsForPoll }
    }

    private func absorbInbox() {
        let (events, sub, poll, leaves) = group.inbox.withLock { ib in
            defer { ib.events = []; ib.subscription = nil; ib.leaves = [] }
            return (ib.events, ib.subscription, ib.lastPoll, ib.leaves)
        }
        if let poll, poll != lastPollSeen {
            lastPollSeen = poll
            feed(.polled, now: poll)
        }
        if let sub {
            if closing == nil { apply(sub) } else { heldSubscription = sub }
        }
        for e in events { feed(e) }
        for l in leaves { beginLeave(l) }
    }

    private func apply(_ s: Subscription) {
        if s != subscription {
            subscription = s
            feed(.subscriptionChanged)
        }
        feed(.start)
    }

    private func beginLeave(_ leave: ConsumerGroup.LeaveRequest) {
        if var c = closing {
            c.final = c.final || leave.final
            c.ids += leave.ids
            closing = c
            return
        }
        closing = leave
        stopWatching()
        pending = pending.filter {
            switch $0 {
            case .revoke, .lose, .assign, .surface, .fail: return true
            default: return false
            }
        }
        feed(.leaveRequested)
    }

    /// After an unsubscribe: a new idle machine, ready for the next subscription.
    private func startOver() {
        closing = nil
        timers = [:]
        pending = []
        matched = [:]
        lastJoin = nil
        subscription = .topics([])
        group.machine.withLock { $0 = GroupStateMachine(settings: $0.settings, now: .now) }
        group.inbox.withLock { ib in
            ib.leaving = false
            ib.wakeOnPoll = false
        }
        if let s = heldSubscription {
            heldSubscription = nil
            apply(s)
        }
    }

    private func stopWatching() {
        watched = nil
        group.inbox.withLock { $0.watching = false }
    }

    // MARK: Actions

    /// Runs `body` as a task a leave can cancel; not started at all once a leave is pending.
    /// `held`: the broker may hold the request (JoinGroup, SyncGroup). A broker answers one
    /// connection's requests in order, so the LeaveGroup would wait behind it: interrupting
    /// it also drops the coordinator connection (the link reconnects for the LeaveGroup).
    private func interruptibly<T: Sendable>(_ fallback: T, held: Bool = false, _ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let group = self.group
        let started = group.inbox.withLock { ib -> Bool in
            if ib.leaving { return false }
            ib.cancelCurrent = {
                task.cancel()
                if held { group.coordinator.withLock { $0 }?.disconnect() }
            }
            return true
        }
        guard started else {
            task.cancel()
            return fallback
        }
        let result = await task.value
        group.inbox.withLock { $0.cancelCurrent = nil }
        return result
    }

    private func perform(_ action: GroupStateMachine.Action) async {
        let group = self.group
        config.client.log("cgrp", "group \(group.groupId): \(action) (phase \(group.phase))")
        switch action {
        case .findCoordinator:
            let answer = await interruptibly(GroupStateMachine.Event.coordinatorLost) { await group.findCoordinator() }
            answered(answer)
        case let .join(memberId):
            let sub = subscription
            if let resolved = await interruptibly(nil, { try? await group.resolve(sub) }) {
                matched = resolved
            }
            let topics = matched.keys.sorted()
            let (owned, generation) = group.machine.withLock { (Array($0.owned), $0.generation) }
            let (answer, response) = await interruptibly((GroupStateMachine.Event.coordinatorLost, nil), held: true) {
                await group.join(memberId: memberId, topics: topics, owned: owned, generation: generation)
            }
            if let response { lastJoin = response }
            answered(answer)
        case let .sync(generation, memberId, isLeader):
            let join = lastJoin
            let answer = await interruptibly(GroupStateMachine.Event.coordinatorLost, held: true) {
                await group.sync(generation: generation, memberId: memberId, isLeader: isLeader, join: join)
            }
            answered(answer)
        case let .heartbeat(generation, memberId):
            let answer = await interruptibly(GroupStateMachine.Event.heartbeatAnswered(code: nil)) {
                await group.heartbeat(generation: generation, memberId: memberId)
            }
            answered(answer)
        case let .leave(memberId, reason):
            if closing == nil {
                config.client.warn("cgrp", "group \(group.groupId): member \(memberId) leaves the group: \(reason)")
            }
            await group.sendLeave(memberId: memberId, reason: reason)
        case let .awaitApplication(partitions):
            host.consumer?.groupStopFetching(partitions)
            watched = partitions
            group.inbox.withLock { $0.watching = true }
        case let .revoke(partitions):
            await revoke(partitions)
        case let .lose(partitions):
            host.consumer?.groupStopFetching(partitions)
            await group.tell(.lost(partitions))
            host.consumer?.groupRemove(partitions)
        case let .assign(partitions):
            await assign(partitions)
        case .commitProcessed:
            guard let consumer = host.consumer else { return }
            await autoCommit(consumer.committablePositions(processedOnly: true, partitions: nil))
        case .checkSubscription:
            let sub = subscription
            if let resolved = await interruptibly(nil, { try? await group.resolve(sub) }), resolved != matched {
                matched = resolved
                answered(.subscriptionChanged)
            }
        case let .surface(error):
            config.client.warn("cgrp", "group \(group.groupId): \(error)")
            group.errorSink.yield(error)
        case let .fail(code, message):
            host.consumer?.groupFailed(KafkaError.broker(KafkaErrorCode(rawValue: code), "group \(group.groupId): \(message)"))
        case .arm, .disarm:
            break
        }
    }

    /// An answer counts after whatever arrived while it was awaited (see the type's doc).
    private func answered(_ event: GroupStateMachine.Event) {
        absorbInbox()
        feed(event)
    }

    private func revoke(_ partitions: [TopicPartition]) async {
        host.consumer?.groupStopFetching(partitions)
        await group.tell(.revoked(partitions))
        if config.enableAutoCommit, let consumer = host.consumer {
            // On close the application is done with everything it was given; during a
            // rebalance it may still be processing the latest records, so only what it
            // finished with is committed (at least once, never lost).
            let offsets = consumer.committablePositions(processedOnly: closing == nil, partitions: partitions)
            // Retried until it lands (the partitions' next owner starts from it): within the
            // close's time, else half a session (nothing heartbeats while this action runs).
            let budget = closing.map { $0.deadline - .now } ?? config.sessionTimeout / 2
            do {
                try await group.commitBeforeHandingBack(offsets, budget: max(budget, .zero))
            } catch {
                feed(.autoCommitFailed((error as? KafkaError) ?? KafkaError(.connection, "\(error)")))
            }
        }
        host.consumer?.groupRemove(partitions)
    }

    private func assign(_ partitions: [TopicPartition]) async {
        var starts: [TopicPartition: Int64] = [:]
        if !partitions.isEmpty {
            do {
                starts = try await group.committedOffsets(partitions, budget: config.sessionTimeout / 2)
            } catch {
                // Without committed offsets we must not guess a start: rejoin and try again.
                feed(.startPositionsUnknown)
                return
            }
        }
        group.lastCommitted.withLock { last in for (tp, o) in starts { last[tp] = o } }
        host.consumer?.groupAdd(partitions, committed: starts)
        await group.tell(.assigned(partitions))
    }

    private func autoCommit(_ offsets: [TopicPartition: Int64]) async {
        do {
            try await group.commit(offsets, onlyChanged: true)
        } catch {
            feed(.autoCommitFailed((error as? KafkaError) ?? KafkaError(.connection, "\(error)")))
        }
    }
}
