import Foundation
import Testing
import KafkaTestSupport

/// Runs the built `kwire` executable as a user would.
@Suite struct KwireCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var binary: URL? {
        for config in ["debug", "release"] {
            let u = root.appendingPathComponent(".build/\(config)/kwire")
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return nil
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs the built kwire without `KAFKA_BOOTSTRAP` from the test environment (plus `env`).
    static func kwire(_ args: [String], env: [String: String] = [:]) async throws -> Run {
        guard let bin = binary else { throw FakeBrokerError_("kwire is not built: run swift build first") }
        var environment = ProcessInfo.processInfo.environment
        environment["KAFKA_BOOTSTRAP"] = nil
        for (k, v) in env { environment[k] = v }
        let r = try await runProcess([bin.path] + args, environment: environment, timeout: .seconds(180))
        return Run(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    struct FakeBrokerError_: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    @Test(.enabled(if: binary != nil, "kwire not built"))
    func helpAndUsageErrors() async throws {
        let help = try await Self.kwire(["--help"])
        #expect(help.status == 0 && help.stdout.contains("metadata"))
        let sub = try await Self.kwire(["topic", "create", "--help"])
        #expect(sub.status == 0 && sub.stdout.contains("--partitions"))
        let unknown = try await Self.kwire(["frobnicate"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        let noBroker = try await Self.kwire(["metadata"])
        #expect(noBroker.status == 64 && noBroker.stderr.contains("KAFKA_BOOTSTRAP"))
        let badX = try await Self.kwire(["-b", "127.0.0.1:9", "metadata", "-X", "no.such.key=1"])
        #expect(badX.status == 64 && badX.stderr.contains("no.such.key"))
        let missing = try await Self.kwire(["-b", "127.0.0.1:9", "topic", "create", "t"])
        #expect(missing.status == 64 && missing.stderr.contains("--partitions"))
    }

    @Test(.enabled(if: binary != nil, "kwire not built"))
    func unreachableBrokerIsOneLineAndNonZero() async throws {
        let dead = try FakeBroker()
        let address = dead.address
        dead.stop()
        let r = try await Self.kwire(["-b", address, "metadata", "-X", "default.api.timeout.ms=500"])
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains(address))
    }

    @Test(.enabled(if: binary != nil, "kwire not built"))
    func topicLifecycleAgainstFakeBroker() async throws {
        let broker = try FakeBroker()
        defer { broker.stop() }
        let b = ["-b", broker.address]
        let c = try await Self.kwire(["topic", "create", "t1", "--partitions", "2"] + b)
        #expect(c.status == 0 && c.stdout.contains("created topic t1"))
        let dup = try await Self.kwire(["topic", "create", "t1", "--partitions", "2"] + b)
        #expect(dup.status == 1 && dup.stderr.contains("TOPIC_ALREADY_EXISTS"))
        #expect(dup.stderr.split(separator: "\n").count == 1)
        let list = try await Self.kwire(["topic", "list"] + b)
        #expect(list.stdout == "t1\t2\n")
        let json = try await Self.kwire(["metadata", "--json"] + b)
        #expect(json.status == 0 && json.stdout.contains("\"cluster_id\": \"fake-cluster\""))
        let d = try await Self.kwire(["topic", "delete", "t1"] + b)
        #expect(d.status == 0)
        let d2 = try await Self.kwire(["topic", "delete", "t1"] + b)
        #expect(d2.status == 1 && d2.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"))
    }

    @Test(.enabled(if: binary != nil, "kwire not built"))
    func decodeCapturedFramesAndReportProblems() async throws {
        let dir = Self.root.appendingPathComponent("Fixtures/captures/librdkafka-2.16")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("-Metadata-") || $0.contains("-ApiVersions-") }.sorted()
        let paths = files.map { dir.appendingPathComponent($0).path }
        #expect(paths.count >= 4)
        let ok = try await Self.kwire(["decode"] + paths)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.split(separator: "\n").count == paths.count)
        #expect(ok.stdout.contains("\"api\":\"Metadata\""))

        // A corrupted copy: decode error or mismatch → exit 1 naming the file.
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("kw-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: paths.first { $0.hasSuffix(".request.bin") }!)))
        bytes.removeLast()
        let bad = tmp.appendingPathComponent("bad.bin")
        try Data(bytes).write(to: bad)
        let r = try await Self.kwire(["decode", bad.path])
        #expect(r.status == 1 && r.stderr.contains("bad.bin"))

        // An API we do not speak → exit 2 naming it.
        let unknown = tmp.appendingPathComponent("unknown.bin")
        try Data([0, 0, 0, 10, 0, 99, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF]).write(to: unknown)
        let u = try await Self.kwire(["decode", unknown.path])
        #expect(u.status == 2 && u.stderr.contains("99"))
    }
}

/// `kwire-bench micro` runs and prints one JSON object per measurement (numbers are not checked
/// here: performance targets live in the benchmark, not in tests).
@Suite struct KwireBenchSmokeTests {
    static var binary: URL? {
        let u = KwireCLITests.root.appendingPathComponent(".build/debug/kwire-bench")
        return FileManager.default.isExecutableFile(atPath: u.path) ? u : nil
    }

    @Test(.enabled(if: binary != nil, "kwire-bench not built"))
    func microPrintsJSONLines() async throws {
        let bin = try #require(Self.binary)
        let r = try await runProcess([bin.path, "micro", "--min-ms", "1", "--only", "crc32c,batch,codec_lz4"], timeout: .seconds(300))
        let data = r.stdout
        #expect(r.status == 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let names = lines.compactMap { line -> String? in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return obj["bench"] as? String
        }
        #expect(names == ["crc32c", "batch_encode", "batch_decode", "batch_decode_lazy", "codec_lz4"])
    }
}

/// `kwire produce` as a user runs it: lines in, the same lines out of a confluent-kafka consumer.
@Suite(.enabled(if: KwireCLITests.binary != nil && IntegrationEnvironment.isAvailable && PeerClients.available, "needs kwire, KAFKA_BOOTSTRAP and confluent-kafka"))
struct KwireProduceTests {
    /// Unlike `KwireCLITests.kwire`, keeps the whole test environment (the tests pass `-b`).
    static func kwire(_ args: [String], stdin: String) async throws -> KwireCLITests.Run {
        guard let bin = KwireCLITests.binary else { throw KwireCLITests.FakeBrokerError_("kwire is not built: run swift build first") }
        let r = try await runProcess([bin.path] + args, stdin: Data(stdin.utf8), timeout: .seconds(180))
        return KwireCLITests.Run(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
    }

    @Test func linesInAreTheMessagesAPeerReads() async throws {
        let bootstrap = IntegrationEnvironment.bootstrap!.split(separator: ",").first.map(String.init)!
        let topic = IntegrationEnvironment.uniqueTopic("kw-cli")
        let create = try await KwireCLITests.kwire(["-b", bootstrap, "topic", "create", topic, "--partitions", "1"])
        #expect(create.status == 0)
        let lines = (0 ..< 2000).map { "k\($0 % 13)=line \($0) ünïcode \(String(repeating: "z", count: $0 % 17))" }
        let r = try await Self.kwire(["-b", bootstrap, "produce", topic, "--key-delimiter", "=", "--compression", "lz4"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("produced 2000 messages"))
        let read = try await PeerClients.consume(client: "confluent", bootstrap: bootstrap, topic: topic, count: lines.count)
        let got = read.compactMap { rec -> String? in
            guard let k = rec["key"] as? String, let v = rec["value"] as? String else { return nil }
            // peer_consume prints bytes as latin-1; undo that to compare UTF-8 text.
            return String(decoding: Array(k.unicodeScalars.map { UInt8($0.value) }), as: UTF8.self) + "=" + String(decoding: Array(v.unicodeScalars.map { UInt8($0.value) }), as: UTF8.self)
        }
        #expect(got == lines)
    }

    /// With room for one message, nearly every line goes through `send` (enqueue says the queue
    /// is full): each still counts once in the summary. Before, a `send`'s message got neither
    /// a success nor a failure ("produced 4999999" of 5,000,000, all in the log).
    @Test func everyLineHasOneOutcomeWhenTheQueueIsFull() async throws {
        let bootstrap = IntegrationEnvironment.bootstrap!.split(separator: ",").first.map(String.init)!
        let topic = IntegrationEnvironment.uniqueTopic("kw-cli-full")
        #expect(try await KwireCLITests.kwire(["-b", bootstrap, "topic", "create", topic, "--partitions", "2"]).status == 0)
        let n = 300
        let r = try await Self.kwire(["-b", bootstrap, "produce", topic, "-X", "queue.buffering.max.messages=1"], stdin: (0 ..< n).map { "m\($0)" }.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        let summary = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.hasPrefix("produced \(n) messages") && !summary.contains("failed"), "\(r.stderr.suffix(300))")
        let read = try await PeerClients.consume(client: "confluent", bootstrap: bootstrap, topic: topic, count: n)
        #expect(Set(read.compactMap { $0["value"] as? String }) == Set((0 ..< n).map { "m\($0)" }))
    }

    @Test func failedDeliveryExitsNonZero() async throws {
        let dead = try FakeBroker()
        let address = dead.address
        dead.stop()
        let r = try await Self.kwire(["-b", address, "produce", "t", "-X", "delivery.timeout.ms=500", "-X", "default.api.timeout.ms=500"], stdin: "a\nb\n")
        #expect(r.status != 0)
        #expect(r.stderr.contains("2 messages failed") || r.stderr.contains("failed"))
    }
}

/// `kwire consume --exit-at-end` prints exactly what confluent-kafka produced, for every codec.
@Suite(.enabled(if: KwireCLITests.binary != nil && IntegrationEnvironment.isAvailable && PeerClients.available, "needs kwire, KAFKA_BOOTSTRAP and confluent-kafka"))
struct KwireConsumeTests {
    @Test(arguments: ["none", "gzip", "snappy", "lz4", "zstd"])
    func printsWhatConfluentKafkaProduced(codec: String) async throws {
        let bootstrap = IntegrationEnvironment.bootstrap!.split(separator: ",").first.map(String.init)!
        let topic = IntegrationEnvironment.uniqueTopic("kw-cli-consume")
        #expect(try await KwireCLITests.kwire(["-b", bootstrap, "topic", "create", topic, "--partitions", "1"]).status == 0)
        let n = 300
        let produced = try await PeerClients.run(["/usr/bin/env", "python3", KwireCLITests.root.appendingPathComponent("scripts/peer_produce.py").path,
                                            "--bootstrap", bootstrap, "--topic", topic, "--count", String(n), "--compression", codec])
        #expect(produced.status == 0)
        let r = try await KwireCLITests.kwire(["-b", bootstrap, "consume", topic, "--exit-at-end", "--format", "%o %k|%s|%h\\n"])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = (0 ..< n).map { i -> String in
            let key = i % 10 == 0 ? "" : "k\(i)"
            let value = i % 7 == 0 ? "" : (i % 11 == 0 ? "" : "v\(i)-\(codec)")
            return "\(i) \(key)|\(value)|i=\(i)"
        }
        #expect(r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == expected)
        #expect(r.stderr.contains("consumed \(n) messages"))
    }
}
