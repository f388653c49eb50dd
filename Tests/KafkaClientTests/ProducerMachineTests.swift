import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol

/// The producer core's transitions, driven by events and injected instants: no broker, no
/// clock, no sleeps. Each test follows one batch through its `BatchState`s.
@Suite struct ProducerMachineTests {
    let t0 = ContinuousClock.now
    let tp = TopicPartition(topic: "t", partition: 0)

    func machine(_ properties: [String: String] = [:], partitions: Int32 = 1, leader: Int32 = 1) throws -> ProducerMachine {
        var props = ["bootstrap.servers": "localhost:9092", "linger.ms": "0", "retry.backoff.ms": "100", "retry.backoff.max.ms": "100"]
        for (k, v) in properties { props[k] = v }
        var m = ProducerMachine(config: try ProducerConfig(properties: props))
        let parts = (0 ..< partitions).map { ClusterMetadata.Partition(partition: $0, leader: leader, leaderEpoch: 0, replicas: [leader], isr: [leader], offlineReplicas: []) }
        _ = m.handle(.metadata(ClusterMetadata(topics: ["t": .init(name: "t", topicId: .zero, isInternal: false, partitions: parts)])))
        _ = m.handle(.producerId(7, epoch: 0))
        return m
    }

    @discardableResult
    func enqueue(_ m: inout ProducerMachine, _ value: String = "v", partition: Int32 = 0, at t: ContinuousClock.Instant) throws -> MessageID {
        try m.enqueue(ProducerRecord(topic: "t", partition: partition, key: nil, value: value), timestamp: 1_700_000_000_000, now: t).id
    }

    func sends(_ actions: [ProducerAction]) -> [ProduceRequestPlan] {
        actions.compactMap { if case let .send(p) = $0 { p } else { nil } }
    }

    func completions(_ actions: [ProducerAction]) -> [(ProducerBatch, BatchAnswer)] {
        actions.compactMap { if case let .complete(b, o) = $0 { (b, o) } else { nil } }
    }

    func answer(_ plan: ProduceRequestPlan, code: KafkaErrorCode = .noError, offset: Int64 = 10) -> ProduceResponse {
        var r = ProduceResponse()
        r.responses = Dictionary(grouping: plan.batches, by: { $0.0.topic }).map { topic, batches in
            var t = ProduceResponse.Topic()
            t.name = topic
            t.partitionResponses = batches.map { b in
                var p = ProduceResponse.Partition()
                p.index = b.0.partition
                p.errorCode = code.rawValue
                p.baseOffset = offset
                return p
            }
            return t
        }
        return r
    }

    func kind(_ o: BatchAnswer) -> KafkaError.Kind? {
        if case let .failure(e) = o { return e.kind }
        return nil
    }

    func head(_ m: ProducerMachine) -> ProducerBatch? { m.accumulator.queues[tp]?.batches.first }

    @Test func aBatchGoesOpenInFlightDone() throws {
        var m = try machine(["linger.ms": "5"])
        try enqueue(&m, at: t0)
        #expect(head(m)?.isOpen == true)
        #expect(sends(m.handle(.drain(now: t0 + .milliseconds(1)))).isEmpty, "linger not passed")
        let plan = try #require(sends(m.handle(.drain(now: t0 + .milliseconds(5)))).first)
        #expect(plan.id.broker == 1)
        #expect(head(m)?.isInFlight == true && head(m)?.request == plan.id)
        #expect(!m.isIdle)
        let done = completions(m.handle(.answered(plan.id, answer(plan, offset: 42), now: t0 + .milliseconds(6))))
        #expect(done.count == 1)
        #expect(try done[0].1.get().baseOffset == 42)
        #expect(m.isIdle && m.queuedMessages == 0)
    }

    @Test func aFullBatchIsSealedBeforeItIsSent() throws {
        var m = try machine(["batch.size": "200", "linger.ms": "1000"])
        for _ in 0 ..< 5 { try enqueue(&m, String(repeating: "x", count: 60), at: t0) }
        let batches = m.accumulator.queues[tp]!.batches
        #expect(batches.count >= 2)
        if case .sealed = batches[0].state {} else { Issue.record("head not sealed: \(batches[0].state)") }
        #expect(batches.last!.isOpen)
    }

