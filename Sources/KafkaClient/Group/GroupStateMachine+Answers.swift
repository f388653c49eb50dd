import KafkaProtocol

/// How the machine reads the coordinator's answers: which error means retry, rejoin,
/// rediscover, lose the partitions, or stop.
extension GroupStateMachine {

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
        return beginJoin(now: now)
    }

    mutating func coordinatorLost(now: ContinuousClock.Instant) -> [Action] {
        guard isActive else { return [] }
        hasCoordinator = false
        // Mid-revocation the application's batch comes first; the rejoin after it rediscovers.
        if phase == .revoking { return [] }
        if phase == .joining || phase == .syncing { rejoinAfterSync = true }
        phase = .findingCoordinator
        return later(.findCoordinator, now: now)
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
            return coordinatorLost(now: now)
        case .coordinatorLoadInProgress, .rebalanceInProgress:
            return later(.join(memberId: memberId), now: now)
        default:
            if code.isRetriable { return later(.join(memberId: memberId), now: now) }
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
            let target = Set(assigned)
            let revoked = owned.subtracting(target)
            let added = target.subtracting(owned)
            if !revoked.isEmpty {
                // Cooperative: give up only what moved (after the application finished with
                // it), then rejoin so it can be handed on. (Eager members revoked everything
                // before joining, so `owned` is empty.)
                owned.subtract(revoked)
                rejoinAfterSync = true
                return beginRevocation(sorted(revoked), thenAssign: sorted(added), now: now)
            }
            owned.formUnion(added)
            var actions: [Action] = [.assign(sorted(added))]
            if rejoinAfterSync {
                rejoinAfterSync = false
                actions += beginJoin(now: now)
            }
            return actions
        default:
            if let actions = generationError(code, now: now) { return actions }
            if code.isRetriable {
                phase = .joining
                return later(.join(memberId: memberId), now: now)
            }
            return fail(code, "SyncGroup")
        }
    }

    mutating func heartbeatResponse(code: KafkaErrorCode?, now: ContinuousClock.Instant) -> [Action] {
        guard phase == .stable || phase == .revoking else { return [] }
        if phase == .revoking { return heartbeatWhileRevoking(code: code, now: now) }
        guard let code else {
            nextHeartbeat = now + settings.retryBackoff
            return coordinatorLost(now: now)
        }
        switch code {
        case .noError:
            lastHeartbeatOK = now
            nextHeartbeat = now + settings.heartbeatInterval
            return []
        case .rebalanceInProgress:
            lastHeartbeatOK = now
            nextHeartbeat = now + settings.heartbeatInterval
            return beginJoin(now: now)
        default:
            if let actions = generationError(code, now: now) { return actions }
            if code.isRetriable {
                nextHeartbeat = now + settings.retryBackoff
                return []
            }
            return fail(code, "Heartbeat")
        }
    }

    /// While the application finishes a revoked batch the member only keeps its session
    /// alive: REBALANCE_IN_PROGRESS is expected, a lost generation turns the revocation into a
    /// loss, anything retriable is tried again.
    mutating func heartbeatWhileRevoking(code: KafkaErrorCode?, now: ContinuousClock.Instant) -> [Action] {
        switch code {
        case .noError?, .rebalanceInProgress?:
            lastHeartbeatOK = now
            nextHeartbeat = now + settings.heartbeatInterval
            return []
        case .unknownMemberId?:
            memberId = ""
            return resetGeneration() + beginJoin(now: now)
        case .illegalGeneration?:
            return resetGeneration() + beginJoin(now: now)
        case let code? where !code.isRetriable && code != .notCoordinator && code != .coordinatorNotAvailable:
            return fail(code, "Heartbeat")
        default:
            nextHeartbeat = now + settings.retryBackoff
            return []
        }
    }

    /// The answers that mean the same after SyncGroup, Heartbeat and OffsetCommit: a rebalance
    /// (rejoin), a dead generation or member (lose, rejoin), a moved coordinator. Nil otherwise.
    mutating func generationError(_ code: KafkaErrorCode, now: ContinuousClock.Instant) -> [Action]? {
        switch code {
        case .rebalanceInProgress: return beginJoin(now: now)
        case .unknownMemberId:
            memberId = ""
            return resetGeneration() + beginJoin(now: now)
        case .illegalGeneration: return resetGeneration() + beginJoin(now: now)
        case .notCoordinator, .coordinatorNotAvailable: return coordinatorLost(now: now)
        default: return nil
        }
    }
}
