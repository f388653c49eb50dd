import Testing
@testable import KafkaProtocol

@Suite struct ErrorCodeTests {
    @Test(arguments: [
        (Int16(-1), "UNKNOWN_SERVER_ERROR", false),
        (0, "NONE", false),
        (1, "OFFSET_OUT_OF_RANGE", false),
        (3, "UNKNOWN_TOPIC_OR_PARTITION", true),
        (5, "LEADER_NOT_AVAILABLE", true),
        (6, "NOT_LEADER_OR_FOLLOWER", true),
        (7, "REQUEST_TIMED_OUT", true),
        (13, "NETWORK_EXCEPTION", true),
        (15, "COORDINATOR_NOT_AVAILABLE", true),
        (16, "NOT_COORDINATOR", true),
        (25, "UNKNOWN_MEMBER_ID", false),
        (29, "TOPIC_AUTHORIZATION_FAILED", false),
        (33, "UNSUPPORTED_SASL_MECHANISM", false),
        (35, "UNSUPPORTED_VERSION", false),
        (36, "TOPIC_ALREADY_EXISTS", false),
        (37, "INVALID_PARTITIONS", false),
        (38, "INVALID_REPLICATION_FACTOR", false),
        (41, "NOT_CONTROLLER", true),
        (58, "SASL_AUTHENTICATION_FAILED", false),
        (74, "FENCED_LEADER_EPOCH", true),
        (89, "THROTTLING_QUOTA_EXCEEDED", true),
        (100, "UNKNOWN_TOPIC_ID", true),
    ])
    func knownCodes(code: Int16, name: String, retriable: Bool) {
        let e = KafkaErrorCode(rawValue: code)
        #expect(e.name == name)
        #expect(e.description == name)
        #expect(e.isRetriable == retriable, "\(name)")
        #expect(e.isSuccess == (code == 0))
        #expect(!e.message.isEmpty && !e.message.hasPrefix("Unknown error code"))
    }

    @Test func namedConstantsMatchTheirNumbers() {
        #expect(KafkaErrorCode.noError.rawValue == 0)
        #expect(KafkaErrorCode.unknownServerError.rawValue == -1)
        #expect(KafkaErrorCode.notLeaderOrFollower.rawValue == 6)
        #expect(KafkaErrorCode.unknownTopicOrPartition.rawValue == 3)
        #expect(KafkaErrorCode.leaderNotAvailable.rawValue == 5)
        #expect(KafkaErrorCode.controllerIdNotRegistered.rawValue == 136)
        #expect(KafkaErrorCode.noError.isSuccess)
        #expect(!KafkaErrorCode.unknownServerError.isSuccess)
    }

    @Test func unknownCodeHasAPlaceholderNameAndIsNotRetriable() {
        let e = KafkaErrorCode(rawValue: 9999)
        #expect(e.name == "UNKNOWN_ERROR_CODE(9999)")
        #expect("\(e)" == "UNKNOWN_ERROR_CODE(9999)")
        #expect(!e.isRetriable)
        #expect(!e.isSuccess)
        #expect(e.message == "Unknown error code 9999.")
        #expect(KafkaErrorCode(rawValue: -2).name == "UNKNOWN_ERROR_CODE(-2)")
        #expect(KafkaErrorCode(rawValue: Int16.min).name == "UNKNOWN_ERROR_CODE(-32768)")
    }

    @Test func tableIsContiguousWithUniqueUpperSnakeNames() throws {
        let codes = KafkaErrorCode.known.keys.sorted()
        let maxCode = try #require(codes.last)
        #expect(codes.first == -1)
        #expect(maxCode >= 136)
        #expect(codes == Array(-1 ... maxCode), "gaps in the table")
        var seen: [String: Int16] = [:]
        for code in -1 ... maxCode {
            let name = KafkaErrorCode(rawValue: code).name
            #expect(!name.hasPrefix("UNKNOWN_ERROR_CODE"), "\(code) missing")
            #expect(name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }, "\(code) \(name)")
            if let other = seen[name] { Issue.record("\(name) used by \(other) and \(code)") }
            seen[name] = code
        }
        #expect(KafkaErrorCode(rawValue: maxCode + 1).name == "UNKNOWN_ERROR_CODE(\(maxCode + 1))")
    }

    @Test func hashableByRawValue() {
        let set: Set<KafkaErrorCode> = [.init(rawValue: 6), .notLeaderOrFollower, .noError]
        #expect(set.count == 2)
    }
}
