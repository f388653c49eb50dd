import Foundation
import Testing
import KafkaClient
import KafkaTestSupport

/// `kwire copy` and `kwire produce --transactional-id` on Tansu, checked by
/// `TransactionalLogReader` (Tansu lists no aborted transactions, so only a reader applying the
/// markers itself tells committed from aborted there).
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && KwireCLITests.binary != nil, "needs KAFKA_BOOTSTRAP and a built kwire"))
struct KwireCopyTests {
    static var bootstrap: String { ProducerIntegrationTests.bootstrap }
    /// Group settings that make a restarted member's join quick on Tansu.
    static let groupFlags = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000"]

    static func createTopic(_ name: String, partitions: Int32) async throws {
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: name, partitions: partitions, replicationFactor: 1))
        await admin.close()
    }

    /// Messages `range` of `SequencedWorkload` (key k(i % 64), value "i|…"), idempotently.
    static func produceWorkload(_ topic: String, _ range: Range<Int>, size: Int = 40) async throws {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "linger.ms": "5"])
        for i in range {
            let r = ProducerRecord(topic: topic, key: SequencedWorkload.key(i), value: SequencedWorkload.value(i, size: size))
            do { try producer.enqueue(r) } catch let e as KafkaError where e.kind == .queueFull { _ = try await producer.send(r) }
        }
        try await producer.flush()
        await producer.close()
    }

    static func kwire(_ args: [String], stdin: String = "") async throws -> KwireCLITests.Run {
        try await KwireProduceTests.kwire(args, stdin: stdin)
    }

    @Test(.timeLimit(.minutes(3)))
    func copyWithTransformIsExactlyTheSourceOnceAndASecondRunCopiesNothing() async throws {
        let src = IntegrationEnvironment.uniqueTopic("kw-copy-src"), dst = src + "-dst", group = src + "-g"
        try await Self.createTopic(src, partitions: 3)
        try await Self.createTopic(dst, partitions: 3)
        let n = 3000
        try await Self.produceWorkload(src, 0 ..< n)
        let copy = ["-b", Self.bootstrap, "copy", src, dst, "--group", group, "--transactional-id", group + "-t", "--transform", "upper",
                    "--exit-at-end", "--transaction-size", "500"] + Self.groupFlags
        let first = try await Self.kwire(copy)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("copied \(n) records"), "\(first.stderr.suffix(400))")
        let source = try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: src)
        let copied = try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: dst)
        for p in Int32(0) ..< 3 {
            let want = source[p]?.committed.map { $0.valueString.uppercased() } ?? []
            #expect(copied[p]?.committed.map(\.valueString) == want, "partition \(p): the same records, upper-cased, in order")
            #expect(copied[p]?.committed.map { $0.key.map { String(decoding: $0, as: UTF8.self) } } == source[p]?.committed.map { $0.key.map { String(decoding: $0, as: UTF8.self) } })
            #expect(copied[p]?.committed.allSatisfy { $0.producerId != nil } == true, "written in transactions")
            #expect(copied[p]?.abortedRecords == 0)
        }
        // The group's offsets were committed by the transactions: a second run has nothing to do.
        let second = try await Self.kwire(copy)
        #expect(second.status == 0 && second.stderr.contains("copied 0 records"), "\(second.stderr.suffix(400))")
        // Our read_committed consumer agrees (Tansu: nothing was aborted here, so it can).
        let read = try await Self.kwire(["-b", Self.bootstrap, "consume", dst, "--isolation", "read_committed", "--exit-at-end"])
        #expect(read.stdout.split(separator: "\n").count == n)
    }

    /// The test: SIGKILLed three times during a 200 k-record copy, restarted each time;
    /// DST then holds every SRC record exactly once, in order per key, as a reader applying the
    /// markers sees it.
    @Test(.timeLimit(.minutes(8)))
    func copyKilledThreeTimesHasEveryRecordExactlyOnce() async throws {
        let src = IntegrationEnvironment.uniqueTopic("kw-copy-kill"), dst = src + "-dst", group = src + "-g"
        try await Self.createTopic(src, partitions: 4)
        try await Self.createTopic(dst, partitions: 4)
        let n = 200_000
        try await Self.produceWorkload(src, 0 ..< n)
        let kwire = try #require(KwireCLITests.binary).path
        let argv = [kwire, "-b", Self.bootstrap, "copy", src, dst, "--group", group, "--transactional-id", group + "-t", "--exit-at-end"] + Self.groupFlags
        // The runs to kill copy until killed (no --exit-at-end: see below).
        let killedArgv = argv.filter { $0 != "--exit-at-end" }
        var kills = 0, earlyExits = 0
        let delays = [0.4, 0.9, 0.6]
        // Three runs are SIGKILLed mid-copy. They run without --exit-at-end: with it, runs were
        // seen to end by themselves long before the end (after 30,000 of 200,000 records: an
        // early end-of-topic decision on Tansu, noted in issue 14 to be fixed), which left
        // nothing to kill. A run that still ends by itself is started again.
        while kills < 3 && earlyExits < 5 {
            let p = try BackgroundProcess(killedArgv)
            // Killed some time after it began copying (its first assignment).
            let deadline = ContinuousClock.now + .seconds(60)
            while !p.stderr.contains("assigned \(src)"), p.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .seconds(delays[kills]))
            guard p.process.isRunning else {
                earlyExits += 1
                print("KwireCopy: a run ended before it could be killed: \(p.stderr.suffix(300))")
                continue
            }
            p.signal(SIGKILL)
            _ = await p.exit(within: .seconds(10))
            kills += 1
        }
        #expect(kills == 3, "\(earlyExits) runs ended before they could be killed")
        // The last run finishes the copy. A member started while a killed one's session has not
        // expired yet may own only some partitions when it reaches their end: run until the
        // group's offsets reach the source's ends.
        let ends = try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: src).mapValues(\.nextOffset)
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [Self.bootstrap]))
        var finalRuns = 0
        while true {
            let last = try await Self.kwire(Array(argv.dropFirst()))
            finalRuns += 1
            #expect(last.status == 0, "\(last.stderr.suffix(500))")
            let committed = try await admin.listConsumerGroupOffsets(group, requireStable: true)
            let done = ends.allSatisfy { p, end in committed[TopicPartition(topic: src, partition: p)]?.offset == end }
            if done || finalRuns == 3 { break }
        }
        await admin.close()

        let copied = try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: dst)
        var audit = SequencedLogAudit(expected: n, offsetGapsAllowed: true)
        var aborted = 0, open = 0
        for (p, a) in copied.sorted(by: { $0.key < $1.key }) {
            aborted += a.abortedRecords
            open += a.openTransactions.count
            for e in a.committed { audit.add(partition: p, offset: e.offset, index: e.value.flatMap { SequencedWorkload.index(ofValue: $0) }) }
        }
        print("KwireCopy: 3 SIGKILLs, \(finalRuns) final run(s); DST: \(audit.records) committed records, \(aborted) aborted records left by the killed runs, \(open) open transactions")
        #expect(audit.missing.isEmpty, "missing \(audit.missing.count), e.g. \(audit.missing.prefix(5))")
        #expect(audit.duplicated.isEmpty, "duplicated \(audit.duplicated.count), e.g. \(audit.duplicated.prefix(5))")
        #expect(audit.problemCount == 0, "\(audit.problems)")
        #expect(open == 0, "every transaction of the killed runs was ended by the next run")
    }

    @Test(.timeLimit(.minutes(2)))
    func produceAbortLeavesOnlyAbortedRecordsAndAbortMarkers() async throws {
        let topic = IntegrationEnvironment.uniqueTopic("kw-txn-abort")
        try await Self.createTopic(topic, partitions: 1)
        let lines = (0 ..< 35).map { "line \($0)" }
        let r = try await Self.kwire(["-b", Self.bootstrap, "produce", topic, "--partition", "0", "--transactional-id", topic + "-t",
                                      "--transaction-size", "10", "--abort"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("produced 35 messages in 4 aborted transactions"), "\(r.stderr)")
        let a = try #require(try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: topic)[0])
        #expect(a.committed.isEmpty, "nothing is visible to read_committed")
        #expect(a.all.map(\.valueString) == lines, "the aborted records are stored")
        #expect(a.markers.map(\.type) == [.abort, .abort, .abort, .abort])
        #expect(a.markers.map(\.offset) == [10, 21, 32, 38], "one marker after each 10 lines and at EOF")
        #expect(a.abortedTransactions == 4 && a.abortedRecords == 35)
    }

    @Test(.timeLimit(.minutes(2)))
    func produceCommitsEveryTransactionSizeLinesAndAtEOF() async throws {
        let topic = IntegrationEnvironment.uniqueTopic("kw-txn-commit")
        try await Self.createTopic(topic, partitions: 1)
        let lines = (0 ..< 35).map { "k\($0 % 3)=v\($0)" }
        let r = try await Self.kwire(["-b", Self.bootstrap, "produce", topic, "--partition", "0", "--key-delimiter", "=",
                                      "--transactional-id", topic + "-t", "--transaction-size", "10"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("produced 35 messages in 4 committed transactions"), "\(r.stderr)")
        let a = try #require(try await TransactionalLogReader.read(bootstrap: Self.bootstrap, topic: topic)[0])
        #expect(a.committed.map { "\(String(decoding: $0.key ?? [], as: UTF8.self))=\($0.valueString)" } == lines)
        #expect(a.markers.map(\.type) == [.commit, .commit, .commit, .commit])
        #expect(a.markers.map(\.offset) == [10, 21, 32, 38])
        // Without --transaction-size: the whole input is one transaction.
        let one = try await Self.kwire(["-b", Self.bootstrap, "produce", topic, "--partition", "0", "--transactional-id", topic + "-t"], stdin: "x\ny\n")
        #expect(one.status == 0 && one.stderr.contains("produced 2 messages in 1 committed transaction,"), "\(one.stderr)")
    }
}
