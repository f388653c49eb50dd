import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol

/// The accumulator's decisions, driven by injected instants: no clock, no sleeps.
@Suite struct RecordAccumulatorTests {
    let t0 = ContinuousClock.now
    let tp = TopicPartition(topic: "t", partition: 0)
    let tp1 = TopicPartition(topic: "t", partition: 1)

    func settings(batchSize: Int = 1000, linger: Duration = .milliseconds(5), maxRequest: Int = 1 << 20, memory: Int = 1 << 20,
                  idempotent: Bool = true, retries: Int = 10, timeout: Duration = .seconds(120)) -> RecordAccumulator.Settings {
        .init(batchSize: batchSize, linger: linger, maxRequestSize: maxRequest, bufferMemory: memory, compression: .none,
              compressionLevel: nil, deliveryTimeout: timeout, retries: retries,
              retryBackoff: Backoff(base: .milliseconds(100), max: .seconds(1), jitter: 0), idempotent: idempotent)
    }

    @discardableResult
    func add(_ acc: inout RecordAccumulator, _ tp: TopicPartition, _ i: Int, bytes: Int = 50, at t: ContinuousClock.Instant) throws -> RecordAccumulator.AppendOutcome {
        try acc.append(tp, timestamp: 1_700_000_000_000 + Int64(i), key: nil, value: [UInt8](repeating: UInt8(i & 0xFF), count: bytes),
                       headers: [], completion: .id(MessageID(UInt64(i)), timestamp: 0), now: t)
    }

    @Test func lingerDecidesWhenAPartialBatchIsReady() throws {
        var acc = RecordAccumulator(settings: settings())
        #expect(try add(&acc, tp, 0, at: t0) == .appended(becameReady: false, firstInQueue: true))
        #expect(try add(&acc, tp, 1, at: t0) == .appended(becameReady: false, firstInQueue: false))
        #expect(acc.readyPartitions(now: t0 + .milliseconds(4)).isEmpty)
        #expect(acc.nextDeadline(now: t0) == t0 + .milliseconds(5))
        #expect(acc.readyPartitions(now: t0 + .milliseconds(5)) == [tp])
    }

    @Test func drainsRotateSoNoPartitionStarvesUnderMaxRequestSize() throws {
        // Each ready batch is ~600 bytes and a request holds ~1000: one batch per drain. tp's
        // batch completes and another is ready before each drain; without rotation tp would
        // go first every time and tp1 would never be sent.
        var acc = RecordAccumulator(settings: settings(batchSize: 500, linger: .zero, maxRequest: 1000))
        var i = 0
        func fill(_ p: TopicPartition) throws {
            try add(&acc, p, i, bytes: 500, at: t0)
            i += 1
        }
        try fill(tp)
        try fill(tp1)
        var sentTp1 = false
        for _ in 0 ..< 4 where !sentTp1 {
            let drained = acc.drain([tp, tp1], producerId: 1, producerEpoch: 0, now: t0 + .milliseconds(1))
            #expect(drained.batches.count == 1)
            for (p, _) in drained.batches {
                if p == tp1 { sentTp1 = true }
                _ = acc.complete(p)
                try fill(p)
            }
        }
        #expect(sentTp1, "tp1 starved behind tp")
    }

    @Test func flushMakesEverythingReadyAtOnce() throws {
        var acc = RecordAccumulator(settings: settings(linger: .seconds(10)))
        try add(&acc, tp, 0, at: t0)
        #expect(acc.readyPartitions(now: t0).isEmpty)
        acc.flushing = true
        #expect(acc.readyPartitions(now: t0) == [tp])
    }

    @Test func aFullBatchIsSealedAndReadyBeforeLinger() throws {
        var acc = RecordAccumulator(settings: settings(batchSize: 400, linger: .seconds(10)))
        var outcomes: [RecordAccumulator.AppendOutcome] = []
        for i in 0 ..< 12 { outcomes.append(try add(&acc, tp, i, at: t0)) }
        // The record that no longer fits starts batch two and reports the transition once.
        #expect(outcomes.filter { $0 == .appended(becameReady: true, firstInQueue: false) }.count >= 1)
        #expect(acc.readyPartitions(now: t0) == [tp])
        #expect(acc.queues[tp]!.batches.count >= 2)
        #expect(!acc.queues[tp]!.batches[0].isOpen, "the full batch is sealed")
    }

    @Test func bufferMemoryIsBoundedUnlessOvercommitted() throws {
        var acc = RecordAccumulator(settings: settings(batchSize: 100_000, memory: 1000))
        var full = false
        for i in 0 ..< 100 where !full {
            if try add(&acc, tp, i, at: t0) == .bufferFull { full = true }
        }
        #expect(full)
        #expect(acc.bufferedBytes <= 1000)
        acc.overcommit = true
        #expect(try add(&acc, tp, 999, at: t0) != .bufferFull)
    }

    @Test func oversizedMessagesAreRejected() throws {
        var acc = RecordAccumulator(settings: settings(maxRequest: 2000))
        #expect(throws: KafkaError.self) { try add(&acc, tp, 0, bytes: 5000, at: t0) }
        #expect(acc.bufferedBytes == 0)
    }

