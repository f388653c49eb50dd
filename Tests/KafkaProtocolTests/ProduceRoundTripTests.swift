import Testing
@testable import KafkaProtocol

/// Produce at every version we speak (3…12): every field the version has, set to a
/// non-default value, round-trips; the KIP-951 tagged fields (`current_leader`,
/// `node_endpoints`, v10+) are carried from v10 and refused before it (not silently dropped).
@Suite struct ProduceRoundTripTests {
    static func request(_ v: Int16) -> ProduceRequest {
        var r = ProduceRequest(transactionalId: "tx-1", acks: 1, timeoutMs: 1234,
                               topicData: [.init(name: "orders", partitionData: [.init(index: 2, records: [1, 2, 3]), .init(index: 5, records: nil)])])
        if v >= 9 { r.unknownTaggedFields = [TaggedField(tag: 7, data: [9])] }
        return r
    }

    static func response(_ v: Int16) -> ProduceResponse {
        var p = ProduceResponse.Partition()
        p.index = 3
        p.errorCode = KafkaErrorCode.notLeaderOrFollower.rawValue
        p.baseOffset = 41
        p.logAppendTimeMs = 1_700_000_000_000
        if v >= 5 { p.logStartOffset = 7 }
        if v >= 8 {
            p.recordErrors = [.init(batchIndex: 1, batchIndexErrorMessage: "bad"), .init(batchIndex: 2, batchIndexErrorMessage: nil)]
            p.errorMessage = "not the leader"
        }
        if v >= 10 { p.currentLeader = .init(leaderId: 4, leaderEpoch: 9) }
        var t = ProduceResponse.Topic()
        t.name = "orders"
        t.partitionResponses = [p]
        var r = ProduceResponse()
        r.responses = [t]
        r.throttleTimeMs = 5
        if v >= 10 { r.nodeEndpoints = [.init(nodeId: 4, host: "b4.example", port: 9094, rack: "r1"), .init(nodeId: 5, host: "b5", port: 1)] }
        return r
    }

    @Test(arguments: ProduceRequest.versions)
    func requestRoundTrips(version: Int16) throws {
        try expectRoundTrip(Self.request(version), version: version)
    }

    @Test(arguments: ProduceResponse.versions)
    func responseRoundTrips(version: Int16) throws {
        let bytes = try expectRoundTrip(Self.response(version), version: version)
        let decoded = try ProduceResponse(decoding: bytes, version: version)
        #expect((decoded.responses[0].partitionResponses[0].currentLeader != nil) == (version >= 10))
        #expect((decoded.nodeEndpoints?.count ?? 0) == (version >= 10 ? 2 : 0))
    }

    /// A KIP-951 hint cannot go out at v9: encoding throws instead of dropping it.
    @Test func hintsBeforeV10AreRefused() {
        var r = Self.response(10)
        #expect(throws: ProtocolEncodingError.self) { try r.encodedMessage(version: 9) }
        r.nodeEndpoints = nil
        #expect(throws: ProtocolEncodingError.self) { try r.encodedMessage(version: 9) }
        r.responses[0].partitionResponses[0].currentLeader = nil
        #expect(throws: Never.self) { try r.encodedMessage(version: 9) }
    }

    /// v10 adds the hints as tagged fields only: without them a v10 answer is the v9 bytes.
    @Test func v10WithoutHintsIsV9sLayout() throws {
        var r = Self.response(10)
        r.nodeEndpoints = nil
        r.responses[0].partitionResponses[0].currentLeader = nil
        #expect(try r.encodedMessage(version: 10) == r.encodedMessage(version: 9))
    }
}
