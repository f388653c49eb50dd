import KafkaClient
import KafkaProtocol

/// `kwire group list|describe|delete`.
enum GroupCommand {
    static let help = """
    usage: kwire group list [--json] [--state STATE]…
           kwire group describe GROUP [--json]
           kwire group delete GROUP…

    Lists consumer groups, describes one (state, members and their assignments, and per
    partition the committed offset, log end offset and lag), or deletes groups (a group with
    members cannot be deleted).

      --state STATE                  only groups in this state, repeatable (list): Stable, Empty,
                                     PreparingRebalance, CompletingRebalance, Dead
      --json                         print JSON (list, describe)
    \(Common.help)
    """

    static func run(_ argv: [String]) async throws {
        let args = try Arguments(argv, valued: Common.valued.union(["--state"]), flags: Common.flags.union(["--json"]))
        if args.flag("-h", "--help") { print(help); return }
        guard let sub = args.positional.first else { throw CLIError.usage("group needs a subcommand: list, describe or delete") }
        let rest = Array(args.positional.dropFirst())
        let json = args.flag("--json")
        if sub != "list" && !args.values("--state").isEmpty { throw CLIError.usage("--state is for group list") }
        switch sub {
        case "list":
            guard rest.isEmpty else { throw CLIError.usage("group list takes no arguments") }
            let admin = try KafkaAdminClient(config: Common.config(args))
            defer { Task { await admin.close() } }
            let groups = try await admin.listGroups(states: Set(args.values("--state").map(ConsumerGroupState.init(parsing:))))
            if json {
                print(JSONValue.array(groups.map { g in
                    .object([
                        ("group_id", .string(g.groupId)), ("protocol_type", g.protocolType.map(JSONValue.string) ?? .null),
                        ("state", g.state.map { .string($0.rawValue) } ?? .null), ("type", g.type.map(JSONValue.string) ?? .null),
                        ("coordinator_id", .int(Int64(g.coordinatorId))),
                    ])
                }).serialized(pretty: true))
            } else {
                for g in groups { print("\(g.groupId)\t\(g.state?.rawValue ?? "-")\t\(g.protocolType ?? "-")") }
            }
        case "describe":
            guard rest.count == 1 else { throw CLIError.usage("group describe takes exactly one GROUP") }
            let admin = try KafkaAdminClient(config: Common.config(args))
            defer { Task { await admin.close() } }
            let d = try await admin.describeGroup(rest[0])
            if d.state == .dead { throw CLIError.failure("group \(d.groupId) does not exist (state Dead)") }
            let rows = try await offsetRows(admin, d)
            if json {
                print(describeJSON(d, rows).serialized(pretty: true))
            } else {
                printDescription(d, rows)
            }
        case "delete":
            guard !rest.isEmpty else { throw CLIError.usage("group delete needs at least one GROUP") }
            let admin = try KafkaAdminClient(config: Common.config(args))
            defer { Task { await admin.close() } }
            let results = try await admin.deleteGroups(rest)
            var failed = 0
            for (g, r) in zip(rest, results) {
                switch r {
                case .success: print("deleted group \(g)")
                case let .failure(e):
                    printError("kwire: \(e)")
                    failed += 1
                }
            }
            // Each failure is already one line on stderr.
            if failed > 0 { throw CLIError(message: "", code: 1) }
        default:
            throw CLIError.usage("unknown group subcommand '\(sub)' (list, describe, delete)")
        }
    }

    /// One line of the offsets table: a partition the group committed or a member is assigned.
    struct OffsetRow {
        var partition: TopicPartition
        var committed: Int64?
        var logEnd: Result<Int64, KafkaError>
        var lag: Int64? {
            guard let committed, case let .success(end) = logEnd else { return nil }
            // Wire values: saturate rather than trap on absurd ones.
            let (d, overflow) = end.subtractingReportingOverflow(committed)
            return overflow ? (committed < 0 ? .max : .min) : d
        }
    }

    /// The sum of the known lags, saturating (lags come from wire values).
    static func totalLag(_ rows: [OffsetRow]) -> Int64 {
        rows.reduce(0) { sum, r in
            let (s, overflow) = sum.addingReportingOverflow(r.lag ?? 0)
            return overflow ? (sum > 0 ? .max : .min) : s
        }
    }

    /// Lag for committed partitions, plus assigned partitions that have no commit yet (shown
    /// with their log end and no lag, as Kafka's own tool does).
    static func offsetRows(_ admin: KafkaAdminClient, _ d: ConsumerGroupDescription) async throws -> [OffsetRow] {
        let lag = try await admin.consumerGroupLag(d.groupId)
        var rows = lag.partitions.map { OffsetRow(partition: $0.topicPartition, committed: $0.committedOffset, logEnd: $0.logEndOffset) }
        let committed = Set(rows.map(\.partition))
        let uncommitted = Set(d.members.flatMap(\.assignedPartitions)).subtracting(committed)
        if !uncommitted.isEmpty {
            let ends = try await admin.listOffsets(Array(uncommitted), spec: .end)
            for tp in uncommitted {
                let end = ends[tp]?.flatMap { (offset: Int64?) -> Result<Int64, KafkaError> in
                    offset.map { .success($0) } ?? .failure(KafkaError(.decoding, "no log end offset for \(tp)"))
                }
                rows.append(OffsetRow(partition: tp, committed: nil, logEnd: end ?? .failure(KafkaError(.decoding, "no log end offset"))))
            }
        }
        return rows.sorted { ($0.partition.topic, $0.partition.partition) < ($1.partition.topic, $1.partition.partition) }
    }

