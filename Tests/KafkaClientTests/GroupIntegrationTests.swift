import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaTestSupport

/// One group member reading in its own task, recording what it got and its rebalance events.
final class Locked<T: Sendable>: Sendable {
    let value: Mutex<T>
    init(_ v: T) { value = Mutex(v) }
    func withLock<R>(_ body: (inout T) -> R) -> R { value.withLock { body(&$0) } }
}

final class GroupReader: Sendable {
    let consumer: KafkaConsumer
    let got = Locked<[ConsumerRecord]>([])
    let events = Locked<[RebalanceEvent]>([])
    let task = Locked<Task<Void, Never>?>(nil)

    /// `pause`: time the application spends after each batch before asking for more.
    init(bootstrap: String, group: String, topics: [String], extra: [String: String] = [:], pattern: String? = nil, pause: Duration = .zero) throws {
        var props = ["bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": "6000",
                     "heartbeat.interval.ms": "1000", "auto.offset.reset": "earliest", "fetch.max.wait.ms": "100",
                     "auto.commit.interval.ms": "500"]
        for (k, v) in extra { props[k] = v }
        let events = self.events
        consumer = try KafkaConsumer(properties: props) { e in events.withLock { $0.append(e) } }
        if let pattern { try consumer.subscribe(pattern: pattern) } else { try consumer.subscribe(topics: topics) }
        let c = consumer, got = self.got
        task.withLock {
            $0 = Task { @Sendable in
                while !Task.isCancelled {
                    guard let batch = try? await c.poll(max: 1000, timeout: .milliseconds(200)) else { return }
                    got.withLock { $0 += batch }
                    if pause > .zero, !batch.isEmpty { try? await Task.sleep(for: pause) }
                }
            }
        }
    }

    var assigned: Set<TopicPartition> { RebalanceEvents.owned(after: events.withLock { $0 }) }

    func close() async {
        task.withLock { $0?.cancel() }
        await consumer.close()
    }
}

/// Consumer groups against Tansu (session.timeout.ms 6000: Tansu holds each JoinGroup for half of it).
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs KAFKA_BOOTSTRAP"))
struct GroupIntegrationTests {
    static var bootstrap: String { ProducerIntegrationTests.bootstrap }

    func topic(_ partitions: Int32, messages: Int) async throws -> String {
        let t = IntegrationEnvironment.uniqueTopic("kw-group")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        try await admin.createTopic(NewTopic(name: t, partitions: partitions, replicationFactor: 1))
        await admin.close()
        try await produce(t, range: 0 ..< messages)
        return t
    }

