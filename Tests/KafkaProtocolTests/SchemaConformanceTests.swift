import Testing
@testable import KafkaProtocol

/// Cross-checks every message against Kafka's own schema (`KafkaSchemas.swift`): the version
/// range, the first flexible version, and — through the JSON describer, which visits exactly
/// what the wire carries — the fields present at each version, by name and in wire order
/// (regular fields in schema order, then tagged fields by tag), at every nesting level.
@Suite struct SchemaConformanceTests {
    /// Every field path (`topics.partitions.leader_epoch`) the schema has at `version`.
    static func allPaths(_ fields: [SchemaField], version: Int16, prefix: String = "") -> Set<String> {
        var out: Set<String> = []
        for f in fields where f.versions.contains(version) {
            out.insert(prefix + f.name)
            out.formUnion(allPaths(f.children, version: version, prefix: prefix + f.name + "."))
        }
        return out
    }

    /// Compares `json` against `fields` recursively (every element of arrays of structs): regular
    /// fields exactly and in schema order, then whichever tagged fields are set, in tag order.
    /// Records the field paths it saw in `seen`.
    static func compare(_ json: JSONValue, _ fields: [SchemaField], version: Int16, path: String,
                        schemaPath: String = "", seen: inout Set<String>) {
        let actual = keys(json).filter { $0 != "_unknown_tagged_fields" }
        let present = fields.filter { $0.versions.contains(version) }
        let regular = present.filter { $0.tag == nil }.map(\.name)
        let tagged = present.filter { $0.tag != nil }.sorted { $0.tag! < $1.tag! }.map(\.name)
        #expect(Array(actual.prefix(regular.count)) == regular, "\(path) v\(version)")
        let tail = Array(actual.dropFirst(regular.count))
        #expect(tail == tagged.filter(tail.contains), "\(path) v\(version): tagged fields")
        for name in actual { seen.insert(schemaPath + name) }
        for f in present where !f.children.isEmpty {
            guard let child = json[f.name] else { continue }
            if case let .array(items) = child {
                for (i, item) in items.enumerated() {
                    compare(item, f.children, version: version, path: "\(path).\(f.name)[\(i)]",
                            schemaPath: schemaPath + f.name + ".", seen: &seen)
                }
            } else if child != .null {
                compare(child, f.children, version: version, path: "\(path).\(f.name)",
                        schemaPath: schemaPath + f.name + ".", seen: &seen)
            }
        }
    }

    func check<M: KafkaMessage>(_ type: M.Type, _ sample: (Int16) -> M) throws {
        let schema = try #require(kafkaSchemas[M.messageName], "no schema for \(M.messageName)")
        #expect(M.versions == schema.valid, "\(M.self) versions")
        #expect(M.flexibleFrom == schema.flexibleFrom, "\(M.self) flexible versions")
        for v in M.versions {
            var seen: Set<String> = []
            Self.compare(sample(v).json(version: v), schema.fields, version: v, path: M.messageName, seen: &seen)
            // The sample must exercise every field of the version (else the check above proves little).
            let missing = Self.allPaths(schema.fields, version: v).subtracting(seen)
            #expect(missing.isEmpty, "\(M.self) v\(v): sample never shows \(missing.sorted())")
        }
    }

    @Test func apiVersions() throws {
        try check(ApiVersionsRequest.self, Samples.apiVersionsRequest)
        try check(ApiVersionsResponse.self, Samples.apiVersionsResponse)
    }

    @Test func metadata() throws {
        try check(MetadataRequest.self, Samples.metadataRequest)
        try check(MetadataResponse.self, Samples.metadataResponse)
    }

    @Test func createTopics() throws {
        try check(CreateTopicsRequest.self, Samples.createTopicsRequest)
        try check(CreateTopicsResponse.self, Samples.createTopicsResponse)
    }

