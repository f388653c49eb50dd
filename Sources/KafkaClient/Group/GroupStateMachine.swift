import KafkaProtocol

/// Membership in a classic consumer group (FindCoordinator → JoinGroup → SyncGroup → Heartbeat),
/// as a pure state machine: every input — an answer, a timer firing, the application finishing
/// a revocation, a leave request — is an `Event` with the current instant, every output a list
/// of actions for the group's executor to carry out in order. No I/O, no clock, so every rule —
/// which error means rejoin, which means the partitions are lost, when to heartbeat, when a
/// member that stopped reading must leave — is unit-tested without a broker.
///
/// Timers are actions too: after every event the machine compares the deadlines its state
/// implies with the ones it last asked for and appends `.arm(timer, at:)` / `.disarm(timer)`;
/// the executor sleeps until the earliest armed one and feeds `.timerFired` back.
///
/// Actions are executed strictly in order, and an action that hands partitions to the
/// application (`revoke`, `lose`) completes before the next one, so "revoked before the
/// partitions move" holds by construction.
struct GroupStateMachine: Sendable {
    struct Settings: Sendable {
        var groupId: String
        var instanceId: String?
        var sessionTimeout: Duration
        var heartbeatInterval: Duration
        var maxPollInterval: Duration
        var retryBackoff: Duration
        var rebalanceProtocol: RebalanceProtocol
        /// `auto.commit.interval.ms` when `enable.auto.commit`, else nil.
        var autoCommitInterval: Duration? = nil
        /// How often the subscription is resolved against fresh metadata (topics appearing,
        /// partition counts growing).
        var subscriptionCheckInterval: Duration = .seconds(30)
    }

    enum Phase: Sendable, Equatable {
        /// Not started, or waiting for a subscription.
        case idle
        case findingCoordinator
        case joining
        case syncing
        case stable
        /// Partitions are being handed back: waiting for the application to finish the records
        /// it was given (heartbeats go on), then revoke and rejoin.
        case revoking
        /// Left because the application stopped polling (`max.poll.interval.ms`); rejoins on the next poll.
        case pollTimedOut
        case closed
        /// A fatal error (fenced static member, group authorization, …); nothing more is sent.
        case failed
    }

    /// The machine's timers; each is armed at one instant at most.
    enum Timer: Sendable, Hashable, CaseIterable {
        case heartbeat
        /// No heartbeat got through for `session.timeout.ms`.
        case session
        /// `max.poll.interval.ms` after the last poll.
        case pollInterval
        /// The application's time to finish a revoked batch (`max.poll.interval.ms`).
        case revocation
        /// A request to send again after `retry.backoff.ms`.
        case retry
        case autoCommit
        case subscriptionCheck
    }

    enum Event: Sendable {
        /// A subscription exists: find the coordinator and join.
        case start
        case coordinatorFound
        /// FindCoordinator failed, a request answered NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE,
        /// or the coordinator connection broke.
        case coordinatorLost
        case joinAnswered(code: KafkaErrorCode, generation: Int32, memberId: String, leaderId: String)
        case syncAnswered(code: KafkaErrorCode, assigned: [TopicPartition])
        /// SyncGroup succeeded but its assignment bytes cannot be decoded.
        case assignmentUndecodable(KafkaError)
        /// A Heartbeat answer (`nil` code: the request failed in transport).
        case heartbeatAnswered(code: KafkaErrorCode?)
        /// An OffsetCommit answered a group-level error.
        case commitFailed(code: KafkaErrorCode)
        /// An automatic commit (periodic or on revocation) failed: the application hears of it.
        case autoCommitFailed(KafkaError)
        /// The committed offsets of newly assigned partitions could not be read: rejoin rather
        /// than guess where to start.
        case startPositionsUnknown
        /// A non-retriable error outside JoinGroup/SyncGroup/Heartbeat (e.g. FindCoordinator
        /// answering GROUP_AUTHORIZATION_FAILED).
        case fatal(code: KafkaErrorCode, api: String)
        /// The application asked for records (the event's instant is when).
        case polled
        /// The subscribed topics (or what a pattern matches) changed.
        case subscriptionChanged
        /// The application finished with every record of the partitions being revoked.
        case applicationFinished
        case timerFired(Timer)
        /// Clean shutdown (close or unsubscribe).
        case leaveRequested
    }

