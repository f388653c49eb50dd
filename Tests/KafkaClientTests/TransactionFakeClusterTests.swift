import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// The transactional producer against FakeCluster's transaction coordinator (validated by
/// librdkafka in its own suite): the issue's scenarios 1 and 3–10, each with the coordinator's
/// request log or a read_committed read as the evidence.
@Suite(.serialized) struct TransactionFakeClusterTests {
    struct Rig {
        let cluster: FakeCluster
        let broker: FakeBroker
        var bootstrap: String { "127.0.0.1:\(broker.port)" }

        func producer(_ id: String = "tx", _ extra: [String: String] = [:]) throws -> KafkaProducer {
            try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "transactional.id": id, "linger.ms": "1",
                                           "retry.backoff.ms": "10", "retry.backoff.max.ms": "50"].merging(extra) { $1 })
        }

        func readCommitted(count: Int, partitions: Int32 = 2) async throws -> [String] {
            let c = try FakeLog.consumer(broker, ["isolation.level": "read_committed"])
            try await c.assign((0 ..< partitions).map { TopicPartition(topic: "t", partition: $0) }, from: .beginning)
            let got = try await FakeLog.read(c, count: count)
            await c.close()
            return got.map { $0.valueString ?? "" }
        }

        func stop() { broker.stop() }
    }

    static func rig(transactionVersion: Int16 = 1) throws -> Rig {
        let cluster = FakeCluster(sessions: false)
        let broker = try cluster.startBroker(nodeId: 1)
        cluster.createTopic("t", partitions: 2, leader: 1)
        cluster.setTransactionVersion(transactionVersion)
        return Rig(cluster: cluster, broker: broker)
    }

    static func record(_ v: String, _ partition: Int32 = 0) -> ProducerRecord {
        ProducerRecord(topic: "t", partition: partition, key: nil, value: v)
    }

    // 1. commit makes records visible to read_committed, abort hides them.
    @Test(.timeLimit(.minutes(1)))
    func commitShowsAndAbortHidesRecordsForReadCommitted() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let p = try rig.producer()
        try await p.initTransactions()
        try p.beginTransaction()
        for i in 0 ..< 4 { try p.enqueue(Self.record("a\(i)", Int32(i % 2))) }
        try await p.abortTransaction()
        try await p.withTransaction { txn in
            for i in 0 ..< 4 { try txn.enqueue(Self.record("c\(i)", Int32(i % 2))) }
        }
        // An aborted batch already sent: its records are in the log but hidden.
        try p.beginTransaction()
        _ = try await p.send(Self.record("late-abort"))
        try await p.abortTransaction()
        try await p.withTransaction { txn in _ = try await txn.send(Self.record("c4", 1)) }
        await p.close()
        let got = try await rig.readCommitted(count: 5)
        #expect(Set(got) == ["c0", "c1", "c2", "c3", "c4"], "\(got)")
        // One AddPartitionsToTxn per transaction: both partitions in one request.
        #expect(rig.cluster.requests(.addPartitionsToTxn).first?.partitions.count == 2)
    }

    // 3. a second producer with the same transactional.id fences the first.
    @Test(.timeLimit(.minutes(1)))
    func aSecondProducerFencesTheFirstFatally() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let first = try rig.producer()
        try await first.initTransactions()
        try first.beginTransaction()
        _ = try await first.send(Self.record("old"))
        let second = try rig.producer()
        try await second.initTransactions()
        await #expect(throws: KafkaError.self) { _ = try await first.send(Self.record("zombie")) }
        let commit = await #expect(throws: KafkaError.self) { try await first.commitTransaction() }
        #expect([KafkaErrorCode.producerFenced, .invalidProducerEpoch].contains(commit?.code ?? .noError), "\(String(describing: commit))")
        let abort = await #expect(throws: KafkaError.self) { try await first.abortTransaction() }
        #expect(abort?.code == commit?.code)
        try await second.withTransaction { txn in _ = try await txn.send(Self.record("new")) }
        #expect(try await rig.readCommitted(count: 1) == ["new"])
        await first.close()
        await second.close()
    }

    // 4. NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / CONCURRENT_TRANSACTIONS on each request type are retried.
    static let retriedCodes: [Int16] = [KafkaErrorCode.notCoordinator, .coordinatorLoadInProgress, .concurrentTransactions].map(\.rawValue)

    @Test(.timeLimit(.minutes(1)), arguments: Self.retriedCodes)
    func coordinatorErrorsOnEveryRequestTypeAreRetried(rawCode: Int16) async throws {
        let code = KafkaErrorCode(rawValue: rawCode)
        let rig = try Self.rig()
        defer { rig.stop() }
        for api in [ApiKey.initProducerId, .addPartitionsToTxn, .addOffsetsToTxn, .txnOffsetCommit, .endTxn] {
            rig.cluster.failNext(api, with: code, times: 2)
        }
        let p = try rig.producer()
        try await p.initTransactions()
        try await p.withTransaction { txn in
            _ = try await txn.send(Self.record("r"))
            try await txn.sendOffsetsToTransaction([TopicPartition(topic: "t", partition: 1): 3], group: ConsumerGroupMetadata(groupId: "g"))
        }
        await p.close()
        for api in [ApiKey.initProducerId, .addPartitionsToTxn, .addOffsetsToTxn, .txnOffsetCommit, .endTxn] {
            let seen = rig.cluster.requests(api)
            #expect(seen.filter(\.scripted).count == 2 && seen.last?.errorCode == .noError, "\(api.name): \(seen.map { $0.errorCode?.name ?? "-" })")
        }
        #expect(rig.cluster.committedOffset(group: "g", "t", 1)?.offset == 3)
        #expect(try await rig.readCommitted(count: 1) == ["r"])
    }

    // 5. an abortable error refuses commit, allows abort, and the next transaction succeeds.
    @Test(.timeLimit(.minutes(1)))
    func anAbortableErrorRefusesCommitAllowsAbortAndTheNextTransactionSucceeds() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let p = try rig.producer()
        try await p.initTransactions()
        rig.cluster.failNext(.addPartitionsToTxn, with: .transactionAbortable)
        try p.beginTransaction()
        await #expect(throws: KafkaError.self) { _ = try await p.send(Self.record("spoiled")) }
        let commit = await #expect(throws: KafkaError.self) { try await p.commitTransaction() }
        #expect(commit?.code == .transactionAbortable)
        try await p.abortTransaction()
        try await p.withTransaction { txn in _ = try await txn.send(Self.record("next")) }
        await p.close()
        #expect(try await rig.readCommitted(count: 1) == ["next"])
    }

    // 6. init/commit/abort timeouts are resumable and give the same outcome when called again.
    @Test(.timeLimit(.minutes(1)))
    func timedOutInitCommitAndAbortResumeTheSameOperation() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let p = try rig.producer("tx", ["default.api.timeout.ms": "200", "request.timeout.ms": "500"])
        rig.cluster.silenceNext(.initProducerId)
        let initTimeout = await #expect(throws: KafkaError.self) { try await p.initTransactions() }
        #expect(initTimeout?.kind == .timeout)
        try await Self.untilNotTimedOut { try await p.initTransactions() }
        #expect(rig.cluster.requests(.initProducerId).filter { $0.errorCode == .noError }.count == 1, "one identity: the same operation went on")

        try p.beginTransaction()
        _ = try await p.send(Self.record("kept"))
        rig.cluster.silenceNext(.endTxn)
        let commitTimeout = await #expect(throws: KafkaError.self) { try await p.commitTransaction() }
        #expect(commitTimeout?.kind == .timeout, "not reported committed without an answer")
        #expect(throws: KafkaError.self) { try p.beginTransaction() }
        await #expect(throws: KafkaError.self) { try await p.abortTransaction() }  // the commit must finish first
        try await Self.untilNotTimedOut { try await p.commitTransaction() }
        #expect(rig.cluster.requests(.endTxn).allSatisfy { $0.committed == true })

        try p.beginTransaction()
        _ = try await p.send(Self.record("dropped"))
        rig.cluster.silenceNext(.endTxn)
        await #expect(throws: KafkaError.self) { try await p.abortTransaction() }
        try await Self.untilNotTimedOut { try await p.abortTransaction() }
        try await p.withTransaction { txn in _ = try await txn.send(Self.record("after")) }
        await p.close()
        #expect(Set(try await rig.readCommitted(count: 2)) == ["kept", "after"])
    }

    /// Calls `op` again while it times out (each call continues the same operation).
    static func untilNotTimedOut(_ op: () async throws -> Void) async throws {
        for _ in 0 ..< 20 {
            do {
                try await op()
                return
            } catch let e as KafkaError where e.kind == .timeout {}
        }
        Issue.record("still timing out")
    }

    // 7. a failed or timed-out produce inside the transaction makes commit fail.
    @Test(.timeLimit(.minutes(1)))
    func aFailedProduceMakesTheCommitFail() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let p = try rig.producer()
        try await p.initTransactions()
        try p.beginTransaction()
        rig.cluster.failNext(.produce, with: .messageTooLarge)
        try p.enqueue(Self.record("bad"))
        let commit = await #expect(throws: KafkaError.self) { try await p.commitTransaction() }
        #expect(commit?.code == .messageTooLarge, "\(String(describing: commit))")
        #expect(rig.cluster.requests(.endTxn).isEmpty, "no EndTxn(commit) for a failed transaction")
        try await p.abortTransaction()
        try await p.withTransaction { txn in _ = try await txn.send(Self.record("good")) }
        await p.close()
        #expect(try await rig.readCommitted(count: 1) == ["good"])
    }

    @Test(.timeLimit(.minutes(1)))
    func aTimedOutProduceMakesTheCommitFail() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let p = try rig.producer("tx", ["delivery.timeout.ms": "400", "request.timeout.ms": "300"])
        try await p.initTransactions()
        try p.beginTransaction()
        rig.cluster.silenceNext(.produce, times: 10)
        try p.enqueue(Self.record("late"))
        let commit = await #expect(throws: KafkaError.self) { try await p.commitTransaction() }
        #expect(commit?.kind == .timeout || commit?.kind == .outcomeUnknown, "\(String(describing: commit))")
        rig.cluster.clearScripts()
        try await p.abortTransaction()
        await p.close()
    }

    // 8. group fencing on TxnOffsetCommit forces an abort.
    static let fencings: [(Int32, String, Int16)] = [(4, "m-1", KafkaErrorCode.illegalGeneration.rawValue), (5, "stranger", KafkaErrorCode.unknownMemberId.rawValue)]

    @Test(.timeLimit(.minutes(1)), arguments: Self.fencings)
    func groupFencingOnTxnOffsetCommitForcesAnAbort(generation: Int32, member: String, rawExpected: Int16) async throws {
        let expected = KafkaErrorCode(rawValue: rawExpected)
        let rig = try Self.rig()
        defer { rig.stop() }
        rig.cluster.declareGroup("g", generationId: 5, members: ["m-1"])
        let p = try rig.producer()
        try await p.initTransactions()
        try p.beginTransaction()
        _ = try await p.send(Self.record("x"))
        let tp = TopicPartition(topic: "t", partition: 0)
        let fenced = await #expect(throws: KafkaError.self) {
            try await p.sendOffsetsToTransaction([tp: 1], group: ConsumerGroupMetadata(groupId: "g", generationId: generation, memberId: member))
        }
        #expect(fenced?.code == expected)
        await #expect(throws: KafkaError.self) { try await p.commitTransaction() }
        try await p.abortTransaction()
        #expect(rig.cluster.committedOffset(group: "g", "t", 0) == nil)
        // The current member's offsets go through.
        try await p.withTransaction { txn in
            try await txn.sendOffsetsToTransaction([tp: 1], group: ConsumerGroupMetadata(groupId: "g", generationId: 5, memberId: "m-1"))
        }
        #expect(rig.cluster.committedOffset(group: "g", "t", 0)?.offset == 1)
        await p.close()
    }

    // 2. consume-transform-produce: a group member's consumed offsets, sent to the transaction
    // with its group metadata, become the group's only with the commit (and never with an abort).
    @Test(.timeLimit(.minutes(1)))
    func consumedOffsetsBecomeTheGroupsOnlyWithTheCommit() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        rig.cluster.createTopic("out", partitions: 1, leader: 1)
        let plain = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap])
        for i in 0 ..< 3 { try plain.enqueue(Self.record("in\(i)")) }
        try await plain.flush()
        await plain.close()
        let consumer = try KafkaConsumer(properties: [
            "bootstrap.servers": rig.bootstrap, "group.id": "g", "enable.auto.commit": "false",
            "auto.offset.reset": "earliest", "isolation.level": "read_committed",
        ])
        try consumer.subscribe(topics: ["t"])
        var input: [ConsumerRecord] = []
        let until = ContinuousClock.now + .seconds(30)
        while input.count < 3 && ContinuousClock.now < until { input += try await consumer.poll(timeout: .milliseconds(200)) }
        #expect(input.map { $0.valueString ?? "" } == ["in0", "in1", "in2"])
        let group = try #require(consumer.groupMetadata)
        #expect(group.generationId != nil && group.memberId != nil, "a member of the fake's group: \(group)")
        let tp = TopicPartition(topic: "t", partition: 0)
        let admin = try KafkaAdminClient(properties: ["bootstrap.servers": rig.bootstrap])
        let p = try rig.producer()
        try await p.initTransactions()

        // Aborted: neither the output nor the offsets.
        try p.beginTransaction()
        for r in input { _ = try await p.send(ProducerRecord(topic: "out", key: nil, value: "lost-" + (r.valueString ?? ""))) }
        try await p.sendOffsetsToTransaction([tp: 3], group: group)
        try await p.abortTransaction()
        #expect(rig.cluster.committedOffset(group: "g", "t", 0) == nil)

        try p.beginTransaction()
        for r in input { _ = try await p.send(ProducerRecord(topic: "out", key: nil, value: (r.valueString ?? "").uppercased())) }
        try await p.sendOffsetsToTransaction([tp: 3], group: group)
        #expect(rig.cluster.committedOffset(group: "g", "t", 0) == nil, "pending until the commit")
        #expect(try await admin.listConsumerGroupOffsets("g")[tp] == nil, "not visible to a reader before the commit")
        try await p.commitTransaction()
        #expect(rig.cluster.committedOffset(group: "g", "t", 0)?.offset == 3)
        #expect(try await admin.listConsumerGroupOffsets("g")[tp]?.offset == 3)
        #expect(try await consumer.committed([tp])[tp] == 3, "the member itself reads its committed offset (require_stable)")
        let out = try FakeLog.consumer(rig.broker, ["isolation.level": "read_committed"])
        try await out.assign([TopicPartition(topic: "out", partition: 0)], from: .beginning)
        #expect(try await FakeLog.read(out, count: 3).map { $0.valueString ?? "" } == ["IN0", "IN1", "IN2"])
        await out.close()
        await consumer.close()
        await admin.close()
        await p.close()
    }

    // 9. empty transactions (nothing, or offsets only) work.
    @Test(.timeLimit(.minutes(1)))
    func emptyAndOffsetsOnlyTransactionsWork() async throws {
        let rig = try Self.rig()
        defer { rig.stop() }
        let p = try rig.producer()
        try await p.initTransactions()
        try await p.withTransaction { _ in }
        try p.beginTransaction()
        try await p.abortTransaction()
        #expect(rig.cluster.requests(.endTxn).isEmpty, "nothing to end at the coordinator")
        try await p.withTransaction { txn in
            try await txn.sendOffsetsToTransaction([TopicPartition(topic: "t", partition: 1): 9], group: ConsumerGroupMetadata(groupId: "g"))
        }
        #expect(rig.cluster.committedOffset(group: "g", "t", 1)?.offset == 9)
        #expect(rig.cluster.requests(.endTxn).count == 1)
        await p.close()
    }

    // 10. TV2: no AddPartitionsToTxn sent, the epoch bumps on each EndTxn.
    @Test(.timeLimit(.minutes(1)))
    func transactionsV2SendNoAddPartitionsAndBumpTheEpochEachTime() async throws {
        let rig = try Self.rig(transactionVersion: 2)
        defer { rig.stop() }
        let p = try rig.producer()
        try await p.initTransactions()
        for i in 0 ..< 3 {
            try await p.withTransaction { txn in
                _ = try await txn.send(Self.record("v\(i)", Int32(i % 2)))
                try await txn.sendOffsetsToTransaction([TopicPartition(topic: "t", partition: 0): Int64(i + 1)], group: ConsumerGroupMetadata(groupId: "g"))
            }
        }
        try p.beginTransaction()
        _ = try await p.send(Self.record("aborted"))
        try await p.abortTransaction()
        try await p.withTransaction { txn in _ = try await txn.send(Self.record("v3")) }
        await p.close()
        #expect(rig.cluster.requests(.addPartitionsToTxn).isEmpty && rig.cluster.requests(.addOffsetsToTxn).isEmpty)
        let ends = rig.cluster.requests(.endTxn)
        #expect(ends.count == 5 && ends.allSatisfy { $0.version >= 5 })
        let epochs = ends.map(\.producerEpoch)
        #expect(epochs == epochs.sorted() && Set(epochs).count == epochs.count, "a new epoch per transaction: \(epochs)")
        #expect(rig.cluster.committedOffset(group: "g", "t", 0)?.offset == 3)
        #expect(Set(try await rig.readCommitted(count: 4)) == ["v0", "v1", "v2", "v3"])
    }
}
