import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaTestSupport

/// Consumers (manual assignment, and a group of two of ours plus a confluent-kafka member) while
/// the broker restarts gracefully.
extension BrokerRestartTests {
    /// A consumer with manual assignment tails a topic that our producer is writing while the
    /// broker restarts twice (SIGTERM under load): it reads every record once, in offset order,
    /// exactly the records kafka-python finds in the log afterwards.
    @Test(.timeLimit(.minutes(5)))
    func assignedConsumerReadsEveryRecordOnceInOrderAcrossRestarts() async throws {
        let rig = try Self.theRig()
        let n = 300_000, partitions: Int32 = 4
        let topic = try await Self.createTopic("kw-restart-consume", partitions: partitions, on: rig)
        let consumer = try KafkaConsumer(properties: ["bootstrap.servers": rig.bootstrap])
        try await consumer.assign((0 ..< partitions).map { TopicPartition(topic: topic, partition: $0) }, from: .beginning)
        let readCount = Locked(0)
        let ledger = DeliveryLedger()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { ledger.record($0) }
        // 20 k/s, so that the consumer tails a topic still being written when the broker restarts.
        let writer = Writer(Task { try await Self.enqueueAll(producer, topic: topic, n: n, size: 24, perSecond: 20_000, ledger: ledger) })

        let restarts: @Sendable () async throws -> Void = {
            for (k, mark) in [n / 5, n * 3 / 5].enumerated() {
                try await awaitCondition("the consumer reading \(mark) records", timeout: .seconds(120)) { readCount.withLock { $0 } >= mark }
                try await rig.restart()
                print("BrokerRestart(consumer): SIGTERM \(k + 1) after \(readCount.withLock { $0 }) records read")
            }
        }
        var ours: [Int32: [Int64]] = [:]
        // Offsets may jump where the broker lost a batch between kept ones; they never repeat.
        var audit = SequencedLogAudit(expected: n, offsetGapsAllowed: true)
        try await Self.withRestarts(restarts) {
            // Until the writer is done and nothing new arrived for 3 s (the broker may have lost
            // some acknowledged records, so n is an upper bound).
            let deadline = ContinuousClock.now + .seconds(200)
            var quietSince = ContinuousClock.now
            while audit.records < n, ContinuousClock.now < deadline, !(writer.isDone && ContinuousClock.now - quietSince > .seconds(3)) {
                let before = audit.records
                for r in try await consumer.poll(max: 1000, timeout: .milliseconds(200)) {
                    ours[r.partition, default: []].append(r.offset)
                    audit.add(partition: r.partition, offset: r.offset, index: r.value.flatMap { SequencedWorkload.index(ofValue: $0) })
                }
                let read = audit.records
                readCount.withLock { $0 = read }
                if read > before { quietSince = ContinuousClock.now }
            }
        }
        _ = try await writer.task.value
        try await producer.flush()
        await producer.close()
        _ = Self.expectExactlyOneOutcomeEach(ledger, n: n)
        // A little longer: anything beyond n would be a record read twice.
        for r in try await consumer.poll(timeout: .milliseconds(500)) { audit.add(partition: r.partition, offset: r.offset, index: nil) }
        await consumer.close()
        // Tansu on S3 can lose acknowledged writes that arrive while it shuts down (librdkafka's
        // too): the reference is the log as a peer client finds it, not what was acknowledged.
        #expect(audit.problems.isEmpty, "\(audit.problemCount) problems: \(audit.problems)")
        #expect(audit.duplicated.isEmpty, "\(audit.duplicated.count) records read twice")

        // The same records, partition by partition, as a peer client finds them.
        let r = try await runProcess(["/usr/bin/env", "python3", PeerClients.script, "--client", "kafka-python", "--bootstrap", rig.bootstrap,
                                      "--topic", topic, "--count", String(n), "--timeout", "60", "--compact"], timeout: .seconds(300))
        var peer: [Int32: [Int64]] = [:]
        for line in String(decoding: r.stdout, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 3, let p = Int32(f[0]), let o = Int64(f[1]) { peer[p, default: []].append(o) }
        }
        let inLog = peer.values.map(\.count).reduce(0, +)
        print("BrokerRestart(consumer): we read \(audit.records), kafka-python \(inLog) records; \(n - inLog) acknowledged writes lost by the broker's restarts")
        #expect(inLog > n * 9 / 10, "kafka-python read only \(inLog) of \(n)")
        #expect(audit.records == inLog, "we read \(audit.records) records, the log holds \(inLog)")
        for p in 0 ..< partitions { #expect(ours[p] == peer[p], "partition \(p): we read \(ours[p]?.count ?? 0) records, kafka-python \(peer[p]?.count ?? 0), not the same offsets") }
    }
}

/// The writer task of a test, and whether it has finished.
final class Writer: Sendable {
    let task: Task<[MessageID], any Error>
    private let done = Locked(false)
    init(_ task: Task<[MessageID], any Error>) {
        self.task = task
        let done = self.done
        Task { _ = try? await task.value; done.withLock { $0 = true } }
    }
    var isDone: Bool { done.withLock { $0 } }
}

/// A group member of ours for the restart test: reads in its own task, records (partition,
/// offset) of everything it processed, and follows its assignment. Default settings except
/// Tansu's session limit.
final class RestartGroupMember: Sendable {
    let consumer: KafkaConsumer
    let read = Locked<[TopicPartition: [Int64]]>([:])
    let owned = Locked<Set<TopicPartition>>([])
    private let task = Locked<Task<Void, Never>?>(nil)

