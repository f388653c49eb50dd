import Testing
import KafkaClient
import KafkaTestSupport

/// A group whose members offer only an application's own assignor (`EverythingToOne`), given
/// as a value in the typed config, against Tansu's real coordinator: the leader runs it, and
/// what it decided is what each member is given.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs KAFKA_BOOTSTRAP"))
struct CustomAssignorIntegrationTests {
    static var bootstrap: String { ProducerIntegrationTests.bootstrap }

    @Test(.timeLimit(.minutes(2)))
    func theLeaderRunsTheCustomAssignorAndMembersGetItsAssignment() async throws {
        let topic = IntegrationEnvironment.uniqueTopic("kw-custom-assignor")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: 3, replicationFactor: 1))
        await admin.close()
        let group = IntegrationEnvironment.uniqueTopic("kw-custom-group")
        let assignor = EverythingToOne()
        func member() throws -> (KafkaConsumer, Locked<[RebalanceEvent]>) {
            var config = try ConsumerConfig(properties: ["bootstrap.servers": Self.bootstrap, "group.id": group, "session.timeout.ms": "6000",
                                                         "heartbeat.interval.ms": "500", "fetch.max.wait.ms": "100"])
            config.assignors = [assignor]
            let events = Locked<[RebalanceEvent]>([])
            let c = try KafkaConsumer(config: config) { e in events.withLock { $0.append(e) } }
            try c.subscribe(topics: [topic])
            return (c, events)
        }
        func owned(_ events: Locked<[RebalanceEvent]>) -> Set<TopicPartition> {
            RebalanceEvents.owned(after: events.withLock { $0 })
        }
        let (a, aEvents) = try member()
        let (b, bEvents) = try member()
        let all = Set((0 ..< 3).map { TopicPartition(topic: topic, partition: $0) })
        // Both members poll (group work runs beside it) until the assignment settles.
        let deadline = ContinuousClock.now + .seconds(90)
        var settled = false
        while ContinuousClock.now < deadline {
            _ = try await a.poll(timeout: .milliseconds(100))
            _ = try await b.poll(timeout: .milliseconds(100))
            if let ga = a.generationId, ga == b.generationId, owned(aEvents).union(owned(bEvents)) == all { settled = true; break }
        }
        #expect(settled, "a: \(owned(aEvents)) b: \(owned(bEvents))")
        #expect(assignor.runs.count.load(ordering: .relaxed) >= 1, "the leader ran the custom assignor")
        // What EverythingToOne decided: all partitions to the member id that sorts last.
        let ids = try [#require(a.memberId), #require(b.memberId)]
        let (winner, loser) = ids[0] > ids[1] ? (aEvents, bEvents) : (bEvents, aEvents)
        #expect(owned(winner) == all)
        #expect(owned(loser).isEmpty)
        await a.close()
        await b.close()
    }
}
