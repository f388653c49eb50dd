import Foundation
import Synchronization
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

// The consumer against brokers that send what no partition can hold (offsets at Int64.max),
// corrupt data on one partition, or Fetch responses that repeat a partition; and the
// consumer's lifecycle: cancelled waits, a consumer dropped without close(), and what the
// prefetch bound counts.

/// A one-broker cluster whose Fetch answers are scripted per partition.
final class ScriptedFetchBroker: Sendable {
    /// The records bytes to answer for (partition, fetch offset); nil: nothing new.
    typealias Serve = @Sendable (_ partition: Int32, _ offset: Int64) -> [UInt8]?
    /// Changes a response before it is sent (given the number of this Fetch, from 1).
    typealias Mangle = @Sendable (_ response: FetchResponse, _ fetch: Int) -> FetchResponse

    /// Fetch requests in all, and per partition listed.
    final class Counts: Sendable {
        let perPartition = Mutex<[Int32: Int]>([:])
        let total = Atomic<Int>(0)
    }

    let broker: FakeBroker
    private let counts: Counts

    init(topic: String, partitions: Int32, serve: @escaping Serve, mangle: Mangle? = nil) throws {
        let counts = Counts()
        self.counts = counts
        broker = try FakeBroker { req, b in
            guard req.header.apiKey == .fetch else { return b.defaultAction(req) }
            guard let f = try? req.decode(FetchRequest.self) else { return .disconnect }
            let n = counts.total.add(1, ordering: .relaxed).newValue
            var r = FetchResponse()
            var any = false
            for t in f.topics {
                var out = FetchResponse.Topic()
                out.topic = t.topic
                out.topicId = t.topicId
                for p in t.partitions {
                    counts.perPartition.withLock { $0[p.partition, default: 0] += 1 }
                    var rp = FetchResponse.Partition()
                    rp.partitionIndex = p.partition
                    rp.highWatermark = p.fetchOffset
                    rp.records = serve(p.partition, p.fetchOffset)
                    if rp.records != nil { any = true }
                    out.partitions.append(rp)
                }
                r.responses.append(out)
            }
            if let mangle { r = mangle(r, n) }
            // Nothing new: answer after a while, as a broker's long poll does.
            return any ? .respond(b.body(r, for: req)) : .respondAfter(.milliseconds(50), b.body(r, for: req))
        }
        broker.addTopic(topic, partitions: partitions)
    }

    func fetches(of partition: Int32) -> Int { counts.perPartition.withLock { $0[partition] ?? 0 } }
    var fetches: Int { counts.total.load(ordering: .relaxed) }
}

enum HostileData {
    /// A v2 batch of `count` records at `base`, values "v<i>".
    static func batch(base: Int64, count: Int, compression: RecordCompression = .none) throws -> [UInt8] {
        var b = RecordBatchBuilder(baseOffset: base, compression: compression)
        for i in 0 ..< count { try b.append(timestamp: 1000, key: nil, value: Array("v\(i)".utf8)) }
        return try b.build(compress: compression == .none ? nil : Compression.recordCompressor())
    }

    /// A legacy (magic 1) message at `offset` with a correct CRC-32.
    static func legacyMessage(offset: Int64, value: [UInt8]) -> [UInt8] {
        func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        let body: [UInt8] = [1, 0] + be(Int64(1000)) + be(Int32(-1)) + be(Int32(value.count)) + value
        return be(offset) + be(Int32(4 + body.count)) + be(CRC32.checksum(body)) + body
    }

}

@Suite(.serialized) struct ConsumerHostileBrokerTests {
    static let props = ["fetch.max.wait.ms": "100", "request.timeout.ms": "5000", "retry.backoff.ms": "20", "retry.backoff.max.ms": "200"]

    func consumer(_ broker: FakeBroker, _ extra: [String: String] = [:]) throws -> KafkaConsumer {
        var p = Self.props
        p["bootstrap.servers"] = broker.address
        for (k, v) in extra { p[k] = v }
        return try KafkaConsumer(properties: p)
    }

    /// Item A: a batch reaching Int64.max and a legacy message at Int64.max would make the next
    /// position overflow (`offset + 1` trapped). They are refused as per-partition decoding
    /// errors; the third partition's records all arrive.
    @Test(.timeLimit(.minutes(1)))
    func offsetsAtInt64MaxAreRefusedAndOtherPartitionsGoOn() async throws {
        let nearMax = try HostileData.batch(base: Int64.max - 2, count: 3)
        let legacy = HostileData.legacyMessage(offset: Int64.max, value: Array("x".utf8))
        let good = try HostileData.batch(base: 0, count: 5)
        let s = try ScriptedFetchBroker(topic: "t", partitions: 3) { p, offset in
            switch p {
            case 0: return nearMax
            case 1: return legacy
            default: return offset == 0 ? good : nil
            }
        }
        defer { s.broker.stop() }
        let c = try consumer(s.broker)
        let tps = (0 ..< 3).map { TopicPartition(topic: "t", partition: $0) }
        try await c.assign(tps, from: .offset(0))
        try c.seek(tps[0], to: .offset(Int64.max - 2))
        try c.seek(tps[1], to: .offset(Int64.max - 1))
        let errors = c.partitionErrors
        var got: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while got.count < 5, ContinuousClock.now < deadline { got += try await c.poll(timeout: .milliseconds(200)) }
        #expect(got.map(\.offset) == [0, 1, 2, 3, 4] && got.allSatisfy { $0.partition == 2 })
        // Both bad partitions reported, by name, as decoding errors; their positions did not move.
        var named = Set<Int32>()
        for await e in errors {
            #expect(e.kind == .decoding && e.context.topic == "t")
            if let p = e.context.partition { named.insert(p) }
            if named.count == 2 { break }
        }
        #expect(named == [0, 1])
        #expect(c.position(tps[0]) == Int64.max - 2 && c.position(tps[1]) == Int64.max - 1)
        await c.close()
    }

