import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaTestSupport

/// `TransactionalPipeline` on Tansu through rebalances: a second member joins mid-copy and
/// later leaves, each rebalance revoking partitions while transactions are open (they abort
/// and rewind); the output still holds every input record exactly once.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs KAFKA_BOOTSTRAP"))
struct TransactionalPipelineIntegrationTests {
    static var bootstrap: String { ProducerIntegrationTests.bootstrap }

    static func pipeline(group: String, id: String) throws -> TransactionalPipeline {
        var input = ConsumerConfig()
        input.client.bootstrapServers = [bootstrap]
        input.groupId = group
        input.autoOffsetReset = .earliest
        input.fetchMaxWait = .milliseconds(100)
        input.sessionTimeout = .seconds(6)
        input.heartbeatInterval = .seconds(1)
        var output = ProducerConfig()
        output.client.bootstrapServers = [bootstrap]
        output.transactionalId = id
        var settings = TransactionalPipeline.Settings()
        // Long transactions, so that a rebalance finds one open: the consumer stops handing out
        // records when a rebalance begins, and a short transaction would commit on time before
        // the revocation reaches the handler.
        settings.maxRecords = 4000
        settings.maxDuration = .seconds(5)
        return try TransactionalPipeline(consumer: input, producer: output, settings: settings)
    }

    @Test(.timeLimit(.minutes(4)))
    func membersJoiningAndLeavingMidCopyLeaveEveryRecordOnce() async throws {
        let src = IntegrationEnvironment.uniqueTopic("kw-pipe-src"), dst = src + "-dst", group = src + "-g"
        try await KwireCopyTests.createTopic(src, partitions: 4)
        try await KwireCopyTests.createTopic(dst, partitions: 4)
        let n = 60_000
        try await KwireCopyTests.produceWorkload(src, 0 ..< n)
        let stop = Mutex([false, false])  // per member
        let transformed = Atomic<Int>(0)
        let copy: @Sendable (TransactionalPipeline, Int) async throws -> TransactionalPipeline.Progress = { p, member in
            try await p.run(topics: [src], until: { _ in stop.withLock { $0[member] } }) { r in
                // Slow enough that the copy spans the rebalances, with transactions open throughout.
                if transformed.add(1, ordering: .relaxed).newValue % 100 == 0 { try await Task.sleep(for: .milliseconds(25)) }
                return [ProducerRecord(topic: dst, partition: r.partition, key: r.key.map(Array.init), value: r.value.map(Array.init))]
            }
        }
        let a = try Self.pipeline(group: group, id: group + "-a")
        let first = Task { try await copy(a, 0) }
        func waitFor(_ count: Int) async throws {
            while transformed.load(ordering: .relaxed) < count { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await waitFor(3000)
        let b = try Self.pipeline(group: group, id: group + "-b")
        let second = Task { try await copy(b, 1) }
        try await waitFor(24_000)
        // b leaves (close: LeaveGroup), a takes its partitions back.
        stop.withLock { $0[1] = true }
        let bProgress = try? await second.value
        await b.close()

        let ends = try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: src).mapValues(\.nextOffset)
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        let deadline = ContinuousClock.now + .seconds(150)
        while ContinuousClock.now < deadline {
            let committed = try await admin.listConsumerGroupOffsets(group, requireStable: true)
            if ends.allSatisfy({ p, end in committed[TopicPartition(topic: src, partition: p)]?.offset == end }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        await admin.close()
        stop.withLock { $0[0] = true }
        let aProgress = try await first.value
        await a.close()

        let copied = try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: dst)
        var audit = SequencedLogAudit(expected: n, offsetGapsAllowed: true)
        for (p, log) in copied.sorted(by: { $0.key < $1.key }) {
            for e in log.committed { audit.add(partition: p, offset: e.offset, index: e.value.flatMap { SequencedWorkload.index(ofValue: $0) }) }
        }
        let aborted = aProgress.abortedTransactions + (bProgress?.abortedTransactions ?? 0)
        print("TransactionalPipeline: a committed \(aProgress.committedTransactions), b \(bProgress?.committedTransactions ?? -1); \(aborted) aborted; DST \(audit.records) records")
        #expect(audit.missing.isEmpty, "missing \(audit.missing.count), e.g. \(audit.missing.prefix(5))")
        #expect(audit.duplicated.isEmpty, "duplicated \(audit.duplicated.count), e.g. \(audit.duplicated.prefix(5))")
        #expect(audit.problemCount == 0, "\(audit.problems)")
        #expect(aborted >= 1, "the rebalances found transactions open and aborted them")
    }
}

/// The pipeline's settings checks (no broker needed).
@Suite struct TransactionalPipelineConfigTests {
    @Test func aPipelineNeedsAGroupAndATransactionalId() async throws {
        var input = ConsumerConfig(), output = ProducerConfig()
        input.client.bootstrapServers = ["127.0.0.1:9"]
        output.client.bootstrapServers = ["127.0.0.1:9"]
        #expect(throws: KafkaError.self) { try TransactionalPipeline(consumer: input, producer: output) }
        input.groupId = "g"
        #expect(throws: KafkaError.self) { try TransactionalPipeline(consumer: input, producer: output) }
        output.transactionalId = "t"
        var bad = TransactionalPipeline.Settings()
        bad.maxRecords = 0
        #expect(throws: KafkaError.self) { try TransactionalPipeline(consumer: input, producer: output, settings: bad) }
        let ok = try TransactionalPipeline(consumer: input, producer: output)
        #expect(ok.settings.maxRecords == 10_000)
        await ok.close()
    }
}
