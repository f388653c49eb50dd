import Foundation
import Testing
@testable import KafkaClient
import KafkaProtocol
import KafkaTestSupport

private typealias N = AssignorNotation

private func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.filter { !$0.isWhitespace }.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

private func hexString(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

@Suite struct AssignorPayloadTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/captures")

    // MARK: encoding

    /// Subscription v3, byte for byte: sorted topics, owned partitions grouped by topic and
    /// sorted, generation, rack (the Java client's layout and order).
    @Test func subscriptionBytes() throws {
        let bytes = try ConsumerGroupPayloads.subscription(
            topics: ["b", "a", "b"], ownedPartitions: N.partitions("b:1 a:0 b:0 b:1"), generationId: 7, rackId: "r1", userData: [0, 0, 0, 7])
        #expect(hexString(bytes) == [
            "0003", "00000002", "000161", "000162",                  // version 3, topics a, b
            "00000004", "00000007",                                  // user data
            "00000002", "000161", "00000001", "00000000",            // owned a: [0]
            "000162", "00000002", "00000000", "00000001",            // owned b: [0, 1]
            "00000007", "00027231",                                  // generation 7, rack "r1"
        ].joined())
    }

    /// No user data is written as empty bytes (librdkafka's and kafka-python's choice), no rack
    /// as null (Java's), no generation as the protocol's -1 (`ffffffff`).
    @Test func subscriptionDefaults() throws {
        let bytes = try ConsumerGroupPayloads.subscription(topics: ["t"], ownedPartitions: [], generationId: nil, rackId: nil, userData: nil)
        #expect(hexString(bytes) == "0003" + "00000001" + "000174" + "00000000" + "00000000" + "ffffffff" + "ffff")
    }

    @Test func assignmentBytes() throws {
        let bytes = try ConsumerGroupPayloads.assignment(N.partitions("y:2 x:1 y:0 x:1"), userData: nil)
        #expect(hexString(bytes) == "0003" + "00000002" + "000178" + "00000001" + "00000001"
            + "000179" + "00000002" + "00000000" + "00000002" + "00000000")
        let decoded = try ConsumerGroupPayloads.decodeAssignment(bytes)
        #expect(N.format(decoded.partitions) == "x:1 y:0,2")
        #expect(decoded.userData == [])
    }

    @Test func subscriptionRoundTrip() throws {
        let bytes = try ConsumerGroupPayloads.subscription(
            topics: ["orders", "audit"], ownedPartitions: N.partitions("orders:3,1 audit:0"), generationId: 12, rackId: "eu-1a", userData: [9, 8])
        let member = JoinGroupResponse.Member(memberId: "m-1", groupInstanceId: "host-7", metadata: bytes)
        let (subs, bad) = ConsumerGroupPayloads.members([member])
        #expect(bad.isEmpty)
        #expect(subs == [GroupMemberSubscription(memberId: "m-1", groupInstanceId: "host-7", topics: ["audit", "orders"],
                                                 ownedPartitions: N.partitions("audit:0 orders:1,3"), generationId: 12, rackId: "eu-1a", userData: [9, 8])])
    }

    // MARK: real peers' bytes

    private static func frame(_ path: String) throws -> ByteReader {
        var r = ByteReader([UInt8](try Data(contentsOf: fixtures.appendingPathComponent(path))))
        _ = try r.readInt32("size")
        return r
    }

    static func joinGroupResponse(_ path: String, version: Int16) throws -> JoinGroupResponse {
        var r = try frame(path)
        _ = try ResponseHeader.decode(from: &r, headerVersion: ApiRegistry.all[.joinGroup]!.responseHeaderVersion(version))
        return try JoinGroupResponse(decodingAll: &r, version: version)
    }

    static func joinGroupRequest(_ path: String) throws -> JoinGroupRequest {
        var r = try frame(path)
        let (_, version) = try RequestHeader.peek(r)
        _ = try RequestHeader.decode(from: &r, headerVersion: ApiRegistry.all[.joinGroup]!.requestHeaderVersion(version))
        return try JoinGroupRequest(decodingAll: &r, version: version)
    }

    static func syncGroupRequest(_ path: String) throws -> SyncGroupRequest {
        var r = try frame(path)
        let (_, version) = try RequestHeader.peek(r)
        _ = try RequestHeader.decode(from: &r, headerVersion: ApiRegistry.all[.syncGroup]!.requestHeaderVersion(version))
        return try SyncGroupRequest(decodingAll: &r, version: version)
    }

    /// librdkafka 2.16's JoinGroup (range/roundrobin): subscription v3 with empty user data,
    /// no owned partitions, generation -1 and rack "" — which we read as "no rack". Given the same
    /// inputs (and librdkafka's empty rack) we write exactly librdkafka's bytes.
    @Test func librdkafkaJoinGroup() throws {
        let response = try Self.joinGroupResponse("librdkafka-2.16/0058-JoinGroup-v5.response.bin", version: 5)
        let (subs, bad) = ConsumerGroupPayloads.members(response.members)
        #expect(bad.isEmpty)
        #expect(subs.count == 1)
        #expect(subs.first?.topics == ["kwire-fixtures"])
        #expect(subs.first?.ownedPartitions == [])
        #expect(subs.first?.generationId == nil)
        #expect(subs.first?.rackId == nil)
        #expect(subs.first?.userData == [])
        #expect(subs.first?.memberId == response.members.first?.memberId)

        let request = try Self.joinGroupRequest("librdkafka-2.16/0058-JoinGroup-v5.request.bin")
        #expect(request.protocols.map(\.name) == ["range", "roundrobin"])
        let ours = try ConsumerGroupPayloads.subscription(topics: ["kwire-fixtures"], ownedPartitions: [], generationId: nil, rackId: "", userData: nil)
        for p in request.protocols { #expect(p.metadata == ours) }
    }

    /// kafka-python 3.0's JoinGroup: subscription v0 (topics and empty user data only).
    @Test func kafkaPythonJoinGroup() throws {
        let response = try Self.joinGroupResponse("kafka-python-3.0/0040-JoinGroup-v7.response.bin", version: 7)
        let (subs, bad) = ConsumerGroupPayloads.members(response.members)
        #expect(bad.isEmpty)
        #expect(subs.map(\.topics) == [["kwire-fixtures"]])
        #expect(subs.first?.generationId == nil)
        #expect(subs.first?.ownedPartitions == [])
        #expect(try response.members.first.map { try ConsumerProtocolSubscription.decode($0.metadata).version } == 0)
    }

    /// Both peers' SyncGroup assignments (librdkafka writes v0, kafka-python v0) decode, and ours
    /// differ from librdkafka's only in the version prefix.
    @Test(arguments: ["librdkafka-2.16/0060-SyncGroup-v3.request.bin", "kafka-python-3.0/0042-SyncGroup-v5.request.bin"])
    func peerSyncGroupAssignment(_ path: String) throws {
        let request = try Self.syncGroupRequest(path)
        let bytes = try #require(request.assignments.first?.assignment)
        let decoded = try ConsumerGroupPayloads.decodeAssignment(bytes)
        #expect(N.format(decoded.partitions) == "kwire-fixtures:0,1,2")
        #expect(decoded.userData == [])
        let ours = try ConsumerGroupPayloads.assignment(decoded.partitions, userData: nil)
        #expect(Array(ours.dropFirst(2)) == Array(bytes.dropFirst(2)))
    }

    // MARK: tolerance

    /// Members whose metadata is garbage get an empty subscription and are listed; the others
    /// decode; nothing traps. Lenient like Java and librdkafka: newer versions and trailing bytes
    /// are accepted.
    @Test func garbageMetadataIsTolerated() throws {
        let good = try ConsumerGroupPayloads.subscription(topics: ["t"], ownedPartitions: N.partitions("t:1"), generationId: 3, rackId: nil, userData: nil)
        var future = good
        future[1] = 9  // version 9: read as v3, the rest ignored
        future += [1, 2, 3, 4]
        let v1 = try ConsumerProtocolSubscription(topics: ["t"], userData: nil, ownedPartitions: [.init(topic: "t", partitions: [0])]).encoded(version: 1)
        let cases: [(String, [UInt8], Bool)] = [
            ("good", good, true),
            ("future", future, true),
            ("v1+trailing", v1 + [0xAB], true),
            ("empty", [], false),
            ("one byte", [0], false),
            ("negative version", [0xFF, 0xFF, 0, 0, 0, 0], false),
            ("huge topic count", [0, 0, 0x7F, 0xFF, 0xFF, 0xFF], false),
            ("truncated topic", [0, 0, 0, 0, 0, 1, 0, 9, 0x61], false),
            ("invalid UTF-8 topic", [0, 0, 0, 0, 0, 1, 0, 1, 0xFF, 0, 0, 0, 0], false),
        ]
        let members = cases.map { JoinGroupResponse.Member(memberId: $0.0, groupInstanceId: "i-" + $0.0, metadata: $0.1) }
        let (subs, bad) = ConsumerGroupPayloads.members(members)
        #expect(subs.map(\.memberId) == cases.map(\.0))
        #expect(bad == cases.filter { !$0.2 }.map(\.0))
        for (s, c) in zip(subs, cases) {
            #expect(s.groupInstanceId == "i-" + c.0)
            if !c.2 { #expect(s.topics.isEmpty && s.ownedPartitions.isEmpty) } else { #expect(s.topics == ["t"]) }
        }
        #expect(subs[1].generationId == 3 && subs[1].ownedPartitions == N.partitions("t:1"))
        #expect(subs[2].ownedPartitions == N.partitions("t:0") && subs[2].generationId == nil, "the wire's -1 is no generation")
        if case let .failure(e) = ConsumerGroupPayloads.decodeMember(members[3]) {
            #expect(e.kind == .decoding && e.message.contains("empty"))
        } else {
            Issue.record("empty metadata decoded")
        }
        // An assignor run over them assigns nothing to the undecodable ones. ("good" and "future"
        // both claim t:1 in generation 3, so it waits for both to revoke it.)
        let (out, withheld) = CooperativeStickyAssignor().plan(members: subs, partitionsPerTopic: ["t": 4])
        #expect(cases.filter { !$0.2 }.allSatisfy { out[$0.0] == [] })
        #expect(out.values.reduce(0) { $0 + $1.count } == 3)
        #expect(Array(withheld.keys) == N.partitions("t:1"))
    }

    /// Every truncation and random byte string: decoding returns or reports, never traps.
    @Test func truncationsAndNoiseNeverTrap() throws {
        let good = try ConsumerGroupPayloads.subscription(topics: ["alpha", "beta"], ownedPartitions: N.partitions("alpha:0,1 beta:2"), generationId: 4, rackId: "r", userData: [1, 2, 3])
        let assignment = try ConsumerGroupPayloads.assignment(N.partitions("alpha:0,1 beta:2"), userData: [7])
        var rng = SplitMix64(seed: 42)
        var inputs = (0 ..< good.count).map { Array(good.prefix($0)) } + (1 ..< assignment.count).map { Array(assignment.prefix($0)) }
        inputs += (0 ..< 300).map { _ in (0 ..< Int.random(in: 0 ... 40, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) } }
        let (subs, bad) = ConsumerGroupPayloads.members(inputs.enumerated().map { JoinGroupResponse.Member(memberId: "m\($0.offset)", metadata: $0.element) })
        #expect(subs.count == inputs.count)
        #expect((0 ..< good.count).allSatisfy { bad.contains("m\($0)") })  // every strict prefix of a v3 payload is short
        for bytes in inputs where !bytes.isEmpty {
            do {
                _ = try ConsumerGroupPayloads.decodeAssignment(bytes)
            } catch let e as KafkaError {
                #expect(e.kind == .decoding)
            }
        }
    }

    @Test func assignmentDecodingErrors() throws {
        let empty = try ConsumerGroupPayloads.decodeAssignment([])
        #expect(empty.partitions.isEmpty && empty.userData == nil)
        let negative = try ConsumerProtocolAssignment(assignedPartitions: [.init(topic: "t", partitions: [0, -1])]).encoded(version: 0)
        #expect { _ = try ConsumerGroupPayloads.decodeAssignment(negative) } throws: { e in
            (e as? KafkaError)?.kind == .decoding && (e as? KafkaError)?.context.partition == -1
        }
        #expect { _ = try ConsumerGroupPayloads.decodeAssignment([0, 0, 0]) } throws: { e in (e as? KafkaError)?.kind == .decoding }
        let repeated = try ConsumerProtocolAssignment(assignedPartitions: [.init(topic: "t", partitions: [1, 1]), .init(topic: "t", partitions: [1, 0])], userData: nil).encoded(version: 1)
        let decoded = try ConsumerGroupPayloads.decodeAssignment(repeated + [0xEE])  // trailing byte ignored
        #expect(decoded.partitions == N.partitions("t:1,0"))
        #expect(decoded.userData == nil)
    }
}

