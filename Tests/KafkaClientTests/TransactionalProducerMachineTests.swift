import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol

/// The producer machine with a transaction: records refused outside one, batches held until
/// their partition is added, the transactional attribute, failures spoiling the transaction,
/// the abort dropping unsent batches, and a new epoch restarting sequences. No broker, no clock.
@Suite struct TransactionalProducerMachineTests {
    let t0 = ContinuousClock.now
    let p0 = TopicPartition(topic: "t", partition: 0)
    let p1 = TopicPartition(topic: "t", partition: 1)
    let id = ProducerIdentity(id: 7, epoch: 3)

    /// A transactional machine with metadata for "t" (2 partitions) and initTransactions() done.
    func machine(v2: Bool = false) throws -> ProducerMachine {
        var m = ProducerMachine(config: try ProducerConfig(properties: [
            "bootstrap.servers": "localhost:9092", "linger.ms": "0", "transactional.id": "tx",
        ]))
        let parts = (0 ..< 2).map { ClusterMetadata.Partition(partition: Int32($0), leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: []) }
        _ = m.handle(.metadata(ClusterMetadata(topics: ["t": .init(name: "t", topicId: .zero, isInternal: false, partitions: parts)])))
        #expect(m.producerIdRequest == nil, "a transactional producer's id comes from initTransactions")
        _ = try m.transaction!.start(.initialize)
        _ = m.transaction!.next(now: t0)
        _ = m.transactionEvent(.initAnswered(.noError, id, transactionV2: v2), now: t0)
        _ = m.transaction!.next(now: t0)
        m.transaction!.claimed(.initialize)
        return m
    }

    func enqueue(_ m: inout ProducerMachine, partition: Int32 = 0) throws {
        _ = try m.enqueue(ProducerRecord(topic: "t", partition: partition, key: nil, value: "v"), timestamp: 1_700_000_000_000, now: t0)
    }

    func sends(_ actions: [ProducerAction]) -> [ProduceRequestPlan] {
        actions.compactMap { if case let .send(p) = $0 { p } else { nil } }
    }

    func request(_ a: TransactionAction) -> TransactionRequest? {
        if case let .send(r) = a { r } else { nil }
    }

    func failures(_ actions: [ProducerAction]) -> [KafkaError] {
        actions.compactMap { if case let .complete(_, .failure(e)) = $0 { e } else { nil } }
    }

    @Test func recordsOutsideATransactionAreRefused() throws {
        var m = try machine()
        #expect(m.producerId == 7 && m.producerEpoch == 3)
        #expect(throws: KafkaError.self) { try enqueue(&m) }
        do { try enqueue(&m) } catch let e as KafkaError { #expect(e.kind == .invalidState) }
        #expect(m.pendingMessages == 0)
    }

    @Test func batchesWaitForAddPartitionsAndCarryTheTransactionalAttribute() throws {
        var m = try machine()
        try m.transaction!.begin()
        try enqueue(&m, partition: 0)
        try enqueue(&m, partition: 1)
        #expect(sends(m.handle(.drain(now: t0 + .seconds(1)))).isEmpty, "not added yet")
        #expect(m.transaction!.takeAddPartitions(now: t0) == .addPartitions([p0, p1], id))
        _ = m.transactionEvent(.partitionsAnswered([p0: .noError, p1: .noError]), now: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first)
        #expect(plan.batches.count == 2)
        for (_, bytes) in plan.batches {
            let batch = try RecordBatch(bytes)
            #expect(batch.isTransactional && batch.producerId == 7 && batch.producerEpoch == 3, "CRC and attributes patched together")
        }
    }

    @Test func aFailedBatchSpoilsTheTransactionAndFailsTheUnsentOnes() throws {
        var m = try machine(v2: true)
        try m.transaction!.begin()
        try enqueue(&m, partition: 0)
        let plan = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first, "V2: no AddPartitionsToTxn")
        try enqueue(&m, partition: 0)  // queued behind the in-flight batch
        let actions = m.handle(.failed(plan.id, KafkaError(.timeout, "expired"), written: false, now: t0 + .seconds(200)))
        #expect(m.transaction!.state == .abortableError)
        let errors = failures(actions) + failures(m.handle(.tick(now: t0 + .seconds(200))))
        #expect(errors.count >= 1, "the queued batch fails with the transaction's error")
        #expect(m.transaction!.recordRefusal != nil, "no new records until the abort")
    }

