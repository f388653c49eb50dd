import Foundation
import Testing
import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// Batches that *we* build and compress, produced to a real broker, must be read back exactly by
/// consumers nobody here wrote: confluent-kafka (librdkafka) and kafka-python.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable && PeerClients.available, "needs KAFKA_BOOTSTRAP and python3 with confluent-kafka and kafka-python"))
struct CompressionInteropTests {
    static let codecs: [RecordCompression] = [.none, .gzip, .snappy, .lz4, .zstd]

    @Test func peersReadWhatWeCompress() async throws {
        let bootstrap = try #require(IntegrationEnvironment.bootstrap?.split(separator: ",").first.map(String.init))
        let topic = IntegrationEnvironment.uniqueTopic("kw-codecs")
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        defer { Task { await admin.close() } }
        try await admin.createTopic(NewTopic(name: topic, partitions: Int32(Self.codecs.count), replicationFactor: 1))

        // One batch per codec, each to its own partition: 50 records with keys, headers, a null
        // value and an empty value, repetitive enough that compression matters.
        var expected: [Int32: [(key: String?, value: String?, header: String)]] = [:]
        var batches: [Int32: [UInt8]] = [:]
        for (p, codec) in Self.codecs.enumerated() {
            var b = RecordBatchBuilder(compression: codec)
            var rows: [(key: String?, value: String?, header: String)] = []
            for i in 0 ..< 50 {
                let key: String? = i == 3 ? nil : "key-\(codec)-\(i)"
                let value: String? = i == 7 ? nil : (i == 8 ? "" : "value \(i) of \(codec): " + String(repeating: "abcdefgh", count: i % 9))
                let header = "h\(i)"
                try b.append(timestamp: 1_700_000_000_000 + Int64(i), key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) },
                             headers: [RecordHeader(key: "trace", value: Array(header.utf8))])
                rows.append((key, value, header))
            }
            expected[Int32(p)] = rows
            batches[Int32(p)] = try b.build(compress: Compression.recordCompressor())
        }
        // A raw Produce must go to each partition's leader: on a multi-broker cluster the
        // bootstrap broker answers NOT_LEADER_OR_FOLLOWER for the partitions it does not lead.
        let leaders = try await Self.leaders(of: topic, partitions: Int32(Self.codecs.count), admin: admin)
        for (leader, partitions) in leaders {
            let link = BrokerLink(host: leader.host, port: leader.port, options: ConnectionOptions(), requestTimeout: .seconds(10))
            defer { link.close() }
            let request = ProduceRequest(acks: -1, timeoutMs: 10000, topicData: [ProduceRequest.Topic(
                name: topic, partitionData: partitions.sorted().map { .init(index: $0, records: batches[$0]) })])
            let response = try await link.send(request)
            #expect(response.responses.flatMap(\.partitionResponses).map(\.index).sorted() == partitions.sorted())
            for part in response.responses.flatMap(\.partitionResponses) {
                #expect(part.errorCode == 0, "partition \(part.index) at broker \(leader.nodeId): \(KafkaErrorCode(rawValue: part.errorCode))")
            }
        }

        for client in ["confluent", "kafka-python"] {
            let lines = try await PeerClients.consume(client: client, bootstrap: bootstrap, topic: topic, count: 50 * Self.codecs.count)
            #expect(lines.count == 50 * Self.codecs.count, "\(client) read \(lines.count) records")
            for (p, rows) in expected {
                let got = lines.filter { ($0["partition"] as? Int) == Int(p) }
                #expect(got.count == rows.count, "\(client), partition \(p) (\(Self.codecs[Int(p)]))")
                for (g, e) in zip(got, rows) {
                    #expect(g["key"] as? String == e.key, "\(client) \(Self.codecs[Int(p)]) key")
                    #expect(g["value"] as? String == e.value, "\(client) \(Self.codecs[Int(p)]) value")
                    let headers = g["headers"] as? [[Any]]
                    #expect(headers?.first?.first as? String == "trace")
                    #expect(headers?.first?.last as? String == e.header)
                }
            }
        }
        _ = try? await admin.deleteTopics([topic])
    }

    /// The partitions of `topic` grouped by their leader, once every partition has one (a new
    /// topic's leaders can take a moment to appear in Metadata).
    static func leaders(of topic: String, partitions: Int32, admin: KafkaAdminClient) async throws -> [ClusterMetadata.Broker: [Int32]] {
        let deadline = ContinuousClock.now + .seconds(40)
        while true {
            let m = try await admin.refreshMetadata(topics: [topic])
            let led = (0 ..< partitions).compactMap { p in m.leader(topic: topic, partition: p).map { (broker: $0, partition: p) } }
            if led.count == Int(partitions) {
                return Dictionary(grouping: led, by: \.broker).mapValues { $0.map(\.partition) }
            }
            guard ContinuousClock.now < deadline else { throw KafkaError(.timeout, "no leader for every partition of \(topic)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Runs `scripts/peer_consume.py`.
enum PeerClients {
    static let script = KwireCLITests.root.appendingPathComponent("scripts/peer_consume.py").path

    /// Checked once, while Swift Testing plans the run (a suite condition cannot await).
    static let available: Bool = {
        guard let r = try? runProcessBlocking(["/usr/bin/env", "python3", "-c", "import confluent_kafka, kafka"], timeout: .seconds(60)) else { return false }
        return r.status == 0
    }()

    /// Runs `argv` (stderr discarded) without blocking the cooperative pool.
    static func run(_ argv: [String], timeout: Duration = .seconds(300)) async throws -> (status: Int32, out: Data) {
        let r = try await runProcess(argv, timeout: timeout)
        return (r.status, r.stdout)
    }

    static func consume(client: String, bootstrap: String, topic: String, count: Int) async throws -> [[String: Any]] {
        let r = try await run(["/usr/bin/env", "python3", script, "--client", client, "--bootstrap", bootstrap, "--topic", topic, "--count", String(count), "--timeout", "40"])
        return String(decoding: r.out, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
