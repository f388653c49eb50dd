import Foundation
import Testing
@testable import KafkaProtocol

@Suite struct JSONDescriberTests {
    // MARK: Fields per version

    @Test func metadataResponseFieldsPerVersion() {
        let v0 = Samples.metadataResponse(0).json(version: 0)
        #expect(keys(v0) == ["brokers", "topics"])
        #expect(keys(first(v0["brokers"])) == ["node_id", "host", "port"])
        #expect(keys(first(v0["topics"])) == ["error_code", "name", "partitions"])
        #expect(keys(first(first(v0["topics"])?["partitions"])) == ["error_code", "partition_index", "leader_id", "replica_nodes", "isr_nodes"])

        let v3 = Samples.metadataResponse(3).json(version: 3)
        #expect(keys(v3) == ["throttle_time_ms", "brokers", "cluster_id", "controller_id", "topics"])
        #expect(v3["throttle_time_ms"] == .int(123))

        let v8 = Samples.metadataResponse(8).json(version: 8)
        #expect(keys(v8) == ["throttle_time_ms", "brokers", "cluster_id", "controller_id", "topics", "cluster_authorized_operations"])
        #expect(keys(first(first(v8["topics"])?["partitions"])) ==
            ["error_code", "partition_index", "leader_id", "leader_epoch", "replica_nodes", "isr_nodes", "offline_replicas"])

