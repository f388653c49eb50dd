import Synchronization
import Testing
@testable import KafkaClient
import KafkaTestSupport

/// `enable.partition.eof`: `partitionEOF` events against the fake cluster.
@Suite(.serialized) struct ConsumerPartitionEOFTests {
    final class Events: Sendable {
        let all = Mutex<[PartitionEOF]>([])
        var list: [PartitionEOF] { all.withLock { $0 } }
        /// Collects the consumer's events until it closes.
        func collect(_ c: KafkaConsumer) -> Task<Void, Never> {
            Task { for await e in c.partitionEOF { all.withLock { $0.append(e) } } }
        }
    }

    static let p0 = TopicPartition(topic: "t", partition: 0)
    static let p1 = TopicPartition(topic: "t", partition: 1)

    /// Partition 0 holds 5 records, partition 1 none: one event each, at their ends; after 3
    /// more records in partition 0 are read, a second event at the new end; a seek back and a
    /// re-read raise it again.
    @Test(.timeLimit(.minutes(1)))
    func anEventAtEachEndReachedWithPoll() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 5)
        let c = try FakeLog.consumer(broker, ["enable.partition.eof": "true"])
        let events = Events()
        let collector = events.collect(c)
        try await c.assign([Self.p0, Self.p1], from: .beginning)
        let first = try await FakeLog.read(c, count: 5)
        #expect(first.count == 5)
        try await eventually("both ends", timeout: .seconds(20), every: .milliseconds(20)) { events.list.count >= 2 }
        #expect(Set(events.list) == [PartitionEOF(topicPartition: Self.p0, offset: 5), PartitionEOF(topicPartition: Self.p1, offset: 0)])

        FakeLog.fill(cluster, "t", 0, count: 3)
        let second = try await FakeLog.read(c, count: 3)
        #expect(second.map(\.offset) == [5, 6, 7])
        try await eventually("the new end", timeout: .seconds(20), every: .milliseconds(20)) { events.list.count >= 3 }
        #expect(events.list.dropFirst(2).first == PartitionEOF(topicPartition: Self.p0, offset: 8))

        try c.seek(Self.p0, to: .offset(6))
        let third = try await FakeLog.read(c, count: 2)
        #expect(third.map(\.offset) == [6, 7])
        try await eventually("the end after a seek", timeout: .seconds(20), every: .milliseconds(20)) { events.list.count >= 4 }
        #expect(events.list.dropFirst(3).first == PartitionEOF(topicPartition: Self.p0, offset: 8))

        // Idle at the end: no repeats.
        try await Task.sleep(for: .milliseconds(300))
        _ = try await c.poll(timeout: .milliseconds(100))
        #expect(events.list.count == 4, "\(events.list)")
        await c.close()
        await collector.value
    }

    /// The `records` iterator: the event for a partition comes only after the application
    /// was handed its last record (when it asks for the next one).
    @Test(.timeLimit(.minutes(1)))
    func theEventFollowsTheLastRecordWithTheIterator() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 50, batch: 10)
        let c = try FakeLog.consumer(broker, ["enable.partition.eof": "true"])
        let events = Events()
        let collector = events.collect(c)
        try await c.assign([Self.p0], from: .beginning)
        // Asking for more after the last record raises it; the loop then waits for data
        // until the consumer is closed.
        let closer = Task {
            try await eventually("the end", timeout: .seconds(20), every: .milliseconds(20)) { !events.list.isEmpty }
            await c.close()
        }
        var offsets: [Int64] = []
        for try await r in c.records {
            #expect(events.list.isEmpty, "an event before record \(r.offset) was handed out: \(events.list)")
            offsets.append(r.offset)
        }
        try await closer.value
        await collector.value
        #expect(offsets == Array(0 ..< 50))
        #expect(events.list == [PartitionEOF(topicPartition: Self.p0, offset: 50)])
    }

    @Test(.timeLimit(.minutes(1)))
    func noEventsWithoutTheProperty() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 5)
        let c = try FakeLog.consumer(broker)
        let events = Events()
        let collector = events.collect(c)
        try await c.assign([Self.p0], from: .beginning)
        #expect(try await FakeLog.read(c, count: 5).count == 5)
        _ = try await c.poll(timeout: .milliseconds(300))
        await c.close()
        await collector.value
        #expect(events.list.isEmpty)
    }
}