    @Test func fencedProduceIsFatalNotAnEpochBump() throws {
        var m = try machine(v2: true)
        try m.transaction!.begin()
        try enqueue(&m)
        let plan = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first)
        var r = ProduceResponse()
        var t = ProduceResponse.Topic()
        t.name = "t"
        var p = ProduceResponse.Partition()
        p.index = 0
        p.errorCode = KafkaErrorCode.invalidProducerEpoch.rawValue
        t.partitionResponses = [p]
        r.responses = [t]
        let done = failures(m.handle(.answered(plan.id, r, now: t0 + .seconds(1))))
        #expect(done.first?.code == .invalidProducerEpoch, "the batch fails instead of being retried")
        #expect(m.transaction!.state == .fatalError && !m.epochBumpNeeded)
    }

    @Test func anAbortDropsUnsentBatchesAndANewEpochRestartsSequences() throws {
        var m = try machine()
        try m.transaction!.begin()
        try enqueue(&m, partition: 0)
        _ = m.transaction!.takeAddPartitions(now: t0)
        _ = m.transactionEvent(.partitionsAnswered([p0: .noError]), now: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first)
        _ = m.handle(.answered(plan.id, ProduceResponse(), now: t0 + .seconds(1)))  // unanswered partition: retried
        try? enqueue(&m, partition: 1)
        _ = try m.transaction!.start(.abort)
        guard case let .dropUnsent(e) = m.transaction!.next(now: t0) else { Issue.record("drop first"); return }
        let dropped = failures(m.dropForAbort(e))
        #expect(!dropped.isEmpty && dropped.allSatisfy { $0.kind == .invalidState })
        #expect(m.transaction!.epochBumpNeeded, "a dropped batch had a sequence number")
        #expect(m.isIdle)
        _ = m.transactionEvent(.dropped, now: t0)
        _ = m.transactionEvent(.flushed, now: t0)
        #expect(request(m.transaction!.next(now: t0)) == .endTxn(commit: false, id))
        _ = m.transactionEvent(.endTxnAnswered(.noError, .none), now: t0)
        #expect(request(m.transaction!.next(now: t0)) == .initProducerId(current: id))
        _ = m.transactionEvent(.initAnswered(.noError, ProducerIdentity(id: 7, epoch: 4), transactionV2: false), now: t0)
        #expect(m.producerEpoch == 4 && m.accumulator.queues.values.allSatisfy { $0.nextSequence == 0 })
    }
}

/// Transactional settings and the API's misuse errors, without a broker.
@Suite struct TransactionConfigTests {
    @Test func deliveryTimeoutDefaultsToTheTransactionTimeoutAndMayNotExceedIt() throws {
        #expect(try ProducerConfig(properties: ["transactional.id": "t"]).deliveryTimeout == .seconds(60))
        #expect(try ProducerConfig(properties: ["transactional.id": "t", "transaction.timeout.ms": "90000"]).deliveryTimeout == .seconds(90))
        #expect(ProducerConfig().deliveryTimeout == .seconds(120), "not transactional: unchanged")
        let tooLong = try ProducerConfig(properties: ["bootstrap.servers": "localhost:1", "transactional.id": "t", "delivery.timeout.ms": "120000"])
        #expect { try tooLong.validate() } throws: { ($0 as? KafkaError)?.kind == .configuration }
        let fine = try ProducerConfig(properties: ["bootstrap.servers": "localhost:1", "transactional.id": "t", "delivery.timeout.ms": "30000"])
        try fine.validate()
    }

    @Test func aTransactionalProducerMustBeIdempotent() throws {
        let c = try ProducerConfig(properties: ["bootstrap.servers": "localhost:1", "transactional.id": "t", "enable.idempotence": "false"])
        #expect { try c.validate() } throws: { ($0 as? KafkaError)?.kind == .configuration }
        let empty = try ProducerConfig(properties: ["bootstrap.servers": "localhost:1", "transactional.id": ""])
        #expect { try empty.validate() } throws: { ($0 as? KafkaError)?.kind == .configuration }
    }

    @Test func transactionCallsOnAPlainProducerAndOutOfOrderAreInvalidState() async throws {
        let plain = try KafkaProducer(properties: ["bootstrap.servers": "127.0.0.1:1"])
        await #expect { try await plain.initTransactions() } throws: { ($0 as? KafkaError)?.kind == .invalidState }
        #expect { try plain.beginTransaction() } throws: { ($0 as? KafkaError)?.kind == .invalidState }
        await plain.close(timeout: .zero)

        let txn = try KafkaProducer(properties: ["bootstrap.servers": "127.0.0.1:1", "transactional.id": "t"])
        #expect { try txn.beginTransaction() } throws: { ($0 as? KafkaError)?.kind == .invalidState }
        #expect { try txn.enqueue(ProducerRecord(topic: "t", key: nil, value: "v")) } throws: { ($0 as? KafkaError)?.kind == .invalidState }
        await #expect { try await txn.commitTransaction() } throws: { ($0 as? KafkaError)?.kind == .invalidState }
        await #expect { try await txn.abortTransaction() } throws: { ($0 as? KafkaError)?.kind == .invalidState }
        await txn.close(timeout: .zero)
    }
}