        let v13 = Samples.metadataResponse(13).json(version: 13)
        #expect(keys(v13) == ["throttle_time_ms", "brokers", "cluster_id", "controller_id", "topics", "error_code", "_unknown_tagged_fields"])
        #expect(keys(first(v13["topics"])) == ["error_code", "name", "topic_id", "is_internal", "partitions", "topic_authorized_operations", "_unknown_tagged_fields"])
    }

    @Test func valuesAreDescribedFaithfully() {
        let j = Samples.metadataResponse(13).json(version: 13)
        let topic = first(j["topics"])
        #expect(topic?["topic_id"] == .string("01234567-89ab-cdef-fedc-ba9876543210"))
        #expect(topic?["is_internal"] == .bool(true))
        #expect(topic?["topic_authorized_operations"] == .int(0x0F00))
        #expect(first(topic?["partitions"])?["replica_nodes"] == .array([.int(1), .int(2)]))
        #expect(first(topic?["partitions"])?["isr_nodes"] == .array([.int(1)]))
        #expect(j["_unknown_tagged_fields"] == .array([
            .object([("tag", .int(90)), ("data", .string("dead"))]),
            .object([("tag", .int(1000)), ("data", .string(""))]),
        ]))
        let auth = Samples.saslAuthenticateRequest(0).json(version: 0)
        #expect(auth == .object([("auth_bytes", .string("00757365720070c3a43535ff"))]))
        #expect(Samples.saslAuthenticateResponse(1).json(version: 1)["session_lifetime_ms"] == .int(3_600_000))
    }

    @Test func nullAndEmptyAreDistinguished() {
        var r = MetadataRequest(topics: nil, allowAutoTopicCreation: true)
        #expect(r.json(version: 1) == .object([("topics", .null)]))
        r.topics = []
        #expect(r.json(version: 1) == .object([("topics", .array([]))]))

        var m = MetadataResponse()
        #expect(m.json(version: 2)["cluster_id"] == .null)
        m.clusterId = ""
        #expect(m.json(version: 2)["cluster_id"] == .string(""))

        var c = CreateTopicsResponse.Topic()
        c.configs = nil
        #expect(c.json(version: 5)["configs"] == .null)
        c.configs = []
        #expect(c.json(version: 5)["configs"] == .array([]))

        var a = SaslAuthenticateResponse()
        #expect(a.json(version: 0)["error_message"] == .null)
        #expect(a.json(version: 0)["auth_bytes"] == .string(""))
        a.errorMessage = ""
        #expect(a.json(version: 0)["error_message"] == .string(""))
    }

    @Test func knownTagsAppearOnlyWhenSet() {
        var m = ApiVersionsResponse()
        #expect(keys(m.json(version: 3)) == ["error_code", "api_keys", "throttle_time_ms"])
        m.finalizedFeaturesEpoch = -1
        m.zkMigrationReady = false
        #expect(keys(m.json(version: 3)) == ["error_code", "api_keys", "throttle_time_ms", "finalized_features_epoch", "zk_migration_ready"])
        #expect(m.json(version: 3)["finalized_features_epoch"] == .int(-1))
        #expect(m.json(version: 3)["zk_migration_ready"] == .bool(false))
        // Not at all before v3, even when set.
        #expect(keys(m.json(version: 2)) == ["error_code", "api_keys", "throttle_time_ms"])
        #expect(keys(m.json(version: 0)) == ["error_code", "api_keys"])

        let full = Samples.apiVersionsResponse(3).json(version: 3)
        #expect(full["supported_features"] == .array([.object([
            ("name", .string("metadata.version")), ("min_version", .int(1)), ("max_version", .int(27)),
            ("_unknown_tagged_fields", .array([.object([("tag", .int(90)), ("data", .string("dead"))]),
                                               .object([("tag", .int(1000)), ("data", .string(""))])])),
        ])]))
        var ct = CreateTopicsResponse.Topic()
        #expect(!keys(ct.json(version: 5)).contains("topic_config_error_code"))
        ct.topicConfigErrorCode = 0
        #expect(keys(ct.json(version: 5)).last == "topic_config_error_code")
    }

    @Test func emptyMessagesDescribeAsEmptyObjects() {
        #expect(ApiVersionsRequest().json(version: 0) == .object([]))
        #expect(ApiVersionsRequest().json(version: 0).serialized() == "{}")
        #expect(ApiVersionsRequest().json(version: 3) == .object([("client_software_name", .string("")), ("client_software_version", .string(""))]))
    }

    // MARK: Serialization

    @Test func serializationKeepsOrderAndExactIntegers() {
        let v: JSONValue = .object([("b", .int(Int64.max)), ("a", .int(Int64.min)), ("c", .array([.bool(true), .null, .double(1.5)]))])
        #expect(v.serialized() == #"{"b":9223372036854775807,"a":-9223372036854775808,"c":[true,null,1.5]}"#)
        #expect(JSONValue.double(.nan).serialized() == "null")
        #expect(JSONValue.double(-.infinity).serialized() == "null")
        #expect(JSONValue.array([]).serialized() == "[]")
    }

    @Test func prettySerialization() {
        let v: JSONValue = .object([("a", .int(1)), ("b", .array([.bool(true), .object([])]))])
        #expect(v.serialized(pretty: true) == """
            {
              "a": 1,
              "b": [
                true,
                {}
              ]
            }
            """)
    }

    @Test func stringsAreEscaped() {
        #expect(JSONValue.string("a\"b\\c/d").serialized() == #""a\"b\\c/d""#)
        #expect(JSONValue.string("\n\r\t").serialized() == #""\n\r\t""#)
        #expect(JSONValue.string("\u{0}\u{1}\u{8}\u{C}\u{1F}").serialized() == #""\u0000\u0001\u0008\u000c\u001f""#)
        #expect(JSONValue.string("é🙂\u{7F}").serialized() == "\"é🙂\u{7F}\"")
        #expect(JSONValue.object([("k\"ey", .null)]).serialized() == #"{"k\"ey":null}"#)
    }

    /// Foundation's parser reads back exactly what we wrote, for every control character.
    @Test func serializedJSONParsesBack() throws {
        let nasty = String(String.UnicodeScalarView((0 ..< 0x20).compactMap(Unicode.Scalar.init))) + "\"\\/ é🙂\u{2028}"
        let v: JSONValue = .object([(nasty, .array([.string(nasty), .int(-7), .double(0.25), .bool(false), .null]))])
        for pretty in [false, true] {
            let text = v.serialized(pretty: pretty)
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let arr = try #require(parsed?[nasty] as? [Any], "pretty: \(pretty)")
            #expect(arr[0] as? String == nasty)
            #expect((arr[1] as? NSNumber)?.intValue == -7)
            #expect((arr[2] as? NSNumber)?.doubleValue == 0.25)
            #expect(arr[4] is NSNull)
        }
        // A whole message too.
        let text = Samples.metadataResponse(12).json(version: 12).serialized(pretty: true)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(parsed?["cluster_id"] as? String == "cluster-xyz")
        #expect((parsed?["topics"] as? [Any])?.count == 2)
    }

    @Test func subscriptAndHex() {
        let v: JSONValue = .object([("a", .int(1)), ("a", .int(2))])
        #expect(v["a"] == .int(1))
        #expect(v["b"] == nil)
        #expect(JSONValue.int(1)["a"] == nil)
        #expect(JSONValue.hex([0x00, 0x0F, 0xA0, 0xFF]) == .string("000fa0ff"))
        // Object equality is order-sensitive (wire order matters).
        #expect(JSONValue.object([("a", .null), ("b", .null)]) != .object([("b", .null), ("a", .null)]))
        #expect(JSONValue.int(1) != .double(1))
    }
}
