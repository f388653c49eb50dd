import Synchronization
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// The confluent-kafka-shaped producer calls: `flush(timeout:)` returning what is left,
/// per-message delivery outcomes, `queue.buffering.max.messages` and `batch.num.messages`,
/// against the scripted fake broker of `ProducerHardeningTests`.
@Suite struct ProducerAPITests {
    typealias H = ProducerHardeningTests

    final class Deliveries: Sendable {
        let all = Mutex<[MessageDelivery]>([])
        func add(_ d: MessageDelivery) { all.withLock { $0.append(d) } }
        var list: [MessageDelivery] { all.withLock { $0 } }
    }

    func config(_ broker: FakeBroker, _ extra: [String: String] = [:]) throws -> ProducerConfig {
        try H().config(broker, extra)
    }

    // MARK: flush(timeout:)

    /// A broker that never answers: three messages of one partition (one in flight, two held
    /// behind it) are all still queued when the timeout passes, and stay queued.
    @Test(.timeLimit(.minutes(1)))
    func flushTimeoutReturnsHowManyAreStillQueued() async throws {
        let (broker, produced) = try H.broker { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"]))
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "a"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "b"))
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "c"))
        let left = try await producer.flush(timeout: .milliseconds(200))
        #expect(left == 3)
        #expect(producer.pendingMessages == 3, "the messages stay queued after the timeout")
        #expect(try await producer.flush(timeout: .zero) == 3)
        await producer.close(timeout: .milliseconds(100))
    }

    /// A broker that answers: flush(timeout:) returns 0 once every message is delivered, and
    /// it does not wait for linger.ms (10 minutes here).
    @Test(.timeLimit(.minutes(1)))
    func flushTimeoutReturnsZeroWhenEverythingIsDelivered() async throws {
        let (broker, _) = try H.broker { r, _ in .respond(H.answer(r, offset: 0)) }
        defer { broker.stop() }
        let reports = H.Reports()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "600000"])) { reports.add($0) }
        var ids: [MessageID] = []
        for i in 0 ..< 5 { ids.append(try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "m\(i)"))) }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ids ascend in enqueue order: \(ids)")
        #expect(try await producer.flush(timeout: .seconds(30)) == 0)
        #expect(Set(reports.list.flatMap(\.messageIds)) == Set(ids))
        await producer.close()
    }

    /// A flush that timed out no longer overrides linger.ms: with partition 0's batch stuck
    /// in flight, a later message for partition 1 waits for its (10-minute) linger instead of
    /// going out at once as if a flush were still waiting.
    @Test(.timeLimit(.minutes(1)))
    func aTimedOutFlushLeavesLingerInForce() async throws {
        let (broker, produced) = try H.broker(partitions: 2) { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "600000"]))
        try producer.enqueue(ProducerRecord(topic: "t", partition: 0, key: nil, value: "a"))
        #expect(try await producer.flush(timeout: .milliseconds(300)) == 1)
        #expect(produced.all.count == 1, "the flush sent partition 0's batch")
        try producer.enqueue(ProducerRecord(topic: "t", partition: 1, key: nil, value: "b"))
        try await Task.sleep(for: .milliseconds(500))
        #expect(produced.all.flatMap(H.partitions) == [0], "partition 1 lingers: no flush is waiting")
        await producer.close(timeout: .milliseconds(100))
    }

    @Test(.timeLimit(.minutes(1)))
    func flushTimeoutHonoursCancellation() async throws {
        let (broker, produced) = try H.broker { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"]))
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "a"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        let task = Task { try await producer.flush(timeout: .seconds(600)) }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - start < .seconds(5))
        switch result {
        case let .success(n): Issue.record("flush returned \(n) instead of throwing")
        case let .failure(e): #expect((e as? KafkaError)?.kind == .cancelled, "\(e)")
        }
        #expect(producer.pendingMessages == 1)
        await producer.close(timeout: .milliseconds(100))
    }

    // MARK: Per-message outcomes

    /// Five messages lingering into one batch written at offset 100: one outcome per message,
    /// in both the callback and the stream, each with its own offset and timestamp; the
    /// per-batch report is still there.
    @Test(.timeLimit(.minutes(1)))
    func messageDeliveriesCarryOneOutcomePerMessage() async throws {
        let (broker, produced) = try H.broker { r, _ in .respond(H.answer(r, offset: 100)) }
        defer { broker.stop() }
        let reports = H.Reports()
        let callback = Deliveries()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "300"]), onDelivery: { reports.add($0) },
                                         onMessageDelivery: { callback.add($0) })
        let stream = producer.messageDeliveries
        var ids: [MessageID] = []
        for i in 0 ..< 5 { ids.append(try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "m\(i)", timestamp: 1000 + Int64(i)))) }
        #expect(try await producer.flush(timeout: .seconds(30)) == 0)
        let counts = try produced.all.map { try H.batch($0, partition: 0)?.recordCount ?? 0 }
        #expect(counts == [5], "one batch: \(counts)")
        #expect(reports.list.count == 1 && reports.list.first?.messageIds == ids)
        var fromStream: [MessageDelivery] = []
        for await d in stream {
            fromStream.append(d)
            if fromStream.count == 5 { break }
        }
        for list in [callback.list, fromStream] {
            #expect(list.map(\.messageId) == ids)
            let metas = list.compactMap { try? $0.result.get() }
            #expect(metas.map(\.offset) == Array(100 ..< 105).map { Optional($0) })
            #expect(metas.map(\.timestamp) == Array(1000 ..< 1005))
            #expect(metas.allSatisfy { $0.topic == "t" && $0.partition == 0 })
        }
        await producer.close()
    }

    /// `send` and `enqueue` sharing one batch: each enqueued message's outcome carries the
    /// offset of its own place in the batch (not its place among the enqueued ids).
    @Test(.timeLimit(.minutes(1)))
    func messageDeliveriesAreExactWhenSendAndEnqueueShareABatch() async throws {
        let (broker, produced) = try H.broker { r, _ in .respond(H.answer(r, offset: 1000)) }
        defer { broker.stop() }
        let callback = Deliveries()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "600000"]), onMessageDelivery: { callback.add($0) })
        let sends = Task {
            try await withThrowingTaskGroup(of: (String, RecordMetadata).self) { g in
                for i in 0 ..< 3 { g.addTask { ("s\(i)", try await producer.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "s\(i)"))) } }
                return try await g.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
        }
        try await eventually("the sends in the batch", timeout: .seconds(20), every: .milliseconds(5)) { producer.pendingMessages == 3 }
        var values: [MessageID: String] = [:]
        for i in 0 ..< 3 { values[try producer.enqueue(ProducerRecord(topic: "t", partition: 0, key: nil, value: "e\(i)"))] = "e\(i)" }
        #expect(try await producer.flush(timeout: .seconds(30)) == 0)
        let metas = try await sends.value
        let request = try #require(produced.all.first)
        let batch = try #require(try H.batch(request, partition: 0))
        #expect(produced.all.count == 1 && batch.recordCount == 6)
        var place: [String: Int64] = [:]
        for r in try batch.decodeRecords() { place[String(decoding: r.value ?? [], as: UTF8.self)] = r.offset }
        #expect(callback.list.count == 3)
        for d in callback.list {
            let value = try #require(values[d.messageId])
            #expect(try d.result.get().offset == 1000 + (place[value] ?? -1000), "\(value)")
        }
        for (value, meta) in metas { #expect(meta.offset == 1000 + (place[value] ?? -1000), "\(value)") }
        await producer.close()
    }

    /// A non-retriable error for the batch: every message's outcome is that error.
    @Test(.timeLimit(.minutes(1)))
    func messageDeliveriesCarryEachMessagesError() async throws {
        let (broker, _) = try H.broker { r, _ in
            var resp = H.answer(r, offset: -1)
            for t in resp.responses.indices {
                for p in resp.responses[t].partitionResponses.indices {
                    resp.responses[t].partitionResponses[p].errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                }
            }
            return .respond(resp)
        }
        defer { broker.stop() }
        let callback = Deliveries()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "300"]), onMessageDelivery: { callback.add($0) })
        var ids: [MessageID] = []
        for i in 0 ..< 3 { ids.append(try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "m\(i)"))) }
        _ = try await producer.flush(timeout: .seconds(30))
        #expect(callback.list.map(\.messageId) == ids)
        for d in callback.list {
            switch d.result {
            case .success: Issue.record("message \(d.messageId) reported delivered")
            case let .failure(e):
                #expect(e.kind == .broker(.topicAuthorizationFailed), "\(e)")
                #expect(e.context.topic == "t")
            }
        }
        await producer.close()
    }

    /// Without a per-message callback or stream, no per-message outcome is built (until the
    /// stream is first used); the stream made after close ends at once.
    @Test(.timeLimit(.minutes(1)))
    func messageDeliveriesAfterCloseEndsAtOnce() async throws {
        let (broker, _) = try H.broker { r, _ in .respond(H.answer(r, offset: 0)) }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker))
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "x"))
        #expect(try await producer.flush(timeout: .seconds(30)) == 0)
        #expect(!producer.core.buildsMessageDeliveries, "nobody asked: no per-message outcomes")
        let withCallback = try KafkaProducer(config: config(broker), onMessageDelivery: { _ in })
        #expect(withCallback.core.buildsMessageDeliveries)
        await withCallback.close()
        await producer.close()
        var n = 0
        for await _ in producer.messageDeliveries { n += 1 }
        #expect(n == 0)
        #expect(producer.core.buildsMessageDeliveries, "made on first use")
    }

    // MARK: queue.buffering.max.messages

    /// A silent broker and a bound of 2 messages: the third `enqueue` fails with `.queueFull`
    /// even though buffer.memory has room.
    @Test(.timeLimit(.minutes(1)))
    func enqueueBeyondQueueBufferingMaxMessagesIsQueueFull() async throws {
        let (broker, _) = try H.broker { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["queue.buffering.max.messages": "2"]))
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "a"))
        try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "b"))
        #expect(throws: KafkaError.self) { try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "c")) }
        do {
            try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "c"))
        } catch let e as KafkaError {
            #expect(e.kind == .queueFull)
            #expect(e.message.contains("queue.buffering.max.messages"), "\(e)")
        }
        #expect(producer.pendingMessages == 2)
        await producer.close(timeout: .milliseconds(100))
    }

    /// A bound of 1 message, a silent broker holding the first: `send` of a second message
    /// (to another partition) waits for room instead of sending; cancelled, it throws
    /// `.cancelled` and its record never reaches the broker.
    @Test(.timeLimit(.minutes(1)))
    func sendWaitsForRoomUnderQueueBufferingMaxMessages() async throws {
        let (broker, produced) = try H.broker(partitions: 2) { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["queue.buffering.max.messages": "1", "linger.ms": "0"]))
        try producer.enqueue(ProducerRecord(topic: "t", partition: 0, key: nil, value: "a"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        let task = Task { try await producer.send(ProducerRecord(topic: "t", partition: 1, key: nil, value: "b")) }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        let result = await task.result
        switch result {
        case .success: Issue.record("send returned instead of waiting for room")
        case let .failure(e): #expect((e as? KafkaError)?.kind == .cancelled, "\(e)")
        }
        #expect(produced.all.flatMap(H.partitions) == [0], "the waiting send's record was not sent")
        #expect(producer.pendingMessages == 1)
        await producer.close(timeout: .milliseconds(100))
    }

    /// A bound of 1 message and a broker that answers after 200 ms: each `send` waits for the
    /// one before it and then succeeds.
    @Test(.timeLimit(.minutes(1)))
    func sendProceedsWhenRoomComesUnderQueueBufferingMaxMessages() async throws {
        let (broker, produced) = try H.broker(partitions: 2) { r, n in .respondAfter(.milliseconds(200), H.answer(r, offset: Int64(n))) }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["queue.buffering.max.messages": "1", "linger.ms": "0"]))
        let metas = try await withThrowingTaskGroup(of: RecordMetadata.self) { g in
            for p in [Int32(0), 1, 0, 1] { g.addTask { try await producer.send(ProducerRecord(topic: "t", partition: p, key: nil, value: "v")) } }
            return try await g.reduce(into: []) { $0.append($1) }
        }
        #expect(metas.count == 4)
        // One message at a time: never two in one request.
        #expect(produced.all.map { H.partitions($0).count } == [1, 1, 1, 1])
        await producer.close()
    }

    // MARK: batch.num.messages

    /// Seven messages within one linger window and batch.num.messages=3: batches of 3, 3, 1.
    @Test(.timeLimit(.minutes(1)))
    func batchNumMessagesBoundsRecordsPerBatch() async throws {
        let (broker, produced) = try H.broker { r, _ in .respond(H.answer(r, offset: 0)) }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "300", "batch.num.messages": "3"]))
        for i in 0 ..< 7 { try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "m\(i)")) }
        #expect(try await producer.flush(timeout: .seconds(30)) == 0)
        let counts = try produced.all.map { try H.batch($0, partition: 0)?.recordCount ?? 0 }
        #expect(counts == [3, 3, 1], "\(counts)")
        await producer.close()
    }

    /// A batch that reaches batch.num.messages is ready at once (not after linger.ms).
    @Test func aBatchAtBatchNumMessagesIsReadyWithoutLinger() throws {
        var settings = RecordAccumulatorTests().settings(linger: .seconds(600))
        settings.maxBatchRecords = 2
        var acc = RecordAccumulator(settings: settings)
        let tp = TopicPartition(topic: "t", partition: 0)
        let t = ContinuousClock.now
        _ = try acc.append(tp, timestamp: 0, key: nil, value: [1], headers: [], completion: .id(MessageID(1), timestamp: 0), now: t)
        #expect(acc.readyPartitions(now: t).isEmpty)
        let second = try acc.append(tp, timestamp: 0, key: nil, value: [2], headers: [], completion: .id(MessageID(2), timestamp: 0), now: t)
        #expect(second == .appended(becameReady: true, firstInQueue: false))
        #expect(acc.readyPartitions(now: t) == [tp])
    }

    // MARK: Public initializers (for applications' own tests)

    @Test func publicInitializersBuildFakes() {
        let meta = RecordMetadata(topic: "t", partition: 2, offset: 9, timestamp: 1_700_000_000_000)
        #expect(meta.offset == 9 && meta.timestamp == 1_700_000_000_000)
        #expect(RecordMetadata(topic: "t", partition: 2, offset: nil, timestamp: 0).offset == nil)
        let report = DeliveryReport(topicPartition: TopicPartition(topic: "t", partition: 2), messageIds: [MessageID(1), MessageID(2)], result: .success(9))
        #expect(report.isSuccess && report.messageIds == [MessageID(1), MessageID(2)] && report.baseOffset == 9 && report.error == nil)
        let failed = DeliveryReport(topicPartition: TopicPartition(topic: "t", partition: 2), messageIds: [MessageID(3)], result: .failure(KafkaError(.timeout, "x")))
        #expect(!failed.isSuccess && failed.baseOffset == nil && failed.error?.kind == .timeout)
        let unknown = DeliveryReport(topicPartition: TopicPartition(topic: "t", partition: 2), messageIds: [MessageID(4)], result: .success(nil))
        #expect(unknown.isSuccess && unknown.baseOffset == nil)
        let record = ConsumerRecord(topic: "t", partition: 1, offset: 5, key: ArraySlice("k".utf8), value: ArraySlice("v".utf8))
        #expect(record.keyString == "k" && record.valueString == "v" && record.leaderEpoch == nil && record.timestamp == nil && record.timestampType == .createTime)
        #expect(record.topicPartition == TopicPartition(topic: "t", partition: 1))
        let delivery = MessageDelivery(messageId: MessageID(4), result: .success(meta))
        #expect((try? delivery.result.get()) == meta)
    }
}
