import Foundation
import Testing
import KafkaClient
import KafkaProtocol
import KafkaTestSupport

/// `kwire group list|describe|delete` as a user runs them.
@Suite struct KwireGroupCLITests {
    static func kwire(_ args: [String]) async throws -> KwireCLITests.Run {
        try await KwireCLITests.kwire(args)
    }

    static func json(_ s: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(s.utf8)) }

    /// A fake coordinator: `busy` has a member whose assignment does not decode, `gone` does not
    /// exist, `idle` is empty with committed offsets.
    static func fakeCluster() throws -> FakeBroker {
        let broker = try FakeBroker { req, b in
            switch req.header.apiKey {
            case .findCoordinator: return AdminGroupFakeBrokerTests.coordinatorAnswer(req, b)
            case .listGroups:
                var r = ListGroupsResponse()
                r.groups = [.init(groupId: "busy", protocolType: "consumer", groupState: "Stable", groupType: "classic"),
                            .init(groupId: "idle", protocolType: "consumer", groupState: "Empty", groupType: "classic")]
                return .respond(b.body(r, for: req))
            case .describeGroups:
                let names = (try? req.decode(DescribeGroupsRequest.self).groups) ?? []
                return AdminGroupFakeBrokerTests.describeAnswer(req, b, names.map { n in
                    switch n {
                    case "busy": return AdminGroupFakeBrokerTests.group(n, members: [AdminGroupFakeBrokerTests.member("m-1", clientId: "app", assignment: [0, 0, 0, 0, 0, 5])])
                    case "gone": return AdminGroupFakeBrokerTests.group(n, state: "Dead", protocolType: "", error: .groupIdNotFound)
                    default: return AdminGroupFakeBrokerTests.group(n, state: "Empty", protocolName: "")
                    }
                })
            case .offsetFetch:
                return AdminGroupFakeBrokerTests.offsetFetchAnswer(req, b, unstable: false)
            case .listOffsets:
                return AdminGroupFakeBrokerTests.listOffsetsAnswer(req, b) { _, _ in (20, AdminGroupFakeBrokerTests.ok) }
            case .deleteGroups:
                return AdminGroupFakeBrokerTests.deleteAnswer(req, b, errors: ["busy": .nonEmptyGroup, "gone": .groupIdNotFound])
            default: return b.defaultAction(req)
            }
        }
        broker.addTopic("t", partitions: 3)
        return broker
    }

    @Test(.enabled(if: KwireCLITests.binary != nil, "kwire not built"))
    func usageErrors() async throws {
        let b = ["-b", "127.0.0.1:9"]
        #expect(try await Self.kwire(["group"] + b).status == 64)
        #expect(try await Self.kwire(["group", "frob"] + b).status == 64)
        #expect(try await Self.kwire(["group", "describe"] + b).status == 64)
        #expect(try await Self.kwire(["group", "describe", "a", "b"] + b).status == 64)
        #expect(try await Self.kwire(["group", "delete"] + b).status == 64)
        #expect(try await Self.kwire(["group", "describe", "a", "--state", "Stable"] + b).status == 64)
        let help = try await Self.kwire(["group", "--help"])
        #expect(help.status == 0 && help.stdout.contains("kwire group describe GROUP"))
        #expect(try await Self.kwire(["--help"]).stdout.contains("group list|describe|delete"))
    }

    @Test(.enabled(if: KwireCLITests.binary != nil, "kwire not built"))
    func againstAFakeCoordinator() async throws {
        let broker = try Self.fakeCluster()
        defer { broker.stop() }
        let b = ["-b", broker.address]

        let list = try await Self.kwire(["group", "list"] + b)
        #expect(list.status == 0)
        #expect(list.stdout == "busy\tStable\tconsumer\nidle\tEmpty\tconsumer\n")
        let listJSON = Self.json(try await Self.kwire(["group", "list", "--json"] + b).stdout) as? [[String: Any]]
        #expect(listJSON?.map { $0["group_id"] as? String } == ["busy", "idle"])
        #expect(listJSON?.first?["coordinator_id"] as? Int == Int(broker.nodeId))

        // An undecodable assignment is shown, not fatal.
        let busy = try await Self.kwire(["group", "describe", "busy"] + b)
        #expect(busy.status == 0, "\(busy.stderr)")
        #expect(busy.stdout.contains("undecodable bytes"))
        let busyJSON = Self.json(try await Self.kwire(["group", "describe", "busy", "--json"] + b).stdout) as? [String: Any]
        let member = (busyJSON?["members"] as? [[String: Any]])?.first
        #expect((member?["assignment"] as? [String: Any])?["status"] as? String == "undecodable")
        #expect((member?["assignment"] as? [String: Any])?["bytes"] as? Int == 6)
        // Lag rows from the committed offsets (t[0] at 5, t[2] at 7) against log end 20.
        let rows = busyJSON?["offsets"] as? [[String: Any]]
        #expect(rows?.map { $0["partition"] as? Int } == [0, 2])
        #expect(rows?.map { $0["lag"] as? Int } == [15, 13])
        #expect(busyJSON?["total_lag"] as? Int == 28)

        let gone = try await Self.kwire(["group", "describe", "gone"] + b)
        #expect(gone.status == 1 && gone.stderr.contains("GROUP_ID_NOT_FOUND"))
        #expect(gone.stderr.split(separator: "\n").count == 1)

        let busyDelete = try await Self.kwire(["group", "delete", "busy"] + b)
        #expect(busyDelete.status == 1 && busyDelete.stderr.contains("NON_EMPTY_GROUP") && busyDelete.stderr.contains("busy"))
        #expect(busyDelete.stderr.split(separator: "\n").count == 1)
        let idleDelete = try await Self.kwire(["group", "delete", "idle"] + b)
        #expect(idleDelete.status == 0 && idleDelete.stdout == "deleted group idle\n")
        let mixed = try await Self.kwire(["group", "delete", "idle", "gone"] + b)
        #expect(mixed.status == 1 && mixed.stdout == "deleted group idle\n" && mixed.stderr.contains("GROUP_ID_NOT_FOUND"))
    }
}

