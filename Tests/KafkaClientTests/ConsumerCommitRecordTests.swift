import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// `commit(record)` / `commit(records)`: confluent-kafka's `commit(message=…)`, against a fake
/// group coordinator that records every OffsetCommit.
@Suite struct ConsumerCommitRecordTests {
    /// A coordinator (FindCoordinator points at itself) that records OffsetCommit requests and
    /// answers them without error, or (`answerCommits: false`) never answers them.
    static func coordinator(answerCommits: Bool = true) throws -> (FakeBroker, Recorded<OffsetCommitRequest>) {
        let commits = Recorded<OffsetCommitRequest>()
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .findCoordinator: return b.coordinatorIsSelf(req)
            case .offsetCommit:
                guard let c = try? req.decode(OffsetCommitRequest.self) else { return .disconnect }
                _ = commits.append(c)
                guard answerCommits else { return .ignore }
                return b.offsetCommitAnswer(c, for: req)
            case .fetch: return .respondAfter(.milliseconds(100), b.body(FetchResponse(), for: req))
            default: return b.defaultAction(req)
            }
        }
        broker.addTopic("t", partitions: 3)
        return (broker, commits)
    }

    static func consumer(_ broker: FakeBroker) throws -> KafkaConsumer {
        try KafkaConsumer(properties: ["bootstrap.servers": broker.address, "group.id": "g", "enable.auto.commit": "false",
                                       "request.timeout.ms": "60000", "default.api.timeout.ms": "60000"])
    }

    /// What one OffsetCommit asked for, by partition.
    static func offsets(_ r: OffsetCommitRequest) -> [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for t in r.topics { for p in t.partitions { out[TopicPartition(topic: t.name, partition: p.partitionIndex)] = p.committedOffset } }
        return out
    }

    /// A faked record (the public memberwise initializer, item 5).
    static func record(_ partition: Int32, _ offset: Int64) -> ConsumerRecord {
        ConsumerRecord(topic: "t", partition: partition, offset: offset, value: ArraySlice("v".utf8))
    }

    @Test(.timeLimit(.minutes(1)))
    func commitRecordCommitsItsOffsetPlusOne() async throws {
        let (broker, commits) = try Self.coordinator()
        defer { broker.stop() }
        let c = try Self.consumer(broker)
        try await c.commit(Self.record(1, 41))
        #expect(commits.all.count == 1)
        #expect(commits.all.map(Self.offsets) == [[TopicPartition(topic: "t", partition: 1): 42]])
        await c.close()
    }

    /// Several records of several partitions, out of order: one request, the highest offset
    /// of each partition plus one.
    @Test(.timeLimit(.minutes(1)))
    func commitRecordsCommitsTheHighestOfEachPartitionPlusOne() async throws {
        let (broker, commits) = try Self.coordinator()
        defer { broker.stop() }
        let c = try Self.consumer(broker)
        try await c.commit([Self.record(0, 7), Self.record(2, 3), Self.record(0, 9), Self.record(0, 8), Self.record(2, 1)])
        #expect(commits.all.map(Self.offsets) == [[TopicPartition(topic: "t", partition: 0): 10, TopicPartition(topic: "t", partition: 2): 4]])
        // Nothing to commit: no request at all.
        try await c.commit([ConsumerRecord]())
        #expect(commits.all.count == 1)
        await c.close()
    }

    @Test func offsetsAfterSaturatesAtInt64Max() {
        let out = KafkaConsumer.offsetsAfter([Self.record(0, .max), Self.record(1, -1)])
        #expect(out == [TopicPartition(topic: "t", partition: 0): .max, TopicPartition(topic: "t", partition: 1): 0])
    }

    @Test func commitRecordWithoutGroupIdIsAConfigurationError() async throws {
        let c = try KafkaConsumer(properties: ["bootstrap.servers": "127.0.0.1:1"])
        #expect(c.memberId == nil && c.generationId == nil, "no group, no member id or generation")
        await #expect(throws: KafkaError.self) { try await c.commit(Self.record(0, 1)) }
        do {
            try await c.commit(Self.record(0, 1))
        } catch let e as KafkaError {
            #expect(e.kind == .configuration)
        }
        await c.close()
    }

    /// A coordinator that never answers: cancelling the task ends `commit(record)` at once
    /// with `.cancelled`, like `commit(offsets)`.
    @Test(.timeLimit(.minutes(1)))
    func commitRecordHonoursCancellation() async throws {
        let (broker, commits) = try Self.coordinator(answerCommits: false)
        defer { broker.stop() }
        let c = try Self.consumer(broker)
        let task = Task { try await c.commit(Self.record(0, 5)) }
        try await eventually("the OffsetCommit", timeout: .seconds(20), every: .milliseconds(10)) { commits.all.count >= 1 }
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - start < .seconds(5))
        switch result {
        case .success: Issue.record("commit returned instead of throwing")
        case let .failure(e): #expect((e as? KafkaError)?.kind == .cancelled, "\(e)")
        }
        await c.close()
    }
}
