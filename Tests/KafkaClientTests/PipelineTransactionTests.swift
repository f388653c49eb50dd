import Synchronization
import Testing
@testable import KafkaClient

/// `TransactionalPipeline`'s pure parts: when a transaction commits, the offsets it commits,
/// where an abort rewinds to, and the barrier that holds a revocation until the abort.
@Suite struct PipelineTransactionTests {
    static func record(_ p: Int32, _ offset: Int64) -> ConsumerRecord {
        ConsumerRecord(topic: "in", partition: p, offset: offset, key: nil, value: [0x61][...])
    }
    let t0 = ContinuousClock.now

    @Test func commitsAfterMaxRecordsOrMaxDurationButNeverEmpty() {
        var txn = PipelineTransaction()
        #expect(!txn.isOpen && !txn.isDue(now: t0 + .seconds(9), maxRecords: 3, maxDuration: .milliseconds(100)))
        txn.begin(at: t0)
        #expect(txn.isOpen)
        #expect(!txn.isDue(now: t0 + .seconds(9), maxRecords: 3, maxDuration: .milliseconds(100)), "nothing consumed: nothing to commit")
        txn.consumed(Self.record(0, 5), outputs: 2)
        #expect(!txn.isDue(now: t0 + .milliseconds(99), maxRecords: 3, maxDuration: .milliseconds(100)))
        #expect(txn.isDue(now: t0 + .milliseconds(100), maxRecords: 3, maxDuration: .milliseconds(100)))
        txn.consumed(Self.record(1, 0), outputs: 0)
        #expect(txn.room(maxRecords: 3) == 1)
        txn.consumed(Self.record(0, 6), outputs: 1)
        #expect(txn.isDue(now: t0, maxRecords: 3, maxDuration: .seconds(60)))
        #expect(txn.records == 3 && txn.produced == 3 && txn.room(maxRecords: 3) == 1)
        txn.begin(at: t0)
        #expect(txn.records == 0 && txn.offsets.isEmpty, "begin starts from nothing")
    }

    @Test func offsetsAreTheNextToReadAndOnlyMoveForward() {
        var txn = PipelineTransaction()
        txn.begin(at: t0)
        for o: Int64 in [10, 11, 12] { txn.consumed(Self.record(0, o), outputs: 1) }
        txn.consumed(Self.record(2, 40), outputs: 1)
        txn.consumed(Self.record(0, 3), outputs: 1)  // a stray older record does not move it back
        let p0 = TopicPartition(topic: "in", partition: 0), p2 = TopicPartition(topic: "in", partition: 2)
        #expect(txn.offsets == [p0: 13, p2: 41])
        #expect(txn.firstOffsets == [p0: 3, p2: 40])
    }

    @Test func rewindGoesToCommittedElseToTheFirstRecordConsumedSinceTheCommit() {
        var txn = PipelineTransaction()
        txn.begin(at: t0)
        txn.consumed(Self.record(0, 10), outputs: 1)
        txn.consumed(Self.record(1, 7), outputs: 1)
        let tp = (0 ..< 4).map { TopicPartition(topic: "in", partition: Int32($0)) }
        let targets = txn.rewindTargets(committed: [tp[0]: 8, tp[1]: nil, tp[2]: nil, tp[3]: nil],
                                        unprocessed: [Self.record(2, 30), Self.record(2, 31), Self.record(1, 8)])
        // 0: the group's commit; 1: nothing committed, first consumed 7; 2: polled, not taken;
        // 3: nothing consumed since the commit, left where it is.
        #expect(targets == [tp[0]: 8, tp[1]: 7, tp[2]: 30])
    }

    @Test(.timeLimit(.minutes(1)))
    func aRevocationDuringATransactionWaitsForItsEnd() async throws {
        let barrier = RebalanceBarrier()
        let p = [TopicPartition(topic: "in", partition: 0)]
        await barrier.handle(.revoked(p))  // no transaction open: returns at once
        #expect(barrier.rebalances == 1)
        barrier.opened()
        await barrier.handle(.assigned(p))  // nothing leaves: no wait
        #expect(barrier.rebalances == 2)
        let done = ManagedFlag()
        let waiter = Task { await barrier.handle(.revoked(p)); done.set() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!done.value && barrier.rebalances == 3, "held while the transaction is open")
        barrier.closed()
        await waiter.value
        #expect(done.value)
        barrier.opened()
        let lost = Task { await barrier.handle(.lost(p)) }
        try await Task.sleep(for: .milliseconds(50))
        barrier.stop()  // the loop ended: nothing holds a rebalance any more
        await lost.value
        barrier.opened()
        await barrier.handle(.revoked(p))
        #expect(barrier.rebalances == 5)
    }
}

/// A flag set from one task and read from another.
final class ManagedFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var value: Bool { state.withLock { $0 } }
}
