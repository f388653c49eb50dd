import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// Group administration against the real broker, on a group made by a peer: a confluent-kafka
/// consumer joins, commits known offsets, and leaves.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && PeerClients.available, "needs KAFKA_BOOTSTRAP and python3 with confluent-kafka"),
       .timeLimit(.minutes(5)))
struct AdminGroupIntegrationTests {
    static var bootstrap: String { IntegrationEnvironment.bootstrap!.split(separator: ",").first.map(String.init)! }

    @Test func aPeersGroupIsDescribedMeasuredRewoundAndDeleted() async throws {
        let topic = IntegrationEnvironment.uniqueTopic("kw-admin-grp")
        let group = "kw-admin-\(topic)"
        let t0 = TopicPartition(topic: topic, partition: 0), t1 = TopicPartition(topic: topic, partition: 1)
        // 10 records in partition 0, 7 in partition 1, one per batch (see makeTopic).
        try await PeerGroupMember.makeTopic(bootstrap: Self.bootstrap, topic: topic, counts: [10, 7])
        let peer = try PeerGroupMember(bootstrap: Self.bootstrap, topic: topic, group: group, commitAt: 4, clientId: "kw-admin-peer")
        defer { peer.stop() }
        let joined = try await peer.committed()
        #expect(joined.assignment == [t0, t1])
        #expect(joined.committed == [0: 4, 1: 4])

        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        // While the peer is a member.
        let live = try await admin.describeGroup(group)
        #expect(live.state == .stable)
        #expect(live.protocolType == "consumer")
        #expect(live.members.map(\.memberId) == [joined.memberId])
        let member = try #require(live.members.first)
        // Kafka reports the member's client id, subscription and assignment; Tansu 0.6 sends
        // them empty (and protocol_data empty too), which must decode as `.empty`, not fail.
        #expect(member.clientId == "kw-admin-peer" || member.clientId.isEmpty)
        if member.assignment == .empty {
            #expect(member.assignedPartitions.isEmpty)
        } else {
            #expect(member.assignedPartitions == joined.assignment)
            #expect(member.subscription.value?.topics == [topic])
        }
        #expect(try await admin.listGroups().contains { $0.groupId == group && $0.protocolType == "consumer" && $0.coordinatorId >= 0 })

        try await peer.leave()

        let after = try await admin.describeGroup(group)
        #expect(after.state == .empty)
        #expect(after.members.isEmpty)
        #expect(try await admin.listConsumerGroupOffsets(group).mapValues(\.offset) == [t0: 4, t1: 4])
        #expect(try await admin.listConsumerGroupOffsets(group, partitions: [t1]).mapValues(\.offset) == [t1: 4])
        let lag = try await admin.consumerGroupLag(group)
        #expect(lag.partitions.map(\.topicPartition) == [t0, t1])
        #expect(lag.partitions.map(\.committedOffset) == [4, 4])
        #expect(lag.partitions.map { try? $0.logEndOffset.get() } == [10, 7])
        #expect(lag.partitions.map(\.lag) == [6, 3])
        #expect(lag.totalLag == 9)
        let starts = try await admin.listOffsets([t0, t1], spec: .beginning)
        #expect(starts.mapValues { try? $0.get() } == [t0: 0, t1: 0])

        // The group is empty, so its offsets can be set from outside.
        let altered = try await admin.alterConsumerGroupOffsets(group, offsets: [t0: ConsumerGroupOffset(offset: 1, metadata: "rewound")])
        #expect((try? altered[t0]?.get()) != nil)
        #expect(try await admin.consumerGroupLag(group).partitions.map(\.lag) == [9, 3])

        // Deleting removes the offsets and the listing. (Tansu 0.6 also deletes a group that
        // still has members, where Kafka answers NON_EMPTY_GROUP: that path is covered by the
        // fake-broker tests.)
        try await admin.deleteGroup(group)
        // Kafka answers OffsetFetch for a group it does not know with no error and no offsets
        // (OffsetMetadataManager.fetchAllOffsets); kfake answers GROUP_ID_NOT_FOUND. Both say
        // the offsets are gone.
        do {
            #expect(try await admin.listConsumerGroupOffsets(group).isEmpty)
        } catch let e as KafkaError {
            #expect(e.code == .groupIdNotFound)
        }
        #expect(try await !admin.listGroups().contains { $0.groupId == group })
        _ = try? await admin.deleteTopics([topic])
        await admin.close()
    }

    @Test func describingAGroupNobodyKnowsDoesNotFail() async throws {
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        let name = IntegrationEnvironment.uniqueTopic("kw-no-such-group")
        // Kafka 4.0 answers GROUP_ID_NOT_FOUND, older Kafka `Dead`, Tansu `Empty` with no
        // protocol type and authorized_operations -1: all must come back as a typed answer.
        switch try await admin.describeGroups([name])[0] {
        case let .success(d):
            #expect(d.state == .dead || d.state == .empty)
            #expect(d.members.isEmpty)
            #expect(d.authorizedOperations == nil)
        case let .failure(e):
            #expect(e.code == .groupIdNotFound)
        }
        do {
            #expect(try await admin.listConsumerGroupOffsets(name).isEmpty)
        } catch let e as KafkaError {
            #expect(e.code == .groupIdNotFound)
        }
        await admin.close()
    }
}