    init(bootstrap: String, group: String, topic: String) throws {
        let owned = self.owned
        consumer = try KafkaConsumer(properties: ["bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                                                  "session.timeout.ms": "6000"]) { e in
            owned.withLock { s in
                switch e {
                case let .assigned(p): s.formUnion(p)
                case let .revoked(p), let .lost(p): s.subtract(p)
                }
            }
        }
        try consumer.subscribe(topics: [topic])
        let c = consumer, read = self.read
        task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    guard let batch = try? await c.poll(max: 1000, timeout: .milliseconds(200)) else {
                        try? await Task.sleep(for: .milliseconds(100))
                        continue
                    }
                    read.withLock { m in for r in batch { m[r.topicPartition, default: []].append(r.offset) } }
                }
            }
        }
    }

    /// The next offset to read of each owned partition, as read so far (nil: nothing read).
    func position(_ tp: TopicPartition) -> Int64? { read.withLock { $0[tp]?.last.map { $0 + 1 } } }

    func close() async {
        task.withLock { $0?.cancel() }
        await task.withLock { $0 }?.value
        await consumer.close()
    }
}

extension BrokerRestartTests {
    /// Two of our members and one confluent-kafka member in a group across two graceful broker
    /// restarts. The peer joins first, reads every partition up to K and commits K; ours join,
    /// read on from the committed offsets and commit what they read before each restart.
    /// After each restart the members rejoin and read what was written meanwhile, the committed
    /// offsets are what was committed before it, and in the end (the peer left, ours own
    /// everything) the union of what was processed — the peer's offsets below K and ours — is
    /// the whole topic, ours read nothing twice and nothing below a committed offset.
    @Test(.timeLimit(.minutes(6)))
    func groupMembersRejoinAndKeepCommittedOffsetsAcrossTwoRestarts() async throws {
        let rig = try Self.theRig()
        let partitions: Int32 = 6, perPhase = 3000, k = 100
        let topic = try await Self.createTopic("kw-restart-group", partitions: partitions, on: rig)
        let group = IntegrationEnvironment.uniqueTopic("kw-restart-g")
        let tps = (0 ..< partitions).map { TopicPartition(topic: topic, partition: $0) }
        let ledger = DeliveryLedger()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": rig.bootstrap]) { ledger.record($0) }
        var ids: [MessageID] = []
        func write() async throws {
            for i in ids.count ..< ids.count + perPhase {
                let id = try producer.enqueue(ProducerRecord(topic: topic, key: SequencedWorkload.key(i), value: SequencedWorkload.value(i, size: 20)))
                ledger.accepted(id)
                ids.append(id)
            }
            try await producer.flush()
            #expect(ledger.audit().delivered == ids.count, "\(ledger.audit())")
        }
        /// Each partition's log end, from the delivery reports.
        func ends() -> [TopicPartition: Int64] {
            var e: [TopicPartition: Int64] = [:]
            for id in ids {
                guard case let .delivered(p, offset?) = ledger.outcome(of: id) else { continue }
                let tp = TopicPartition(topic: topic, partition: p)
                e[tp] = max(e[tp] ?? 0, offset + 1)
            }
            return e
        }
        try await write()
        #expect(ends().values.allSatisfy { $0 > Int64(k) }, "every partition needs more than K records: \(ends())")

        let peer = try PeerGroupMember(bootstrap: rig.bootstrap, topic: topic, group: group, commitAt: k, clientId: "kw-restart-peer")
        defer { peer.stop() }
        let peerCommit = try await peer.committed()
        #expect(peerCommit.assignment == tps, "the peer, alone, owns every partition: \(peerCommit.assignment)")
        let a = try RestartGroupMember(bootstrap: rig.bootstrap, group: group, topic: topic)
        let b = try RestartGroupMember(bootstrap: rig.bootstrap, group: group, topic: topic)
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [rig.bootstrap]))

        /// Ours own something each and have read every partition they own to its end; then they
        /// commit, and the group's committed offsets are read back.
        func settle(_ what: String) async throws -> [TopicPartition: Int64] {
            let e = ends()
            try await eventually("\(what): both of ours own partitions and read them to the end", timeout: .seconds(90)) {
                let (oa, ob) = (a.owned.withLock { $0 }, b.owned.withLock { $0 })
                guard !oa.isEmpty, !ob.isEmpty, oa.isDisjoint(with: ob) else { return false }
                return oa.allSatisfy { a.position($0) == e[$0] } && ob.allSatisfy { b.position($0) == e[$0] }
            }
            try await a.consumer.commit()
            try await b.consumer.commit()
            return try await admin.listConsumerGroupOffsets(group).mapValues(\.offset)
        }

        var committed = try await settle("after joining")
        for round in 1 ... 2 {
            try await rig.restart()
            let kept = try await admin.listConsumerGroupOffsets(group).mapValues(\.offset)
            #expect(kept == committed, "restart \(round): committed offsets \(kept), before the restart \(committed)")
            try await write()
            committed = try await settle("after restart \(round)")
            print("BrokerRestart(group): restart \(round): a owns \(a.owned.withLock { $0.count }), b \(b.owned.withLock { $0.count }) partitions")
        }

        // The peer leaves: ours take everything over from the committed offsets.
        try await peer.leave()
        let e = ends()
        /// Partitions not owned by ours, or owned and not read to the end.
        func behind() -> [String] {
            let (oa, ob) = (a.owned.withLock { $0 }, b.owned.withLock { $0 })
            return tps.compactMap { tp in
                // Either of ours may have read it to the end before the last rebalance moved it.
                let at = [a.position(tp), b.position(tp)].compactMap { $0 }.max()
                guard oa.contains(tp) || ob.contains(tp) else { return "\(tp.partition): not owned" }
                return at == e[tp] ? nil : "\(tp.partition): at \(at.map(String.init) ?? "-") of \(e[tp] ?? 0) (\(oa.contains(tp) ? "a" : "b"))"
            }
        }
        do {
            try await eventually("ours own all \(partitions) partitions and read them to the end", timeout: .seconds(90)) { behind().isEmpty }
        } catch {
            Issue.record("after the peer left: \(behind()); committed \(try await admin.listConsumerGroupOffsets(group).mapValues(\.offset))")
            throw error
        }
        await a.close()
        await b.close()
        await admin.close()
        await producer.close()

        let ra = a.read.withLock { $0 }, rb = b.read.withLock { $0 }
        for tp in tps {
            let ours = (ra[tp] ?? []) + (rb[tp] ?? [])
            let counts = Dictionary(ours.map { ($0, 1) }, uniquingKeysWith: +)
            let twice = counts.filter { $0.value > 1 }.count
            let belowK = ours.filter { $0 < Int64(k) }.count
            let processed = Set(ours).union(0 ..< Int64(k))
            #expect(twice == 0, "\(tp): \(twice) offsets read twice by our members")
            #expect(belowK == 0, "\(tp): \(belowK) offsets below the peer's commit read again")
            #expect(processed == Set(0 ..< (e[tp] ?? 0)), "\(tp): processed \(processed.count) of \(e[tp] ?? 0) offsets")
        }
    }
}