    @Test func aLostConnectionLeavesTheBatchUnsureAndTheRetryResendsTheSameBytes() throws {
        var m = try machine()
        try enqueue(&m, at: t0)
        let first = try #require(sends(m.handle(.drain(now: t0))).first)
        let failed = m.handle(.failed(first.id, KafkaError(.connection, "reset"), written: true, now: t0))
        #expect(completions(failed).isEmpty, "retriable: stays queued")
        if case .unsure = head(m)!.state {} else { Issue.record("not unsure: \(head(m)!.state)") }
        #expect(sends(m.handle(.drain(now: t0))).isEmpty, "backoff")
        let second = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first)
        #expect(second.id != first.id)
        #expect(second.batches[0].1 == first.batches[0].1, "same bytes, same sequence")
        #expect(try RecordBatch(second.batches[0].1).baseSequence == 0)
        // A refusal of the retry does not make it "not written": the first attempt may be in.
        _ = m.handle(.answered(second.id, answer(second, code: .notLeaderOrFollower), now: t0 + .seconds(1)))
        #expect(head(m)?.mayBeWritten == true)
    }

    /// KIP-951: partitions a hint moved (`leadersMoved`, fed before the answer) are retried at
    /// the new leader and their NOT_LEADER_OR_FOLLOWER wants no metadata; without the hint the
    /// same answer does. The note is used once: a second refusal refreshes.
    @Test func aHintedMoveRetriesAtTheNewLeaderWithoutMetadata() throws {
        var m = try machine()
        _ = m.takeMetadataRequest()
        try enqueue(&m, at: t0)
        let first = try #require(sends(m.handle(.drain(now: t0))).first)
        #expect(first.id.broker == 1)
        let moved = [ClusterMetadata.Partition(partition: 0, leader: 2, leaderEpoch: 1, replicas: [2], isr: [2], offlineReplicas: [])]
        _ = m.handle(.leadersMoved(ClusterMetadata(topics: ["t": .init(name: "t", topicId: nil, isInternal: false, partitions: moved)]), [tp]))
        _ = m.handle(.answered(first.id, answer(first, code: .notLeaderOrFollower), now: t0))
        #expect(m.takeMetadataRequest() == nil, "the hint already routed it")
        let retry = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first)
        #expect(retry.id.broker == 2 && retry.batches[0].1 == first.batches[0].1)
        _ = m.handle(.answered(retry.id, answer(retry, code: .notLeaderOrFollower), now: t0 + .seconds(1)))
        #expect(m.takeMetadataRequest() == ["t"], "no hint this time: refresh")
    }

    @Test func aRequestThatNeverLeftIsNotUnsure() throws {
        var m = try machine(["delivery.timeout.ms": "1000", "request.timeout.ms": "500"])
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        _ = m.handle(.failed(plan.id, KafkaError(.connection, "refused"), written: false, now: t0))
        if case .sealed = head(m)!.state {} else { Issue.record("not sealed: \(head(m)!.state)") }
        let expired = completions(m.handle(.tick(now: t0 + .seconds(1))))
        #expect(expired.count == 1)
        #expect(expired.first.flatMap { kind($0.1) } == .timeout)
    }

    @Test func anInFlightBatchExpiresAsOutcomeUnknownAndItsLateAnswerIsIgnored() throws {
        var m = try machine(["delivery.timeout.ms": "1000", "request.timeout.ms": "500"])
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        #expect(m.nextDeadline(now: t0) == t0 + .seconds(1), "a tick is wanted at the in-flight batch's deadline")
        let expired = completions(m.handle(.tick(now: t0 + .seconds(1))))
        #expect(expired.count == 1)
        #expect(expired.first?.0.mayBeWritten == true)
        #expect(expired.first.flatMap { kind($0.1) } == .outcomeUnknown)
        // The partition stays blocked until the request is settled: order is kept.
        try enqueue(&m, "next", at: t0 + .seconds(1))
        #expect(sends(m.handle(.drain(now: t0 + .seconds(1)))).isEmpty)
        #expect(!m.isIdle)
        let late = m.handle(.answered(plan.id, answer(plan), now: t0 + .seconds(2)))
        #expect(completions(late).isEmpty, "the expired batch is not completed twice")
        let next = try #require(sends(m.handle(.drain(now: t0 + .seconds(2)))).first)
        #expect(try RecordBatch(next.batches[0].1).baseSequence == 1)
    }

    @Test func outOfOrderSequenceBumpsTheEpochAndRestartsSequences() throws {
        var m = try machine()
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        _ = m.handle(.answered(plan.id, answer(plan, code: .outOfOrderSequenceNumber), now: t0))
        let request = try #require(m.producerIdRequest)
        #expect(request.producerId == 7 && request.producerEpoch == 0)
        _ = m.handle(.producerId(7, epoch: 1))
        #expect(m.producerIdRequest == nil)
        let resent = try #require(sends(m.handle(.drain(now: t0 + .seconds(1)))).first)
        let batch = try RecordBatch(resent.batches[0].1)
        #expect(batch.producerEpoch == 1 && batch.baseSequence == 0)
    }

    @Test func aDuplicateIsSuccessWithAnUnknownOffset() throws {
        var m = try machine()
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        let done = completions(m.handle(.answered(plan.id, answer(plan, code: .duplicateSequenceNumber), now: t0)))
        #expect(try done.first?.1.get().baseOffset == -1)
    }

    @Test func aBrokenAnswerIsTreatedAsUnanswered() throws {
        var m = try machine()
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        var response = answer(plan)
        response.responses[0].partitionResponses[0].index = 5
        #expect(completions(m.handle(.answered(plan.id, response, now: t0))).isEmpty)
        if case .unsure = head(m)!.state {} else { Issue.record("not unsure: \(head(m)!.state)") }
    }

    @Test func eachSinkHoldsAtMostMaxInFlightRequests() throws {
        var m = try machine(["max.in.flight.requests.per.connection": "2"], partitions: 4)
        for p in 0 ..< 4 { try enqueue(&m, partition: Int32(p), at: t0) }
        // One request per drain opportunity; partitions are spread over requests by the window.
        var plans: [ProduceRequestPlan] = []
        for _ in 0 ..< 4 { plans += sends(m.handle(.drain(now: t0))) }
        #expect(plans.count == 1, "all four fit one request under the window")
        #expect(m.inFlightRequests(to: 1) == 1)
        #expect(m.sinks[1]?.window.limit == 64 * 1024 + m.config.maxRequestSize / 16 || m.sinks[1]?.window.limit == 64 * 1024, "no loss: the window only grows")
        var small = try machine(["max.in.flight.requests.per.connection": "2", "max.request.size": "1024"], partitions: 4)
        for p in 0 ..< 4 { try enqueue(&small, String(repeating: "x", count: 600), partition: Int32(p), at: t0) }
        var smallPlans: [ProduceRequestPlan] = []
        for _ in 0 ..< 4 { smallPlans += sends(small.handle(.drain(now: t0))) }
        #expect(smallPlans.count == 2, "one batch per request, two requests in flight at most")
        #expect(small.inFlightRequests(to: 1) == 2)
        _ = small.handle(.answered(smallPlans[0].id, answer(smallPlans[0]), now: t0))
        #expect(sends(small.handle(.drain(now: t0))).count == 1, "a settled request frees a slot")
    }

    @Test func messagesWaitForMetadataThenGoToTheLeader() throws {
        var m = ProducerMachine(config: try ProducerConfig(properties: ["bootstrap.servers": "x:1", "linger.ms": "0", "enable.idempotence": "false", "acks": "1"]))
        #expect(m.takeMetadataRequest() == [])
        _ = try m.enqueue(ProducerRecord(topic: "new", key: nil, value: "v"), timestamp: 0, now: t0)
        #expect(m.pendingMessages == 1 && m.accumulator.queues.isEmpty)
        #expect(m.takeMetadataRequest() == ["new"])
        let parts = [ClusterMetadata.Partition(partition: 0, leader: 3, leaderEpoch: 0, replicas: [3], isr: [3], offlineReplicas: [])]
        let routed = m.handle(.metadata(ClusterMetadata(topics: ["new": .init(name: "new", topicId: .zero, isInternal: false, partitions: parts)])))
        #expect(routed.contains { if case .wakeSender = $0 { true } else { false } })
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        #expect(plan.id.broker == 3)
        #expect(try RecordBatch(plan.batches[0].1).producerId == -1, "no idempotence: no producer id")
    }

    @Test func waitingMessagesExpireWithoutMetadata() throws {
        var m = ProducerMachine(config: try ProducerConfig(properties: ["bootstrap.servers": "x:1", "delivery.timeout.ms": "1000", "request.timeout.ms": "500"]))
        _ = try m.enqueue(ProducerRecord(topic: "new", key: nil, value: "v"), timestamp: 0, now: t0)
        #expect(m.nextDeadline(now: t0) == t0 + .seconds(1))
        let actions = m.handle(.tick(now: t0 + .seconds(1)))
        #expect(actions.contains { if case let .failWaiting(_, e) = $0 { e.kind == .timeout } else { false } })
        #expect(actions.contains { if case .wakeWaiters = $0 { true } else { false } })
        #expect(m.isIdle && m.queuedMessages == 0)
    }

    @Test func closeFailsWrittenBatchesAsOutcomeUnknownAndTheRestAsClosed() throws {
        var m = try machine()
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        try enqueue(&m, "held", at: t0)
        let done = completions(m.handle(.close(KafkaError(.closed, "closed"))))
        #expect(done.map { kind($0.1) } == [.outcomeUnknown, .closed])
        #expect(m.closed && m.isIdle)
        #expect(completions(m.handle(.answered(plan.id, answer(plan), now: t0))).isEmpty, "nothing completes twice")
        #expect(throws: KafkaError.self) { try enqueue(&m, at: t0) }
    }

    @Test func acksZeroCompletesOnceWritten() throws {
        var m = try machine(["acks": "0", "enable.idempotence": "false"])
        try enqueue(&m, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        let done = completions(m.handle(.writtenWithoutAnswer(plan.id)))
        #expect(try done.first?.1.get().baseOffset == -1)
        #expect(m.isIdle)
    }

    @Test func anUnfixableErrorFailsWhatIsNotInFlight() throws {
        var m = try machine(partitions: 2)
        try enqueue(&m, partition: 0, at: t0)
        let plan = try #require(sends(m.handle(.drain(now: t0))).first)
        try enqueue(&m, partition: 1, at: t0 + .seconds(1))
        let done = completions(m.handle(.unfixable(KafkaError(.authentication, "bad password"))))
        #expect(done.map(\.0.topicPartition.partition) == [1])
        #expect(head(m)?.request == plan.id, "the in-flight batch waits for its answer")
    }
}