    enum Action: Sendable, Equatable {
        case findCoordinator
        /// JoinGroup with this member id ("" for a new dynamic member).
        case join(memberId: String)
        /// SyncGroup for this generation; the leader computes and sends the assignment.
        case sync(generation: Int32, memberId: String, isLeader: Bool)
        case heartbeat(generation: Int32, memberId: String)
        case leave(memberId: String, reason: String)
        /// Stop fetching these partitions and report `.applicationFinished` once the
        /// application has finished with what it was given of them.
        case awaitApplication([TopicPartition])
        /// Hand partitions back cleanly: the application may commit, then they stop being ours.
        case revoke([TopicPartition])
        /// Partitions already taken away (generation lost): the application must not commit them.
        case lose([TopicPartition])
        /// New partitions to start reading (positions from committed offsets).
        case assign([TopicPartition])
        /// Commit the processed positions (`enable.auto.commit`).
        case commitProcessed
        /// Resolve the subscription against fresh metadata; report `.subscriptionChanged`.
        case checkSubscription
        case arm(Timer, at: ContinuousClock.Instant)
        case disarm(Timer)
        /// A failure the member recovers from, told to the application (`groupErrors`).
        case surface(ConsumerGroupError)
        /// Fatal: the group cannot continue; surfaced to the application.
        case fail(code: Int16, message: String)
    }

    /// Partitions waiting for the application before they are revoked, and what follows.
    struct Revocation: Sendable {
        var partitions: [TopicPartition]
        var deadline: ContinuousClock.Instant
        /// Cooperative: partitions newly assigned by the same SyncGroup, assigned after the
        /// revocation (so the application hears "revoked" first).
        var thenAssign: [TopicPartition]?
    }

    // State, split over this file and `GroupStateMachine+Timers.swift`; changed only by `handle`.
    let settings: Settings
    var phase: Phase = .idle
    var memberId = ""
    var generation: Int32 = -1
    var isLeader = false
    /// Partitions this member owns now (after `assign`, before `revoke`/`lose`), not counting
    /// those waiting in `revocation`.
    var owned: Set<TopicPartition> = []
    var revocation: Revocation?
    var rejoinAfterSync = false
    var hasCoordinator = false
    var lastPoll: ContinuousClock.Instant
    var lastHeartbeatOK: ContinuousClock.Instant
    var nextHeartbeat: ContinuousClock.Instant
    var nextAutoCommit: ContinuousClock.Instant
    var nextSubscriptionCheck: ContinuousClock.Instant
    /// The request to send when the `.retry` timer fires.
    var retry: (action: Action, at: ContinuousClock.Instant)?
    /// The deadlines the executor was last told to arm.
    var armed: [Timer: ContinuousClock.Instant] = [:]

    init(settings: Settings, now: ContinuousClock.Instant) {
        self.settings = settings
        lastPoll = now
        lastHeartbeatOK = now
        nextHeartbeat = now
        nextAutoCommit = now + (settings.autoCommitInterval ?? .zero)
        nextSubscriptionCheck = now
    }

    var isStaticMember: Bool { settings.instanceId != nil }

    /// Feeds one event; returns what to do, ending with the timer changes it implies.
    mutating func handle(_ event: Event, now: ContinuousClock.Instant) -> [Action] {
        var actions = react(to: event, now: now)
        let wanted = wantedTimers()
        for t in Timer.allCases {
            switch (armed[t], wanted[t]) {
            case let (old, new?) where old != new: actions.append(.arm(t, at: new))
            case (_?, nil): actions.append(.disarm(t))
            default: break
            }
        }
        armed = wanted
        return actions
    }

