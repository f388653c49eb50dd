import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol

/// The AIMD request-size window alone: how it shrinks, grows and where it stops.
@Suite struct RequestSizeWindowTests {
    @Test func startsAtOneStepAndFullRequestsGrowItToTheCeilingInFifteenAnswers() {
        var w = RequestSizeWindow(maxRequestSize: 1 << 20)
        #expect(w.limit == 64 * 1024 && w.isReduced, "slow start: a sixteenth of max.request.size")
        for _ in 0 ..< 14 { w.requestAnswered(bytes: w.limit) }
        #expect(w.limit == 15 * 64 * 1024)
        w.requestAnswered(bytes: w.limit)
        #expect(w.limit == 1 << 20 && !w.isReduced)
        #expect(RequestSizeWindow(maxRequestSize: 100_000).limit == 16 * 1024, "never below the floor")
    }

    /// Growth follows the bytes the link carried, not the number of answers: many small
    /// requests grow it as much as one full one (else a stream of small requests on a link that
    /// dies every few hundred KB would push it past what any connection carries).
    @Test func growthIsOneStepPerWindowOfAnsweredBytes() {
        var w = RequestSizeWindow(maxRequestSize: 1 << 20)
        for _ in 0 ..< 63 { w.requestAnswered(bytes: 1024) }
        #expect(w.limit == 64 * 1024, "63 KiB answered: less than one window")
        w.requestAnswered(bytes: 1024)
        #expect(w.limit == 128 * 1024, "one window's worth: one step")
        w.requestAnswered(bytes: 64 * 1024)
        #expect(w.limit == 128 * 1024, "half a window: credit kept")
        w.requestAnswered(bytes: 64 * 1024)
        #expect(w.limit == 192 * 1024)
        // A loss forgets the credit.
        w.requestAnswered(bytes: 100 * 1024)
        w.connectionLost(serial: 1, lastSent: 1)
        #expect(w.limit == 96 * 1024)
        w.requestAnswered(bytes: 95 * 1024)
        #expect(w.limit == 96 * 1024)
        w.requestAnswered(bytes: 0)
        #expect(w.limit == 96 * 1024, "an empty answer adds nothing")
    }

    @Test func halvesOncePerLossEventDownToTheFloor() {
        var w = RequestSizeWindow.warmed(maxRequestSize: 1 << 20)
        #expect(w.limit == 1 << 20 && !w.isReduced)
        w.connectionLost(serial: 3, lastSent: 5)
        #expect(w.limit == 1 << 19)
        // Requests 4 and 5 were on the wire when 3 died: the same cut, no second halving.
        w.connectionLost(serial: 4, lastSent: 5)
        w.connectionLost(serial: 5, lastSent: 6)
        #expect(w.limit == 1 << 19)
        // Request 6 was sent after the shrink: a new loss.
        w.connectionLost(serial: 6, lastSent: 6)
        #expect(w.limit == 1 << 18)
        for s in UInt64(7) ..< 20 { w.connectionLost(serial: s, lastSent: s) }
        #expect(w.limit == 16 * 1024, "floor")
        #expect(w.isReduced)
    }

    @Test func answersGrowItBackAdditivelyToTheCeiling() {
        var w = RequestSizeWindow.warmed(maxRequestSize: 1 << 20)
        for s in UInt64(1) ... 3 { w.connectionLost(serial: s, lastSent: s) }
        #expect(w.limit == 128 * 1024)
        w.requestAnswered(bytes: 128 * 1024)
        #expect(w.limit == 128 * 1024 + 64 * 1024, "one step: a sixteenth of the ceiling")
        for _ in 0 ..< 100 { w.requestAnswered(bytes: 1 << 20) }
        #expect(w.limit == 1 << 20 && !w.isReduced, "never past max.request.size")
    }

    @Test func aSmallCeilingIsItsOwnFloor() {
        var w = RequestSizeWindow(maxRequestSize: 4096)
        w.connectionLost(serial: 1, lastSent: 1)
        #expect(w.limit == 4096)
        w.requestAnswered(bytes: 4096)
        #expect(w.limit == 4096)
    }
}

