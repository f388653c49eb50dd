import KafkaProtocol

extension FakeCluster {
    /// One classic group's membership as a pure value (JoinGroup, SyncGroup, Heartbeat, LeaveGroup
    /// and lazy session expiry), fed requests with `now` and returning answers or "wait". The glue
    /// (`FakeCluster+GroupMembershipServing.swift`) decodes, polls waiting joins and syncs, and
    /// copies generation and members into `GroupOffsets.declared` so commits are fenced by them.
    ///
    /// Simplified from Kafka's coordinator: every JoinGroup of a known member starts a rebalance;
    /// a rebalance completes once every member rejoined or `rebalanceWait` passed (members that
    /// did not rejoin are dropped); the protocol is the leader's first one that all members
    /// support; a heartbeat during CompletingRebalance is fine (as Kafka 2.x+).
    struct ClassicGroup {
        enum Phase: Equatable { case empty, preparingRebalance, completingRebalance, stable }

        struct Member {
            var instanceId: String?
            var sessionTimeout: Duration
            var protocols: [JoinGroupRequest.GroupProtocol]
            var lastSeen: ContinuousClock.Instant
            /// Rejoined in the current rebalance.
            var joined = false
            /// The join answer once the rebalance completed, until the member's poll takes it.
            var joinAnswer: JoinGroupResponse?
        }

        /// What a request gets: an answer now, or nothing yet (poll again).
        enum Outcome<R> {
            case answer(R)
            case wait
        }

        var phase = Phase.empty
        var generation: Int32 = 0
        var protocolType = ""
        var protocolName: String?
        var leader = ""
        var members: [String: Member] = [:]
        /// Member ids handed out with MEMBER_ID_REQUIRED (v4+) and not used yet.
        var pending: Set<String> = []
        var assignments: [String: [UInt8]] = [:]
        var rebalanceDeadline: ContinuousClock.Instant?
        var nextMember = 1
        /// Longest a rebalance waits for members to rejoin (capped by each join's rebalance timeout).
        var rebalanceWait = Duration.seconds(3)

        // MARK: Time

        /// Drops members whose session expired, and completes a rebalance whose members all
        /// rejoined or whose deadline passed.
        mutating func tick(now: ContinuousClock.Instant) {
            // A member waiting in JoinGroup is alive: its request is the heartbeat.
            let rebalancing = phase == .preparingRebalance
            let expired = members.filter { _, m in
                !(m.joinAnswer != nil || (m.joined && rebalancing)) && m.lastSeen + m.sessionTimeout < now
            }
            if !expired.isEmpty {
                for id in expired.keys { members[id] = nil }
                startRebalance(now: now, wait: rebalanceWait)
            }
            if phase == .preparingRebalance {
                if members.values.allSatisfy(\.joined) || (rebalanceDeadline.map { now >= $0 } ?? true) { completeJoin(now: now) }
            }
        }

        mutating func startRebalance(now: ContinuousClock.Instant, wait: Duration) {
            assignments = [:]
            if members.isEmpty {
                phase = .empty
                generation += 1
                leader = ""
                return
            }
            if phase != .preparingRebalance {
                // A join answered but not yet taken is still in flight: it gets this round's answer.
                for (id, m) in members {
                    members[id]?.joined = m.joinAnswer != nil
                    members[id]?.joinAnswer = nil
                }
                rebalanceDeadline = now + wait
            }
            phase = .preparingRebalance
        }

        private mutating func completeJoin(now: ContinuousClock.Instant) {
            for (id, m) in members where !m.joined { members[id] = nil }
            generation += 1
            assignments = [:]
            guard !members.isEmpty else {
                (phase, leader, protocolName) = (.empty, "", nil)
                return
            }
            if members[leader] == nil { leader = members.keys.sorted().first ?? "" }
            let common = members.values.reduce(Set(members[leader]?.protocols.map(\.name) ?? [])) { $0.intersection($1.protocols.map(\.name)) }
            protocolName = members[leader]?.protocols.first { common.contains($0.name) }?.name
            phase = .completingRebalance
            for id in members.keys {
                var r = JoinGroupResponse()
                (r.generationId, r.protocolType, r.protocolName, r.leader, r.memberId) = (generation, protocolType, protocolName, leader, id)
                if id == leader {
                    r.members = members.keys.sorted().map { mid in
                        let other = members[mid]
                        return .init(memberId: mid, groupInstanceId: other?.instanceId,
                                     metadata: other?.protocols.first { $0.name == protocolName }?.metadata ?? [])
                    }
                }
                members[id]?.joinAnswer = r
                members[id]?.joined = false
                members[id]?.lastSeen = now
            }
        }

        // MARK: Requests

        static func failedJoin(_ code: KafkaErrorCode, memberId: String = "") -> JoinGroupResponse {
            var r = JoinGroupResponse()
            r.errorCode = code.rawValue
            r.memberId = memberId
            return r
        }

