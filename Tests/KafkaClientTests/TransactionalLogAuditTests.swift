import Foundation
import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// `TransactionalLogAudit` (pure) on hand-built batches, `TransactionalLogReader` against
/// FakeCluster (whose read_committed Fetch is an independent rule: `aborted_transactions`), and
/// against Tansu with transactions written by confluent-kafka.
@Suite struct TransactionalLogAuditTests {
    /// A batch at `base` with these values.
    static func data(_ base: Int64, _ values: [String], pid: Int64 = -1, transactional: Bool = false, compression: RecordCompression = .none) throws -> RecordSetEntry {
        var b = RecordBatchBuilder(baseOffset: base, compression: compression, producerId: pid, producerEpoch: pid < 0 ? -1 : 0,
                                   baseSequence: pid < 0 ? -1 : 0, isTransactional: transactional)
        for v in values { try b.append(timestamp: 1_700_000_000_000, key: nil, value: Array(v.utf8)) }
        return .batch(try RecordBatch(try b.build(compress: compression == .none ? nil : Compression.recordCompressor())))
    }

    static func marker(_ offset: Int64, _ type: ControlRecordType, pid: Int64) throws -> RecordSetEntry {
        var b = RecordBatchBuilder(baseOffset: offset, producerId: pid, producerEpoch: 0, isTransactional: true, isControl: true)
        try b.appendControl(type: type, coordinatorEpoch: 0, timestamp: 1_700_000_000_000)
        return .batch(try RecordBatch(try b.build()))
    }

    @Test func interleavedProducersKeepCommittedAndPlainRecordsInOffsetOrder() throws {
        var a = TransactionalLogAudit()
        try a.add(Self.data(0, ["a0", "a1"], pid: 1, transactional: true))
        try a.add(Self.data(2, ["b0"], pid: 2, transactional: true))
        try a.add(Self.data(3, ["plain0"]))
        try a.add(Self.data(4, ["a2"], pid: 1, transactional: true, compression: .lz4))
        try a.add(Self.data(5, ["b1"], pid: 2, transactional: true))
        try a.add(Self.marker(6, .abort, pid: 2))
        try a.add(Self.data(7, ["plain1"], pid: 9, transactional: false))  // idempotent, not transactional
        try a.add(Self.marker(8, .commit, pid: 1))
        #expect(a.committed.map(\.description) == ["0:a0", "1:a1", "3:plain0", "4:a2", "7:plain1"])
        #expect(a.committed.map(\.producerId) == [1, 1, nil, 1, nil])
        #expect(a.all.count == 7)
        #expect(a.abortedRecords == 2 && a.abortedTransactions == 1 && a.committedTransactions == 1)
        #expect(a.markers.map(\.offset) == [6, 8] && a.markers.map(\.type) == [.abort, .commit])
        #expect(a.openTransactions.isEmpty && a.lastStableOffset == 9 && a.nextOffset == 9)
    }

    @Test func anOpenTransactionHidesEverythingFromItsFirstOffset() throws {
        var a = TransactionalLogAudit()
        try a.add(Self.data(0, ["p0"]))
        try a.add(Self.data(1, ["t0"], pid: 5, transactional: true))
        try a.add(Self.data(2, ["p1"]))
        #expect(a.lastStableOffset == 1 && a.openTransactions == [5: 1])
        #expect(a.committed.map(\.valueString) == ["p0"], "records after an undecided transaction's start are not stable yet")
        try a.add(Self.marker(3, .commit, pid: 5))
        #expect(a.committed.map(\.valueString) == ["p0", "t0", "p1"])
        // A second transaction of the same producer starts fresh after the marker.
        try a.add(Self.data(4, ["t1"], pid: 5, transactional: true))
        try a.add(Self.marker(5, .abort, pid: 5))
        #expect(a.committed.map(\.valueString) == ["p0", "t0", "p1"] && a.abortedRecords == 1)
    }

    @Test func reReadBatchesAndMarkersWithoutATransactionChangeNothing() throws {
        var a = TransactionalLogAudit()
        try a.add(Self.marker(0, .commit, pid: 3))  // a partition added to a transaction that wrote nothing here
        try a.add(Self.data(1, ["x"], pid: 3, transactional: true))
        try a.add(Self.data(1, ["x"], pid: 3, transactional: true))  // the same batch again (an overlapping read)
        try a.add(Self.marker(2, .commit, pid: 3))
        #expect(a.ignoredBatches == 1)
        #expect(a.committed.map(\.description) == ["1:x"] && a.committedTransactions == 1)
        #expect(a.markers.count == 2)
    }

