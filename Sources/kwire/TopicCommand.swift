import KafkaClient
import KafkaProtocol

/// `kwire topic create|delete|list`.
enum TopicCommand {
    static let help = """
    usage: kwire topic create NAME --partitions N [--replication-factor R] [--config K=V]… [--validate-only]
           kwire topic delete NAME
           kwire topic list [--json] [--internal]

    Creates, deletes or lists topics.

      --partitions N                 number of partitions (create; required)
      --replication-factor R         replicas per partition (create; default: broker default)
      --config K=V                   topic configuration, repeatable (create)
      --validate-only                ask the broker to check the request without creating (create)
      --json                         print JSON (list)
      --internal                     include internal topics (list)
    \(Common.help)
    """

    static func run(_ argv: [String]) async throws {
        let args = try Arguments(
            argv, valued: Common.valued.union(["--partitions", "--replication-factor", "--config"]),
            flags: Common.flags.union(["--json", "--validate-only", "--internal"])
        )
        if args.flag("-h", "--help") || args.positional.isEmpty { print(help); if args.positional.isEmpty && !args.flag("-h", "--help") { throw CLIError.usage("topic needs a subcommand: create, delete or list") }; return }
        let sub = args.positional[0]
        let rest = Array(args.positional.dropFirst())
        switch sub {
        case "create":
            guard rest.count == 1 else { throw CLIError.usage("topic create takes exactly one topic NAME") }
            guard let partitions = try args.int("--partitions") else { throw CLIError.usage("topic create needs --partitions N") }
            guard partitions >= 1, partitions <= Int(Int32.max) else { throw CLIError.usage("--partitions must be at least 1") }
            let rf = try args.int("--replication-factor")
            if let rf, rf < 1 || rf > Int(Int16.max) { throw CLIError.usage("--replication-factor must be between 1 and \(Int16.max)") }
            var configs: [String: String] = [:]
            for c in args.values("--config") {
                guard let eq = c.firstIndex(of: "="), eq != c.startIndex else { throw CLIError.usage("--config needs KEY=VALUE, got '\(c)'") }
                configs[String(c[..<eq])] = String(c[c.index(after: eq)...])
            }
            let admin = try KafkaAdminClient(config: Common.config(args))
            defer { Task { await admin.close() } }
            let validate = args.flag("--validate-only")
            let t = try await admin.createTopic(
                NewTopic(name: rest[0], partitions: Int32(partitions), replicationFactor: rf.map { Int16($0) }, configs: configs),
                validateOnly: validate
            )
            print("\(validate ? "validated" : "created") topic \(t.name)\(t.partitions.map { " with \($0) partitions" } ?? "")\(t.topicId.map { " (id \($0))" } ?? "")")
        case "delete":
            guard rest.count == 1 else { throw CLIError.usage("topic delete takes exactly one topic NAME") }
            let admin = try KafkaAdminClient(config: Common.config(args))
            defer { Task { await admin.close() } }
            try await admin.deleteTopic(rest[0])
            print("deleted topic \(rest[0])")
        case "list":
            guard rest.isEmpty else { throw CLIError.usage("topic list takes no arguments") }
            let admin = try KafkaAdminClient(config: Common.config(args))
            defer { Task { await admin.close() } }
            let topics = try await admin.listTopics(includeInternal: args.flag("--internal"))
            if args.flag("--json") {
                print(JSONValue.array(topics.map { t in
                    .object([("name", .string(t.name)), ("topic_id", t.topicId.map { .string($0.description) } ?? .null), ("partitions", .int(Int64(t.partitionCount))), ("is_internal", .bool(t.isInternal))])
                }).serialized(pretty: true))
            } else {
                for t in topics { print("\(t.name)\t\(t.partitionCount)") }
            }
        default:
            throw CLIError.usage("unknown topic subcommand '\(sub)' (create, delete, list)")
        }
    }
}