        /// JoinGroup: the member id it will poll with, or an answer now (errors, MEMBER_ID_REQUIRED).
        mutating func join(_ j: JoinGroupRequest, clientId: String, version: Int16, now: ContinuousClock.Instant) -> Result<String, JoinGroupFailure> {
            tick(now: now)
            guard j.sessionTimeoutMs >= 1000 && j.sessionTimeoutMs <= 300_000 else { return .failure(.init(Self.failedJoin(.invalidSessionTimeout, memberId: j.memberId))) }
            let names = Set(j.protocols.map(\.name))
            if !members.isEmpty && (j.protocolType != protocolType || !members.values.allSatisfy({ !names.isDisjoint(with: $0.protocols.map(\.name)) })) {
                return .failure(.init(Self.failedJoin(.inconsistentGroupProtocol, memberId: j.memberId)))
            }
            var id = j.memberId
            if id.isEmpty {
                id = "\(clientId.isEmpty ? "member" : clientId)-\(nextMember)"
                nextMember += 1
                if let instance = j.groupInstanceId, let old = members.first(where: { $0.value.instanceId == instance })?.key {
                    // A static member returning takes its seat under a new id (KIP-345).
                    if leader == old { leader = id }
                    members[old] = nil
                } else if version >= 4 && j.groupInstanceId == nil {
                    pending.insert(id)
                    return .failure(.init(Self.failedJoin(.memberIdRequired, memberId: id)))
                }
            } else if members[id] == nil && pending.remove(id) == nil {
                return .failure(.init(Self.failedJoin(.unknownMemberId, memberId: id)))
            }
            if members.isEmpty { protocolType = j.protocolType }
            let rebalance = j.rebalanceTimeoutMs > 0 ? Duration.milliseconds(j.rebalanceTimeoutMs) : .milliseconds(j.sessionTimeoutMs)
            members[id] = Member(instanceId: j.groupInstanceId, sessionTimeout: .milliseconds(j.sessionTimeoutMs),
                                 protocols: j.protocols, lastSeen: now)
            startRebalance(now: now, wait: min(rebalance, rebalanceWait))
            members[id]?.joined = true
            tick(now: now)
            return .success(id)
        }

        /// A waiting join's answer, once its rebalance completed.
        mutating func pollJoin(_ id: String, now: ContinuousClock.Instant) -> Outcome<JoinGroupResponse> {
            tick(now: now)
            guard let m = members[id] else { return .answer(Self.failedJoin(.unknownMemberId, memberId: id)) }
            guard let answer = m.joinAnswer else { return .wait }
            members[id]?.joinAnswer = nil
            members[id]?.lastSeen = now
            return .answer(answer)
        }

        /// The member's checks common to SyncGroup and Heartbeat (Kafka's order).
        func check(_ id: String, generation g: Int32, instanceId: String?) -> KafkaErrorCode? {
            guard let m = members[id] else { return .unknownMemberId }
            if let instanceId, m.instanceId != instanceId { return .fencedInstanceId }
            guard g == generation else { return .illegalGeneration }
            return nil
        }

        /// SyncGroup (and its polls): the member's assignment once the leader sent them.
        mutating func sync(_ r: SyncGroupRequest, version: Int16, now: ContinuousClock.Instant) -> Outcome<(KafkaErrorCode, [UInt8])> {
            tick(now: now)
            if let e = check(r.memberId, generation: r.generationId, instanceId: r.groupInstanceId) { return .answer((e, [])) }
            if version >= 5 && ((r.protocolType.map { $0 != protocolType } ?? false) || (r.protocolName.map { $0 != protocolName } ?? false)) {
                return .answer((.inconsistentGroupProtocol, []))
            }
            members[r.memberId]?.lastSeen = now
            switch phase {
            case .empty, .preparingRebalance: return .answer((.rebalanceInProgress, []))
            case .completingRebalance:
                guard r.memberId == leader else { return .wait }
                for a in r.assignments { assignments[a.memberId] = a.assignment }
                phase = .stable
                return .answer((.noError, assignments[r.memberId] ?? []))
            case .stable: return .answer((.noError, assignments[r.memberId] ?? []))
            }
        }

        /// Heartbeat: REBALANCE_IN_PROGRESS while rebalancing, else the member's checks.
        mutating func heartbeat(_ r: HeartbeatRequest, now: ContinuousClock.Instant) -> KafkaErrorCode {
            tick(now: now)
            if let e = check(r.memberId, generation: r.generationId, instanceId: r.groupInstanceId) {
                // A member of an older generation learns of the rebalance first (as Kafka).
                return e == .illegalGeneration && phase == .preparingRebalance ? .rebalanceInProgress : e
            }
            members[r.memberId]?.lastSeen = now
            return phase == .preparingRebalance ? .rebalanceInProgress : .noError
        }

        /// LeaveGroup: each member's outcome; the rest rebalance.
        mutating func leave(_ leaving: [LeaveGroupRequest.MemberIdentity], now: ContinuousClock.Instant) -> [KafkaErrorCode] {
            tick(now: now)
            let codes: [KafkaErrorCode] = leaving.map { l in
                let id = l.memberId.isEmpty ? members.first { $0.value.instanceId != nil && $0.value.instanceId == l.groupInstanceId }?.key ?? "" : l.memberId
                guard let m = members[id] else { return .unknownMemberId }
                if let instance = l.groupInstanceId, m.instanceId != instance { return .fencedInstanceId }
                members[id] = nil
                return .noError
            }
            if codes.contains(.noError) {
                startRebalance(now: now, wait: rebalanceWait)
                tick(now: now)
            }
            return codes
        }
    }

    /// A JoinGroup answered at once (an error, or MEMBER_ID_REQUIRED with the id to use).
    struct JoinGroupFailure: Error {
        var response: JoinGroupResponse
        init(_ response: JoinGroupResponse) { self.response = response }
    }
}