/// The window inside the machine: fewer batches per request after a loss, smaller new batches,
/// and what happens to batches sealed before the loss (split only if they never left).
@Suite struct ProducerWindowMachineTests {
    let t0 = ContinuousClock.now
    let m0 = ProducerMachineTests()

    /// A machine whose window to broker 1 has already grown to `max.request.size` (as after a
    /// healthy start), so each test starts from the full window it then shrinks.
    func machine(_ properties: [String: String] = [:], partitions: Int32 = 1) throws -> ProducerMachine {
        var m = try m0.machine(properties, partitions: partitions)
        m.warmWindow(broker: 1)
        return m
    }

    func enqueue(_ m: inout ProducerMachine, _ value: String, partition: Int32 = 0, at t: ContinuousClock.Instant) throws {
        try m0.enqueue(&m, value, partition: partition, at: t)
    }

    func drainOne(_ m: inout ProducerMachine, at t: ContinuousClock.Instant) throws -> ProduceRequestPlan {
        try #require(m0.sends(m.handle(.drain(now: t))).first)
    }

    func lose(_ m: inout ProducerMachine, _ plan: ProduceRequestPlan, at t: ContinuousClock.Instant) {
        _ = m.handle(.failed(plan.id, KafkaError(.connection, "reset by the link"), written: true, now: t))
    }

    func values(_ bytes: [UInt8]) throws -> [String] {
        try RecordBatch(bytes).decodeRecords(decompress: Compression.recordDecompressor(maxOutput: .max)).map { String(decoding: $0.value ?? [], as: UTF8.self) }
    }

    func window(_ m: ProducerMachine) -> Int? { m.sinks[1]?.window.limit }

    /// 60 KB batches in four partitions share one 256 KiB request; each loss halves the
    /// window, so the retries carry two batches, then one; answers grow it back.
    @Test func lossesMeanFewerBatchesPerRequestAndAnswersMoreAgain() throws {
        var m = try machine(["max.request.size": "262144", "batch.size": "61440"], partitions: 4)
        let x = String(repeating: "x", count: 1000)
        for p in 0 ..< 4 { for _ in 0 ..< 58 { try enqueue(&m, x, partition: Int32(p), at: t0) } }
        let first = try drainOne(&m, at: t0)
        #expect(first.batches.count == 4)
        lose(&m, first, at: t0)
        #expect(window(m) == 128 * 1024)
        var t = t0 + .seconds(1)
        let second = try drainOne(&m, at: t)
        #expect(second.batches.count == 2, "128 KiB carries two 60 KB batches")
        lose(&m, second, at: t)
        #expect(window(m) == 64 * 1024)
        t = t + .seconds(1)
        let third = try drainOne(&m, at: t)
        #expect(third.batches.count == 1)
        _ = m.handle(.answered(third.id, m0.answer(third), now: t))
        #expect(window(m) == 64 * 1024, "60 KB answered is less than the 64 KiB window: no step yet")
        let fourth = try drainOne(&m, at: t)
        #expect(fourth.batches.count == 1, "64 KiB still carries one 60 KB batch")
        _ = m.handle(.answered(fourth.id, m0.answer(fourth), now: t))
        #expect(window(m) == 64 * 1024 + 16 * 1024, "a window's worth answered adds a sixteenth of max.request.size")
        // A resend keeps the bytes the broker may hold: the same batches, whole.
        let resent = Set(third.batches.map(\.1)).union(fourth.batches.map(\.1))
        let unchanged = resent.isSubset(of: Set(first.batches.map(\.1)))
        #expect(unchanged, "resent batches differ from the originals")
    }

