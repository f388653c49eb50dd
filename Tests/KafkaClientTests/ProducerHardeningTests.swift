import Synchronization
import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// The producer against a hostile or silent broker, cancellation, and lifecycle: scripted on
/// the fake broker.
@Suite struct ProducerHardeningTests {
    /// What the scripted broker does with the n-th (1-based) Produce request.
    enum ProduceAnswer: Sendable {
        case respond(ProduceResponse)
        case respondAfter(Duration, ProduceResponse)
        case ignore
    }

    /// A fake broker that hands out producer id 7 and answers Produce through `produce`.
    static func broker(partitions: Int32 = 1, produce: @escaping @Sendable (ProduceRequest, Int) -> ProduceAnswer) throws -> (FakeBroker, Recorded<ProduceRequest>) {
        let produced = Recorded<ProduceRequest>()
        let b = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .initProducerId:
                var resp = InitProducerIdResponse()
                resp.producerId = 7
                resp.producerEpoch = 0
                return .respond(b.body(resp, for: req))
            case .produce:
                guard let r = try? req.decode(ProduceRequest.self) else { return .disconnect }
                let n = produced.append(r)
                switch produce(r, n) {
                case let .respond(resp): return .respond(b.body(resp, for: req))
                case let .respondAfter(d, resp): return .respondAfter(d, b.body(resp, for: req))
                case .ignore: return .ignore
                }
            default:
                return b.defaultAction(req)
            }
        }
        b.addTopic("t", partitions: partitions)
        return (b, produced)
    }

    /// The well-formed answer: every partition of the request, no error, `offset`.
    static func answer(_ r: ProduceRequest, offset: Int64) -> ProduceResponse {
        var resp = ProduceResponse()
        resp.responses = r.topicData.map { t in
            var out = ProduceResponse.Topic()
            out.name = t.name
            out.partitionResponses = t.partitionData.map { p in
                var pr = ProduceResponse.Partition()
                pr.index = p.index
                pr.baseOffset = offset
                return pr
            }
            return out
        }
        return resp
    }

    static func partitions(_ r: ProduceRequest) -> [Int32] { r.topicData.flatMap { $0.partitionData.map(\.index) } }

    static func batch(_ r: ProduceRequest, partition: Int32) throws -> RecordBatch? {
        guard let p = r.topicData.flatMap(\.partitionData).first(where: { $0.index == partition }) else { return nil }
        return try RecordBatch(p.records ?? [])
    }

    final class Reports: Sendable {
        let all = Mutex<[DeliveryReport]>([])
        func add(_ r: DeliveryReport) { all.withLock { $0.append(r) } }
        var list: [DeliveryReport] { all.withLock { $0 } }
        func forIds(_ ids: [MessageID]) -> [DeliveryReport] { list.filter { !Set($0.messageIds).isDisjoint(with: ids) } }
    }

    func config(_ broker: FakeBroker, _ extra: [String: String] = [:]) throws -> ProducerConfig {
        var props = ["bootstrap.servers": broker.address, "retry.backoff.ms": "10", "retry.backoff.max.ms": "50", "request.timeout.ms": "60000", "delivery.timeout.ms": "120000"]
        for (k, v) in extra { props[k] = v }
        return try ProducerConfig(properties: props)
    }

    // MARK: A. Arithmetic on wire values

    /// A broker answering base offset Int64.max for a batch of 10: `base + i` would overflow
    /// for i ≥ 1. No trap; the offsets are reported as unknown (-1) since they cannot exist.
    @Test(.timeLimit(.minutes(1)))
    func baseOffsetInt64MaxForABatchOfTenDoesNotTrap() async throws {
        let (broker, produced) = try Self.broker { r, _ in .respond(Self.answer(r, offset: .max)) }
        defer { broker.stop() }
        let reports = Reports()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "200"])) { reports.add($0) }
        // Ten `send`s and ten `enqueue`s, each group lingering into one batch.
        let metas = try await withThrowingTaskGroup(of: RecordMetadata.self) { g in
            for i in 0 ..< 10 { g.addTask { try await producer.send(ProducerRecord(topic: "t", key: nil, value: "s\(i)")) } }
            return try await g.reduce(into: []) { $0.append($1) }
        }
        var ids: [MessageID] = []
        for i in 0 ..< 10 { ids.append(try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "e\(i)"))) }
        try await producer.flush()
        #expect(metas.count == 10)
        let counts = try produced.all.map { try Self.batch($0, partition: 0)?.recordCount ?? 0 }
        #expect(counts.contains(10), "a batch of 10 was sent: \(counts)")
        // Only a batch of exactly one message has a representable offset here.
        if counts.first == 10 {
            #expect(metas.allSatisfy { $0.offset == nil }, "\(metas.map(\.offset))")
        } else {
            #expect(metas.allSatisfy { $0.offset == nil || $0.offset == .max }, "\(metas.map(\.offset))")
        }
        let mine = reports.forIds(ids)
        #expect(mine.allSatisfy { $0.error == nil })
        #expect(Set(mine.flatMap(\.messageIds)) == Set(ids))
        for r in mine where r.messageIds.count > 1 { #expect(r.baseOffset == nil, "a base offset whose batch runs past Int64.max is unknown") }
        await producer.close()
    }

    @Test func usableBaseOffset() {
        #expect(BatchOutcome.usableBaseOffset(.max, count: 1) == Int64.max)
        #expect(BatchOutcome.usableBaseOffset(.max, count: 2) == nil)
        #expect(BatchOutcome.usableBaseOffset(.max - 9, count: 10) == Int64.max - 9)
        #expect(BatchOutcome.usableBaseOffset(.max - 8, count: 10) == nil)
        #expect(BatchOutcome.usableBaseOffset(-1, count: 10) == nil)
        #expect(BatchOutcome.usableBaseOffset(.min, count: 10) == nil)
        #expect(BatchOutcome.usableBaseOffset(5, count: 0) == 5)
    }

    @Test func lagSaturates() {
        let lag = ConsumerGroupPartitionLag(topicPartition: TopicPartition(topic: "t", partition: 0), committedOffset: .min, logEndOffset: .success(.max))
        #expect(lag.lag == .max)
        let negative = ConsumerGroupPartitionLag(topicPartition: TopicPartition(topic: "t", partition: 1), committedOffset: .max, logEndOffset: .success(-2))
        #expect(negative.lag == .min)
        let total = ConsumerGroupLag(groupId: "g", partitions: [lag, lag])
        #expect(total.totalLag == .max)
    }

    // MARK: B. Produce responses naming partitions the request did not carry

    enum Broken: String, CaseIterable, Sendable { case foreignPartition, duplicatePartition }

    /// Request 1 carries partition 1; while the broker holds it (500 ms), request 2 carries
    /// partition 0. The answer to request 1 is broken: it also names partition 0 (in flight in
    /// request 2), or names partition 1 twice, at offset 5. Nothing may be completed by it:
    /// partition 1's batch is resent with the same sequence number, and both partitions are
    /// completed by well-formed answers at offset 100.
    @Test(.timeLimit(.minutes(1)), arguments: Broken.allCases)
    func brokenProduceResponseCompletesNothing(_ mode: Broken) async throws {
        let (broker, produced) = try Self.broker(partitions: 2) { r, n in
            guard n == 1 else { return .respond(Self.answer(r, offset: 100)) }
            var resp = Self.answer(r, offset: 5)
            var extra = ProduceResponse.Partition()
            extra.index = mode == .foreignPartition ? 0 : 1
            extra.baseOffset = 5
            resp.responses[0].partitionResponses.append(extra)
            return .respondAfter(.milliseconds(500), resp)
        }
        defer { broker.stop() }
        let reports = Reports()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0", "max.in.flight.requests.per.connection": "5"])) { reports.add($0) }
        let p1 = try producer.enqueue(ProducerRecord(topic: "t", partition: 1, key: nil, value: "one"))
        try await eventually("the first Produce", timeout: .seconds(20), every: .milliseconds(5)) { produced.all.count >= 1 }
        let p0 = try producer.enqueue(ProducerRecord(topic: "t", partition: 0, key: nil, value: "zero"))
        try await producer.flush()
        let all = produced.all
        #expect(Self.partitions(all[0]) == [1])
        for id in [p0, p1] {
            let r = reports.forIds([id])
            #expect(r.count == 1 && r.first?.error == nil && r.first?.baseOffset == 100, "message \(id) completed by the broken answer: \(r)")
        }
        // Partition 1 was resent, with the same sequence (idempotence).
        let resends = all.dropFirst().filter { Self.partitions($0).contains(1) }
        #expect(resends.count == 1)
        if let resend = resends.first {
            #expect(try Self.batch(resend, partition: 1)?.baseSequence == Self.batch(all[0], partition: 1)?.baseSequence)
        }
        await producer.close()
    }

    // MARK: E. close() and batches already written

    /// A broker that never answers Produce: close(timeout: short) reports the written batch
    /// as `.outcomeUnknown` and messages never sent (a partition held behind it) as `.closed`.
    @Test(.timeLimit(.minutes(1)))
    func closeReportsWrittenBatchesAsOutcomeUnknown() async throws {
        let (broker, produced) = try Self.broker { _, _ in .ignore }
        defer { broker.stop() }
        let reports = Reports()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"])) { reports.add($0) }
        let sent = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "written"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        // Same partition, behind the in-flight batch: never written.
        let held = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "held"))
        await producer.close(timeout: .milliseconds(100))
        #expect(produced.all.count == 1)
        #expect(reports.forIds([sent]).first?.error?.kind == .outcomeUnknown, "\(reports.forIds([sent]))")
        #expect(reports.forIds([held]).first?.error?.kind == .closed, "\(reports.forIds([held]))")
    }

    /// delivery.timeout.ms expiring a batch that was written but never acknowledged reports
    /// `.outcomeUnknown` (it may be in the log); one never written reports `.timeout`.
    @Test(.timeLimit(.minutes(1)))
    func anExpiredWrittenBatchIsOutcomeUnknownNotTimeout() async throws {
        let (broker, produced) = try Self.broker { _, _ in .ignore }
        defer { broker.stop() }
        let reports = Reports()
        // The request times out at 500 ms (written, unanswered); its retry waits 3 s, so the
        // batch expires at 1.5 s while waiting to be resent.
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0", "delivery.timeout.ms": "1500", "request.timeout.ms": "500",
                                                                 "retry.backoff.ms": "3000", "retry.backoff.max.ms": "3000"])) { reports.add($0) }
        let sent = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "written"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        try await eventually("the report", timeout: .seconds(20), every: .milliseconds(20)) { !reports.forIds([sent]).isEmpty }
        let e = reports.forIds([sent]).first?.error
        #expect(e?.kind == .outcomeUnknown, "\(String(describing: e))")
        await producer.close(timeout: .milliseconds(100))
    }

    // MARK: F. Sub-second timeouts

    @Test(.timeLimit(.minutes(1)))
    func subSecondRequestTimeoutReachesTheProduceRequest() async throws {
        let (broker, produced) = try Self.broker { r, _ in .respond(Self.answer(r, offset: 0)) }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["request.timeout.ms": "500", "delivery.timeout.ms": "5000", "linger.ms": "0"]))
        _ = try await producer.send(ProducerRecord(topic: "t", key: nil, value: "v"))
        #expect(produced.all.first?.timeoutMs == 500)
        await producer.close()
    }

    // MARK: C. Cancellation

    /// `send` awaiting an ack that never comes (request.timeout.ms 60 s): cancelling returns
    /// `.cancelled` promptly; the producer stays usable (enqueue works, close works).
    @Test(.timeLimit(.minutes(1)))
    func sendWaitingForAnAckIsCancellable() async throws {
        let (broker, produced) = try Self.broker { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"]))
        let task = Task { try await producer.send(ProducerRecord(topic: "t", key: nil, value: "v")) }
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(Self.kind(result) == .cancelled, "\(result)")
        _ = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "still usable"))
        await producer.close(timeout: .milliseconds(50))
    }

    /// `send` waiting for room in a full `buffer.memory`: cancelling returns `.cancelled`
    /// promptly and leaves the record unsent.
    @Test(.timeLimit(.minutes(1)))
    func sendWaitingForBufferRoomIsCancellable() async throws {
        let (broker, _) = try Self.broker { _, _ in .ignore }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0", "buffer.memory": "2048", "batch.size": "1024"]))
        _ = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: String(repeating: "x", count: 1900)))
        try await eventually("metadata", timeout: .seconds(20), every: .milliseconds(10)) { producer.core.pendingMessages == 1 }
        let task = Task { try await producer.send(ProducerRecord(topic: "t", key: nil, value: String(repeating: "y", count: 1000))) }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(Self.kind(result) == .cancelled, "\(result)")
        #expect(producer.pendingMessages == 1, "the cancelled record was not appended")
        await producer.close(timeout: .milliseconds(50))
    }

    /// `flush` on a broker that never answers: cancellable; `close(timeout: 60 s)` likewise.
    @Test(.timeLimit(.minutes(1)))
    func flushAndCloseAreCancellable() async throws {
        let (broker, produced) = try Self.broker { _, _ in .ignore }
        defer { broker.stop() }
        let reports = Reports()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"])) { reports.add($0) }
        let id = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "v"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
        let flush = Task { try await producer.flush() }
        try await Task.sleep(for: .milliseconds(100))
        var started = ContinuousClock.now
        flush.cancel()
        let flushed = await flush.result
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(Self.kind(flushed) == .cancelled, "\(flushed)")
        #expect(producer.pendingMessages == 1, "the message stays queued after a cancelled flush")
        let close = Task { await producer.close(timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(100))
        started = ContinuousClock.now
        close.cancel()
        await close.value
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(reports.forIds([id]).first?.error?.kind == .outcomeUnknown)
    }

    /// `send` for a topic whose metadata never comes (Metadata ignored): cancellable.
    @Test(.timeLimit(.minutes(1)))
    func sendWaitingForMetadataIsCancellable() async throws {
        let broker = try FakeBroker { req, b in req.header.apiKey == .metadata ? .ignore : b.defaultAction(req) }
        defer { broker.stop() }
        let producer = try KafkaProducer(config: config(broker, ["enable.idempotence": "false", "acks": "1"]))
        let task = Task { try await producer.send(ProducerRecord(topic: "t", key: nil, value: "v")) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(Self.kind(result) == .cancelled, "\(result)")
        await producer.close(timeout: .milliseconds(50))
    }

    static func kind<T>(_ r: Result<T, any Error>) -> KafkaError.Kind? {
        if case let .failure(e as KafkaError) = r { return e.kind }
        return nil
    }

    // MARK: H. close() is event-driven

    /// close(timeout: 60 s) returns as soon as the last ack arrives (1 s after the request),
    /// long before the timeout; the message is delivered.
    @Test(.timeLimit(.minutes(1)))
    func closeReturnsOnceTheLastAckArrives() async throws {
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .initProducerId:
                var resp = InitProducerIdResponse()
                resp.producerId = 7
                return .respond(b.body(resp, for: req))
            case .produce:
                guard let r = try? req.decode(ProduceRequest.self) else { return .disconnect }
                return .respondAfter(.seconds(1), b.body(Self.answer(r, offset: 3), for: req))
            default: return b.defaultAction(req)
            }
        }
        defer { broker.stop() }
        broker.addTopic("t", partitions: 1)
        let reports = Reports()
        let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"])) { reports.add($0) }
        let id = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "v"))
        try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(5)) { broker.received.contains { $0.header.apiKey == .produce } }
        let started = ContinuousClock.now
        await producer.close(timeout: .seconds(60))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(10), "close took \(elapsed)")
        #expect(reports.forIds([id]).first?.error == nil && reports.forIds([id]).first?.baseOffset == 3)
    }

    // MARK: D. A producer released without close()

    /// Dropping the last reference to a producer shuts it down: the wrapper is freed, queued
    /// messages fail with a clear error, and the broker sees its connection close.
    @Test(.timeLimit(.minutes(1)))
    func releasedProducerShutsDown() async throws {
        let (broker, produced) = try Self.broker { _, _ in .ignore }
        defer { broker.stop() }
        let reports = Reports()
        weak var weakProducer: KafkaProducer?
        var written = MessageID(0), queued = MessageID(0)
        do {
            let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"])) { reports.add($0) }
            weakProducer = producer
            written = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "written"))
            try await eventually("the Produce", timeout: .seconds(20), every: .milliseconds(10)) { produced.all.count >= 1 }
            queued = try producer.enqueue(ProducerRecord(topic: "t", key: nil, value: "queued"))
            #expect(broker.openConnections >= 1)
        }
        try await eventually("the producer freed", timeout: .seconds(5), every: .milliseconds(10)) { weakProducer == nil }
        try await eventually("reports for both messages", timeout: .seconds(5), every: .milliseconds(10)) { reports.forIds([written, queued]).count == 2 }
        #expect(reports.forIds([queued]).first?.error?.kind == .closed)
        #expect(reports.forIds([queued]).first?.error?.message.contains("without close()") == true, "\(String(describing: reports.forIds([queued]).first?.error))")
        #expect(reports.forIds([written]).first?.error?.kind == .outcomeUnknown)
        try await eventually("the broker sees the connections close", timeout: .seconds(10), every: .milliseconds(10)) { broker.openConnections == 0 }
    }

    /// An idle producer released without `close()` is freed, and so is its core (the sender
    /// and every other background task end); its connections close.
    @Test(.timeLimit(.minutes(1)))
    func idleReleasedProducerIsFreed() async throws {
        let (broker, _) = try Self.broker { r, _ in .respond(Self.answer(r, offset: 0)) }
        defer { broker.stop() }
        weak var weakProducer: KafkaProducer?
        weak var weakCore: ProducerCore?
        do {
            let producer = try KafkaProducer(config: config(broker, ["linger.ms": "0"]))
            weakProducer = producer
            weakCore = producer.core
            _ = try await producer.send(ProducerRecord(topic: "t", key: nil, value: "v"))
        }
        try await eventually("the producer freed", timeout: .seconds(5), every: .milliseconds(10)) { weakProducer == nil }
        try await eventually("the core freed (its tasks ended)", timeout: .seconds(10), every: .milliseconds(10)) { weakCore == nil }
        try await eventually("the broker sees the connections close", timeout: .seconds(10), every: .milliseconds(10)) { broker.openConnections == 0 }
    }
}