/// The same commands on a group a confluent-kafka consumer made on the real broker.
@Suite(.enabled(if: KwireCLITests.binary != nil && IntegrationEnvironment.isAvailable && PeerClients.available, "needs kwire, KAFKA_BOOTSTRAP and confluent-kafka"),
       .timeLimit(.minutes(5)))
struct KwireGroupIntegrationTests {
    @Test func listDescribeAndDeleteAPeersGroup() async throws {
        let bootstrap = AdminGroupIntegrationTests.bootstrap
        let b = ["-b", bootstrap]
        let topic = IntegrationEnvironment.uniqueTopic("kw-cli-grp")
        let group = "kw-cli-\(topic)"
        // 5 and 3 records, one per batch (see makeTopic); the peer commits offset 2 on both.
        try await PeerGroupMember.makeTopic(bootstrap: bootstrap, topic: topic, counts: [5, 3])
        let peer = try PeerGroupMember(bootstrap: bootstrap, topic: topic, group: group, commitAt: 2, clientId: "kw-cli-peer")
        defer { peer.stop() }
        let joined = try await peer.committed()

        let live = KwireGroupCLITests.json(try await KwireGroupCLITests.kwire(["group", "describe", group, "--json"] + b).stdout) as? [String: Any]
        #expect(live?["state"] as? String == "Stable")
        #expect((live?["members"] as? [[String: Any]])?.map { $0["member_id"] as? String } == [joined.memberId])

        try await peer.leave()

        let list = try await KwireGroupCLITests.kwire(["group", "list"] + b)
        #expect(list.status == 0)
        #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix("\(group)\t") })

        let described = try await KwireGroupCLITests.kwire(["group", "describe", group, "--json"] + b)
        #expect(described.status == 0, "\(described.stderr)")
        let d = KwireGroupCLITests.json(described.stdout) as? [String: Any]
        #expect(d?["state"] as? String == "Empty")
        #expect((d?["members"] as? [Any])?.isEmpty == true)
        let rows = d?["offsets"] as? [[String: Any]]
        #expect(rows?.map { $0["partition"] as? Int } == [0, 1])
        #expect(rows?.map { $0["committed_offset"] as? Int } == [2, 2])
        #expect(rows?.map { $0["log_end_offset"] as? Int } == [5, 3])
        #expect(rows?.map { $0["lag"] as? Int } == [3, 1])
        #expect(d?["total_lag"] as? Int == 4)
        let text = try await KwireGroupCLITests.kwire(["group", "describe", group] + b)
        #expect(text.status == 0 && text.stdout.contains("state Empty") && text.stdout.contains("total lag 4"))

        let deleted = try await KwireGroupCLITests.kwire(["group", "delete", group] + b)
        #expect(deleted.status == 0 && deleted.stdout == "deleted group \(group)\n")
        let gone = KwireGroupCLITests.json(try await KwireGroupCLITests.kwire(["group", "describe", group, "--json"] + b).stdout) as? [String: Any]
        #expect((gone?["offsets"] as? [Any])?.isEmpty ?? true)
        #expect(try await !KwireGroupCLITests.kwire(["group", "list"] + b).stdout.contains("\(group)\t"))
    }
}
