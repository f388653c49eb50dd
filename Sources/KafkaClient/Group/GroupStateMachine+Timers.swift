/// The machine's timers, the revocation hand-over and shutdown. Deadlines live in the
/// machine's state; `wantedTimers` derives which timers should be armed from it, so a timer
/// cannot outlive the phase it belongs to.
extension GroupStateMachine {
    /// The instant each timer should fire at, given the state now.
    func wantedTimers() -> [Timer: ContinuousClock.Instant] {
        var t: [Timer: ContinuousClock.Instant] = [:]
        guard isActive else { return t }
        t[.pollInterval] = lastPoll + settings.maxPollInterval
        if phase == .stable || phase == .revoking {
            t[.heartbeat] = nextHeartbeat
            t[.session] = lastHeartbeatOK + settings.sessionTimeout
        }
        if phase == .revoking, let r = revocation { t[.revocation] = r.deadline }
        if let r = retry { t[.retry] = r.at }
        if settings.autoCommitInterval != nil { t[.autoCommit] = nextAutoCommit }
        t[.subscriptionCheck] = nextSubscriptionCheck
        return t
    }

    /// One timer's deadline passed. Every branch either moves the deadline forward or leaves
    /// the phase the timer belongs to, so a timer never fires twice for one deadline.
    mutating func timerFired(_ timer: Timer, now: ContinuousClock.Instant) -> [Action] {
        switch timer {
        case .heartbeat:
            guard phase == .stable || phase == .revoking else { return [] }
            nextHeartbeat = now + settings.heartbeatInterval
            return [.heartbeat(generation: generation, memberId: memberId)]
        case .session:
            guard phase == .stable || phase == .revoking, now - lastHeartbeatOK >= settings.sessionTimeout else { return [] }
            // No heartbeat got through for a whole session: the coordinator has removed us.
            let lost = resetGeneration()
            hasCoordinator = false
            return lost + findCoordinator()
        case .pollInterval:
            guard isActive, now - lastPoll >= settings.maxPollInterval else { return [] }
            return pollTimedOut()
        case .revocation:
            // The application did not finish its batch in max.poll.interval.ms: revoke anyway
            // (what it processed is committed), or the whole group waits for it.
            return finishRevocation(now: now)
        case .retry:
            guard let r = retry else { return [] }
            retry = nil
            switch r.action {
            case .findCoordinator where phase == .findingCoordinator: return [.findCoordinator]
            case .join where phase == .joining: return [.join(memberId: memberId)]
            default: return []
            }
        case .autoCommit:
            guard let interval = settings.autoCommitInterval else { return [] }
            nextAutoCommit = now + interval
            return phase == .stable ? [.commitProcessed] : []
        case .subscriptionCheck:
            nextSubscriptionCheck = now + settings.subscriptionCheckInterval
            return phase == .stable ? [.checkSubscription] : []
        }
    }

    /// The application stopped reading: leave so the others take over, and say so.
    private mutating func pollTimedOut() -> [Action] {
        let lost = owned.union(revocation?.partitions ?? [])
        var actions = lost.isEmpty ? [] : [Action.lose(sorted(lost))]
        owned = []
        revocation = nil
        retry = nil
        if !isStaticMember && !memberId.isEmpty {
            actions.append(.leave(memberId: memberId, reason: "consumer poll timeout has expired (max.poll.interval.ms \(settings.maxPollInterval))"))
        }
        if !isStaticMember { memberId = "" }
        generation = -1
        phase = .pollTimedOut
        return actions
    }

    // MARK: Revocation

    /// Like the Java client, which revokes inside poll(): first the application finishes what
    /// it was given of `partitions` (it asks for more), so the commit that follows the
    /// revocation neither loses nor repeats. Bounded by `max.poll.interval.ms`. Heartbeats go
    /// on meanwhile: the coordinator keeps the session alive through a rebalance only then.
    mutating func beginRevocation(_ partitions: [TopicPartition], thenAssign: [TopicPartition]?, now: ContinuousClock.Instant) -> [Action] {
        phase = .revoking
        retry = nil
        revocation = Revocation(partitions: partitions, deadline: now + settings.maxPollInterval, thenAssign: thenAssign)
        return [.awaitApplication(partitions)]
    }

    /// The application finished (or ran out of time): revoke, assign what the same SyncGroup
    /// added (cooperative), and rejoin.
    mutating func finishRevocation(now: ContinuousClock.Instant) -> [Action] {
        guard phase == .revoking, let r = revocation else { return [] }
        revocation = nil
        var actions: [Action] = [.revoke(r.partitions)]
        if let added = r.thenAssign {
            owned.formUnion(added)
            actions.append(.assign(added))
        }
        rejoinAfterSync = false
        if !hasCoordinator {
            rejoinAfterSync = true
            return actions + findCoordinator()
        }
        return actions + beginJoin(now: now)
    }

    // MARK: Shutdown

    /// Clean shutdown: revoke without waiting (so the application commits), then leave —
    /// static members do not leave, so a restart within the session timeout keeps their
    /// partitions (KIP-345).
    mutating func close() -> [Action] {
        guard phase != .closed else { return [] }
        var actions: [Action] = []
        let handBack = owned.union(revocation?.partitions ?? [])
        if !handBack.isEmpty, phase != .failed { actions.append(.revoke(sorted(handBack))) }
        owned = []
        revocation = nil
        retry = nil
        if !isStaticMember, !memberId.isEmpty, hasCoordinator, phase != .failed, phase != .pollTimedOut {
            actions.append(.leave(memberId: memberId, reason: "the consumer is being closed"))
        }
        phase = .closed
        return actions
    }
}
