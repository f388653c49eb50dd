import Foundation
import Testing
import KafkaProtocol
import KafkaTestSupport

/// Issue 14's check on FakeCluster: the real `kwire copy SRC DST --group G --transactional-id T
/// --exit-at-end`, SIGKILLed three times mid-copy and restarted, then confluent-kafka
/// (read_committed, an independent reader of the fake's markers and aborted transactions) reads
/// DST: every SRC record exactly once. The group consumer runs on the fake's classic group
/// coordinator (`FakeCluster+GroupMembership.swift`); a killed member is dropped by the next
/// rebalance (the fake's rebalance wait) and its open transaction is aborted when the restarted
/// copy initializes the same transactional id.
@Suite(.enabled(if: PeerClients.available && KwireCLITests.binary != nil, "needs python3 with confluent-kafka and a built kwire"))
struct KwireCopyFakeClusterTests {
    static let records = 200_000

    @Test(.timeLimit(.minutes(5)))
    func copyKilledThreeTimesOnTheFakeHasEveryRecordExactlyOnceForLibrdkafka() async throws {
        let cluster = FakeCluster(maxHold: .milliseconds(50))
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.setRebalanceWait(.seconds(2))
        cluster.createTopic("src", partitions: 4, leader: 1)
        cluster.createTopic("dst", partitions: 4, leader: 1)
        // Values "i|padding", in batches of 200 spread over the partitions.
        let pad = String(repeating: "x", count: 30)
        for start in stride(from: 0, to: Self.records, by: 200) {
            let values = (start ..< min(start + 200, Self.records)).map { "\($0)|\(pad)" }
            cluster.appendRecords("src", Int32((start / 200) % 4), values)
        }
        let kwire = try #require(KwireCLITests.binary).path
        let argv = [kwire, "-b", broker.address, "copy", "src", "dst", "--group", "g", "--transactional-id", "g-t", "--exit-at-end",
                    "--transaction-size", "500", "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
        for delay in [0.2, 0.5, 0.3] {
            let p = try BackgroundProcess(argv)
            let deadline = ContinuousClock.now + .seconds(60)
            while !p.stderr.contains("assigned src"), p.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .seconds(delay))
            #expect(p.process.isRunning, "the copy finished before it could be killed: \(p.stderr.suffix(300))")
            p.signal(SIGKILL)
            _ = await p.exit(within: .seconds(10))
        }
        let mid = (0 ..< 4).map { cluster.committedOffset(group: "g", "src", Int32($0))?.offset ?? 0 }.reduce(0, +)
        // The last runs finish the copy (a run may hold only some partitions while a killed
        // member is still in the group): until the group's offsets reach the source's ends.
        var finalRuns = 0
        func done() -> Bool { (0 ..< 4).allSatisfy { cluster.committedOffset(group: "g", "src", Int32($0))?.offset == cluster.endOffset("src", Int32($0)) } }
        while !done() && finalRuns < 4 {
            let r = try await runProcess(argv, timeout: .seconds(120))
            finalRuns += 1
            #expect(r.status == 0, "\(String(decoding: r.stderr.suffix(500), as: UTF8.self))")
        }
        #expect(done(), "the group's offsets reached every source end")
        #expect(mid > 0 && mid < Self.records, "killed mid-copy: \(mid) of \(Self.records) committed before the final runs")

        let script = KwireCLITests.root.appendingPathComponent("scripts/peer_consume.py").path
        let read = try await runProcess(["/usr/bin/env", "python3", script, "--client", "confluent", "--bootstrap", broker.address, "--topic", "dst",
                                         "--count", "0", "--isolation", "read_committed", "--compact", "--to-end", "--timeout", "90"], timeout: .seconds(120))
        try #require(read.status == 0, "\(String(decoding: read.stderr.suffix(2000), as: UTF8.self))")
        var seen: [Int: Int] = [:]
        for line in String(decoding: read.stdout, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, let i = Int(fields[2]) { seen[i, default: 0] += 1 }
        }
        let missing = (0 ..< Self.records).filter { seen[$0] == nil }
        let twice = seen.filter { $0.value > 1 }.map(\.key).sorted()
        let aborted = (0 ..< 4).map { cluster.endOffset("dst", Int32($0)) }.reduce(0, +) - Int64(seen.values.reduce(0, +))
        print("KwireCopyFake: 3 SIGKILLs, \(mid) committed before the final \(finalRuns) run(s); librdkafka read \(seen.count) distinct records; \(aborted) DST offsets are aborted records or markers")
        #expect(missing.isEmpty, "missing \(missing.count), e.g. \(missing.prefix(5))")
        #expect(twice.isEmpty, "duplicated \(twice.count), e.g. \(twice.prefix(5))")
        #expect(seen.keys.allSatisfy { $0 >= 0 && $0 < Self.records })
        #expect(aborted > 0, "the killed runs left aborted transactions, which read_committed skipped")
    }
}