    static func assignmentText(_ m: ConsumerGroupMemberDescription) -> String {
        switch m.assignment {
        case .empty: return "-"
        case let .decoded(a, _):
            let parts = a.assignedPartitions.sorted { $0.topic < $1.topic }.map { "\($0.topic)[\($0.partitions.sorted().map(String.init).joined(separator: ","))]" }
            return parts.isEmpty ? "(none)" : parts.joined(separator: " ")
        case let .opaque(b): return "(\(b.count) bytes, not the consumer protocol)"
        case let .undecodable(b, reason): return "(\(b.count) undecodable bytes: \(reason))"
        }
    }

    static func printDescription(_ d: ConsumerGroupDescription, _ rows: [OffsetRow]) {
        let proto = d.protocolType.map { $0 + (d.protocolName.map { " (\($0))" } ?? "") } ?? "none"
        let coordinator = d.coordinator.map { "\($0.nodeId) at \($0.address)" } ?? "unknown"
        print("group \(d.groupId): state \(d.state), protocol \(proto), coordinator \(coordinator)")
        print("\(d.members.count) member\(d.members.count == 1 ? "" : "s"):")
        if !d.members.isEmpty {
            var table = [["MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"]]
            for m in d.members {
                table.append([m.memberId, m.groupInstanceId ?? "-", m.clientId.isEmpty ? "-" : m.clientId, m.host.isEmpty ? "-" : m.host, assignmentText(m)])
            }
            printTable(table)
        }
        print("offsets:")
        var table = [["TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG"]]
        for r in rows {
            let end: String
            switch r.logEnd {
            case let .success(o): end = String(o)
            case let .failure(e): end = "error: \(e.code?.name ?? e.kind.description)"
            }
            table.append([r.partition.topic, String(r.partition.partition), r.committed.map(String.init) ?? "-", end, r.lag.map(String.init) ?? "-"])
        }
        printTable(table)
        print("total lag \(totalLag(rows))")
    }

    /// Left-aligned columns, two spaces apart, indented by two.
    static func printTable(_ rows: [[String]]) {
        let widths = rows.reduce(into: [Int]()) { w, row in
            for (i, cell) in row.enumerated() {
                if i < w.count { w[i] = max(w[i], cell.count) } else { w.append(cell.count) }
            }
        }
        for row in rows {
            let cells = row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
            print("  " + cells.joined(separator: "  "))
        }
    }

    static func describeJSON(_ d: ConsumerGroupDescription, _ rows: [OffsetRow]) -> JSONValue {
        func payload<V>(_ p: GroupMemberPayload<V>, _ pairs: [(String, JSONValue)]) -> [(String, JSONValue)] {
            var out = pairs
            if case let .undecodable(b, reason) = p { out.append(("error", .string(reason))); out.append(("bytes", .int(Int64(b.count)))) }
            if case let .opaque(b) = p { out.append(("bytes", .int(Int64(b.count)))) }
            return out
        }
        let members: [JSONValue] = d.members.map { m in
            let assigned: JSONValue = m.assignment.value.map { a in
                .array(a.assignedPartitions.map { .object([("topic", .string($0.topic)), ("partitions", .array($0.partitions.map { .int(Int64($0)) }))]) })
            } ?? .null
            let topics: JSONValue = m.subscription.value.map { .array($0.topics.map(JSONValue.string)) } ?? .null
            return .object([
                ("member_id", .string(m.memberId)), ("group_instance_id", m.groupInstanceId.map(JSONValue.string) ?? .null),
                ("client_id", .string(m.clientId)), ("host", .string(m.host)),
                ("assignment", .object(payload(m.assignment, [("status", .string(m.assignment.status)), ("partitions", assigned)]))),
                ("subscription", .object(payload(m.subscription, [("status", .string(m.subscription.status)), ("topics", topics)]))),
            ])
        }
        let offsets: [JSONValue] = rows.map { r in
            var logEnd: JSONValue = .null, error: JSONValue = .null
            switch r.logEnd {
            case let .success(o): logEnd = .int(o)
            case let .failure(e): error = .string(e.description)
            }
            return .object([
                ("topic", .string(r.partition.topic)), ("partition", .int(Int64(r.partition.partition))),
                ("committed_offset", r.committed.map(JSONValue.int) ?? .null), ("log_end_offset", logEnd),
                ("lag", r.lag.map(JSONValue.int) ?? .null), ("error", error),
            ])
        }
        return .object([
            ("group_id", .string(d.groupId)), ("state", .string(d.state.rawValue)),
            ("protocol_type", d.protocolType.map(JSONValue.string) ?? .null), ("protocol", d.protocolName.map(JSONValue.string) ?? .null),
            ("coordinator", d.coordinator.map { .object([("node_id", .int(Int64($0.nodeId))), ("host", .string($0.host)), ("port", .int(Int64($0.port)))]) } ?? .null),
            ("members", .array(members)),
            ("offsets", .array(offsets)),
            ("total_lag", .int(totalLag(rows))),
        ])
    }
}
