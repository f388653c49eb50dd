import Testing
@testable import KafkaClient

/// The membership state machine without I/O: each test drives it with events and checks the
/// actions it asks for.
struct GroupStateMachineTests {
    typealias M = GroupStateMachine
    let t0 = ContinuousClock.now
    let tp0 = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)
    let tp2 = TopicPartition(topic: "t", partition: 2)

    func machine(_ proto: RebalanceProtocol = .eager, instance: String? = nil) -> M {
        M(settings: .init(groupId: "g", instanceId: instance, sessionTimeout: .seconds(10), heartbeatInterval: .seconds(3),
                          maxPollInterval: .seconds(60), retryBackoff: .milliseconds(100), rebalanceProtocol: proto), now: t0)
    }

    /// start → coordinator → join (member id required) → sync → stable with partitions.
    func joined(_ proto: RebalanceProtocol = .eager, instance: String? = nil, assigned: [TopicPartition]) -> M {
        var m = machine(proto, instance: instance)
        _ = m.start(now: t0)
        _ = m.coordinatorFound(now: t0)
        _ = m.joinResponse(code: .noError, generation: 1, memberId: "m1", leaderId: "m1", now: t0)
        _ = m.syncResponse(code: .noError, assigned: assigned, now: t0)
        return m
    }

    @Test func firstJoinFollowsKIP394AndAssigns() {
        var m = machine()
        #expect(m.start(now: t0) == [.findCoordinator])
        #expect(m.phase == .findingCoordinator)
        #expect(m.coordinatorFound(now: t0) == [.join(memberId: "")])
        // The broker hands out a member id and asks us to join again with it.
        #expect(m.joinResponse(code: .memberIdRequired, generation: -1, memberId: "m1", leaderId: "", now: t0) == [.join(memberId: "m1")])
        #expect(m.joinResponse(code: .noError, generation: 5, memberId: "m1", leaderId: "m2", now: t0) == [.sync(generation: 5, memberId: "m1", isLeader: false)])
        #expect(m.isLeader == false)
        #expect(m.syncResponse(code: .noError, assigned: [tp1, tp0], now: t0) == [.assign([tp0, tp1])])
        #expect(m.phase == .stable)
        #expect(m.generation == 5)
        #expect(m.owned == [tp0, tp1])
    }

    @Test func heartbeatsOnScheduleAndNotBefore() {
        var m = joined(assigned: [tp0])
        #expect(m.tick(now: t0 + .seconds(1)) == [])
        #expect(m.nextWake(now: t0) == t0 + .seconds(3))
        #expect(m.tick(now: t0 + .seconds(3)) == [.heartbeat(generation: 1, memberId: "m1")])
        // Not again until the answer moved the schedule.
        #expect(m.tick(now: t0 + .seconds(3)) == [])
        #expect(m.heartbeatResponse(code: .noError, now: t0 + .seconds(3)) == [])
        #expect(m.tick(now: t0 + .seconds(5)) == [])
        #expect(m.tick(now: t0 + .seconds(6)) == [.heartbeat(generation: 1, memberId: "m1")])
    }

    @Test func eagerRebalanceRevokesEverythingBeforeJoining() {
        var m = joined(.eager, assigned: [tp0, tp1])
        #expect(m.heartbeatResponse(code: .rebalanceInProgress, now: t0) == [.revoke([tp0, tp1]), .join(memberId: "m1")])
        #expect(m.owned.isEmpty)
        _ = m.joinResponse(code: .noError, generation: 2, memberId: "m1", leaderId: "m1", now: t0)
        #expect(m.syncResponse(code: .noError, assigned: [tp1], now: t0) == [.assign([tp1])])
    }

    @Test func cooperativeRebalanceKeepsPartitionsAndRevokesOnlyWhatMoved() {
        var m = joined(.cooperative, assigned: [tp0, tp1, tp2])
        // Keeps reading through the rebalance: nothing revoked before joining.
        #expect(m.heartbeatResponse(code: .rebalanceInProgress, now: t0) == [.join(memberId: "m1")])
        #expect(m.owned == [tp0, tp1, tp2])
        _ = m.joinResponse(code: .noError, generation: 2, memberId: "m1", leaderId: "m1", now: t0)
        // tp2 moves away: revoke only it, assign nothing new, and rejoin so it can be handed on.
        #expect(m.syncResponse(code: .noError, assigned: [tp0, tp1], now: t0) == [.revoke([tp2]), .assign([]), .join(memberId: "m1")])
        _ = m.joinResponse(code: .noError, generation: 3, memberId: "m1", leaderId: "m1", now: t0)
        #expect(m.syncResponse(code: .noError, assigned: [tp0, tp1], now: t0) == [.assign([])])
        #expect(m.phase == .stable)
    }

    @Test func generationErrorsLoseThePartitionsInsteadOfRevoking() {
        var m = joined(.cooperative, assigned: [tp0])
        #expect(m.heartbeatResponse(code: .illegalGeneration, now: t0) == [.lose([tp0]), .join(memberId: "m1")])
        #expect(m.generation == -1)
        var n = joined(.eager, assigned: [tp0])
        // Unknown member: lost, and the member id is forgotten.
        #expect(n.heartbeatResponse(code: .unknownMemberId, now: t0) == [.lose([tp0]), .join(memberId: "")])
        #expect(n.memberId == "")
    }

    @Test func coordinatorMovesAreRediscoveredWithoutLosingTheAssignment() {
        var m = joined(assigned: [tp0])
        #expect(m.heartbeatResponse(code: .notCoordinator, now: t0) == [.backoff(.milliseconds(100)), .findCoordinator])
        #expect(m.owned == [tp0])
        // Still a member of generation 1: back to heartbeating, no rejoin.
        #expect(m.coordinatorFound(now: t0 + .seconds(1)) == [])
        #expect(m.phase == .stable)
        #expect(m.tick(now: t0 + .seconds(1)) == [.heartbeat(generation: 1, memberId: "m1")])
        // A transport failure of a heartbeat also rediscovers.
        #expect(m.heartbeatResponse(code: nil, now: t0 + .seconds(1)) == [.backoff(.milliseconds(100)), .findCoordinator])
    }

    @Test func coordinatorLostDuringJoinRejoinsAfterRediscovery() {
        var m = machine()
        _ = m.start(now: t0)
        _ = m.coordinatorFound(now: t0)
        #expect(m.joinResponse(code: .coordinatorNotAvailable, generation: -1, memberId: "", leaderId: "", now: t0) == [.backoff(.milliseconds(100)), .findCoordinator])
        #expect(m.coordinatorFound(now: t0) == [.join(memberId: "")])
        #expect(m.joinResponse(code: .coordinatorLoadInProgress, generation: -1, memberId: "", leaderId: "", now: t0) == [.backoff(.milliseconds(100)), .join(memberId: "")])
    }

    @Test func syncErrorsRejoin() {
        var m = machine()
        _ = m.start(now: t0)
        _ = m.coordinatorFound(now: t0)
        _ = m.joinResponse(code: .noError, generation: 1, memberId: "m1", leaderId: "m1", now: t0)
        #expect(m.syncResponse(code: .rebalanceInProgress, assigned: [], now: t0) == [.join(memberId: "m1")])
        _ = m.joinResponse(code: .noError, generation: 2, memberId: "m1", leaderId: "m1", now: t0)
        #expect(m.syncResponse(code: .unknownMemberId, assigned: [], now: t0) == [.join(memberId: "")])
    }

    @Test func fatalErrorsStopTheMember() {
        var m = joined(.eager, instance: "i1", assigned: [tp0])
        let actions = m.heartbeatResponse(code: .fencedInstanceId, now: t0)
        #expect(actions.first == .lose([tp0]))
        guard case let .fail(code, message)? = actions.last else { Issue.record("no fail action"); return }
        #expect(code == KafkaErrorCode.fencedInstanceId.rawValue)
        #expect(message.contains("FENCED_INSTANCE_ID"))
        #expect(m.phase == .failed)
        #expect(m.tick(now: t0 + .seconds(100)) == [])
        var j = machine()
        _ = j.start(now: t0)
        _ = j.coordinatorFound(now: t0)
        #expect(j.joinResponse(code: .groupAuthorizationFailed, generation: -1, memberId: "", leaderId: "", now: t0).last.map { if case .fail = $0 { true } else { false } } == true)
    }

    @Test func aMemberThatStopsPollingLeavesAndRejoinsOnTheNextPoll() {
        var m = joined(assigned: [tp0, tp1])
        _ = m.polled(now: t0 + .seconds(30))
        // Heartbeats keep going however long the application takes between polls...
        for s in stride(from: 3, through: 90, by: 3) {
            #expect(m.tick(now: t0 + .seconds(s)) == [.heartbeat(generation: 1, memberId: "m1")])
            _ = m.heartbeatResponse(code: .noError, now: t0 + .seconds(s))
        }
        // ...until max.poll.interval.ms (60 s) after its last poll.
        let actions = m.tick(now: t0 + .seconds(91))
        #expect(actions.first == .lose([tp0, tp1]))
        guard case let .leave(id, reason)? = actions.last else { Issue.record("no leave"); return }
        #expect(id == "m1")
        #expect(reason.contains("max.poll.interval.ms"))
        #expect(m.phase == .pollTimedOut)
        #expect(m.tick(now: t0 + .seconds(200)) == [])
        #expect(m.polled(now: t0 + .seconds(200)) == [.findCoordinator])
    }

    @Test func staticMemberDoesNotLeaveOnPollTimeoutOrClose() {
        var m = joined(instance: "host-1", assigned: [tp0])
        #expect(m.close() == [.revoke([tp0])])
        var n = joined(instance: "host-1", assigned: [tp0])
        #expect(n.tick(now: t0 + .seconds(61)) == [.lose([tp0])])
        #expect(n.memberId == "m1")
    }

    @Test func closeRevokesThenLeaves() {
        var m = joined(assigned: [tp0, tp1])
        #expect(m.close() == [.revoke([tp0, tp1]), .leave(memberId: "m1", reason: "the consumer is being closed")])
        #expect(m.phase == .closed)
        #expect(m.close() == [])
        // Late answers after close are ignored.
        #expect(m.heartbeatResponse(code: .rebalanceInProgress, now: t0) == [])
    }

    @Test func sessionExpiryWithoutHeartbeatsLosesThePartitions() {
        var m = joined(assigned: [tp0])
        // Heartbeats keep failing with a retriable error for longer than the session.
        #expect(m.heartbeatResponse(code: .requestTimedOut, now: t0 + .seconds(3)) == [])
        let actions = m.tick(now: t0 + .seconds(11))
        #expect(actions.first == .lose([tp0]))
        #expect(actions.last == .findCoordinator)
        #expect(m.generation == -1)
    }

    @Test func subscriptionChangeRejoinsOnceEvenMidJoin() {
        var m = joined(.cooperative, assigned: [tp0])
        #expect(m.subscriptionChanged() == [.join(memberId: "m1")])
        // Changed again while joining: one more join after this sync, not a second concurrent one.
        #expect(m.subscriptionChanged() == [])
        _ = m.joinResponse(code: .noError, generation: 2, memberId: "m1", leaderId: "m1", now: t0)
        #expect(m.syncResponse(code: .noError, assigned: [tp0], now: t0) == [.assign([]), .join(memberId: "m1")])
    }

    @Test func commitGenerationErrorsRejoin() {
        var m = joined(.eager, assigned: [tp0])
        #expect(m.commitFailed(code: .illegalGeneration) == [.lose([tp0]), .join(memberId: "m1")])
        var n = joined(.eager, assigned: [tp0])
        #expect(n.commitFailed(code: .offsetMetadataTooLarge) == [])
    }
}
