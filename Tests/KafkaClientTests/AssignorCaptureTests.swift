import Foundation
import Testing
@testable import KafkaClient
import KafkaProtocol

private typealias N = AssignorNotation

/// A cooperative-sticky group shared by librdkafka 2.16 (member A, the leader) and kafka-python
/// 3.0 (member B), captured by `scripts/capture_group_fixtures.py` (see its PROVENANCE.txt): A
/// alone, B joins (A rejoins with owned partitions and revokes two), the follow-up rebalance gives
/// them to B, B leaves.
@Suite struct AssignorCaptureTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/captures-groups/cooperative-sticky")

    static func files(_ suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(suffix) }.sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// One rebalance as the leader saw it: the members' metadata and what it sent back.
    struct Round {
        var generation: Int32
        var members: [JoinGroupResponse.Member]
        var assignments: [String: [UInt8]]
    }

    static func rounds() throws -> [Round] {
        var joins: [Int32: [JoinGroupResponse.Member]] = [:]
        var syncs: [Int32: [String: [UInt8]]] = [:]
        for request in try files(".request.bin") {
            let frame = try bytes(request)
            let (key, version) = try FrameDissector.peekRequest(frame)
            if key == .joinGroup {
                var r = ByteReader(try bytes(request.replacingOccurrences(of: ".request.", with: ".response.")))
                _ = try r.readInt32("size")
                _ = try ResponseHeader.decode(from: &r, headerVersion: ApiRegistry.all[.joinGroup]!.responseHeaderVersion(version))
                let response = try JoinGroupResponse(decodingAll: &r, version: version)
                if !response.members.isEmpty { joins[response.generationId] = response.members }
            } else if key == .syncGroup {
                var r = ByteReader(frame)
                _ = try r.readInt32("size")
                _ = try RequestHeader.decode(from: &r, headerVersion: ApiRegistry.all[.syncGroup]!.requestHeaderVersion(version))
                let sync = try SyncGroupRequest(decodingAll: &r, version: version)
                if !sync.assignments.isEmpty {
                    syncs[sync.generationId] = Dictionary(uniqueKeysWithValues: sync.assignments.map { ($0.memberId, $0.assignment) })
                }
            }
        }
        return joins.keys.sorted().compactMap { g in syncs[g].map { Round(generation: g, members: joins[g]!, assignments: $0) } }
    }

    static func isLibrdkafka(_ memberId: String) -> Bool { memberId.hasPrefix("kwire-capture-coop-librdkafka") }

    /// Every captured frame decodes and re-encodes byte for byte.
    @Test func framesReencodeExactly() throws {
        let requests = try Self.files(".request.bin")
        #expect(requests.count >= 10)
        for name in requests {
            let frame = try Self.bytes(name)
            let dissected = try FrameDissector.dissectRequest(frame)
            #expect(dissected.reencoded == frame, "\(name)")
            let responseName = name.replacingOccurrences(of: ".request.", with: ".response.")
            guard FileManager.default.fileExists(atPath: Self.directory.appendingPathComponent(responseName).path) else { continue }
            let response = try Self.bytes(responseName)
            #expect(try FrameDissector.dissectResponse(response, apiKey: dissected.apiKey, apiVersion: dissected.apiVersion).reencoded == response, "\(responseName)")
        }
    }

    /// What each peer puts in its cooperative-sticky subscription: librdkafka v3 with owned
    /// partitions, generation, rack "" and its sticky user data ([previous assignment]
    /// generation); kafka-python v1 with owned partitions and empty user data.
    @Test func peersSubscriptions() throws {
        let rounds = try Self.rounds()
        try #require(rounds.count >= 3, "expected three leader rounds, found \(rounds.map(\.generation))")
        let rejoin = try #require(rounds.first { $0.members.count == 2 })
        let (subs, bad) = ConsumerGroupPayloads.members(rejoin.members)
        #expect(bad.isEmpty)
        let a = try #require(subs.first { Self.isLibrdkafka($0.memberId) })
        let b = try #require(subs.first { !Self.isLibrdkafka($0.memberId) })
        let aMetadata = try #require(rejoin.members.first { Self.isLibrdkafka($0.memberId) }?.metadata)
        let bMetadata = try #require(rejoin.members.first { !Self.isLibrdkafka($0.memberId) }?.metadata)
        #expect(try ConsumerProtocolSubscription.decode(aMetadata).version == 3)
        #expect(try ConsumerProtocolSubscription.decode(bMetadata).version == 1)

        #expect(a.topics == ["kwire-coop"])
        #expect(N.format(a.ownedPartitions) == "kwire-coop:0,1,2,3")
        #expect(a.generationId == rejoin.generation - 1)
        #expect(a.rackId == nil)
        var r = ByteReader(try #require(a.userData))
        #expect(try StickyUserData.generation(&r) == a.generationId)
        #expect(CooperativeStickyAssignor.generation(of: a) == a.generationId)

        #expect(b.topics == ["kwire-coop"])
        #expect(b.ownedPartitions.isEmpty)
        #expect(b.generationId == nil)
        #expect(b.userData == [])
    }

    /// Our cooperative-sticky run on the members librdkafka's leader saw: the same number of
    /// partitions per member in every round (in the round where B joins, A keeps two and B gets
    /// none until A has revoked), and the very same assignment whenever nothing has to move.
    @Test func ourAssignorAgreesWithLibrdkafkaLeader() throws {
        let rounds = try Self.rounds()
        try #require(rounds.count >= 3)
        var exactRounds = 0
        for round in rounds {
            let (subs, bad) = ConsumerGroupPayloads.members(round.members)
            #expect(bad.isEmpty)
            let ours = CooperativeStickyAssignor().assign(members: subs, partitionsPerTopic: ["kwire-coop": 4])
            var theirs: [String: [TopicPartition]] = [:]
            for (member, bytes) in round.assignments { theirs[member] = try ConsumerGroupPayloads.decodeAssignment(bytes).partitions }
            #expect(Set(ours.keys) == Set(theirs.keys))
            for m in subs {
                #expect(ours[m.memberId]?.count == theirs[m.memberId]?.count, "generation \(round.generation), \(m.memberId)")
                // Nothing given that another member still owns.
                let others = Set(subs.filter { $0.memberId != m.memberId }.flatMap(\.ownedPartitions))
                #expect(Set(ours[m.memberId] ?? []).isDisjoint(with: others))
            }
            let nothingMoves = subs.allSatisfy { m in Set(m.ownedPartitions).isSubset(of: Set(theirs[m.memberId] ?? [])) }
            if nothingMoves {
                exactRounds += 1
                #expect(N.format(ours) == N.format(theirs), "generation \(round.generation)")
            }
        }
        #expect(exactRounds >= 2)
    }

    /// librdkafka's leader also writes its sticky user data into each assignment; we read past it.
    @Test func librdkafkaAssignmentsWithUserData() throws {
        let round = try #require(try Self.rounds().first { $0.members.count == 2 })
        let a = try #require(round.assignments.first { Self.isLibrdkafka($0.key) }?.value)
        let decoded = try ConsumerGroupPayloads.decodeAssignment(a)
        #expect(decoded.partitions.count == 2)
        let userData = try #require(decoded.userData)
        var r = ByteReader(userData)
        #expect(try StickyUserData.generation(&r) != nil)
    }
}
