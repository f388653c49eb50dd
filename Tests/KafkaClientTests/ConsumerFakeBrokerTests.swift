#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

// The consumer's fetch path against `FakeCluster`: KIP-227 fetch sessions, leadership moves and
// leader-epoch errors, connection losses, transactions, and request rates while nothing can be
// fetched. Every record value is "<partition>/<offset>", so a record in the wrong place, a gap
// or a duplicate shows.

/// Test helpers shared by the suites below.
enum FakeLog {
    /// Appends `count` records to the partition in batches of `batch`, valued "<p>/<offset>".
    static func fill(_ cluster: FakeCluster, _ topic: String, _ partition: Int32, count: Int, batch: Int = 100, compression: RecordCompression = .none) {
        var written = 0
        while written < count {
            let n = min(batch, count - written)
            let base = cluster.endOffset(topic, partition)
            cluster.appendRecords(topic, partition, (0 ..< n).map { "\(partition)/\(base + Int64($0))" }, compression: compression)
            written += n
        }
    }

    static func consumer(_ broker: FakeBroker, _ extra: [String: String] = [:]) throws -> KafkaConsumer {
        var props = [
            "bootstrap.servers": broker.address, "fetch.max.wait.ms": "100", "request.timeout.ms": "5000",
            "retry.backoff.ms": "20", "retry.backoff.max.ms": "200", "reconnect.backoff.ms": "10", "reconnect.backoff.max.ms": "100",
        ]
        for (k, v) in extra { props[k] = v }
        return try KafkaConsumer(properties: props)
    }

    /// Polls until `count` records arrived or `timeout` passed; `each` runs after every poll.
    static func read(_ c: KafkaConsumer, count: Int, timeout: Duration = .seconds(30), each: ([ConsumerRecord]) -> Void = { _ in }) async throws -> [ConsumerRecord] {
        var out: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + timeout
        while out.count < count, ContinuousClock.now < deadline {
            out += try await c.poll(max: 10000, timeout: .milliseconds(200))
            each(out)
        }
        return out
    }