    /// After a loss, new batches stop at the window instead of `batch.size`; without one they
    /// grow to `batch.size`.
    @Test func newBatchesAreKeptToTheWindow() throws {
        let x = String(repeating: "y", count: 1000)
        var clean = try machine(["linger.ms": "1000"])
        for _ in 0 ..< 600 { try enqueue(&clean, x, at: t0) }
        #expect(clean.accumulator.queues[m0.tp]?.batches.count == 1, "one batch below batch.size")

        var m = try machine(["linger.ms": "1000"])
        try enqueue(&m, "first", at: t0)
        _ = m.handle(.drain(now: t0)) // linger: nothing yet
        m.flushing = true
        let plan = try drainOne(&m, at: t0)
        m.flushing = false
        lose(&m, plan, at: t0)
        lose(&m, plan, at: t0) // settled already: ignored, no second halving
        #expect(window(m) == 512 * 1024)
        for _ in 0 ..< 600 { try enqueue(&m, x, at: t0) }
        let batches = try #require(m.accumulator.queues[m0.tp]?.batches)
        #expect(batches.count == 3, "the retried head, then 600 KB in two batches of at most 512 KiB")
        #expect(batches.dropFirst().allSatisfy { ($0.sealedBytes?.count ?? $0.openSize ?? 0) <= 512 * 1024 })
        // Answers grow the window back to the ceiling, and batches with it.
        var t = t0 + .seconds(1)
        for _ in 0 ..< 40 where window(m) != 1 << 20 {
            if m.accumulator.queues[m0.tp]?.batches.isEmpty ?? true { for _ in 0 ..< 1000 { try enqueue(&m, x, at: t) } }
            t = t + .seconds(1)
            let p = try drainOne(&m, at: t)
            _ = m.handle(.answered(p.id, m0.answer(p), now: t))
        }
        #expect(window(m) == 1 << 20)
        #expect(m.accumulator.queues[m0.tp]?.batchLimit == Int.max, "back to batch.size")
    }

    /// A batch sealed before the loss but never drained has no sequence and was never written:
    /// it is re-split to the window, its records in order, numbered when drained, every
    /// message completed once. The batch that was in flight is resent whole.
    @Test(arguments: ["none", "gzip", "lz4"])
    func anUnsentSealedBatchIsSplitAndAWrittenOneIsNot(codec: String) throws {
        var m = try machine(["max.request.size": "262144", "batch.size": "200000", "linger.ms": "1000", "compression.type": codec])
        let n = 400
        let value = { (i: Int) in "\(i)|" + String(repeating: "z", count: 1000) }
        try enqueue(&m, value(0), at: t0)
        m.flushing = true
        let inFlight = try drainOne(&m, at: t0)
        m.flushing = false
        // 200 KB sealed batch, then an open one behind it.
        for i in 1 ..< n { try enqueue(&m, value(i), at: t0) }
        let queued = try #require(m.accumulator.queues[m0.tp]?.batches)
        #expect(queued.count >= 3 && queued[1].isUnsent && queued[1].recordCount > 100, "\(queued.map { ($0.recordCount, $0.sealedBytes?.count ?? -1, $0.baseSequence) })")
        lose(&m, inFlight, at: t0)
        #expect(window(m) == 128 * 1024)

        var t = t0 + .seconds(1)
        m.flushing = true
        var sent: [[UInt8]] = []
        var delivered = 0
        var fitted = true
        for _ in 0 ..< 20 {
            let limit = try #require(window(m))
            guard let plan = m0.sends(m.handle(.drain(now: t))).first else { break }
            #expect(plan.batches.count == 1)
            // Every batch but the resent one fits the window it was drained under.
            if !sent.isEmpty && plan.batches[0].1.count > limit { fitted = false }
            sent.append(plan.batches[0].1)
            delivered += m0.completions(m.handle(.answered(plan.id, m0.answer(plan), now: t))).reduce(0) { $0 + $1.0.completions.count }
            t = t + .milliseconds(1)
        }
        #expect(sent.first == inFlight.batches[0].1, "the written batch is resent exactly")
        #expect(fitted, "the rest is cut to the window: \(sent.map(\.count))")
        #expect(sent.count >= 4, "the 200 KB batch became at least two")
        let all = try sent.flatMap { try values($0) }
        #expect(all == (0 ..< n).map(value), "every record once, in order")
        var next: Int32 = 0
        for b in sent {
            let batch = try RecordBatch(b)
            #expect(batch.baseSequence == next, "sequences contiguous across the split")
            next += batch.recordCount
        }
        #expect(delivered == n && m.isIdle && m.queuedMessages == 0 && m.heldBytes == 0)
    }

