import Foundation
import Testing
import KafkaProtocol
import KafkaTestSupport

/// FakeCluster's transactions validated by an independent client: confluent-kafka (librdkafka)
/// runs a transactional producer (two committed transactions around an aborted one, offsets sent
/// with a consumer's group metadata) and read_committed / read_uncommitted consumers against the
/// fake served on loopback (`scripts/peer_txn_roundtrip.py`). If librdkafka accepts the fake's
/// answers and reads back exactly the committed records, the fake's coordinator, markers, last
/// stable offset and `aborted_transactions` mean what Kafka's mean — our codec is not the only oracle.
///
/// Two brokers: T's partitions are led by different ones and the transaction coordinator is
/// node 2. Set KWIRE_PEER_DEBUG=1 to get librdkafka's protocol/eos debug in the failure message.
@Suite(.enabled(if: PeerClients.available, "needs python3 with confluent-kafka"))
struct FakeClusterLibrdkafkaTests {
    struct Outcome: Decodable {
        let committed: [String: [String]]
        let aborted: [String: [String]]
        let readCommitted: [String: [String]]
        let readUncommitted: [String: [String]]
        let groupOffset: Int64
        enum CodingKeys: String, CodingKey {
            case committed, aborted
            case readCommitted = "read_committed"
            case readUncommitted = "read_uncommitted"
            case groupOffset = "group_offset"
        }
    }

    /// Transaction version 0 (features not advertised) and 2 (KIP-890 advertised). Seen with
    /// librdkafka 2.16: it ignores TV2 (AddPartitionsToTxn v0, EndTxn v1, Produce v10,
    /// TxnOffsetCommit v3, OffsetFetch v9, Fetch v16) — which a TV2 broker must still serve.
    @Test(.timeLimit(.minutes(2)), arguments: [Int16(0), 2])
    func librdkafkaTransactionsCommitAbortAndReadCommittedAgainstTheFake(transactionVersion: Int16) async throws {
        let cluster = FakeCluster(maxHold: .milliseconds(50))
        let one = try cluster.startBroker(nodeId: 1), two = try cluster.startBroker(nodeId: 2)
        defer { one.stop(); two.stop() }
        cluster.setTransactionVersion(transactionVersion)
        cluster.createTopic("t", partitions: 2, leader: 1)
        cluster.moveLeader("t", 1, to: 2)
        cluster.createTopic("src", partitions: 1, leader: 1)
        cluster.moveCoordinator(.transaction, "kw-fake-txn", to: 2)

        let debug = ProcessInfo.processInfo.environment["KWIRE_PEER_DEBUG"] != nil
        let script = KwireCLITests.root.appendingPathComponent("scripts/peer_txn_roundtrip.py").path
        let r = try await runProcess(["/usr/bin/env", "python3", script, "--bootstrap", one.address, "--topic", "t", "--source", "src", "--group", "g"]
                                     + (debug ? ["--debug"] : []), timeout: .seconds(100))
        let stderr = String(decoding: r.stderr.suffix(debug ? 60_000 : 4000), as: UTF8.self)
        try #require(r.status == 0, "librdkafka failed against the fake:\n\(stderr)")
        let o = try JSONDecoder().decode(Outcome.self, from: r.stdout)

        #expect(o.readCommitted == o.committed, "read_committed sees exactly the committed records, in order")
        for p in ["0", "1"] {
            let all = (o.committed[p] ?? []) + (o.aborted[p] ?? [])
            #expect(Set(o.readUncommitted[p] ?? []) == Set(all) && o.readUncommitted[p]?.count == all.count, "read_uncommitted sees both, partition \(p)")
        }
        #expect(o.groupOffset == 5 && cluster.committedOffset(group: "g", "src", 0)?.offset == 5, "the transaction's offset, committed")

        // What librdkafka sent: everything to the coordinator it found, one commit, abort, commit.
        let log = cluster.coordinatorRequests
        #expect(log.filter { $0.apiKey == .endTxn }.map(\.committed) == [true, false, true])
        #expect(log.filter { [.initProducerId, .addPartitionsToTxn, .addOffsetsToTxn, .endTxn].contains($0.apiKey) }.allSatisfy { $0.broker == 2 && $0.errorCode == .noError })
        #expect(log.filter { $0.apiKey == .txnOffsetCommit }.map(\.errorCode) == [.noError])
        #expect(log.filter { $0.apiKey == .txnOffsetCommit }.allSatisfy { $0.version >= 3 }, "KIP-447 fields carried (and checked)")
        #expect(log.contains { $0.apiKey == .offsetFetch && $0.groupId == "g" && $0.requireStable == true }, "a read_committed member asks for stable offsets")
        // Each partition: 3 transactions' records and a marker each.
        #expect(cluster.endOffset("t", 0) == 3 * 3 + 3 && cluster.endOffset("t", 1) == 3 * 4 + 3)
        #expect(cluster.transaction("kw-fake-txn")?.phase == .completeCommit)
    }

    struct Fencing: Decodable {
        let zombie: [String]
        let winner: [String]
        let error: String?
        let fatal: Bool?
        let readCommitted: [String: [String]]
        let readUncommitted: [String: [String]]
        enum CodingKeys: String, CodingKey {
            case zombie, winner, error, fatal
            case readCommitted = "read_committed"
            case readUncommitted = "read_uncommitted"
        }
    }

    /// A second producer with the same transactional id fences the first: the fake aborts the
    /// first one's open transaction when the second initializes, and librdkafka's first producer
    /// takes the fake's answer to its stale epoch as fatal fencing.
    @Test(.timeLimit(.minutes(2)))
    func aSecondLibrdkafkaProducerFencesTheFirstAndItsOpenTransactionIsAborted() async throws {
        let cluster = FakeCluster(maxHold: .milliseconds(50))
        let one = try cluster.startBroker(nodeId: 1)
        defer { one.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        let debug = ProcessInfo.processInfo.environment["KWIRE_PEER_DEBUG"] != nil
        let script = KwireCLITests.root.appendingPathComponent("scripts/peer_txn_roundtrip.py").path
        let r = try await runProcess(["/usr/bin/env", "python3", script, "--scenario", "fencing", "--bootstrap", one.address, "--topic", "t"]
                                     + (debug ? ["--debug"] : []), timeout: .seconds(100))
        let stderr = String(decoding: r.stderr.suffix(debug ? 60_000 : 4000), as: UTF8.self)
        try #require(r.status == 0, "librdkafka failed against the fake:\n\(stderr)")
        let o = try JSONDecoder().decode(Fencing.self, from: r.stdout)
        #expect(o.fatal == true, "the fenced producer's commit failed fatally: \(o.error ?? "no error")")
        #expect(o.readCommitted["0"] == o.winner)
        #expect(o.readUncommitted["0"] == o.zombie + o.winner)
        let fenced = cluster.requests(.endTxn).filter { !($0.errorCode?.isSuccess ?? true) }
        #expect(fenced.count == 1 && [.producerFenced, .invalidProducerEpoch].contains(fenced.first?.errorCode), "\(fenced.map(\.errorCode))")
    }
}
