import Foundation
import Testing
import KafkaProtocol
import KafkaTestSupport

/// FakeCluster's classic group coordinator validated by an independent client: two
/// confluent-kafka (librdkafka) consumers subscribe in one group against the fake on loopback
/// (`scripts/peer_group_rebalance.py`), both get partitions, one leaves, the other takes all.
/// Set KWIRE_PEER_DEBUG=1 to get librdkafka's cgrp/protocol debug in the failure message.
@Suite(.enabled(if: PeerClients.available, "needs python3 with confluent-kafka"))
struct FakeClusterLibrdkafkaGroupTests {
    struct Outcome: Decodable {
        let a: [Int32]
        let b: [Int32]
        let after: [Int32]
        let member_ids: [String]
    }

    @Test(.timeLimit(.minutes(2)))
    func twoLibrdkafkaMembersShareTheTopicAndTheOneLeftTakesAllAfterTheOtherLeaves() async throws {
        let cluster = FakeCluster(maxHold: .milliseconds(50))
        let one = try cluster.startBroker(nodeId: 1)
        defer { one.stop() }
        cluster.setRebalanceWait(.seconds(2))
        cluster.createTopic("t", partitions: 4, leader: 1)
        let debug = ProcessInfo.processInfo.environment["KWIRE_PEER_DEBUG"] != nil
        let script = KwireCLITests.root.appendingPathComponent("scripts/peer_group_rebalance.py").path
        let r = try await runProcess(["/usr/bin/env", "python3", script, "--bootstrap", one.address, "--topic", "t", "--partitions", "4", "--group", "g"]
                                     + (debug ? ["--debug"] : []), timeout: .seconds(100))
        let stderr = String(decoding: r.stderr.suffix(debug ? 60_000 : 4000), as: UTF8.self)
        try #require(r.status == 0, "librdkafka failed against the fake:\n\(stderr)")
        let o = try JSONDecoder().decode(Outcome.self, from: r.stdout)
        #expect(!o.a.isEmpty && !o.b.isEmpty && (o.a + o.b).sorted() == [0, 1, 2, 3], "both members hold partitions, none twice: \(o)")
        #expect(o.after == [0, 1, 2, 3], "the remaining member takes every partition")
        #expect(Set(o.member_ids).count == 2 && o.member_ids.allSatisfy { $0.hasPrefix("kw-peer-") }, "ids the fake assigned: \(o.member_ids)")
        let left = cluster.membership("g")
        #expect(left?.members == [o.member_ids[0]] || left?.members == [], "the leaver is gone: \(String(describing: left))")
        #expect((left?.generation ?? 0) >= 3, "a join, a join, a leave: three generations at least")
    }
}
