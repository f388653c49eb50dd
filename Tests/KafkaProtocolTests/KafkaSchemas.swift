// Generated from Apache Kafka's message schemas (clients/src/main/resources/common/message/*.json,
// as vendored by kafka-python 3.x under kafka/protocol/schemas/resources/) by a one-off script:
// field names converted to snake_case; versions, tags and "ignorable" copied verbatim.
// Regenerate rather than edit by hand when a message's schema changes.
@testable import KafkaProtocol

/// One schema field: snake_case name, versions it exists in, tag (tagged fields), nested fields.
struct SchemaField: Sendable {
    let name: String
    let versions: ClosedRange<Int16>
    let tag: Int?
    let ignorable: Bool
    let children: [SchemaField]
}

private func F(_ name: String, _ versions: ClosedRange<Int16>, tag: Int? = nil, ignorable: Bool = false, _ children: [SchemaField] = []) -> SchemaField {
    SchemaField(name: name, versions: versions, tag: tag, ignorable: ignorable, children: children)
}

/// Per message: valid versions, first flexible version, fields.
let kafkaSchemas: [String: (valid: ClosedRange<Int16>, flexibleFrom: Int16?, fields: [SchemaField])] = [
    "ApiVersionsRequest": (0...4, 3, [
        F("client_software_name", 3...Int16.max, ignorable: true),
        F("client_software_version", 3...Int16.max, ignorable: true)
    ]),
    "ApiVersionsResponse": (0...4, 3, [
        F("error_code", 0...Int16.max),
        F("api_keys", 0...Int16.max, [
            F("api_key", 0...Int16.max),
            F("min_version", 0...Int16.max),
            F("max_version", 0...Int16.max)
        ]),
        F("throttle_time_ms", 1...Int16.max, ignorable: true),
        F("supported_features", 3...Int16.max, tag: 0, ignorable: true, [
            F("name", 3...Int16.max),
            F("min_version", 3...Int16.max),
            F("max_version", 3...Int16.max)
        ]),
        F("finalized_features_epoch", 3...Int16.max, tag: 1, ignorable: true),
        F("finalized_features", 3...Int16.max, tag: 2, ignorable: true, [
            F("name", 3...Int16.max),
            F("max_version_level", 3...Int16.max),
            F("min_version_level", 3...Int16.max)
        ]),
        F("zk_migration_ready", 3...Int16.max, tag: 3, ignorable: true)
    ]),
    "MetadataRequest": (0...13, 9, [
        F("topics", 0...Int16.max, [
            F("topic_id", 10...Int16.max, ignorable: true),
            F("name", 0...Int16.max)
        ]),
        F("allow_auto_topic_creation", 4...Int16.max),
        F("include_cluster_authorized_operations", 8...10),
        F("include_topic_authorized_operations", 8...Int16.max)
    ]),
    "MetadataResponse": (0...13, 9, [
        F("throttle_time_ms", 3...Int16.max, ignorable: true),
        F("brokers", 0...Int16.max, [
            F("node_id", 0...Int16.max),
            F("host", 0...Int16.max),
            F("port", 0...Int16.max),
            F("rack", 1...Int16.max, ignorable: true)
        ]),
        F("cluster_id", 2...Int16.max, ignorable: true),
        F("controller_id", 1...Int16.max, ignorable: true),
        F("topics", 0...Int16.max, [
            F("error_code", 0...Int16.max),
            F("name", 0...Int16.max),
            F("topic_id", 10...Int16.max, ignorable: true),
            F("is_internal", 1...Int16.max, ignorable: true),
            F("partitions", 0...Int16.max, [
                F("error_code", 0...Int16.max),
                F("partition_index", 0...Int16.max),
                F("leader_id", 0...Int16.max),
                F("leader_epoch", 7...Int16.max, ignorable: true),
                F("replica_nodes", 0...Int16.max),
                F("isr_nodes", 0...Int16.max),
                F("offline_replicas", 5...Int16.max, ignorable: true)
            ]),
            F("topic_authorized_operations", 8...Int16.max)
        ]),
        F("cluster_authorized_operations", 8...10),
        F("error_code", 13...Int16.max, ignorable: true)
    ]),
    "CreateTopicsRequest": (2...7, 5, [
        F("topics", 0...Int16.max, [
            F("name", 0...Int16.max),
            F("num_partitions", 0...Int16.max),
            F("replication_factor", 0...Int16.max),
            F("assignments", 0...Int16.max, [
                F("partition_index", 0...Int16.max),
                F("broker_ids", 0...Int16.max)
            ]),
            F("configs", 0...Int16.max, [
                F("name", 0...Int16.max),
                F("value", 0...Int16.max)
            ])
        ]),
        F("timeout_ms", 0...Int16.max),
        F("validate_only", 1...Int16.max)
    ]),
    "CreateTopicsResponse": (2...7, 5, [
        F("throttle_time_ms", 2...Int16.max, ignorable: true),
        F("topics", 0...Int16.max, [
            F("name", 0...Int16.max),
            F("topic_id", 7...Int16.max, ignorable: true),
            F("error_code", 0...Int16.max),
            F("error_message", 1...Int16.max, ignorable: true),
            F("topic_config_error_code", 5...Int16.max, tag: 0, ignorable: true),
            F("num_partitions", 5...Int16.max, ignorable: true),
            F("replication_factor", 5...Int16.max, ignorable: true),
            F("configs", 5...Int16.max, ignorable: true, [
                F("name", 5...Int16.max),
                F("value", 5...Int16.max),
                F("read_only", 5...Int16.max),
                F("config_source", 5...Int16.max, ignorable: true),
                F("is_sensitive", 5...Int16.max)
            ])
        ])
    ]),
    "DeleteTopicsRequest": (1...6, 4, [
        F("topics", 6...Int16.max, [
            F("name", 6...Int16.max),
            F("topic_id", 6...Int16.max)
        ]),
        F("topic_names", 0...5, ignorable: true),
        F("timeout_ms", 0...Int16.max)
    ]),
    "DeleteTopicsResponse": (1...6, 4, [
        F("throttle_time_ms", 1...Int16.max, ignorable: true),
        F("responses", 0...Int16.max, [
            F("name", 0...Int16.max),
            F("topic_id", 6...Int16.max, ignorable: true),
            F("error_code", 0...Int16.max),
            F("error_message", 5...Int16.max, ignorable: true)
        ])
    ]),
    "SaslHandshakeRequest": (0...1, nil, [
        F("mechanism", 0...Int16.max)
    ]),
    "SaslHandshakeResponse": (0...1, nil, [
        F("error_code", 0...Int16.max),
        F("mechanisms", 0...Int16.max)
    ]),
    "SaslAuthenticateRequest": (0...2, 2, [
        F("auth_bytes", 0...Int16.max)
    ]),
    "SaslAuthenticateResponse": (0...2, 2, [
        F("error_code", 0...Int16.max),
        F("error_message", 0...Int16.max),
        F("auth_bytes", 0...Int16.max),
        F("session_lifetime_ms", 1...Int16.max, ignorable: true)
    ]),
]