    func produce(_ t: String, range: Range<Int>) async throws {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap, "partitioner": "murmur2_random"])
        for i in range { try producer.enqueue(ProducerRecord(topic: t, key: "k\(i)", value: "m\(i)")) }
        try await producer.flush()
        await producer.close()
    }


    func values(_ readers: [GroupReader]) -> [String] {
        readers.flatMap { r in r.got.withLock { $0.compactMap(\.valueString) } }
    }

    @Test func twoMembersSplitPartitionsAndTheSurvivorTakesOverAfterALeave() async throws {
        let t = try await topic(4, messages: 2000)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let a = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        let b = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        try await eventually("both members own 2 partitions") { a.assigned.count == 2 && b.assigned.count == 2 }
        #expect(a.assigned.isDisjoint(with: b.assigned))
        #expect(a.assigned.union(b.assigned).count == 4)
        #expect(a.consumer.generationId == b.consumer.generationId)
        // The transactional producer's view of the membership is the same snapshot.
        let meta = try #require(a.consumer.groupMetadata)
        #expect(meta.groupId == group && meta.generationId == a.consumer.generationId && meta.memberId == a.consumer.memberId)
        #expect(meta.memberId != nil && meta.memberId != b.consumer.groupMetadata?.memberId && meta.groupInstanceId == nil)
        try await eventually("all 2000 messages read") { Set(values([a, b])).count == 2000 }
        // Clean rebalances (b joining while a was already reading) repeat nothing: a revoked
        // only after it had finished with what it was given, and committed exactly that.
        try await Task.sleep(for: .milliseconds(500))
        #expect(values([a, b]).count == 2000, "\(values([a, b]).count - 2000) records read twice")

        // b leaves cleanly: its revocation commits, a takes over all 4 and reads new data exactly once.
        await b.close()
        try await eventually("a owns all 4 partitions") { a.assigned.count == 4 }
        let before = a.got.withLock { $0.count }
        try await produce(t, range: 2000 ..< 3000)
        try await eventually("a reads the 1000 new messages") { Set(values([a])).isSuperset(of: (2000 ..< 3000).map { "m\($0)" }) }
        try await Task.sleep(for: .milliseconds(500))
        let after = a.got.withLock { Array($0[before...]) }
        // Nothing read twice after the hand-over: b committed everything it had processed.
        #expect(after.count == 1000, "a read \(after.count) records after the hand-over")
        await a.close()
    }

    @Test func restartResumesFromCommittedOffsetsWithNoRepeats() async throws {
        let t = try await topic(2, messages: 500)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let first = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        try await eventually("first member reads 500") { first.got.withLock { $0.count } >= 500 }
        await first.close()
        #expect(first.got.withLock { $0.count } == 500)

        try await produce(t, range: 500 ..< 800)
        let second = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        try await eventually("second member reads the 300 new") { second.got.withLock { $0.count } >= 300 }
        try await Task.sleep(for: .milliseconds(500))
        let vals = values([second])
        #expect(vals.count == 300, "restart re-read \(vals.count - 300) committed records")
        #expect(Set(vals) == Set((500 ..< 800).map { "m\($0)" }))
        let committed = try await second.consumer.committed([TopicPartition(topic: t, partition: 0), TopicPartition(topic: t, partition: 1)])
        #expect(committed.values.compactMap { $0 }.count == 2)
        await second.close()
    }
}

