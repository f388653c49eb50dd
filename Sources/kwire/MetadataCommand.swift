import KafkaClient
import KafkaProtocol

/// `kwire metadata [--json]`: brokers, controller, topics and partitions.
enum MetadataCommand {
    static let help = """
    usage: kwire metadata [--json] [options]

    Lists the cluster's brokers, controller, topics and partitions.

      --json                         print JSON instead of text
    \(Common.help)
    """

    static func run(_ argv: [String]) async throws {
        let args = try Arguments(argv, valued: Common.valued, flags: Common.flags.union(["--json"]))
        if args.flag("-h", "--help") { print(help); return }
        guard args.positional.isEmpty else { throw CLIError.usage("metadata takes no arguments (got \(args.positional.joined(separator: " ")))") }
        let admin = try KafkaAdminClient(config: Common.config(args))
        defer { Task { await admin.close() } }
        let m = try await admin.refreshMetadata()
        if args.flag("--json") {
            print(json(m).serialized(pretty: true))
            return
        }
        print("cluster \(m.clusterId ?? "(unknown)"), controller \(m.controllerId.map(String.init) ?? "unknown")")
        print("\(m.brokers.count) broker\(m.brokers.count == 1 ? "" : "s"):")
        for b in m.brokers.values.sorted(by: { $0.nodeId < $1.nodeId }) {
            print("  broker \(b.nodeId) at \(b.address)\(b.nodeId == m.controllerId ? " (controller)" : "")\(b.rack.map { " rack \($0)" } ?? "")")
        }
        print("\(m.topics.count) topic\(m.topics.count == 1 ? "" : "s"):")
        for t in m.topics.values.sorted(by: { $0.name < $1.name }) {
            print("  topic \"\(t.name)\" with \(t.partitions.count) partition\(t.partitions.count == 1 ? "" : "s")\(t.isInternal ? " (internal)" : "")\(t.error.map { ": \($0.name)" } ?? "")")
            for p in t.partitions {
                let ids = { (l: [Int32]) in l.map(String.init).joined(separator: ",") }
                print("    partition \(p.partition), leader \(p.leader.map(String.init) ?? "none"), epoch \(p.leaderEpoch.map(String.init) ?? "unknown"), replicas: \(ids(p.replicas)), isrs: \(ids(p.isr))\(p.error.map { ", error \($0.name)" } ?? "")")
            }
        }
    }

    static func json(_ m: ClusterMetadata) -> JSONValue {
        let ints = { (l: [Int32]) in JSONValue.array(l.map { .int(Int64($0)) }) }
        return .object([
            ("cluster_id", m.clusterId.map(JSONValue.string) ?? .null),
            ("controller_id", m.controllerId.map { .int(Int64($0)) } ?? .null),
            ("brokers", .array(m.brokers.values.sorted(by: { $0.nodeId < $1.nodeId }).map { b in
                .object([("node_id", .int(Int64(b.nodeId))), ("host", .string(b.host)), ("port", .int(Int64(b.port))), ("rack", b.rack.map(JSONValue.string) ?? .null)])
            })),
            ("topics", .array(m.topics.values.sorted(by: { $0.name < $1.name }).map { t in
                .object([
                    ("name", .string(t.name)), ("topic_id", t.topicId.map { .string($0.description) } ?? .null), ("is_internal", .bool(t.isInternal)),
                    ("error", t.error.map { .string($0.name) } ?? .null),
                    ("partitions", .array(t.partitions.map { p in
                        .object([
                            ("partition", .int(Int64(p.partition))), ("leader", p.leader.map { .int(Int64($0)) } ?? .null), ("leader_epoch", p.leaderEpoch.map { .int(Int64($0)) } ?? .null),
                            ("replicas", ints(p.replicas)), ("isr", ints(p.isr)), ("offline_replicas", ints(p.offlineReplicas)),
                            ("error", p.error.map { .string($0.name) } ?? .null),
                        ])
                    })),
                ])
            })),
        ])
    }
}
