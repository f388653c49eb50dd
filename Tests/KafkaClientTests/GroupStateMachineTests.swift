import Testing
@testable import KafkaClient
import KafkaProtocol

/// The membership state machine without I/O: each test drives it with events (time passed in)
/// and checks the actions it asks for.
struct GroupStateMachineTests {
    typealias M = GroupStateMachine
    let t0 = ContinuousClock.now
    let tp0 = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)
    let tp2 = TopicPartition(topic: "t", partition: 2)
    let tp3 = TopicPartition(topic: "t", partition: 3)

    func machine(_ proto: RebalanceProtocol = .eager, instance: String? = nil, autoCommit: Duration? = nil) -> M {
        M(settings: .init(groupId: "g", instanceId: instance, sessionTimeout: .seconds(10), heartbeatInterval: .seconds(3),
                          maxPollInterval: .seconds(60), retryBackoff: .milliseconds(100), rebalanceProtocol: proto,
                          autoCommitInterval: autoCommit), now: t0)
    }

    /// start → coordinator → join (member id required) → sync → stable with partitions.
    func joined(_ proto: RebalanceProtocol = .eager, instance: String? = nil, autoCommit: Duration? = nil, assigned: [TopicPartition]) -> M {
        var m = machine(proto, instance: instance, autoCommit: autoCommit)
        _ = m.handle(.start, now: t0)
        _ = m.handle(.coordinatorFound, now: t0)
        _ = m.handle(.joinAnswered(code: .noError, generation: 1, memberId: "m1", leaderId: "m1"), now: t0)
        _ = m.handle(.syncAnswered(code: .noError, assigned: assigned), now: t0)
        return m
    }

    @Test func firstJoinFollowsKIP394AndAssigns() {
        var m = machine()
        #expect(m.on(.start, t0) == [.findCoordinator])
        #expect(m.phase == .findingCoordinator)
        #expect(m.on(.coordinatorFound, t0) == [.join(memberId: "")])
        // The broker hands out a member id and asks us to join again with it.
        #expect(m.on(.joinAnswered(code: .memberIdRequired, generation: -1, memberId: "m1", leaderId: ""), t0) == [.join(memberId: "m1")])
        #expect(m.on(.joinAnswered(code: .noError, generation: 5, memberId: "m1", leaderId: "m2"), t0) == [.sync(generation: 5, memberId: "m1", isLeader: false)])
        #expect(m.isLeader == false)
        #expect(m.on(.syncAnswered(code: .noError, assigned: [tp1, tp0]), t0) == [.assign([tp0, tp1])])
        #expect(m.phase == .stable)
        #expect(m.generation == 5)
        #expect(m.owned == [tp0, tp1])
    }

    @Test func stableArmsHeartbeatSessionAndPollTimersAndCloseDisarmsThem() {
        var m = machine()
        _ = m.handle(.start, now: t0)
        _ = m.handle(.coordinatorFound, now: t0)
        _ = m.handle(.joinAnswered(code: .noError, generation: 1, memberId: "m1", leaderId: "m1"), now: t0)
        let synced = m.handle(.syncAnswered(code: .noError, assigned: [tp0]), now: t0 + .seconds(1))
        #expect(synced.contains(.arm(.heartbeat, at: t0 + .seconds(4))))
        #expect(synced.contains(.arm(.session, at: t0 + .seconds(11))))
        #expect(m.armed[.pollInterval] == t0 + .seconds(60))
        // A poll moves only the poll timer.
        #expect(m.handle(.polled, now: t0 + .seconds(2)).filter(\.isTimer) == [.arm(.pollInterval, at: t0 + .seconds(62))])
        let closed = m.handle(.leaveRequested, now: t0 + .seconds(3))
        #expect(closed.contains(.disarm(.heartbeat)) && closed.contains(.disarm(.session)) && closed.contains(.disarm(.pollInterval)))
        #expect(m.armed.isEmpty)
    }

    @Test func heartbeatsOnScheduleAndNotBefore() {
        var m = joined(assigned: [tp0])
        #expect(m.armed[.heartbeat] == t0 + .seconds(3))
        #expect(m.on(.timerFired(.heartbeat), t0 + .seconds(3)) == [.heartbeat(generation: 1, memberId: "m1")])
        #expect(m.armed[.heartbeat] == t0 + .seconds(6))
        #expect(m.on(.heartbeatAnswered(code: .noError), t0 + .seconds(4)) == [])
        // The answer moved the schedule.
        #expect(m.armed[.heartbeat] == t0 + .seconds(7))
        #expect(m.armed[.session] == t0 + .seconds(14))
    }

    @Test func eagerRebalanceWaitsForTheApplicationThenRevokesEverythingBeforeJoining() {
        var m = joined(.eager, assigned: [tp0, tp1])
        let actions = m.handle(.heartbeatAnswered(code: .rebalanceInProgress), now: t0 + .seconds(3))
        #expect(actions.filter { !$0.isTimer } == [.awaitApplication([tp0, tp1])])
        #expect(actions.contains(.arm(.revocation, at: t0 + .seconds(63))))
        #expect(m.phase == .revoking)
        #expect(m.owned.isEmpty)
        #expect(m.on(.applicationFinished, t0 + .seconds(4)) == [.revoke([tp0, tp1]), .join(memberId: "m1")])
        #expect(m.armed[.revocation] == nil)
        _ = m.handle(.joinAnswered(code: .noError, generation: 2, memberId: "m1", leaderId: "m1"), now: t0)
        #expect(m.on(.syncAnswered(code: .noError, assigned: [tp1]), t0) == [.assign([tp1])])
    }

    @Test func heartbeatsGoOnWhileTheRevocationWaitsAndTheDeadlineEndsTheWait() {
        var m = joined(.eager, assigned: [tp0])
        _ = m.handle(.heartbeatAnswered(code: .rebalanceInProgress), now: t0 + .seconds(3))
        // The coordinator keeps the session alive only while we heartbeat.
        for s in stride(from: 6, through: 60, by: 3) {
            #expect(m.on(.timerFired(.heartbeat), t0 + .seconds(s)) == [.heartbeat(generation: 1, memberId: "m1")])
            #expect(m.on(.heartbeatAnswered(code: .rebalanceInProgress), t0 + .seconds(s)) == [])
            #expect(m.phase == .revoking)
        }
        // max.poll.interval.ms after the revocation began: revoke anyway and rejoin.
        #expect(m.on(.timerFired(.revocation), t0 + .seconds(63)) == [.revoke([tp0]), .join(memberId: "m1")])
        #expect(m.on(.applicationFinished, t0 + .seconds(64)) == [])
    }

    @Test func aGenerationLostDuringTheRevocationLosesThePartitions() {
        var m = joined(.eager, assigned: [tp0, tp1])
        _ = m.handle(.heartbeatAnswered(code: .rebalanceInProgress), now: t0)
        #expect(m.on(.heartbeatAnswered(code: .illegalGeneration), t0 + .seconds(3)) == [.lose([tp0, tp1]), .join(memberId: "m1")])
        #expect(m.generation == -1)
        // The application finishing afterwards changes nothing.
        #expect(m.on(.applicationFinished, t0 + .seconds(4)) == [])
        // A coordinator error only delays the next heartbeat.
        var n = joined(.eager, assigned: [tp0])
        _ = n.handle(.heartbeatAnswered(code: .rebalanceInProgress), now: t0)
        #expect(n.on(.heartbeatAnswered(code: .notCoordinator), t0 + .seconds(3)) == [])
        #expect(n.phase == .revoking)
        #expect(n.armed[.heartbeat] == t0 + .seconds(3) + .milliseconds(100))
    }

    @Test func leaveDuringTheRevocationRevokesAtOnceAndLeaves() {
        var m = joined(.eager, assigned: [tp0, tp1])
        _ = m.handle(.heartbeatAnswered(code: .rebalanceInProgress), now: t0)
        #expect(m.on(.leaveRequested, t0 + .seconds(1)) == [.revoke([tp0, tp1]), .leave(memberId: "m1", reason: "the consumer is being closed")])
        #expect(m.phase == .closed)
        #expect(m.on(.timerFired(.revocation), t0 + .seconds(61)) == [])
    }

    @Test func cooperativeRebalanceKeepsPartitionsAndRevokesOnlyWhatMovedBeforeAssigning() {
        var m = joined(.cooperative, assigned: [tp0, tp1, tp2])
        // Keeps reading through the rebalance: nothing revoked before joining.
        #expect(m.on(.heartbeatAnswered(code: .rebalanceInProgress), t0) == [.join(memberId: "m1")])
        #expect(m.owned == [tp0, tp1, tp2])
        _ = m.handle(.joinAnswered(code: .noError, generation: 2, memberId: "m1", leaderId: "m1"), now: t0)
        // tp2 moves away, tp3 arrives: tp2 is revoked once the application is done with it,
        // then tp3 is assigned, then the member rejoins so tp2 can be handed on.
        #expect(m.on(.syncAnswered(code: .noError, assigned: [tp0, tp1, tp3]), t0) == [.awaitApplication([tp2])])
        #expect(m.on(.applicationFinished, t0) == [.revoke([tp2]), .assign([tp3]), .join(memberId: "m1")])
        #expect(m.owned == [tp0, tp1, tp3])
        _ = m.handle(.joinAnswered(code: .noError, generation: 3, memberId: "m1", leaderId: "m1"), now: t0)
        #expect(m.on(.syncAnswered(code: .noError, assigned: [tp0, tp1, tp3]), t0) == [.assign([])])
        #expect(m.phase == .stable)
    }

    @Test func generationErrorsLoseThePartitionsInsteadOfRevoking() {
        var m = joined(.cooperative, assigned: [tp0])
        #expect(m.on(.heartbeatAnswered(code: .illegalGeneration), t0) == [.lose([tp0]), .join(memberId: "m1")])
        #expect(m.generation == -1)
        var n = joined(.eager, assigned: [tp0])
        // Unknown member: lost, and the member id is forgotten.
        #expect(n.on(.heartbeatAnswered(code: .unknownMemberId), t0) == [.lose([tp0]), .join(memberId: "")])
        #expect(n.memberId == "")
    }

    @Test func coordinatorMovesAreRediscoveredAfterABackoffWithoutLosingTheAssignment() {
        var m = joined(assigned: [tp0])
        let lost = m.handle(.heartbeatAnswered(code: .notCoordinator), now: t0)
        #expect(lost.filter { !$0.isTimer } == [])
        #expect(lost.contains(.arm(.retry, at: t0 + .milliseconds(100))))
        #expect(m.on(.timerFired(.retry), t0 + .milliseconds(100)) == [.findCoordinator])
        #expect(m.owned == [tp0])
        // Still a member of generation 1: back to heartbeating at once, no rejoin.
        #expect(m.on(.coordinatorFound, t0 + .seconds(1)) == [])
        #expect(m.phase == .stable)
        #expect(m.armed[.heartbeat] == t0 + .seconds(1))
        #expect(m.on(.timerFired(.heartbeat), t0 + .seconds(1)) == [.heartbeat(generation: 1, memberId: "m1")])
        // A transport failure of a heartbeat also rediscovers.
        #expect(m.on(.heartbeatAnswered(code: nil), t0 + .seconds(1)) == [])
        #expect(m.phase == .findingCoordinator)
        #expect(m.armed[.heartbeat] == nil)
    }

    @Test func coordinatorLostDuringJoinRejoinsAfterRediscovery() {
        var m = machine()
        _ = m.handle(.start, now: t0)
        _ = m.handle(.coordinatorFound, now: t0)
        #expect(m.on(.joinAnswered(code: .coordinatorNotAvailable, generation: -1, memberId: "", leaderId: ""), t0) == [])
        #expect(m.on(.timerFired(.retry), t0 + .milliseconds(100)) == [.findCoordinator])
        #expect(m.on(.coordinatorFound, t0) == [.join(memberId: "")])
        #expect(m.on(.joinAnswered(code: .coordinatorLoadInProgress, generation: -1, memberId: "", leaderId: ""), t0) == [])
        #expect(m.armed[.retry] == t0 + .milliseconds(100))
        #expect(m.on(.timerFired(.retry), t0 + .milliseconds(100)) == [.join(memberId: "")])
    }

    /// A coordinator that moves while the member rejoins costs one rejoin, not two: the join
    /// after rediscovery is the rejoin, so its SyncGroup ends the rebalance (a second join
    /// would start another rebalance for every member).
    @Test func aCoordinatorLostDuringARejoinCostsOneJoin() {
        var m = joined(assigned: [tp0])
        #expect(m.on(.heartbeatAnswered(code: .rebalanceInProgress), t0) == [.awaitApplication([tp0])])
        #expect(m.on(.applicationFinished, t0) == [.revoke([tp0]), .join(memberId: "m1")])
        #expect(m.on(.joinAnswered(code: .notCoordinator, generation: -1, memberId: "", leaderId: ""), t0) == [])
        #expect(m.on(.timerFired(.retry), t0 + .milliseconds(100)) == [.findCoordinator])
        #expect(m.on(.coordinatorFound, t0 + .milliseconds(100)) == [.join(memberId: "m1")])
        #expect(m.on(.joinAnswered(code: .noError, generation: 2, memberId: "m1", leaderId: "m1"), t0) == [.sync(generation: 2, memberId: "m1", isLeader: true)])
        #expect(m.on(.syncAnswered(code: .noError, assigned: [tp0]), t0) == [.assign([tp0])])
        #expect(m.phase == .stable)
    }

    @Test func syncErrorsRejoin() {
        var m = machine()
        _ = m.handle(.start, now: t0)
        _ = m.handle(.coordinatorFound, now: t0)
        _ = m.handle(.joinAnswered(code: .noError, generation: 1, memberId: "m1", leaderId: "m1"), now: t0)
        #expect(m.on(.syncAnswered(code: .rebalanceInProgress, assigned: []), t0) == [.join(memberId: "m1")])
        _ = m.handle(.joinAnswered(code: .noError, generation: 2, memberId: "m1", leaderId: "m1"), now: t0)
        #expect(m.on(.syncAnswered(code: .unknownMemberId, assigned: []), t0) == [.join(memberId: "")])
    }

    @Test func anUndecodableAssignmentIsSurfacedAndTheMemberRejoins() {
        var m = machine()
        _ = m.handle(.start, now: t0)
        _ = m.handle(.coordinatorFound, now: t0)
        _ = m.handle(.joinAnswered(code: .noError, generation: 4, memberId: "m1", leaderId: "m1"), now: t0)
        let cause = KafkaError(.decoding, "bad bytes")
        #expect(m.on(.assignmentUndecodable(cause), t0) == [.surface(ConsumerGroupError(.undecodableAssignment, generationId: 4, cause)), .join(memberId: "m1")])
        #expect(m.phase == .joining)
        #expect(m.owned.isEmpty)
    }

    @Test func autoCommitIsATimerThatCommitsOnlyWhenStableAndFailuresAreSurfaced() {
        var m = joined(autoCommit: .seconds(5), assigned: [tp0])
        #expect(m.armed[.autoCommit] == t0 + .seconds(5))
        #expect(m.on(.timerFired(.autoCommit), t0 + .seconds(5)) == [.commitProcessed])
        #expect(m.armed[.autoCommit] == t0 + .seconds(10))
        let cause = KafkaError.broker(.groupAuthorizationFailed)
        #expect(m.on(.autoCommitFailed(cause), t0 + .seconds(5)) == [.surface(ConsumerGroupError(.autoCommitFailed, generationId: 1, cause))])
        // Mid-rebalance the round is skipped, not lost: the timer moves on.
        _ = m.handle(.heartbeatAnswered(code: .rebalanceInProgress), now: t0 + .seconds(6))
        #expect(m.on(.timerFired(.autoCommit), t0 + .seconds(10)) == [])
        #expect(m.armed[.autoCommit] == t0 + .seconds(15))
        // Without enable.auto.commit there is no such timer.
        #expect(joined(assigned: [tp0]).armed[.autoCommit] == nil)
    }

    @Test func fatalErrorsStopTheMember() {
        var m = joined(.eager, instance: "i1", assigned: [tp0])
        let actions = m.on(.heartbeatAnswered(code: .fencedInstanceId), t0)
        #expect(actions.first == .lose([tp0]))
        guard case let .fail(code, message)? = actions.last else { Issue.record("no fail action"); return }
        #expect(code == KafkaErrorCode.fencedInstanceId.rawValue)
        #expect(message.contains("FENCED_INSTANCE_ID"))
        #expect(m.phase == .failed)
        #expect(m.armed.isEmpty)
        #expect(m.on(.timerFired(.heartbeat), t0 + .seconds(100)) == [])
        var j = machine()
        _ = j.handle(.start, now: t0)
        _ = j.handle(.coordinatorFound, now: t0)
        #expect(j.on(.joinAnswered(code: .groupAuthorizationFailed, generation: -1, memberId: "", leaderId: ""), t0).last.map { if case .fail = $0 { true } else { false } } == true)
    }

    @Test func aMemberThatStopsPollingLeavesAndRejoinsOnTheNextPoll() {
        var m = joined(assigned: [tp0, tp1])
        _ = m.handle(.polled, now: t0 + .seconds(30))
        // Heartbeats keep going however long the application takes between polls...
        for s in stride(from: 3, through: 87, by: 3) {
            #expect(m.on(.timerFired(.heartbeat), t0 + .seconds(s)) == [.heartbeat(generation: 1, memberId: "m1")])
            _ = m.handle(.heartbeatAnswered(code: .noError), now: t0 + .seconds(s))
        }
        // A poll-interval timer that fires early (stale) does nothing.
        #expect(m.on(.timerFired(.pollInterval), t0 + .seconds(60)) == [])
        // ...until max.poll.interval.ms (60 s) after its last poll.
        #expect(m.armed[.pollInterval] == t0 + .seconds(90))
        let actions = m.on(.timerFired(.pollInterval), t0 + .seconds(90))
        #expect(actions.first == .lose([tp0, tp1]))
        guard case let .leave(id, reason)? = actions.last else { Issue.record("no leave"); return }
        #expect(id == "m1")
        #expect(reason.contains("max.poll.interval.ms"))
        #expect(m.phase == .pollTimedOut)
        #expect(m.armed.isEmpty)
        #expect(m.on(.polled, t0 + .seconds(200)) == [.findCoordinator])
    }

    @Test func staticMemberDoesNotLeaveOnPollTimeoutOrClose() {
        var m = joined(instance: "host-1", assigned: [tp0])
        #expect(m.on(.leaveRequested, t0) == [.revoke([tp0])])
        var n = joined(instance: "host-1", assigned: [tp0])
        #expect(n.on(.timerFired(.pollInterval), t0 + .seconds(61)) == [.lose([tp0])])
        #expect(n.memberId == "m1")
    }

    @Test func closeRevokesThenLeaves() {
        var m = joined(assigned: [tp0, tp1])
        #expect(m.on(.leaveRequested, t0) == [.revoke([tp0, tp1]), .leave(memberId: "m1", reason: "the consumer is being closed")])
        #expect(m.phase == .closed)
        #expect(m.on(.leaveRequested, t0) == [])
        // Late answers after close are ignored.
        #expect(m.on(.heartbeatAnswered(code: .rebalanceInProgress), t0) == [])
        #expect(m.on(.joinAnswered(code: .noError, generation: 2, memberId: "m1", leaderId: "m1"), t0) == [])
        #expect(m.on(.coordinatorLost, t0) == [])
    }

    @Test func sessionExpiryWithoutHeartbeatsLosesThePartitions() {
        var m = joined(assigned: [tp0])
        // Heartbeats keep failing with a retriable error for longer than the session.
        #expect(m.on(.heartbeatAnswered(code: .requestTimedOut), t0 + .seconds(3)) == [])
        #expect(m.armed[.session] == t0 + .seconds(10))
        #expect(m.on(.timerFired(.session), t0 + .seconds(10)) == [.lose([tp0]), .findCoordinator])
        #expect(m.generation == -1)
        #expect(m.armed[.session] == nil)
    }

    @Test func subscriptionChangeRejoinsOnceEvenMidJoin() {
        var m = joined(.cooperative, assigned: [tp0])
        #expect(m.on(.subscriptionChanged, t0) == [.join(memberId: "m1")])
        // Changed again while joining: one more join after this sync, not a second concurrent one.
        #expect(m.on(.subscriptionChanged, t0) == [])
        _ = m.handle(.joinAnswered(code: .noError, generation: 2, memberId: "m1", leaderId: "m1"), now: t0)
        #expect(m.on(.syncAnswered(code: .noError, assigned: [tp0]), t0) == [.assign([]), .join(memberId: "m1")])
    }

    @Test func subscriptionChecksAreATimerActingOnlyWhenStable() {
        var m = joined(assigned: [tp0])
        let due = m.armed[.subscriptionCheck] ?? t0
        #expect(m.on(.timerFired(.subscriptionCheck), due) == [.checkSubscription])
        #expect(m.armed[.subscriptionCheck] == due + .seconds(30))
    }

    @Test func commitGenerationErrorsRejoin() {
        var m = joined(.eager, assigned: [tp0])
        #expect(m.on(.commitFailed(code: .illegalGeneration), t0) == [.lose([tp0]), .join(memberId: "m1")])
        var n = joined(.eager, assigned: [tp0])
        #expect(n.on(.commitFailed(code: .offsetMetadataTooLarge), t0) == [])
    }
}

extension GroupStateMachine {
    /// The event's actions without the timer changes.
    mutating func on(_ event: Event, _ now: ContinuousClock.Instant) -> [Action] {
        handle(event, now: now).filter { !$0.isTimer }
    }
}

extension GroupStateMachine.Action {
    var isTimer: Bool {
        switch self {
        case .arm, .disarm: return true
        default: return false
        }
    }
}
