import Testing
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// FakeCluster's group side at the protocol level: commits checked against a declared group
/// (KIP-447 fencing on TxnOffsetCommit v3+), OffsetCommit/OffsetFetch at every layout, and
/// NOT_COORDINATOR away from the group's coordinator.
@Suite struct FakeClusterGroupOffsetTests {
    @Test(.timeLimit(.minutes(1)))
    func txnOffsetCommitIsFencedByTheDeclaredGenerationMemberAndInstance() async throws {
        let (cluster, broker, wire) = try await FakeClusterTransactionTests.rig()
        defer { wire.close(); broker.stop() }
        cluster.declareGroup("g", generationId: 5, members: ["m1", "m2"], instanceIds: ["i1": "m1"])
        let i = try await wire.initProducerId("tx")
        let (pid, epoch) = (i.producerId, i.producerEpoch)
        _ = try await wire.addOffsets("tx", pid, epoch, group: "g")
        let offsets = [("t", Int32(0), Int64(7))]
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", offsets, generation: 4, member: "m1") == [.illegalGeneration])
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", offsets, generation: 5, member: "gone") == [.unknownMemberId])
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", offsets, generation: 5, member: "m2", instance: "i1") == [.fencedInstanceId])
        #expect(cluster.transaction("tx")?.pendingOffsets.isEmpty == true)
        // v2 carries no member fields: not checked. An anonymous v3 commit is accepted (KIP-447).
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", offsets, version: 2) == [.noError])
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", offsets) == [.noError])
        #expect(try await wire.txnOffsetCommit("tx", pid, epoch, group: "g", offsets, generation: 5, member: "m1", instance: "i1") == [.noError])
        #expect(cluster.transaction("tx")?.pendingOffsets["g"]?[.init("t", 0)]?.offset == 7)
        #expect(cluster.transaction("tx")?.groups == ["g"])
        #expect(cluster.requests(.txnOffsetCommit).map(\.errorCode) == [.illegalGeneration, .unknownMemberId, .fencedInstanceId, .noError, .noError, .noError])
    }

    @Test(.timeLimit(.minutes(1)))
    func offsetCommitAndFetchAtEveryLayoutWithMemberChecks() async throws {
        let (cluster, broker, wire) = try await FakeClusterTransactionTests.rig()
        defer { wire.close(); broker.stop() }
        var c = OffsetCommitRequest(groupId: "g", topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 10), .init(partitionIndex: 1, committedOffset: 20)])])
        let plain = try await wire.conn.send(c, version: 8, timeout: .seconds(5))
        #expect(plain.topics.flatMap { $0.partitions.map(\.errorCode) } == [0, 0], "an undeclared group takes any commit")
        cluster.declareGroup("g", generationId: 2, members: ["m"])
        let anonymous = try await wire.conn.send(c, version: 8, timeout: .seconds(5))
        #expect(anonymous.topics.first?.partitions.first?.errorCode == KafkaErrorCode.unknownMemberId.rawValue, "the group has members")
        (c.generationIdOrMemberEpoch, c.memberId) = (1, "m")
        #expect(try await wire.conn.send(c, version: 8, timeout: .seconds(5)).topics.first?.partitions.first?.errorCode == KafkaErrorCode.illegalGeneration.rawValue)
        c.generationIdOrMemberEpoch = 2
        c.topics[0].partitions[1].committedOffset = 21
        #expect(try await wire.conn.send(c, version: 8, timeout: .seconds(5)).topics.first?.partitions.map(\.errorCode) == [0, 0])
        #expect(cluster.committedOffset(group: "g", "t", 1)?.offset == 21)

        for v in OffsetFetchRequest.versions {
            #expect(try await wire.offsetFetch("g", "t", [0, 1, 9], version: v).map(\.0) == [10, 21, -1], "v\(v)")
        }
        let all = try await wire.conn.send(OffsetFetchRequest(groupId: "g", topics: nil, version: 6), version: 6, timeout: .seconds(5))
        #expect(all.topics.flatMap { $0.partitions.map(\.committedOffset) } == [10, 21], "null topics: every committed partition")

        // Away from the coordinator: NOT_COORDINATOR where each layout puts group errors.
        cluster.moveCoordinator(.group, "g", to: 9)
        #expect(try await wire.offsetFetch("g", "t", [0], version: 1).map(\.1) == [.notCoordinator])
        let v7 = try await wire.conn.send(OffsetFetchRequest(groupId: "g", topics: [("t", [0])], version: 7), version: 7, timeout: .seconds(5))
        #expect(v7.errorCode == KafkaErrorCode.notCoordinator.rawValue)
        let v8 = try await wire.conn.send(OffsetFetchRequest(groupId: "g", topics: [("t", [0])], version: 8), version: 8, timeout: .seconds(5))
        #expect(v8.groups.first?.errorCode == KafkaErrorCode.notCoordinator.rawValue)
        #expect(try await wire.conn.send(c, version: 8, timeout: .seconds(5)).topics.first?.partitions.first?.errorCode == KafkaErrorCode.notCoordinator.rawValue)
        let fc = try await wire.conn.send(FindCoordinatorRequest(keys: ["g"], keyType: 0, version: 3), version: 3, timeout: .seconds(5))
        #expect(fc.errorCode == KafkaErrorCode.coordinatorNotAvailable.rawValue, "node 9 has no broker")
    }
}