/// kafka-python's own range and roundrobin assignors (and its payload decoder) as oracles.
@Suite(.enabled(if: PeerClients.available, "needs python3 with kafka-python"))
struct AssignorPeerOracleTests {
    static let script = KwireCLITests.root.appendingPathComponent("scripts/peer_assignors.py").path

    struct Case {
        var assignor: String
        var members: [GroupMemberSubscription]
        var counts: [String: Int32]
    }

    /// Random groups: absent and empty topics; for range also uneven subscriptions and static
    /// members. Roundrobin gets identical subscriptions only: kafka-python 3.0.12's roundrobin
    /// raises KeyError whenever it has to skip a member not subscribed to a topic (it assigns an
    /// (instance id, member id) pair where a member id belongs), so a kafka-python leader cannot
    /// run roundrobin over uneven subscriptions at all.
    static func cases() -> [Case] {
        var rng = SplitMix64(seed: 2024)
        return (0 ..< 120).map { i in
            let topics = (0 ..< Int.random(in: 1 ... 4, using: &rng)).map { "topic-\($0)" }
            var counts: [String: Int32] = [:]
            for t in topics where Int.random(in: 0 ..< 6, using: &rng) != 0 { counts[t] = Int32.random(in: 0 ... 12, using: &rng) }
            let shared = topics.filter { _ in Int.random(in: 0 ..< 3, using: &rng) != 0 }
            let members = (0 ..< Int.random(in: 1 ... 9, using: &rng)).map { m in
                GroupMemberSubscription(memberId: "consumer-\(Int.random(in: 0 ... 99_999, using: &rng))-\(m)",
                                        groupInstanceId: i % 2 == 0 && Int.random(in: 0 ..< 4, using: &rng) == 0 ? "static-\(Int.random(in: 0 ... 999, using: &rng))-\(m)" : nil,
                                        topics: i % 2 == 0 ? topics.filter { _ in Int.random(in: 0 ..< 3, using: &rng) != 0 } : shared)
            }
            return Case(assignor: i % 2 == 0 ? "range" : "roundrobin", members: members, counts: counts)
        }
    }