    /// Every partition's records are exactly offsets `from[p]..<from[p]+count[p]` in order, each
    /// carrying its own "<p>/<offset>" value.
    static func expectExactlyOnce(_ records: [ConsumerRecord], counts: [Int32: Int], from: [Int32: Int64] = [:], sourceLocation: SourceLocation = #_sourceLocation) {
        for (p, n) in counts {
            let mine = records.filter { $0.partition == p }
            let start = from[p] ?? 0
            let offsets = mine.map(\.offset)
            #expect(offsets == Array(start ..< start + Int64(n)), "partition \(p): \(offsets.count) records, first \(offsets.prefix(3)), expected \(n) from \(start)", sourceLocation: sourceLocation)
            let wrong = mine.filter { $0.valueString != "\(p)/\($0.offset)" }
            #expect(wrong.isEmpty, "partition \(p): \(wrong.count) records with another record's value", sourceLocation: sourceLocation)
        }
        #expect(records.count == counts.values.reduce(0, +), "\(records.count) records in all", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct ConsumerFetchSessionTests {
    @Test(.timeLimit(.minutes(1)))
    func incrementalFetchesCarryOnlyChangedPartitions() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 3, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 500, batch: 20)
        FakeLog.fill(cluster, "t", 1, count: 100, batch: 20)
        let c = try FakeLog.consumer(broker, ["max.partition.fetch.bytes": "1024"])
        try await c.assign((0 ..< 3).map { TopicPartition(topic: "t", partition: $0) }, from: .beginning)
        var got = try await FakeLog.read(c, count: 600)
        FakeLog.fill(cluster, "t", 2, count: 100)
        got += try await FakeLog.read(c, count: 100)
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 500, 1: 100, 2: 100])

        let fetches = cluster.fetches
        let first = try #require(fetches.first)
        #expect(first.sessionId == 0 && first.sessionEpoch == 0 && first.partitions.count == 3, "the first fetch is full")
        #expect(first.responseSessionId != 0)
        let later = fetches.dropFirst()
        #expect(later.count >= 5)
        // Every later fetch continues that session, epoch by epoch.
        for (i, f) in later.enumerated() {
            #expect(f.sessionId == first.responseSessionId && f.sessionEpoch == Int32(i + 1), "fetch \(i + 1): session \(f.sessionId) epoch \(f.sessionEpoch)")
        }
        // Only changed partitions are listed: while partition 0 was read, 1 and 2 were not resent.
        #expect(later.contains { $0.partitions.map(\.0) == [FakeCluster.PartitionKey("t", 0)] })
        #expect(later.allSatisfy { $0.partitions.count < 3 }, "no incremental fetch needs every partition")
        // Idle partitions are omitted from incremental answers too.
        #expect(later.contains { $0.answered.count < 3 })
    }

    @Test(.timeLimit(.minutes(1)))
    func sessionErrorsMakeTheNextFetchFull() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 200)
        FakeLog.fill(cluster, "t", 1, count: 50)
        let c = try FakeLog.consumer(broker)
        try await c.assign([TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], from: .beginning)
        var got = try await FakeLog.read(c, count: 250)
        try await awaitCondition("an incremental fetch", timeout: .seconds(10)) { cluster.fetches.contains { $0.sessionEpoch >= 2 } }

        // The broker forgets the session (evicted from its cache).
        cluster.expireSessions(broker: 1)
        FakeLog.fill(cluster, "t", 0, count: 100)
        got += try await FakeLog.read(c, count: 100)
        var fetches = cluster.fetches
        let notFound = try #require(fetches.firstIndex { $0.errorCode == .fetchSessionIdNotFound })
        let afterNotFound = try #require(fetches.indices.contains(notFound + 1) ? fetches[notFound + 1] : nil)
        #expect(afterNotFound.sessionId == 0 && afterNotFound.sessionEpoch == 0, "FETCH_SESSION_ID_NOT_FOUND: a new full fetch without the old id")
        #expect(afterNotFound.partitions.count == 2, "a full fetch lists every partition")

        // The broker's epoch no longer matches ours.
        try await awaitCondition("an incremental fetch in the new session", timeout: .seconds(10)) { cluster.fetches.last.map { $0.sessionEpoch >= 2 } ?? false }
        cluster.desynchronizeSessions(broker: 1)
        FakeLog.fill(cluster, "t", 1, count: 100)
        got += try await FakeLog.read(c, count: 100)
        fetches = cluster.fetches
        let invalid = try #require(fetches.firstIndex { $0.errorCode == .invalidFetchSessionEpoch })
        let afterInvalid = try #require(fetches.indices.contains(invalid + 1) ? fetches[invalid + 1] : nil)
        #expect(afterInvalid.sessionEpoch == 0 && afterInvalid.sessionId == fetches[invalid].sessionId,
                "INVALID_FETCH_SESSION_EPOCH: a full fetch that replaces the session")
        #expect(afterInvalid.partitions.count == 2)
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 300, 1: 150])
    }

    @Test(.timeLimit(.minutes(1)))
    func aNewConnectionStartsANewSession() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 100)
        let c = try FakeLog.consumer(broker)
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .beginning)
        var got = try await FakeLog.read(c, count: 100)
        try await awaitCondition("an incremental fetch", timeout: .seconds(10)) { cluster.fetches.contains { $0.sessionEpoch >= 2 } }
        let session = try #require(cluster.fetches.last?.sessionId)
        let connections = broker.connectionCount
        broker.dropConnections()
        FakeLog.fill(cluster, "t", 0, count: 100)
        got += try await FakeLog.read(c, count: 100)
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 200])
        let onNew = try #require(cluster.fetches.first { $0.connection >= connections })
        #expect(onNew.sessionEpoch == 0 && onNew.sessionId == session, "the first fetch on the new connection is full and replaces the session")
    }

    @Test(.timeLimit(.minutes(1)))
    func aBrokerWithoutSessionsGetsFullFetches() async throws {
        // Like Tansu: session id 0 in every answer.
        let cluster = FakeCluster(sessions: false)
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 300, batch: 20)
        let c = try FakeLog.consumer(broker, ["max.partition.fetch.bytes": "1024"])
        try await c.assign([TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], from: .beginning)
        let got = try await FakeLog.read(c, count: 300)
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 300, 1: 0])
        let fetches = cluster.fetches
        #expect(fetches.count >= 3)
        #expect(fetches.allSatisfy { $0.sessionId == 0 && $0.sessionEpoch == 0 && $0.partitions.count == 2 && $0.responseSessionId == 0 })
    }

    /// Fetch v12 names topics, v13+ uses ids: sessions, forgotten partitions (on pause) and
    /// their return (on resume) work both ways.
    @Test(.timeLimit(.minutes(1)), arguments: [Int16(12), 17])
    func pausedPartitionsAreForgottenAndComeBack(maxVersion: Int16) async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1, apiRanges: [.fetch: 4 ... maxVersion])
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 100)
        FakeLog.fill(cluster, "t", 1, count: 100)
        let c = try FakeLog.consumer(broker)
        let p0 = TopicPartition(topic: "t", partition: 0), p1 = TopicPartition(topic: "t", partition: 1)
        try await c.assign([p0, p1], from: .beginning)
        var got = try await FakeLog.read(c, count: 200)
        c.pause([p1])
        FakeLog.fill(cluster, "t", 1, count: 50)
        FakeLog.fill(cluster, "t", 0, count: 50)
        got += try await FakeLog.read(c, count: 50)
        try await awaitCondition("partition 1 forgotten", timeout: .seconds(10)) {
            cluster.fetches.contains { $0.forgotten.contains(FakeCluster.PartitionKey("t", 1)) }
        }
        #expect(got.filter { $0.partition == 1 }.count == 100, "nothing of the paused partition after the pause")
        c.resume([p1])
        got += try await FakeLog.read(c, count: 50)
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 150, 1: 150])
        let fetches = cluster.fetches
        #expect(fetches.allSatisfy { $0.version == maxVersion && $0.byTopicId == (maxVersion >= 13) })
        #expect(fetches.allSatisfy { $0.errorCode == .noError })
        let forgot = try #require(fetches.firstIndex { $0.forgotten.contains(FakeCluster.PartitionKey("t", 1)) })
        #expect(fetches[forgot].sessionEpoch > 0, "forgotten in an incremental fetch")
        #expect(fetches[(forgot + 1)...].contains { $0.partitions.contains { $0.0 == FakeCluster.PartitionKey("t", 1) && $0.1 == 100 } },
                "after resume, partition 1 is added back at offset 100")
    }
}

