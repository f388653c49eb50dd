import Foundation
import Synchronization
import KafkaProtocol

/// The glue around `ClassicGroup` (`FakeCluster+GroupMembership.swift`): decoding, the
/// coordinator check, and the waits. A JoinGroup or a follower's SyncGroup that must wait holds
/// its connection's own thread (each `FakeBroker` connection has one, never the cooperative pool)
/// and polls the group every few milliseconds until the rules answer. After every change the
/// group's generation and members are copied into `GroupOffsets.declared`, so OffsetCommit and
/// TxnOffsetCommit (KIP-447) are fenced by the real membership.
extension FakeCluster {
    /// How often a waiting JoinGroup or SyncGroup looks at its group again.
    static let membershipPoll = 0.01

    /// Sets the longest a rebalance waits for members to rejoin (default 3 s; Kafka waits the
    /// rebalance timeout, minutes for librdkafka's default, too long for a test).
    /// - Parameter wait: The cap, applied to groups created afterwards.
    public func setRebalanceWait(_ wait: Duration) {
        state.withLock { $0.rebalanceWait = wait }
    }

    /// The group's current generation and member ids (nil: no member ever joined).
    public func membership(_ groupId: String) -> (generation: Int32, members: [String], leader: String)? {
        state.withLock { s in s.membership[groupId].map { ($0.generation, $0.members.keys.sorted(), $0.leader) } }
    }

    /// Runs `body` on the group (created if absent) under the lock and publishes its membership.
    private func withGroup<T>(_ groupId: String, _ body: (inout ClassicGroup) -> T) -> T {
        state.withLock { s in
            let existed = s.membership[groupId] != nil
            var g = s.membership[groupId] ?? ClassicGroup(rebalanceWait: s.rebalanceWait)
            let out = body(&g)
            // A stray request for a group nobody joined leaves `declareGroup`'s state alone.
            guard existed || !g.members.isEmpty || !g.pending.isEmpty else { return out }
            s.membership[groupId] = g
            var instances: [String: String] = [:]
            for (id, m) in g.members { if let i = m.instanceId { instances[i] = id } }
            s.groups.declared[groupId] = .init(generationId: g.generation, members: Set(g.members.keys), instances: instances)
            return out
        }
    }

    /// Polls `step` until it answers (bounded: a minute, then `timedOut`).
    private func waitFor<R>(_ groupId: String, timedOut: R, _ step: (inout ClassicGroup, ContinuousClock.Instant) -> ClassicGroup.Outcome<R>) -> R {
        let giveUp = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < giveUp {
            if case let .answer(r) = withGroup(groupId, { step(&$0, .now) }) { return r }
            Thread.sleep(forTimeInterval: Self.membershipPoll)
        }
        return timedOut
    }

    private func isCoordinator(_ groupId: String, _ broker: FakeBroker) -> Bool {
        state.withLock { Self.coordinator(in: $0, .group, groupId) == broker.nodeId }
    }

    func joinGroup(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let j = try? req.decode(JoinGroupRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        var r: JoinGroupResponse
        if !isCoordinator(j.groupId, broker) {
            r = ClassicGroup.failedJoin(.notCoordinator, memberId: j.memberId)
        } else {
            switch withGroup(j.groupId, { $0.join(j, clientId: req.header.clientId ?? "", version: version, now: .now) }) {
            case let .failure(f): r = f.response
            case let .success(id):
                r = waitFor(j.groupId, timedOut: ClassicGroup.failedJoin(.rebalanceInProgress, memberId: id)) { g, now in g.pollJoin(id, now: now) }
            }
        }
        // Before v7 the protocol name is not nullable.
        if version < 7 && r.protocolName == nil { r.protocolName = "" }
        return .respond(broker.body(r, for: req))
    }

    func syncGroup(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let q = try? req.decode(SyncGroupRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let (code, assignment): (KafkaErrorCode, [UInt8]) = isCoordinator(q.groupId, broker)
            ? waitFor(q.groupId, timedOut: (.rebalanceInProgress, [])) { g, now in g.sync(q, version: version, now: now) }
            : (.notCoordinator, [])
        var r = SyncGroupResponse()
        r.errorCode = code.rawValue
        r.assignment = assignment
        if version >= 5 { (r.protocolType, r.protocolName) = withGroup(q.groupId) { ($0.protocolType, $0.protocolName) } }
        return .respond(broker.body(r, for: req))
    }

    func heartbeat(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let h = try? req.decode(HeartbeatRequest.self) else { return .disconnect }
        let code = isCoordinator(h.groupId, broker) ? withGroup(h.groupId) { $0.heartbeat(h, now: .now) } : .notCoordinator
        var r = HeartbeatResponse()
        r.errorCode = code.rawValue
        return .respond(broker.body(r, for: req))
    }

    func leaveGroup(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let l = try? req.decode(LeaveGroupRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let leaving = version >= 3 ? l.members : [LeaveGroupRequest.MemberIdentity(memberId: l.memberId)]
        var r = LeaveGroupResponse()
        guard isCoordinator(l.groupId, broker) else {
            r.errorCode = KafkaErrorCode.notCoordinator.rawValue
            return .respond(broker.body(r, for: req))
        }
        let codes = withGroup(l.groupId) { $0.leave(leaving, now: .now) }
        if version >= 3 {
            r.members = zip(leaving, codes).map { m, code in
                var out = LeaveGroupResponse.MemberResponse()
                (out.memberId, out.groupInstanceId, out.errorCode) = (m.memberId, m.groupInstanceId, code.rawValue)
                return out
            }
        } else {
            r.errorCode = codes.first?.rawValue ?? 0
        }
        return .respond(broker.body(r, for: req))
    }
}