    /// Item B: a Fetch response naming the same partition twice (the consumer used to buffer
    /// its records twice) is ignored and fetched again after a backoff.
    @Test(.timeLimit(.minutes(1)))
    func aResponseNamingAPartitionTwiceIsIgnored() async throws {
        let good = try HostileData.batch(base: 0, count: 10)
        let s = try ScriptedFetchBroker(topic: "t", partitions: 1, serve: { _, offset in offset == 0 ? good : nil }, mangle: { r, n in
            // The first three answers repeat the partition.
            guard n <= 3 else { return r }
            var r = r
            r.responses[0].partitions += r.responses[0].partitions
            return r
        })
        defer { s.broker.stop() }
        let c = try consumer(s.broker)
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .offset(0))
        var got: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, s.fetches < 6 || got.count < 10 {
            got += try await c.poll(timeout: .milliseconds(100))
        }
        await c.close()
        #expect(got.map(\.offset) == Array(0 ..< 10), "each record once: \(got.map(\.offset))")
        #expect(s.fetches >= 4, "fetched again after the broken answers")
    }

    /// Item E: partition 0 serves a corrupt batch forever. The `records` iteration does not
    /// end: partition 1's records all arrive; partition 0 is fetched with backoff, not in a
    /// hot loop; its errors name it.
    @Test(.timeLimit(.minutes(1)))
    func aCorruptPartitionDoesNotStopTheOthers() async throws {
        let cluster = FakeCluster(sessions: false)
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        var bad = try HostileData.batch(base: 0, count: 5)
        bad[bad.count - 2] ^= 0xFF // inside the last record's value: the CRC no longer matches
        cluster.append("t", 0, batch: bad)
        FakeLog.fill(cluster, "t", 1, count: 300)
        let c = try FakeLog.consumer(broker)
        try await c.assign([TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], from: .beginning)
        let errors = c.partitionErrors
        let reader = Task {
            var got: [ConsumerRecord] = []
            for try await r in c.records {
                got.append(r)
                if got.count == 300 { break }
            }
            return got
        }
        let got = try await reader.value
        FakeLog.expectExactlyOnce(got, counts: [1: 300])
        // Then count partition 0's fetches over two seconds.
        let start = ContinuousClock.now
        try await Task.sleep(for: .seconds(2))
        let window = cluster.fetches.filter { $0.at >= start && $0.partitions.contains { $0.0 == FakeCluster.PartitionKey("t", 0) } }
        // retry.backoff.max.ms is 200: about 10 in 2 s (a hot loop makes hundreds).
        #expect(window.count <= 25, "\(window.count) fetches of the corrupt partition in 2 s")
        #expect(window.count >= 2, "still retried")
        var first: KafkaError?
        for await e in errors { first = e; break }
        let e = try #require(first)
        #expect(e.kind == .decoding && e.context.topic == "t" && e.context.partition == 0, "\(e)")
        await c.close()
    }

    /// Item G: the prefetch bound counts what the records take once decompressed, not their
    /// compressed size (100 batches of 100 KiB each compress to well under the bound).
    @Test(.timeLimit(.minutes(1)))
    func thePrefetchBoundCountsDecompressedBytes() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        let value = String(repeating: "a", count: 1024)
        for _ in 0 ..< 100 { cluster.appendRecords("t", 0, Array(repeating: value, count: 100), compression: .lz4) }
        let bound = 256 * 1024
        let c = try FakeLog.consumer(broker, ["queued.max.messages.kbytes": "256", "max.partition.fetch.bytes": "1024"])
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .beginning)
        // Nobody reads: the fetcher fills the buffer up to the bound and stops.
        try await eventually("a first fetch", timeout: .seconds(10)) { c.bufferedBytes > 0 }
        try await Task.sleep(for: .seconds(1))
        let buffered = c.bufferedRecordBytes
        // At most one fetch beyond the bound (a fetch starts while below it).
        #expect(buffered <= bound + 200 * 1024, "\(buffered) bytes of records buffered for a \(bound)-byte bound")
        #expect(c.bufferedBytes >= buffered, "the counter covers the decoded bytes")
        // Reading frees room and fetching goes on.
        let got = try await FakeLog.read(c, count: 10000)
        #expect(got.count == 10000)
        await c.close()
    }
}