@Suite(.serialized) struct ConsumerLeaderChangeTests {
    /// Leadership of partition 0 moves to broker 2 mid-read, then partition 1's, then 0 moves
    /// back. With `leaderHints` the NOT_LEADER answer names the new leader (KIP-951); without,
    /// the consumer has to find it in fresh metadata. Either way: no gap, no duplicate.
    @Test(.timeLimit(.minutes(1)), arguments: [true, false])
    func leadershipMovesContinueAtTheSamePosition(leaderHints: Bool) async throws {
        let cluster = FakeCluster(leaderHints: leaderHints)
        let b1 = try cluster.startBroker(nodeId: 1), b2 = try cluster.startBroker(nodeId: 2)
        defer { b1.stop(); b2.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 1000, batch: 20)
        FakeLog.fill(cluster, "t", 1, count: 1000, batch: 20)
        // Small fetches and a small prefetch, so reading takes many fetches.
        let c = try FakeLog.consumer(b1, ["max.partition.fetch.bytes": "1024", "queued.max.messages.kbytes": "4"])
        try await c.assign([TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], from: .beginning)
        var moves = 0
        let got = try await FakeLog.read(c, count: 2000) { records in
            if moves == 0 && records.count >= 300 { cluster.moveLeader("t", 0, to: 2); moves = 1 }
            if moves == 1 && records.count >= 900 { cluster.moveLeader("t", 1, to: 2); moves = 2 }
            if moves == 2 && records.count >= 1400 { cluster.moveLeader("t", 0, to: 1); moves = 3 }
        }
        await c.close()
        #expect(moves == 3)
        FakeLog.expectExactlyOnce(got, counts: [0: 1000, 1: 1000])
        let fetches = cluster.fetches
        let p0 = FakeCluster.PartitionKey("t", 0)
        #expect(fetches.contains { $0.broker == 2 && $0.partitions.contains { $0.0 == p0 } }, "partition 0 was fetched from broker 2")
        #expect(fetches.contains { $0.broker == 1 && $0.answered.contains { $0.0 == p0 && $0.1 == .notLeaderOrFollower } })
        // Every answered fetch of a partition starts where the previous accepted one ended: the
        // exactly-once check above covers it; here also no fetch went to a broker with an epoch
        // it did not know.
        #expect(!fetches.contains { $0.answered.contains { $0.1 == .unknownLeaderEpoch } })
    }

