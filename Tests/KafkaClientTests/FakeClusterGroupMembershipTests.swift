import Testing
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// FakeCluster's classic group coordinator at the protocol level: one connection per member
/// (a waiting JoinGroup holds its connection), every version chosen here.
struct FakeClusterGroupMembershipTests {
    static let timeout = Duration.seconds(10)

    struct Member {
        let conn: BrokerConnection
        static func connect(_ b: FakeBroker) async throws -> Member {
            Member(conn: try await BrokerConnection.connect(host: b.host, port: b.port, requestTimeout: FakeClusterGroupMembershipTests.timeout))
        }

        func join(_ group: String, member: String = "", protocols: [String] = ["range"], metadata: [UInt8] = [1], version: Int16 = 9,
                  sessionMs: Int32 = 6000) async throws -> JoinGroupResponse {
            let ps = protocols.map { JoinGroupRequest.GroupProtocol(name: $0, metadata: metadata) }
            return try await conn.send(JoinGroupRequest(groupId: group, sessionTimeoutMs: sessionMs, rebalanceTimeoutMs: 2000, memberId: member, protocols: ps),
                                       version: version, timeout: FakeClusterGroupMembershipTests.timeout)
        }

        /// Joins as a new member: MEMBER_ID_REQUIRED first (v4+), then the rejoin's answer.
        func joinNew(_ group: String, metadata: [UInt8] = [1], protocols: [String] = ["range"]) async throws -> JoinGroupResponse {
            let first = try await join(group, protocols: protocols, metadata: metadata)
            return try await join(group, member: first.memberId, protocols: protocols, metadata: metadata)
        }

        func sync(_ group: String, _ generation: Int32, _ member: String, _ assignments: [String: [UInt8]] = [:], protocol name: String = "roundrobin") async throws -> SyncGroupResponse {
            try await conn.send(SyncGroupRequest(groupId: group, generationId: generation, memberId: member, protocolType: "consumer", protocolName: name,
                                                 assignments: assignments.map { .init(memberId: $0.key, assignment: $0.value) }),
                                version: 5, timeout: FakeClusterGroupMembershipTests.timeout)
        }

        func heartbeat(_ group: String, _ generation: Int32, _ member: String) async throws -> KafkaErrorCode {
            KafkaErrorCode(rawValue: try await conn.send(HeartbeatRequest(groupId: group, generationId: generation, memberId: member), version: 4,
                                                         timeout: FakeClusterGroupMembershipTests.timeout).errorCode)
        }

        func leave(_ group: String, _ members: [String], version: Int16 = 5) async throws -> LeaveGroupResponse {
            var l = LeaveGroupRequest()
            l.groupId = group
            if version >= 3 { l.members = members.map { .init(memberId: $0) } } else { l.memberId = members.first ?? "" }
            return try await conn.send(l, version: version, timeout: FakeClusterGroupMembershipTests.timeout)
        }
    }

    func cluster() throws -> (FakeCluster, FakeBroker) {
        let c = FakeCluster()
        c.setRebalanceWait(.seconds(1))
        return (c, try c.startBroker(nodeId: 1))
    }

    @Test(.timeLimit(.minutes(1)))
    func aNewMemberGetsMemberIdRequiredFromV4AndAnIdAtOnceBefore() async throws {
        let (c, b) = try cluster()
        defer { b.stop() }
        let m = try await Member.connect(b)
        let first = try await m.join("g", version: 4)
        #expect(KafkaErrorCode(rawValue: first.errorCode) == .memberIdRequired && !first.memberId.isEmpty)
        #expect(c.membership("g")?.members == [], "a pending id is not a member yet")
        let unknown = try await m.join("g", member: "made-up", version: 4)
        #expect(KafkaErrorCode(rawValue: unknown.errorCode) == .unknownMemberId)
        let joined = try await m.join("g", member: first.memberId, version: 4)
        #expect(joined.errorCode == 0 && joined.generationId == 1 && joined.leader == first.memberId && joined.members.map(\.memberId) == [first.memberId])
        let old = try await Member.connect(b).join("h", version: 3)
        #expect(old.errorCode == 0 && !old.memberId.isEmpty && old.generationId == 1 && old.protocolName == "range", "v3: joined in one step")
    }

