import KafkaProtocol

/// Membership in a classic consumer group (FindCoordinator → JoinGroup → SyncGroup → Heartbeat),
/// as a pure state machine: every input is an event with the current instant, every output a
/// list of actions for `ConsumerGroup` to carry out in order. No I/O, no clock, so every rule —
/// which error means rejoin, which means the partitions are lost, when to heartbeat, when a
/// member that stopped reading must leave — is unit-tested without a broker.
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
    }

    enum Phase: Sendable, Equatable {
        /// Not started, or waiting for a subscription.
        case idle
        case findingCoordinator
        case joining
        case syncing
        case stable
        /// Left because the application stopped polling (`max.poll.interval.ms`); rejoins on the next poll.
        case pollTimedOut
        case closed
        /// A fatal error (fenced static member, group authorization, …); nothing more is sent.
        case failed
    }

    enum Action: Sendable, Equatable {
        case findCoordinator
        /// JoinGroup with this member id ("" for a new dynamic member).
        case join(memberId: String)
        /// SyncGroup for this generation; the leader computes and sends the assignment.
        case sync(generation: Int32, memberId: String, isLeader: Bool)
        case heartbeat(generation: Int32, memberId: String)
        case leave(memberId: String, reason: String)
        /// Hand partitions back cleanly: the application may commit, then they stop being ours.
        case revoke([TopicPartition])
        /// Partitions already taken away (generation lost): the application must not commit them.
        case lose([TopicPartition])
        /// New partitions to start reading (positions from committed offsets).
        case assign([TopicPartition])
        case backoff(Duration)
        /// Fatal: the group cannot continue; surfaced to the application.
        case fail(code: Int16, message: String)
    }

    let settings: Settings
    private(set) var phase: Phase = .idle
    private(set) var memberId = ""
    private(set) var generation: Int32 = -1
    private(set) var isLeader = false
    /// Partitions this member owns now (after `assign`, before `revoke`/`lose`).
    private(set) var owned: Set<TopicPartition> = []
    private var rejoinAfterSync = false
    private var hasCoordinator = false
    private var lastPoll: ContinuousClock.Instant
    private var lastHeartbeatOK: ContinuousClock.Instant
    private var nextHeartbeat: ContinuousClock.Instant

    init(settings: Settings, now: ContinuousClock.Instant) {
        self.settings = settings
        lastPoll = now
        lastHeartbeatOK = now
        nextHeartbeat = now
    }

    var isStaticMember: Bool { settings.instanceId != nil }

    // MARK: Events

    /// A subscription exists: find the coordinator and join.
    mutating func start(now: ContinuousClock.Instant) -> [Action] {
        guard phase == .idle else { return [] }
        lastPoll = now
        return findCoordinator()
    }

    mutating func coordinatorFound(now: ContinuousClock.Instant) -> [Action] {
        guard phase == .findingCoordinator else { return [] }
        hasCoordinator = true
        // A member that still holds a valid generation goes back to heartbeating; the
        // coordinator decides whether a rebalance is due.
        if generation >= 0, !memberId.isEmpty, !rejoinAfterSync {
            phase = .stable
            nextHeartbeat = now
            return []
        }
        return beginJoin()
    }

    /// FindCoordinator failed, or a request answered NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE,
    /// or the coordinator connection broke.
    mutating func coordinatorLost() -> [Action] {
        guard isActive else { return [] }
        hasCoordinator = false
        if phase == .joining || phase == .syncing { rejoinAfterSync = true }
        phase = .findingCoordinator
        return [.backoff(settings.retryBackoff), .findCoordinator]
    }

    mutating func joinResponse(code: KafkaErrorCode, generation g: Int32, memberId m: String, leaderId: String, now: ContinuousClock.Instant) -> [Action] {
        guard phase == .joining else { return [] }
        switch code {
        case .noError:
            generation = g
            memberId = m
            isLeader = !m.isEmpty && m == leaderId
            phase = .syncing
            return [.sync(generation: g, memberId: m, isLeader: isLeader)]
        case .memberIdRequired:
            // KIP-394: the broker hands out the id and expects an immediate rejoin with it.
            memberId = m
            return [.join(memberId: m)]
        case .unknownMemberId:
            memberId = ""
            return resetGeneration() + [.join(memberId: "")]
        case .illegalGeneration:
            return resetGeneration() + [.join(memberId: memberId)]
        case .notCoordinator, .coordinatorNotAvailable:
            return coordinatorLost()
        case .coordinatorLoadInProgress, .rebalanceInProgress:
            return [.backoff(settings.retryBackoff), .join(memberId: memberId)]
        default:
            if code.isRetriable { return [.backoff(settings.retryBackoff), .join(memberId: memberId)] }
            return fail(code, "JoinGroup")
        }
    }

    mutating func syncResponse(code: KafkaErrorCode, assigned: [TopicPartition], now: ContinuousClock.Instant) -> [Action] {
        guard phase == .syncing else { return [] }
        switch code {
        case .noError:
            phase = .stable
            lastHeartbeatOK = now
            nextHeartbeat = now + settings.heartbeatInterval
            var actions: [Action] = []
            let target = Set(assigned)
            let revoked = owned.subtracting(target)
            let added = target.subtracting(owned)
            if !revoked.isEmpty {
                // Cooperative: give up only what moved, then rejoin so it can be handed on.
                // (Eager members revoked everything before joining, so `owned` is empty.)
                owned.subtract(revoked)
                actions.append(.revoke(sorted(revoked)))
                rejoinAfterSync = true
            }
            owned.formUnion(added)
            actions.append(.assign(sorted(added)))
            if rejoinAfterSync {
                rejoinAfterSync = false
                actions += beginJoin()
            }
            return actions
        default:
            if let actions = generationError(code) { return actions }
            if code.isRetriable { return [.backoff(settings.retryBackoff)] + beginJoin() }
            return fail(code, "SyncGroup")
        }
    }

    /// A Heartbeat answer (`nil` code: the request failed in transport).
    mutating func heartbeatResponse(code: KafkaErrorCode?, now: ContinuousClock.Instant) -> [Action] {
        guard phase == .stable else { return [] }
        guard let code else {
            nextHeartbeat = now + settings.retryBackoff
            return coordinatorLost()
        }
        switch code {
        case .noError:
            lastHeartbeatOK = now
            nextHeartbeat = now + settings.heartbeatInterval
            return []
        case .rebalanceInProgress:
            lastHeartbeatOK = now
            return beginJoin()
        default:
            if let actions = generationError(code) { return actions }
            if code.isRetriable {
                nextHeartbeat = now + settings.retryBackoff
                return []
            }
            return fail(code, "Heartbeat")
        }
    }

    /// An OffsetCommit answered a group-level error: the generation moved on.
    mutating func commitFailed(code: KafkaErrorCode) -> [Action] {
        guard phase == .stable else { return [] }
        return generationError(code) ?? []
    }

    /// A non-retriable error outside JoinGroup/SyncGroup/Heartbeat (e.g. FindCoordinator
    /// answering GROUP_AUTHORIZATION_FAILED).
    mutating func fatal(_ code: KafkaErrorCode, api: String) -> [Action] {
        guard isActive else { return [] }
        return fail(code, api)
    }

    /// The application asked for records.
    mutating func polled(now: ContinuousClock.Instant) -> [Action] {
        lastPoll = now
        if phase == .pollTimedOut { return findCoordinator() }
        return []
    }

    /// The subscribed topics (or what a pattern matches) changed.
    mutating func subscriptionChanged() -> [Action] {
        switch phase {
        case .stable: return beginJoin()
        case .joining, .syncing, .findingCoordinator:
            rejoinAfterSync = true
            return []
        default: return []
        }
    }

    /// Periodic: heartbeats, the session and the poll interval.
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        guard isActive else { return [] }
        if now - lastPoll > settings.maxPollInterval {
            // The application stopped reading: leave so the others take over, and say so.
            var actions = owned.isEmpty ? [] : [Action.lose(sorted(owned))]
            owned = []
            if !isStaticMember && !memberId.isEmpty {
                actions.append(.leave(memberId: memberId, reason: "consumer poll timeout has expired (max.poll.interval.ms \(settings.maxPollInterval))"))
            }
            if !isStaticMember { memberId = "" }
            generation = -1
            phase = .pollTimedOut
            return actions
        }
        guard phase == .stable else { return [] }
        if now - lastHeartbeatOK > settings.sessionTimeout {
            // No heartbeat got through for a whole session: the coordinator has removed us.
            return resetGeneration() + coordinatorLost()
        }
        if now >= nextHeartbeat {
            nextHeartbeat = now + settings.heartbeatInterval
            return [.heartbeat(generation: generation, memberId: memberId)]
        }
        return []
    }

    /// When `tick` next has something to do.
    func nextWake(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        var wake = lastPoll + settings.maxPollInterval
        if phase == .stable {
            wake = min(wake, nextHeartbeat, lastHeartbeatOK + settings.sessionTimeout)
        }
        return max(wake, now)
    }

    /// Clean shutdown: revoke (so the application commits), then leave — static members do not
    /// leave, so a restart within the session timeout keeps their partitions (KIP-345).
    mutating func close() -> [Action] {
        guard phase != .closed else { return [] }
        var actions: [Action] = []
        if !owned.isEmpty, phase != .failed { actions.append(.revoke(sorted(owned))) }
        owned = []
        if !isStaticMember, !memberId.isEmpty, hasCoordinator, phase != .failed, phase != .pollTimedOut {
            actions.append(.leave(memberId: memberId, reason: "the consumer is being closed"))
        }
        phase = .closed
        return actions
    }

    // MARK: Helpers

    /// The answers that mean the same after SyncGroup, Heartbeat and OffsetCommit: a rebalance
    /// (rejoin), a dead generation or member (lose, rejoin), a moved coordinator. Nil otherwise.
    private mutating func generationError(_ code: KafkaErrorCode) -> [Action]? {
        switch code {
        case .rebalanceInProgress: return beginJoin()
        case .unknownMemberId:
            memberId = ""
            return resetGeneration() + beginJoin()
        case .illegalGeneration: return resetGeneration() + beginJoin()
        case .notCoordinator, .coordinatorNotAvailable: return coordinatorLost()
        default: return nil
        }
    }

    private var isActive: Bool {
        switch phase {
        case .idle, .closed, .failed, .pollTimedOut: return false
        default: return true
        }
    }

    private mutating func findCoordinator() -> [Action] {
        phase = .findingCoordinator
        return [.findCoordinator]
    }

    /// Joining (again). Eager members give everything back first; cooperative members keep
    /// reading their partitions through the rebalance.
    private mutating func beginJoin() -> [Action] {
        var actions: [Action] = []
        if settings.rebalanceProtocol == .eager, !owned.isEmpty {
            actions.append(.revoke(sorted(owned)))
            owned = []
        }
        phase = .joining
        actions.append(.join(memberId: memberId))
        return actions
    }

    /// The generation is gone: whatever we owned is lost, not revoked (someone else may already
    /// be reading it, so committing would be wrong).
    private mutating func resetGeneration() -> [Action] {
        generation = -1
        let lost = owned
        owned = []
        return lost.isEmpty ? [] : [.lose(sorted(lost))]
    }

    private mutating func fail(_ code: KafkaErrorCode, _ api: String) -> [Action] {
        phase = .failed
        let lost = owned
        owned = []
        return (lost.isEmpty ? [] : [.lose(sorted(lost))]) + [.fail(code: code.rawValue, message: "\(api): \(code.name): \(code.message)")]
    }

    private func sorted(_ s: Set<TopicPartition>) -> [TopicPartition] {
        s.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