    @Test func rangeAndRoundRobinAgreeWithKafkaPython() async throws {
        let cases = Self.cases()
        var request: [String: Any] = [:]
        request["cases"] = try cases.map { c -> [String: Any] in
            // kafka-python groups static members with itertools.groupby without sorting first, so
            // they must come first in its input (their relative order does not matter).
            let ordered = c.members.filter { $0.groupInstanceId != nil } + c.members.filter { $0.groupInstanceId == nil }
            return [
                "assignor": c.assignor,
                "partitions": c.counts.mapValues(Int.init),
                "members": try ordered.map { m in
                    ["id": m.memberId, "instance": m.groupInstanceId as Any,
                     "subscription": hexString(try ConsumerGroupPayloads.subscription(topics: m.topics, ownedPartitions: [], generationId: nil, rackId: nil, userData: nil))]
                },
            ]
        }
        let reply = try await PythonOracle.run(Self.script, request)
        let results = try #require(reply["cases"] as? [[String: [[Any]]]])
        try #require(results.count == cases.count)
        for (c, theirs) in zip(cases, results) {
            let assignor = try PartitionAssignors.named(c.assignor)
            let ours = assignor.assign(members: c.members, partitionsPerTopic: c.counts)
            let expected = theirs.mapValues { list in N.format(list.map { TopicPartition(topic: $0[0] as! String, partition: Int32($0[1] as! Int)) }) }
            #expect(N.format(ours) == expected, "\(c.assignor) \(c.members.map { ($0.memberId, $0.groupInstanceId ?? "-", $0.topics) }) \(c.counts)")
        }
    }