    /// A request cut short before its last byte went out never reached the broker (Kafka reads
    /// whole frames), so its sequenced batch is not in the log: it is re-split to the halved
    /// window, the pieces dividing its sequence range in record order, and the batch behind it
    /// keeps the range it already had. Every message completes once, in order.
    @Test func aSequencedBatchWhoseRequestWasCutShortIsSplitKeepingItsSequences() throws {
        var m = try machine(["linger.ms": "1000"])
        let value = { (i: Int) in "\(i)|" + String(repeating: "q", count: 1000) }
        let n = 1300
        for i in 0 ..< 900 { try enqueue(&m, value(i), at: t0) }
        m.flushing = true
        let first = try drainOne(&m, at: t0)
        let original = try RecordBatch(first.batches[0].1)
        #expect(original.baseSequence == 0 && original.recordCount == 900)
        for i in 900 ..< n { try enqueue(&m, value(i), at: t0) }
        let cut = KafkaError(.connection, "reset by the link").markingRequestNotWritten()
        _ = m.handle(.failed(first.id, cut, written: true, now: t0))
        #expect(window(m) == 512 * 1024, "the link died carrying it: still a loss")
        let head = try #require(m.accumulator.queues[m0.tp]?.batches.first)
        #expect(head.isUnsent && head.baseSequence == 0, "not in the log, sequence kept")

        var t = t0 + .seconds(1)
        var sent: [[UInt8]] = []
        var delivered = 0
        for _ in 0 ..< 20 {
            guard let plan = m0.sends(m.handle(.drain(now: t))).first else { break }
            sent += plan.batches.map(\.1)
            delivered += m0.completions(m.handle(.answered(plan.id, m0.answer(plan), now: t))).reduce(0) { $0 + $1.0.completions.count }
            t = t + .milliseconds(1)
        }
        #expect(sent.first.map { $0.count <= 512 * 1024 } == true, "the cut batch was re-split: \(sent.map(\.count))")
        #expect(try sent.flatMap { try values($0) } == (0 ..< n).map(value), "every record once, in order")
        var next: Int32 = 0
        for b in sent {
            let batch = try RecordBatch(b)
            #expect(batch.baseSequence == next, "sequences contiguous: \(sent.map { (try? RecordBatch($0))?.baseSequence ?? -1 })")
            next += batch.recordCount
        }
        #expect(next == Int32(n) && delivered == n && m.isIdle && m.heldBytes == 0)
    }

    /// The same cut on a request fully written leaves the batch unsure: resent whole.
    @Test func aSequencedBatchWhoseRequestWasFullyWrittenIsResentWhole() throws {
        var m = try machine(["linger.ms": "1000"])
        for i in 0 ..< 900 { try enqueue(&m, "\(i)|" + String(repeating: "q", count: 1000), at: t0) }
        m.flushing = true
        let first = try drainOne(&m, at: t0)
        lose(&m, first, at: t0)
        let again = try drainOne(&m, at: t0 + .seconds(1))
        #expect(again.batches.map(\.1) == first.batches.map(\.1))
    }

    /// A written batch larger than the link never gets smaller: at `delivery.timeout.ms` it
    /// fails as outcome unknown, and the error says why it could not get through.
    @Test func aWrittenBatchLargerThanTheWindowExpiresNamingItsSize() throws {
        var m = try machine(["delivery.timeout.ms": "5000", "request.timeout.ms": "1000", "linger.ms": "1000"])
        for i in 0 ..< 300 { try enqueue(&m, "\(i)|" + String(repeating: "w", count: 1000), at: t0) }
        m.flushing = true
        var plan = try drainOne(&m, at: t0)
        let bytes = plan.batches[0].1
        var t = t0
        for _ in 0 ..< 3 {
            lose(&m, plan, at: t)
            t = t + .seconds(1)
            plan = try drainOne(&m, at: t)
            #expect(plan.batches.map(\.1) == [bytes], "resent whole, never re-split")
        }
        lose(&m, plan, at: t)
        #expect((window(m) ?? 0) < bytes.count)
        let expired = m0.completions(m.handle(.tick(now: t0 + .seconds(5))))
        #expect(expired.count == 1)
        guard case let .failure(e) = try #require(expired.first).1 else { Issue.record("not failed"); return }
        #expect(e.kind == .outcomeUnknown)
        #expect(e.message.contains("larger than"), "\(e.message)")
    }