extension GroupIntegrationTests {
    @Test func threeMembersSplitSixPartitionsEvenly() async throws {
        let t = try await topic(6, messages: 3000)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let readers = try (0 ..< 3).map { _ in try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: ["partition.assignment.strategy": "roundrobin"]) }
        try await eventually("each of three members owns 2 partitions") { readers.allSatisfy { $0.assigned.count == 2 } }
        #expect(readers.reduce(into: Set<TopicPartition>()) { $0.formUnion($1.assigned) }.count == 6)
        try await eventually("all 3000 read") { Set(values(readers)).count == 3000 }
        for r in readers { await r.close() }
    }

    @Test func regexSubscriptionPicksUpNewTopics() async throws {
        let stem = IntegrationEnvironment.uniqueTopic("kw-rx")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        try await admin.createTopic(NewTopic(name: "\(stem)-a", partitions: 1, replicationFactor: 1))
        try await admin.createTopic(NewTopic(name: "\(stem)-other", partitions: 1, replicationFactor: 1))
        try await produce("\(stem)-a", range: 0 ..< 10)
        try await produce("\(stem)-other", range: 100 ..< 110)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let r = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [], extra: ["metadata.max.age.ms": "1000"], pattern: "\(stem)-[a-c]")
        try await eventually("reads the matching topic") { Set(values([r])) == Set((0 ..< 10).map { "m\($0)" }) }
        // A topic created later that matches is picked up on the next metadata check.
        try await admin.createTopic(NewTopic(name: "\(stem)-b", partitions: 1, replicationFactor: 1))
        try await produce("\(stem)-b", range: 200 ..< 210)
        try await eventually("reads the new matching topic") { Set(values([r])).isSuperset(of: (200 ..< 210).map { "m\($0)" }) }
        #expect(!values([r]).contains("m100"), "read a topic the pattern does not match")
        await r.close()
        await admin.close()
    }

    @Test func aMemberThatStopsPollingLeavesAndTheOtherTakesOver() async throws {
        let t = try await topic(2, messages: 0)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let extra = ["max.poll.interval.ms": "4000"]
        let active = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: extra)
        // A member that polls once and then never again.
        var config = try ConsumerConfig(properties: ["bootstrap.servers": Self.bootstrap, "group.id": group, "session.timeout.ms": "6000",
                                                     "heartbeat.interval.ms": "1000", "max.poll.interval.ms": "4000", "auto.offset.reset": "earliest"])
        let warnings = Locked<[String]>([])
        config.client.logHandler = { _, line in warnings.withLock { $0.append(line) } }
        let stalled = try KafkaConsumer(config: config)
        try stalled.subscribe(topics: [t])
        _ = try await stalled.poll(timeout: .milliseconds(10))
        try await eventually("the active member owns both partitions after the stalled one left", timeout: .seconds(60)) { active.assigned.count == 2 }
        try await produce(t, range: 0 ..< 100)
        try await eventually("all 100 read by the active member") { Set(values([active])).count == 100 }
        // It says why it left.
        #expect(warnings.withLock { $0 }.contains { $0.contains("max.poll.interval.ms") })
        await stalled.close()
        await active.close()
    }

    @Test func staticMemberRestartKeepsItsPartitionsWithoutARebalance() async throws {
        let t = try await topic(4, messages: 200)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        // The dynamic member joins first and stays the leader: a rejoining static LEADER makes a
        // coordinator rebalance (KIP-345; KIP-814 added skip_assignment for that case), a
        // rejoining follower must not.
        let other = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        try await eventually("the first member owns everything") { other.assigned.count == 4 }
        var member = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: ["group.instance.id": "static-1"])
        try await eventually("two members own 2 partitions each") { other.assigned.count == 2 && member.assigned.count == 2 }
        let revokesBefore = other.events.withLock { $0.filter { if case .revoked = $0 { true } else { false } }.count }
        let mine = member.assigned
        let generation = other.consumer.generationId
        await member.close()
        // Restart within the session timeout: same partitions back, the other member undisturbed.
        member = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: ["group.instance.id": "static-1"])
        try await eventually("the static member is back") { member.assigned.count == 2 }
        #expect(member.assigned == mine)
        // Tansu 0.6 often starts a rebalance when a static member rejoins: it answers the
        // JoinGroup with the old member id and generation, then the SyncGroup with
        // REBALANCE_IN_PROGRESS. librdkafka's static members get the same there (seen in 1 of 2
        // runs of the same scenario with confluent-kafka only); Kafka does not. So this is a
        // known, intermittent issue of the broker, recorded rather than hidden; against a real
        // cluster (KAFKA_BOOTSTRAP) these expectations hold.
        withKnownIssue("Tansu 0.6 may rebalance on a static member's rejoin", isIntermittent: true) {
            #expect(other.consumer.generationId == generation, "the other member went through a rebalance")
            #expect(other.events.withLock { $0.filter { if case .revoked = $0 { true } else { false } }.count } == revokesBefore)
        }
        await member.close()
        await other.close()
    }
}

extension GroupIntegrationTests {
    func groupConsumer(_ t: String) throws -> KafkaConsumer {
        let c = try KafkaConsumer(properties: ["bootstrap.servers": Self.bootstrap, "group.id": IntegrationEnvironment.uniqueTopic("kw-g"),
                                               "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000", "auto.offset.reset": "earliest",
                                               "auto.commit.interval.ms": "200", "fetch.max.wait.ms": "100"])
        try c.subscribe(topics: [t])
        return c
    }