    /// The reader over the wire against FakeCluster, whose read_committed answers list aborted
    /// transactions: our consumer's read_committed view there must equal the audit's.
    @Test(.timeLimit(.minutes(1)))
    func readerAgreesWithReadCommittedOnAFakeClusterThatListsAbortedTransactions() async throws {
        let cluster = FakeCluster()
        let b0 = try cluster.startBroker(nodeId: 0), b1 = try cluster.startBroker(nodeId: 1)
        defer { b0.stop(); b1.stop() }
        cluster.createTopic("tx", partitions: 2, leader: 0)
        cluster.moveLeader("tx", 1, to: 1)
        var expected: [Int32: [String]] = [:]
        for p in Int32(0) ..< 2 {
            for t in 0 ..< 30 {
                let pid = Int64(100 + t % 3)
                let values = (0 ..< 1 + t % 4).map { "p\(p)-t\(t)-\($0)" }
                cluster.appendRecords("tx", p, values, producerId: pid, transactional: true, compression: t % 2 == 0 ? .none : .gzip)
                cluster.appendRecords("tx", p, ["p\(p)-plain\(t)"])
                let abort = t % 4 == 1
                cluster.appendMarker("tx", p, abort ? .abort : .commit, producerId: pid)
                expected[p, default: []] += (abort ? [] : values) + ["p\(p)-plain\(t)"]
            }
        }
        let audits = try await TransactionalLogReader.read(bootstrap: b0.address, topic: "tx")
        #expect(audits.keys.sorted() == [0, 1])
        for p in Int32(0) ..< 2 {
            let a = try #require(audits[p])
            #expect(a.committed.map(\.valueString) == expected[p], "partition \(p)")
            #expect(a.nextOffset == cluster.endOffset("tx", p) && a.markers.count == 30)
            let c = try KafkaConsumer(properties: ["bootstrap.servers": b0.address, "isolation.level": "read_committed", "fetch.max.wait.ms": "50"])
            let tp = TopicPartition(topic: "tx", partition: p)
            try await c.assign([tp], from: .beginning)
            var got: [ConsumerRecord] = []
            while c.position(tp) ?? 0 < cluster.endOffset("tx", p) { got += try await c.poll(max: 1000, timeout: .milliseconds(100)) }
            await c.close()
            #expect(got.map { "\($0.offset):\($0.valueString ?? "")" } == a.committed.map(\.description), "partition \(p): the consumer's read_committed")
        }
    }
}

/// Against Tansu: transactions written by confluent-kafka (every third aborted). Tansu's Fetch
/// lists no aborted transactions, so only the audit separates committed from aborted there.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && PeerClients.available, "needs KAFKA_BOOTSTRAP and python3 with confluent-kafka"))
struct TransactionalLogAuditIntegrationTests {
    struct Written: Decodable { let committed: [String]; let aborted: [String] }

    @Test(.timeLimit(.minutes(2)))
    func auditSeesExactlyTheCommittedTransactionsOfAPeer() async throws {
        let bootstrap = ProducerIntegrationTests.bootstrap
        let topic = IntegrationEnvironment.uniqueTopic("kw-txn-audit")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: 1, replicationFactor: 1))
        await admin.close()
        let script = KwireCLITests.root.appendingPathComponent("scripts/peer_produce_txn.py").path
        let r = try await PeerClients.run(["/usr/bin/env", "python3", script, "--bootstrap", bootstrap, "--topic", topic,
                                           "--transactions", "9", "--size", "20", "--abort-every", "3"])
        try #require(r.status == 0, "the transactional producer failed")
        let written = try JSONDecoder().decode(Written.self, from: r.out)
        let audits = try await TransactionalLogReader.read(bootstrap: bootstrap, topic: topic)
        let a = try #require(audits[0])
        #expect(a.committed.map(\.valueString) == written.committed)
        #expect(a.all.count == written.committed.count + written.aborted.count, "aborted records are stored")
        #expect(a.abortedRecords == written.aborted.count && a.abortedTransactions == 3 && a.committedTransactions == 6)
        #expect(a.markers.map(\.type) == (0 ..< 9).map { $0 % 3 == 2 ? .abort : .commit })
        #expect(a.openTransactions.isEmpty)
    }
}