    /// An error answer carries no watermarks (-1 from Kafka, 0 from franz-go's kfake): the
    /// consumer keeps the last ones a successful fetch gave, as the Java client does (it updates
    /// them only on Errors.NONE, and only those >= 0). Seen on a 3-broker kfake whose leaders
    /// kept moving: after reading 8000 records the high watermark read 0.
    @Test(.timeLimit(.minutes(1)))
    func errorAnswersLeaveTheWatermarksAlone() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 100)
        let tp = TopicPartition(topic: "t", partition: 0)
        let c = try FakeLog.consumer(broker)
        try await c.assign([tp], from: .beginning)
        FakeLog.expectExactlyOnce(try await FakeLog.read(c, count: 100), counts: [0: 100])
        #expect(c.watermarks(tp)?.high == 100)
        cluster.failFetches("t", 0, with: .notLeaderOrFollower, count: 100_000)
        // One fetch per broker at a time: once a second error answer is recorded, the first
        // has been applied.
        try await eventually("two NOT_LEADER_OR_FOLLOWER answers") {
            cluster.fetches.flatMap(\.answered).filter { $0.1 == .notLeaderOrFollower }.count >= 2
        }
        #expect(c.watermarks(tp)?.high == 100)
        #expect(c.lag(tp) == 0)
        await c.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func fencedAndUnknownLeaderEpochs() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 300, batch: 20)
        let c = try FakeLog.consumer(broker, ["max.partition.fetch.bytes": "1024", "queued.max.messages.kbytes": "4"])
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .beginning)
        var step = 0
        let got = try await FakeLog.read(c, count: 300) { records in
            // A new leader epoch on the same broker (a re-election): our epoch is now fenced.
            if step == 0 && records.count >= 50 { cluster.moveLeader("t", 0, to: 1); step = 1 }
            // The broker has not caught up with the epoch we know.
            if step == 1 && records.count >= 150 { cluster.failFetches("t", 0, with: .unknownLeaderEpoch, count: 3); step = 2 }
        }
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 300])
        let codes = cluster.fetches.flatMap { $0.answered.map(\.1) }
        #expect(codes.contains(.fencedLeaderEpoch))
        #expect(codes.filter { $0 == .unknownLeaderEpoch }.count == 3)
        // The epoch in later requests is the new one (checked by the fake: a stale one is fenced).
        #expect(codes.last == .noError)
    }

    @Test(.timeLimit(.minutes(1)))
    func connectionLossesWhileReading() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 1000, batch: 20)
        FakeLog.fill(cluster, "t", 1, count: 1000, batch: 20)
        let c = try FakeLog.consumer(broker, ["max.partition.fetch.bytes": "1024", "queued.max.messages.kbytes": "4"])
        try await c.assign([TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], from: .beginning)
        var nextDrop = 150
        let got = try await FakeLog.read(c, count: 2000) { records in
            if records.count >= nextDrop {
                broker.dropConnections()
                nextDrop += 150
            }
        }
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 1000, 1: 1000])
        #expect(broker.connectionCount >= 8, "connections were really lost: \(broker.connectionCount) accepted")
    }

    /// Runs `body`, then counts Metadata and Fetch requests over a 2-second window.
    func requestRate(_ cluster: FakeCluster, _ broker: FakeBroker) async throws -> (metadata: Int, fetches: Int) {
        let m0 = broker.received.filter { $0.header.apiKey == .metadata }.count, f0 = cluster.fetches.count
        try await Task.sleep(for: .seconds(2))
        return (broker.received.filter { $0.header.apiKey == .metadata }.count - m0, cluster.fetches.count - f0)
    }

    @Test(.timeLimit(.minutes(1)))
    func noRequestStormWhileAPartitionHasNoLeader() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 10)
        cluster.moveLeader("t", 0, to: -1)
        // Default backoffs (retry.backoff.ms 100, retry.backoff.max.ms 1000).
        let c = try KafkaConsumer(properties: ["bootstrap.servers": broker.address])
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .offset(0))
        try await Task.sleep(for: .milliseconds(500))
        let rate = try await requestRate(cluster, broker)
        print("ConsumerLeaderChange: no leader: \(rate.metadata) Metadata, \(rate.fetches) Fetch requests in 2 s")
        #expect(rate.metadata <= 20, "\(rate.metadata) Metadata requests in 2 s")
        #expect(rate.metadata >= 1, "it keeps looking for a leader")
        #expect(rate.fetches == 0)
        // Once a leader appears, reading resumes.
        cluster.moveLeader("t", 0, to: 1)
        let got = try await FakeLog.read(c, count: 10)
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 10])
    }

    @Test(.timeLimit(.minutes(1)))
    func noRequestStormWhileTheLeaderRefuses() async throws {
        // Metadata keeps naming broker 1, which keeps answering NOT_LEADER_OR_FOLLOWER.
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 10)
        cluster.failFetches("t", 0, with: .notLeaderOrFollower, count: 100_000)
        let c = try KafkaConsumer(properties: ["bootstrap.servers": broker.address])
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .offset(0))
        try await Task.sleep(for: .milliseconds(500))
        let rate = try await requestRate(cluster, broker)
        print("ConsumerLeaderChange: NOT_LEADER forever: \(rate.metadata) Metadata, \(rate.fetches) Fetch requests in 2 s")
        #expect(rate.fetches <= 25, "\(rate.fetches) Fetch requests in 2 s")
        #expect(rate.fetches >= 1, "it keeps trying")
        #expect(rate.metadata <= 25, "\(rate.metadata) Metadata requests in 2 s")
        #expect(try await c.poll(timeout: .milliseconds(10)).isEmpty)
        await c.close()
    }
}