    @Test func drainAssignsSequencesAndPatchesTheBatch() throws {
        var acc = RecordAccumulator(settings: settings(batchSize: 300))
        for i in 0 ..< 10 { try add(&acc, tp, i, at: t0) }
        let counts = acc.queues[tp]!.batches.map(\.recordCount)
        let first = acc.drain([tp], producerId: 42, producerEpoch: 3, now: t0 + .seconds(1))
        #expect(first.batches.count == 1)
        let batch = try RecordBatch(first.batches[0].1)   // CRC verified
        #expect(batch.producerId == 42 && batch.producerEpoch == 3 && batch.baseSequence == 0)
        #expect(try batch.decodeRecords().count == counts[0])
        // One batch per partition in flight: nothing more until it completes.
        #expect(acc.drain([tp], producerId: 42, producerEpoch: 3, now: t0 + .seconds(1)).batches.isEmpty)
        let done = acc.complete(tp)
        #expect(done?.completions.count == counts[0])
        let second = acc.drain([tp], producerId: 42, producerEpoch: 3, now: t0 + .seconds(1))
        #expect(try RecordBatch(second.batches[0].1).baseSequence == Int32(counts[0]))
    }

    @Test func maxRequestSizeLimitsADrainButAlwaysTakesOneBatch() throws {
        var acc = RecordAccumulator(settings: settings(batchSize: 1000, maxRequest: 1200, idempotent: false))
        for i in 0 ..< 15 { try add(&acc, tp, i, at: t0) }
        for i in 0 ..< 15 { try add(&acc, tp1, i, at: t0) }
        let d = acc.drain([tp, tp1], producerId: -1, producerEpoch: -1, now: t0 + .seconds(1))
        #expect(d.batches.count == 1)
        #expect(d.batches[0].1.count <= 1200)
    }

    @Test func retryKeepsTheSequenceAndWaitsForTheBackoff() throws {
        var acc = RecordAccumulator(settings: settings())
        for i in 0 ..< 3 { try add(&acc, tp, i, at: t0) }
        let now = t0 + .seconds(1)
        let d1 = acc.drain([tp], producerId: 7, producerEpoch: 0, now: now)
        #expect(acc.retry(tp, now: now) == nil, "retriable: stays queued")
        #expect(acc.readyPartitions(now: now + .milliseconds(99)).isEmpty)
        #expect(acc.nextDeadline(now: now) == now + .milliseconds(100))
        #expect(acc.readyPartitions(now: now + .milliseconds(100)) == [tp])
        let d2 = acc.drain([tp], producerId: 7, producerEpoch: 0, now: now + .milliseconds(100))
        #expect(d2.batches[0].1 == d1.batches[0].1, "the same bytes, sequence included, are resent")
        #expect(acc.queues[tp]!.batches[0].attempts == 2)
    }

    @Test func retriesRunOutAtTheDeliveryTimeout() throws {
        var acc = RecordAccumulator(settings: settings(timeout: .seconds(2)))
        try add(&acc, tp, 0, at: t0)
        _ = acc.drain([tp], producerId: 1, producerEpoch: 0, now: t0 + .seconds(1))
        let given = acc.retry(tp, now: t0 + .seconds(3))
        #expect(given?.recordCount == 1)
        #expect(acc.bufferedBytes == 0)
    }

    @Test func retriesRunOutAfterTheConfiguredCount() throws {
        var acc = RecordAccumulator(settings: settings(retries: 1))
        try add(&acc, tp, 0, at: t0)
        var now = t0 + .seconds(1)
        _ = acc.drain([tp], producerId: 1, producerEpoch: 0, now: now)
        #expect(acc.retry(tp, now: now) == nil)
        now = now + .seconds(1)
        _ = acc.drain([tp], producerId: 1, producerEpoch: 0, now: now)
        #expect(acc.retry(tp, now: now) != nil, "second failure exceeds retries=1")
    }

    @Test func expiryRemovesOnlyHeadsPastTheDeliveryTimeout() throws {
        var acc = RecordAccumulator(settings: settings(timeout: .seconds(5)))
        try add(&acc, tp, 0, at: t0)
        try add(&acc, tp1, 1, at: t0 + .seconds(4))
        _ = acc.drain([tp1], producerId: 1, producerEpoch: 0, now: t0 + .seconds(4) + .milliseconds(10))
        let expired = acc.expire(now: t0 + .seconds(6))
        #expect(expired.map(\.topicPartition) == [tp])
        #expect(acc.queues[tp1]?.batches.count == 1)
    }

    @Test func anEpochBumpRestartsSequencesAtZero() throws {
        var acc = RecordAccumulator(settings: settings())
        for i in 0 ..< 3 { try add(&acc, tp, i, at: t0) }
        _ = acc.drain([tp], producerId: 9, producerEpoch: 0, now: t0 + .seconds(1))
        _ = acc.complete(tp)
        try add(&acc, tp, 3, at: t0 + .seconds(1))
        acc.resetSequences()
        let d = acc.drain([tp], producerId: 9, producerEpoch: 1, now: t0 + .seconds(2))
        let b = try RecordBatch(d.batches[0].1)
        #expect(b.baseSequence == 0 && b.producerEpoch == 1)
    }

    @Test func sequenceNumbersWrapAtInt32Max() {
        #expect(RecordAccumulator.add(Int32.max - 1, 3) == 1)
        #expect(RecordAccumulator.add(5, 10) == 15)
    }

    @Test func completingReleasesBufferedBytes() throws {
        var acc = RecordAccumulator(settings: settings())
        for i in 0 ..< 5 { try add(&acc, tp, i, at: t0) }
        #expect(acc.bufferedBytes > 0)
        _ = acc.drain([tp], producerId: 1, producerEpoch: 0, now: t0 + .seconds(1))
        _ = acc.complete(tp)
        #expect(acc.bufferedBytes == 0)
        #expect(acc.pendingMessages == 0)
    }
}