    /// `[[topic, [p, …]], …]` from JSON as "topic:p,…" strings.
    static func topicLists(_ value: Any?) -> [String]? {
        (value as? [[Any]])?.map { pair in "\(pair[0]):" + ((pair[1] as? [Int]) ?? []).map(String.init).joined(separator: ",") }
    }

    /// kafka-python decodes our subscription and assignment bytes to the values we encoded.
    @Test func kafkaPythonDecodesOurPayloads() async throws {
        let sub = try ConsumerGroupPayloads.subscription(topics: ["b", "a"], ownedPartitions: N.partitions("a:2,0 b:5"), generationId: 17, rackId: "rack-9", userData: [0, 0, 0, 17])
        let asg = try ConsumerGroupPayloads.assignment(N.partitions("b:5 a:0,2"), userData: [1])
        let reply = try await PythonOracle.run(Self.script, ["subscriptions": [hexString(sub)], "assignments": [hexString(asg)]])
        let s = try #require((reply["subscriptions"] as? [[String: Any]])?.first)
        #expect(s["version"] as? Int == 3)
        #expect(s["topics"] as? [String] == ["a", "b"])
        #expect(s["user_data"] as? String == "00000011")
        #expect(Self.topicLists(s["owned_partitions"]) == ["a:0,2", "b:5"])
        #expect(s["generation_id"] as? Int == 17)
        #expect(s["rack_id"] as? String == "rack-9")
        let a = try #require((reply["assignments"] as? [[String: Any]])?.first)
        #expect(a["version"] as? Int == 3)
        #expect(Self.topicLists(a["partitions"]) == ["a:0,2", "b:5"])
        #expect(a["user_data"] as? String == "01")
    }
}

/// Runs a Python script with JSON on stdin and parses the JSON it prints (through `runProcess`,
/// which never blocks the cooperative pool).
enum PythonOracle {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ script: String, _ request: [String: Any]) async throws -> [String: Any] {
        let input = try JSONSerialization.data(withJSONObject: request)
        let r = try await runProcess(["/usr/bin/env", "python3", script], stdin: input, timeout: .seconds(120))
        guard r.status == 0 else {
            throw Failed(description: "\(script) exited \(r.status): \(String(decoding: r.stderr.suffix(2000), as: UTF8.self))")
        }
        let output = r.stdout
        guard let object = try JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw Failed(description: "\(script) printed no JSON object")
        }
        return object
    }
}