@Suite struct ConsumerIteratorProgressTests {
    /// The `records` iterator takes one buffered chunk (one partition) at a time, so what it has
    /// delivered is known per partition — the offsets a group commit would use.
    @Test(.timeLimit(.minutes(1)))
    func deliveredOffsetsAreTrackedForEveryPartition() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 50)
        FakeLog.fill(cluster, "t", 1, count: 50)
        let c = try FakeLog.consumer(broker)
        let p0 = TopicPartition(topic: "t", partition: 0), p1 = TopicPartition(topic: "t", partition: 1)
        try await c.assign([p0, p1], from: .beginning)
        // Both partitions' records are buffered before the iterator starts.
        try await awaitCondition("both partitions buffered", timeout: .seconds(10)) { c.bufferedBytes > 0 && c.watermarks(p1) != nil && c.watermarks(p0) != nil }
        try await Task.sleep(for: .milliseconds(100))
        var seen: [Int32: Int] = [:]
        var iterator = c.records.makeAsyncIterator()
        // Everything of the first partition served, and 10 records of the other.
        while !(seen.count == 2 && seen.values.contains(50) && seen.values.contains(10)) {
            let r = try #require(try await iterator.next())
            seen[r.partition, default: 0] += 1
        }
        let first: Int32 = seen[0] == 50 ? 0 : 1
        let delivered = c.committablePositions(processedOnly: false, partitions: nil)
        #expect(delivered[TopicPartition(topic: "t", partition: first)] == 50, "the finished partition: \(delivered)")
        #expect(delivered[TopicPartition(topic: "t", partition: 1 - first)] == 10, "the partition in progress: \(delivered)")
        await c.close()
    }
}