    private mutating func react(to event: Event, now: ContinuousClock.Instant) -> [Action] {
        switch event {
        case .start:
            guard phase == .idle else { return [] }
            lastPoll = now
            nextSubscriptionCheck = now + settings.subscriptionCheckInterval
            if let i = settings.autoCommitInterval { nextAutoCommit = now + i }
            return findCoordinator()
        case .coordinatorFound: return coordinatorFound(now: now)
        case .coordinatorLost: return coordinatorLost(now: now)
        case let .joinAnswered(code, g, m, leader): return joinResponse(code: code, generation: g, memberId: m, leaderId: leader, now: now)
        case let .syncAnswered(code, assigned): return syncResponse(code: code, assigned: assigned, now: now)
        case let .assignmentUndecodable(error):
            guard phase == .syncing else { return [] }
            // Reading it as "nothing assigned" would silently stop consuming; a rejoin asks the
            // leader for a new assignment.
            let surfaced = Action.surface(ConsumerGroupError(.undecodableAssignment, generationId: generation, error))
            return [surfaced] + syncResponse(code: .rebalanceInProgress, assigned: [], now: now)
        case let .heartbeatAnswered(code): return heartbeatResponse(code: code, now: now)
        case let .commitFailed(code):
            guard phase == .stable else { return [] }
            return generationError(code, now: now) ?? []
        case let .autoCommitFailed(error):
            // Not fatal (the next round commits again) but never silent: a group whose
            // auto-commits keep failing re-reads data after a restart.
            return [.surface(ConsumerGroupError(.autoCommitFailed, generationId: generation >= 0 ? generation : nil, error))]
        case .startPositionsUnknown:
            guard phase == .stable else { return [] }
            return beginJoin(now: now)
        case let .fatal(code, api):
            guard isActive else { return [] }
            return fail(code, api)
        case .polled:
            lastPoll = max(lastPoll, now)
            if phase == .pollTimedOut { return findCoordinator() }
            return []
        case .subscriptionChanged:
            switch phase {
            case .stable: return beginJoin(now: now)
            case .joining, .syncing, .findingCoordinator:
                rejoinAfterSync = true
                return []
            default: return []
            }
        case .applicationFinished: return finishRevocation(now: now)
        case let .timerFired(t):
            armed[t] = nil
            return timerFired(t, now: now)
        case .leaveRequested: return close()
        }
    }

    var isActive: Bool {
        switch phase {
        case .idle, .closed, .failed, .pollTimedOut: return false
        default: return true
        }
    }

    mutating func findCoordinator() -> [Action] {
        phase = .findingCoordinator
        retry = nil
        return [.findCoordinator]
    }

    /// Sends `action` after `retry.backoff.ms` (the `.retry` timer), not at once.
    mutating func later(_ action: Action, now: ContinuousClock.Instant) -> [Action] {
        retry = (action, now + settings.retryBackoff)
        return []
    }

    /// Joining (again). Eager members give everything back first (after the application
    /// finished with it); cooperative members keep reading their partitions through the rebalance.
    mutating func beginJoin(now: ContinuousClock.Instant) -> [Action] {
        if settings.rebalanceProtocol == .eager, !owned.isEmpty {
            let revoked = sorted(owned)
            owned = []
            return beginRevocation(revoked, thenAssign: nil, now: now)
        }
        phase = .joining
        retry = nil
        // This join is the rejoin a lost coordinator or a changed subscription asked for (it
        // carries the subscription as it is now): another after its SyncGroup would be one
        // rebalance too many for the whole group.
        rejoinAfterSync = false
        return [.join(memberId: memberId)]
    }

    /// The generation is gone: whatever we owned is lost, not revoked (someone else may already
    /// be reading it, so committing would be wrong).
    mutating func resetGeneration() -> [Action] {
        generation = -1
        let lost = owned.union(revocation?.partitions ?? [])
        owned = []
        revocation = nil
        if phase == .revoking { phase = .joining }
        return lost.isEmpty ? [] : [.lose(sorted(lost))]
    }

    mutating func fail(_ code: KafkaErrorCode, _ api: String) -> [Action] {
        let lost = resetGeneration()
        phase = .failed
        retry = nil
        return lost + [.fail(code: code.rawValue, message: "\(api): \(code.name): \(code.message)")]
    }

    func sorted(_ s: some Sequence<TopicPartition>) -> [TopicPartition] {
        s.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