    @Test(.timeLimit(.minutes(1)))
    func theLeaderGetsEveryMembersMetadataAndFollowersWaitForItsAssignments() async throws {
        let (c, b) = try cluster()
        defer { b.stop() }
        let a = try await Member.connect(b), f = try await Member.connect(b)
        let ja = try await a.joinNew("g", metadata: [0xA], protocols: ["roundrobin", "range"])
        #expect(ja.generationId == 1)
        // f joins: a rebalance; a's heartbeat learns of it and a rejoins.
        async let jf = f.joinNew("g", metadata: [0xF], protocols: ["range", "roundrobin"])
        var hb = KafkaErrorCode.noError
        for _ in 0 ..< 100 where hb != .rebalanceInProgress {
            hb = try await a.heartbeat("g", 1, ja.memberId)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(hb == .rebalanceInProgress)
        let ra = try await a.join("g", member: ja.memberId, protocols: ["roundrobin", "range"], metadata: [0xA])
        let rf = try await jf
        #expect(ra.generationId == 2 && rf.generationId == 2 && ra.leader == ja.memberId && rf.leader == ja.memberId)
        #expect(ra.protocolName == "roundrobin" && rf.protocolName == "roundrobin", "the leader's first protocol all support")
        #expect(Set(ra.members.map { "\($0.memberId)=\($0.metadata)" }) == ["\(ja.memberId)=[10]", "\(rf.memberId)=[15]"])
        #expect(rf.members.isEmpty, "followers get no member list")
        // The follower's sync waits for the leader's.
        async let sf = f.sync("g", 2, rf.memberId)
        try await Task.sleep(for: .milliseconds(200))
        let sa = try await a.sync("g", 2, ja.memberId, [ja.memberId: [1], rf.memberId: [2]])
        let sfr = try await sf
        #expect(sa.errorCode == 0 && sa.assignment == [1] && sfr.errorCode == 0 && sfr.assignment == [2])
        let wrong = try await f.sync("g", 2, rf.memberId, protocol: "range")
        #expect(KafkaErrorCode(rawValue: wrong.errorCode) == .inconsistentGroupProtocol, "v5 checks the protocol name")
        #expect(try await f.heartbeat("g", 1, rf.memberId) == .illegalGeneration)
        #expect(try await f.heartbeat("g", 2, "nobody") == .unknownMemberId)
        #expect(try await f.heartbeat("g", 2, rf.memberId) == .noError)
        #expect(c.membership("g")?.generation == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func aLeaveOrAnExpiredSessionRebalancesTheRestAndFencesTransactionalCommits() async throws {
        let (c, b) = try cluster()
        defer { b.stop() }
        c.createTopic("src", partitions: 1, leader: 1)
        let a = try await Member.connect(b), f = try await Member.connect(b)
        let ja = try await a.joinNew("g")
        async let jf = f.joinNew("g")
        // a does not rejoin: after the rebalance wait (1 s) it is dropped and f is alone.
        let rf = try await jf
        #expect(rf.generationId == 2 && rf.leader == rf.memberId && rf.members.map(\.memberId) == [rf.memberId])
        #expect(try await a.heartbeat("g", 1, ja.memberId) == .unknownMemberId)
        // KIP-447: the real generation fences a transactional offset commit.
        let wire = try await FakeClusterTxnWire.connect(b)
        defer { wire.close() }
        let pid = try await wire.initProducerId("t")
        _ = try await wire.addOffsets("t", pid.producerId, pid.producerEpoch, group: "g")
        #expect(try await wire.txnOffsetCommit("t", pid.producerId, pid.producerEpoch, group: "g", [("src", 0, 5)], generation: 1, member: rf.memberId) == [.illegalGeneration])
        #expect(try await wire.txnOffsetCommit("t", pid.producerId, pid.producerEpoch, group: "g", [("src", 0, 5)], generation: 2, member: ja.memberId) == [.unknownMemberId])
        #expect(try await wire.txnOffsetCommit("t", pid.producerId, pid.producerEpoch, group: "g", [("src", 0, 5)], generation: 2, member: rf.memberId) == [.noError])
        // A batch leave (v3+): per-member answers; the group is empty afterwards.
        let l = try await f.leave("g", [rf.memberId, "ghost"])
        #expect(l.members.map { KafkaErrorCode(rawValue: $0.errorCode) } == [.noError, .unknownMemberId])
        #expect(c.membership("g")?.members == [])
        // Session expiry, checked lazily: a 1 s session with no heartbeat is gone 1.5 s later.
        let e = try await a.join("x", version: 3, sessionMs: 1000)
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await a.heartbeat("x", e.generationId, e.memberId) == .unknownMemberId)
    }
}