@Suite struct ConsumerTransactionFakeBrokerTests {
    /// Producer 1's transaction (offsets 0–2) aborts while producer 2's (3–4) commits around
    /// it; producer 1 then commits 7–8; a plain record at 10. The broker lists producer 1's
    /// aborted transaction for read_committed fetches.
    static func interleaved(_ cluster: FakeCluster) {
        cluster.appendRecords("tx", 0, ["a0", "a1", "a2"], producerId: 1, transactional: true)
        cluster.appendRecords("tx", 0, ["b3", "b4"], producerId: 2, transactional: true)
        cluster.appendMarker("tx", 0, .abort, producerId: 1)
        cluster.appendMarker("tx", 0, .commit, producerId: 2)
        cluster.appendRecords("tx", 0, ["c7", "c8"], producerId: 1, transactional: true)
        cluster.appendMarker("tx", 0, .commit, producerId: 1)
        cluster.appendRecords("tx", 0, ["plain10"])
    }

    @Test(.timeLimit(.minutes(1)), arguments: ["read_committed", "read_uncommitted"])
    func abortedTransactionsAreFilteredOnlyWhenReadCommitted(isolation: String) async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("tx", partitions: 1, leader: 1)
        Self.interleaved(cluster)
        let c = try FakeLog.consumer(broker, ["isolation.level": isolation])
        let tp = TopicPartition(topic: "tx", partition: 0)
        try await c.assign([tp], from: .beginning)
        let expected: [(Int64, String)] = isolation == "read_committed"
            ? [(3, "b3"), (4, "b4"), (7, "c7"), (8, "c8"), (10, "plain10")]
            : [(0, "a0"), (1, "a1"), (2, "a2"), (3, "b3"), (4, "b4"), (7, "c7"), (8, "c8"), (10, "plain10")]
        let got = try await FakeLog.read(c, count: expected.count, timeout: .seconds(10))
        #expect(got.map(\.offset) == expected.map(\.0))
        #expect(got.map { $0.valueString ?? "" } == expected.map(\.1))
        // Nothing more arrives (markers are not records), and the position is past the end.
        #expect(try await c.poll(timeout: .milliseconds(300)).isEmpty)
        #expect(c.position(tp) == 11)
        await c.close()
        #expect(cluster.fetches.allSatisfy { $0.isolationLevel == (isolation == "read_committed" ? 1 : 0) })
    }

    // Qualified: KafkaClient's alias and KafkaProtocol's type are both in scope here, and the
    // `(T).self` that @Test writes for a parameter type cannot choose between them.
    @Test(.timeLimit(.minutes(1)), arguments: [RecordCompression.none, .lz4])
    func startingInsideABatchSkipsItsEarlierRecords(compression: KafkaProtocol.RecordCompression) async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 30, batch: 10, compression: compression)
        let c = try FakeLog.consumer(broker)
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .offset(5))
        let got = try await FakeLog.read(c, count: 25, timeout: .seconds(10))
        await c.close()
        FakeLog.expectExactlyOnce(got, counts: [0: 25], from: [0: 5])
        // Asked for offset 5, the broker answered with the whole batch 0–9.
        #expect(cluster.fetches.first?.partitions.first?.1 == 5)
    }
}
