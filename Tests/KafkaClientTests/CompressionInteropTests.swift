import Foundation
import Testing
import KafkaClient
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
        let hostPort = bootstrap.split(separator: ":")
        let link = BrokerLink(host: String(hostPort[0]), port: Int(hostPort[1]) ?? 9092, options: ConnectionOptions(), requestTimeout: .seconds(10))
        defer { link.close() }

        // One batch per codec, each to its own partition: 50 records with keys, headers, a null
        // value and an empty value, repetitive enough that compression matters.
        var expected: [Int32: [(key: String?, value: String?, header: String)]] = [:]
        var request = ProduceRequest(acks: -1, timeoutMs: 10000, topicData: [ProduceRequest.Topic(name: topic, partitionData: [])])
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
            request.topicData[0].partitionData.append(.init(index: Int32(p), records: try b.build(compress: Compression.recordCompressor())))
        }
        let response = try await link.send(request)
        for part in response.responses[0].partitionResponses {
            #expect(part.errorCode == 0, "partition \(part.index): \(KafkaErrorCode(rawValue: part.errorCode))")
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