    @Test func deleteTopics() throws {
        try check(DeleteTopicsRequest.self, Samples.deleteTopicsRequest)
        try check(DeleteTopicsResponse.self, Samples.deleteTopicsResponse)
    }

    @Test func sasl() throws {
        try check(SaslHandshakeRequest.self, Samples.saslHandshakeRequest)
        try check(SaslHandshakeResponse.self, Samples.saslHandshakeResponse)
        try check(SaslAuthenticateRequest.self, Samples.saslAuthenticateRequest)
        try check(SaslAuthenticateResponse.self, Samples.saslAuthenticateResponse)
    }

    /// One top-level field set to a non-default value, for the ignorability check.
    struct Mutation: Sendable, CustomStringConvertible {
        let message: String
        let field: String
        let versions: ClosedRange<Int16>
        let encode: @Sendable (_ mutated: Bool, _ version: Int16) throws -> [UInt8]
        var description: String { "\(message).\(field)" }

        init<M: KafkaMessage>(_ base: M, _ field: String, _ mutate: @escaping @Sendable (inout M) -> Void) {
            message = M.messageName
            self.field = field
            versions = M.versions
            encode = { mutated, v in
                var m = base
                if mutated { mutate(&m) }
                return try m.encodedMessage(version: v)
            }
        }
    }

    static let mutations: [Mutation] = [
        Mutation(ApiVersionsRequest(), "client_software_name") { $0.clientSoftwareName = "x" },
        Mutation(ApiVersionsRequest(), "client_software_version") { $0.clientSoftwareVersion = "1" },
        Mutation(ApiVersionsResponse(), "throttle_time_ms") { $0.throttleTimeMs = 5 },
        Mutation(MetadataRequest(topics: ["a"], allowAutoTopicCreation: true), "allow_auto_topic_creation") { $0.allowAutoTopicCreation = false },
        Mutation(MetadataRequest(topics: ["a"], allowAutoTopicCreation: true), "include_cluster_authorized_operations") { $0.includeClusterAuthorizedOperations = true },
        Mutation(MetadataRequest(topics: ["a"], allowAutoTopicCreation: true), "include_topic_authorized_operations") { $0.includeTopicAuthorizedOperations = true },
        Mutation(MetadataResponse(), "throttle_time_ms") { $0.throttleTimeMs = 5 },
        Mutation(MetadataResponse(), "cluster_id") { $0.clusterId = "c" },
        Mutation(MetadataResponse(), "controller_id") { $0.controllerId = 3 },
        Mutation(MetadataResponse(), "cluster_authorized_operations") { $0.clusterAuthorizedOperations = 1 },
        Mutation(MetadataResponse(), "error_code") { $0.errorCode = 1 },
        Mutation(DeleteTopicsRequest(), "topics") { $0.topics = [.init(name: "a")] },
        Mutation(DeleteTopicsRequest(), "topic_names") { $0.topicNames = ["a"] },
        Mutation(SaslAuthenticateResponse(), "session_lifetime_ms") { $0.sessionLifetimeMs = 9 },
    ]

    /// Ignorability per the schema: a non-default value in a non-ignorable top-level field that the
    /// version lacks must be refused (naming the field); in an ignorable one, silently dropped.
    @Test(arguments: mutations)
    func topLevelIgnorabilityMatchesTheSchema(_ m: Mutation) throws {
        let schema = try #require(kafkaSchemas[m.message])
        let field = try #require(schema.fields.first { $0.name == m.field })
        for v in m.versions {
            if field.versions.contains(v) {
                #expect(try m.encode(true, v) != m.encode(false, v), "\(m) v\(v) should be on the wire")
            } else if field.ignorable {
                #expect(try m.encode(true, v) == m.encode(false, v), "\(m) v\(v) should be dropped")
            } else {
                let e = #expect(throws: ProtocolEncodingError.self, "\(m) v\(v) should be refused") { try m.encode(true, v) }
                #expect(e?.field == m.field)
            }
        }
    }
}