/// Item C: every wait honours cancellation and leaves the consumer usable.
@Suite(.serialized) struct ConsumerCancellationTests {
    func expectCancelledPromptly<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws {
        let task = Task { try await body() }
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        let took = ContinuousClock.now - start
        #expect(took < .seconds(2), "\(what) took \(took) to end after cancellation")
        switch result {
        case .success: Issue.record("\(what) returned instead of throwing")
        case let .failure(e): #expect((e as? KafkaError)?.kind == .cancelled, "\(what): \(e)")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func pollAndRecordsEndOnCancellation() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 1, leader: 1)
        let c = try FakeLog.consumer(broker)
        try await c.assign([TopicPartition(topic: "t", partition: 0)], from: .beginning)
        try await expectCancelledPromptly("poll") { try await c.poll(timeout: .seconds(60)) }
        try await expectCancelledPromptly("records") { () async throws -> Int in
            var n = 0
            for try await _ in c.records { n += 1 }
            return n
        }
        // Still usable.
        FakeLog.fill(cluster, "t", 0, count: 10)
        let got = try await FakeLog.read(c, count: 10)
        FakeLog.expectExactlyOnce(got, counts: [0: 10])
        await c.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func commitAndCommittedEndOnCancellation() async throws {
        // A coordinator that never answers OffsetCommit / OffsetFetch.
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .findCoordinator: return b.coordinatorIsSelf(req)
            case .offsetCommit, .offsetFetch: return .ignore
            case .fetch: return .respondAfter(.milliseconds(100), b.body(FetchResponse(), for: req))
            default: return b.defaultAction(req)
            }
        }
        defer { broker.stop() }
        broker.addTopic("t", partitions: 1)
        let c = try KafkaConsumer(properties: ["bootstrap.servers": broker.address, "group.id": "g", "request.timeout.ms": "60000",
                                               "default.api.timeout.ms": "60000"])
        let tp = TopicPartition(topic: "t", partition: 0)
        try await c.assign([tp], from: .offset(0))
        try await expectCancelledPromptly("commit") { try await c.commit([tp: 5]) }
        try await expectCancelledPromptly("committed") { try await c.committed([tp]) }
        await c.close()
    }
}

/// Item D: a consumer the application forgets to close shuts down when dropped.
@Suite(.serialized) struct ConsumerDropTests {
    @Test(.timeLimit(.minutes(1)))
    func aDroppedConsumerIsFreedAndClosesItsConnections() async throws {
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        FakeLog.fill(cluster, "t", 0, count: 100)
        var c: KafkaConsumer? = try FakeLog.consumer(broker)
        try await c?.assign([TopicPartition(topic: "t", partition: 0), TopicPartition(topic: "t", partition: 1)], from: .beginning)
        let got = try await FakeLog.read(c!, count: 100)
        #expect(got.count == 100)
        #expect(broker.openConnections > 0)
        weak let dropped = c
        c = nil
        try await eventually("the consumer freed", timeout: .seconds(10)) { dropped == nil }
        try await eventually("its connections closed", timeout: .seconds(10)) { broker.openConnections == 0 }
        // And fetching stopped.
        let fetches = cluster.fetches.count
        try await Task.sleep(for: .milliseconds(500))
        #expect(cluster.fetches.count == fetches)
    }
}

extension GroupFakeBrokerTests {
    /// Item D, group part: a subscribed consumer dropped without close() leaves the group.
    @Test func aDroppedGroupMemberLeavesTheGroup() async throws {
        let script = Script()
        let topic = "orders"
        let broker = try coordinator(script, topic: topic, rebalanceAt: 1000)
        defer { broker.stop() }
        broker.addTopic(topic, partitions: 2)
        var c: KafkaConsumer? = try KafkaConsumer(properties: ["bootstrap.servers": broker.address, "group.id": "g", "heartbeat.interval.ms": "100",
                                                               "session.timeout.ms": "6000", "retry.backoff.ms": "20", "auto.offset.reset": "earliest"])
        try c?.subscribe(topics: [topic])
        let deadline = ContinuousClock.now + .seconds(20)
        // Past the script's NOT_COORDINATOR answer (2nd heartbeat), so the coordinator is known.
        while c?.assignment.isEmpty ?? true || script.count(.heartbeat) < 3, ContinuousClock.now < deadline {
            _ = try await c?.poll(timeout: .milliseconds(50))
        }
        #expect(c?.assignment.count == 2)
        weak let dropped = c
        c = nil
        try await eventually("the consumer freed", timeout: .seconds(10)) { dropped == nil }
        try await eventually("LeaveGroup", timeout: .seconds(10)) { script.count(.leaveGroup) == 1 }
        try await eventually("its connections closed", timeout: .seconds(10)) { broker.openConnections == 0 }
    }
}