    func waitCommitted(_ c: KafkaConsumer, _ tp: TopicPartition, _ expected: Int64) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await c.committed([tp])[tp] != expected {
            guard ContinuousClock.now < deadline else { throw KafkaError(.timeout, "committed offset never became \(expected)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Auto-commit commits what the application finished with, never the record it is still
    /// processing; an explicit `commit()` commits everything handed out.
    @Test func autoCommitWithTheIteratorCommitsOnlyProcessedRecords() async throws {
        let t = try await topic(1, messages: 100)
        let tp = TopicPartition(topic: t, partition: 0)
        let c = try groupConsumer(t)
        // Inside the body of the 10th record (offset 9): records 0…8 are processed.
        var it = c.records.makeAsyncIterator()
        for _ in 0 ..< 10 { _ = try await it.next() }
        try await waitCommitted(c, tp, 9)
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await c.committed([tp])[tp] == 9, "auto-commit went past the record being processed")
        try await c.commit()
        #expect(try await c.committed([tp])[tp] == 10)
        await c.close()
    }

    @Test func autoCommitWithPollCommitsAPollsRecordsAtTheNextPoll() async throws {
        let t = try await topic(1, messages: 100)
        let tp = TopicPartition(topic: t, partition: 0)
        let c = try groupConsumer(t)
        var first: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while first.isEmpty, ContinuousClock.now < deadline { first = try await c.poll(max: 5, timeout: .milliseconds(500)) }
        #expect(first.map(\.offset) == [0, 1, 2, 3, 4])
        try await Task.sleep(for: .milliseconds(800))
        // Not processed yet (no later poll): nothing committed.
        #expect(try await c.committed([tp])[tp] == nil as Int64?)
        let second = try await c.poll(max: 5, timeout: .seconds(5))
        #expect(second.map(\.offset) == [5, 6, 7, 8, 9])
        try await waitCommitted(c, tp, 5)
        try await c.commit()
        #expect(try await c.committed([tp])[tp] == 10)
        await c.close()
    }
}

extension GroupIntegrationTests {
    /// Members join while data streams in: every clean rebalance hands partitions over with the
    /// revoking member's exact position committed, so nothing is read twice or skipped.
    @Test(arguments: ["range", "cooperative-sticky"])
    func cleanRebalancesWhileReadingRepeatNothing(assignor: String) async throws {
        let t = try await topic(4, messages: 0)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let extra = ["partition.assignment.strategy": assignor]
        // Each member takes 50 ms after a batch before polling again, so rebalances land mid-batch.
        let pause = Duration.milliseconds(50)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": Self.bootstrap, "linger.ms": "1"])
        let feed = Task {
            for i in 0 ..< 6000 {
                try producer.enqueue(ProducerRecord(topic: t, key: "k\(i)", value: "m\(i)"))
                if i % 20 == 19 { try await Task.sleep(for: .milliseconds(20)) }
            }
            try await producer.flush()
        }
        let a = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: extra, pause: pause)
        try await eventually("a reads") { a.got.withLock { $0.count } > 100 }
        let b = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: extra, pause: pause)
        try await eventually("b owns partitions") { !b.assigned.isEmpty }
        let c = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t], extra: extra, pause: pause)
        try await eventually("c owns partitions") { !c.assigned.isEmpty }
        try await feed.value
        await producer.close()
        try await eventually("all 6000 read") { Set(values([a, b, c])).count == 6000 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(values([a, b, c]).count == 6000, "\(values([a, b, c]).count - 6000) records read twice")
        // (A late rebalance may still be moving partitions under load: wait for it to settle.)
        try await eventually("all 4 partitions owned") { a.assigned.union(b.assigned).union(c.assigned).count == 4 }
        for r in [a, b, c] { await r.close() }
    }
}

extension GroupIntegrationTests {
    @Test func unsubscribeHandsThePartitionsOverAndSubscribeRejoins() async throws {
        let t = try await topic(2, messages: 300)
        let group = IntegrationEnvironment.uniqueTopic("kw-g")
        let a = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        let b = try GroupReader(bootstrap: Self.bootstrap, group: group, topics: [t])
        try await eventually("both own a partition") { a.assigned.count == 1 && b.assigned.count == 1 }
        try await eventually("all 300 read") { Set(values([a, b])).count == 300 }
        await b.consumer.unsubscribe()
        #expect(b.consumer.assignment.isEmpty)
        #expect(b.events.withLock { $0 }.last.map { if case .revoked = $0 { true } else { false } } == true)
        try await eventually("a owns both partitions") { a.assigned.count == 2 }
        try await produce(t, range: 300 ..< 400)
        try await eventually("a reads the new 100") { Set(values([a])).isSuperset(of: (300 ..< 400).map { "m\($0)" }) }
        // Nothing repeated: b's revocation committed what it had processed.
        try await Task.sleep(for: .milliseconds(500))
        #expect(values([a, b]).count == 400, "\(values([a, b]).count - 400) read twice")
        // b can join again.
        try b.consumer.subscribe(topics: [t])
        try await eventually("b owns a partition again") { b.assigned.count == 1 && a.assigned.count == 1 }
        await a.close()
        await b.close()
    }
}