    /// A failure that is not the link (a broken answer, a refused connection) leaves the window.
    @Test func onlyWrittenRequestsThatGoUnansweredShrinkIt() throws {
        var m = try machine()
        try enqueue(&m, "a", at: t0)
        let plan = try drainOne(&m, at: t0)
        _ = m.handle(.failed(plan.id, KafkaError(.connection, "refused"), written: false, now: t0))
        #expect(window(m) == 1 << 20)
        let again = try drainOne(&m, at: t0 + .seconds(1))
        var broken = m0.answer(again)
        broken.responses[0].partitionResponses[0].index = 9
        _ = m.handle(.answered(again.id, broken, now: t0 + .seconds(1)))
        #expect(window(m) == 1 << 20)
        let third = try drainOne(&m, at: t0 + .seconds(2))
        _ = m.handle(.failed(third.id, KafkaError(.timeout, "request.timeout.ms"), written: true, now: t0 + .seconds(2)))
        #expect(window(m) == 1 << 19, "a written request that timed out unanswered is a loss")
    }
}

extension RequestSizeWindow {
    /// A window that has grown to its ceiling (after enough answers).
    static func warmed(maxRequestSize: Int) -> RequestSizeWindow {
        var w = RequestSizeWindow(maxRequestSize: maxRequestSize)
        while w.isReduced { w.requestAnswered(bytes: w.limit) }
        return w
    }
}

extension ProducerMachine {
    /// Gives `broker` a sink whose window is already at `max.request.size`.
    mutating func warmWindow(broker: Int32) {
        var sink = SinkState(broker: broker, maxRequestSize: config.maxRequestSize, batchSize: config.batchSize)
        sink.window = .warmed(maxRequestSize: config.maxRequestSize)
        sinks[broker] = sink
    }
}

/// Slow start inside the machine: a new producer's first requests to a broker are small, and
/// a large batch sealed before the first drain is split to fit them.
@Suite struct ProducerSlowStartTests {
    let t0 = ContinuousClock.now
    let m0 = ProducerMachineTests()

    @Test func aNewProducersFirstRequestsAreSmallAndGrowWithAnswers() throws {
        var m = try m0.machine(["linger.ms": "1000"])
        let value = { (i: Int) in "\(i)|" + String(repeating: "s", count: 1000) }
        let n = 3000
        for i in 0 ..< n { try m0.enqueue(&m, value(i), at: t0) }
        m.flushing = true
        var sizes: [Int] = []
        var sent: [[UInt8]] = []
        var t = t0
        for _ in 0 ..< 100 {
            guard let plan = m0.sends(m.handle(.drain(now: t))).first else { break }
            sizes.append(plan.batches.reduce(0) { $0 + $1.1.count })
            sent += plan.batches.map(\.1)
            _ = m.handle(.answered(plan.id, m0.answer(plan), now: t))
            t = t + .milliseconds(1)
        }
        #expect(sizes.first.map { $0 <= 64 * 1024 } == true, "the first request fits the initial window: \(sizes)")
        #expect(sizes.max().map { $0 > 128 * 1024 } == true, "then they grow: \(sizes)")
        let values = try sent.flatMap { try RecordBatch($0).decodeRecords(decompress: Compression.recordDecompressor(maxOutput: .max)).map { String(decoding: $0.value ?? [], as: UTF8.self) } }
        #expect(values == (0 ..< n).map(value), "every record once, in order")
        #expect(m.isIdle && m.queuedMessages == 0 && m.heldBytes == 0)
    }
}
