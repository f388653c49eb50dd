import Foundation
import Testing
import KafkaProtocol
import KafkaTestSupport

/// The attacks from the hardening issue, tried as a new user meets them: the real `kwire`
/// binary against a hostile broker on loopback. Bounds are generous; what they separate is the
/// old behaviour (5.2 GB of RSS, 11 s for one ApiVersions answer) from the new.
@Suite(.serialized, .enabled(if: KwireCLITests.binary != nil, "kwire not built"))
struct HostileBrokerCLITests {
    /// `kwire ARGS` under python's getrusage: (exit status, stdout, peak RSS of the child in MB).
    func kwireMeasured(_ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String, peakMB: Double) {
        let bin = try #require(KwireCLITests.binary)
        let script = """
        import resource, subprocess, sys
        r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sys.stdout.buffer.write(r.stdout)
        sys.stderr.buffer.write(r.stderr)
        sys.stderr.write("\\nPEAK_KB=%d STATUS=%d\\n" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode))
        """
        var env = ProcessInfo.processInfo.environment
        env["KAFKA_BOOTSTRAP"] = nil
        let r = try await runProcess(["python3", "-c", script, bin.path] + args, environment: env, timeout: .seconds(240))
        let err = String(decoding: r.stderr, as: UTF8.self)
        guard let line = err.split(separator: "\n").last(where: { $0.hasPrefix("PEAK_KB=") }) else {
            throw FakeBrokerError("no measurement: \(err.suffix(500))")
        }
        let fields = line.split(separator: " ")
        let kb = Double(fields[0].dropFirst("PEAK_KB=".count)) ?? -1
        let status = Int32(fields[1].dropFirst("STATUS=".count)) ?? -1
        return (status, String(decoding: r.stdout, as: UTF8.self), err, kb / 1024)
    }

    @Test func aFetchOfGzipBombsStaysWithinBoundedMemory() async throws {
        // 40 batches of 4 × 25 MB (100 MB each decompressed, ~100 KB on the wire): one fetch
        // holds ten of them. Before the per-fetch budget kwire consume --count 150 peaked at
        // 5.2 GB; now a fetch inflates to at most 256 MiB and the buffer bound holds.
        var b = RecordBatchBuilder(compression: .gzip)
        let value = [UInt8](repeating: 0, count: 25_000_000)
        for _ in 0 ..< 4 { try b.append(timestamp: 1, key: nil, value: value) }
        let bomb = try b.build(compress: Compression.recordCompressor(level: 1))
        #expect(bomb.count < 1_000_000)
        let cluster = FakeCluster()
        let broker = try cluster.startBroker(nodeId: 1)
        defer { broker.stop() }
        cluster.createTopic("bombs", partitions: 1, leader: 1)
        for _ in 0 ..< 40 { cluster.append("bombs", 0, batch: bomb) }
        let r = try await kwireMeasured(["-b", broker.address, "consume", "bombs", "--count", "150", "--format", "%o\\n", "--from", "beginning"])
        #expect(r.status == 0, "\(r.stderr.suffix(400))")
        let offsets = r.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(offsets == Array(0 ..< 150))
        print("kwire consume of gzip bombs: peak RSS \(Int(r.peakMB)) MB")
        #expect(r.peakMB < 1500, "kwire consume peaked at \(r.peakMB) MB")
    }

    @Test func anApiVersionsAnswerWithAQuarterMillionTaggedFieldsIsReadQuickly() async throws {
        // Before any authentication: 250 k empty tagged fields (~1 MB) took kwire metadata 11 s.
        let broker = try FakeBroker { req, b in
            guard req.header.apiKey == .apiVersions, req.header.apiVersion >= 3 else { return b.defaultAction(req) }
            var r = ApiVersionsResponse()
            r.apiKeys = [(ApiKey.apiVersions, Int16(0), Int16(4)), (.metadata, 0, 12)].map { k, lo, hi in
                var v = ApiVersionsResponse.ApiVersion()
                v.apiKey = k.rawValue
                v.minVersion = lo
                v.maxVersion = hi
                return v
            }
            r.unknownTaggedFields = (0 ..< 250_000).map { TaggedField(tag: UInt32(10 + $0), data: []) }
            return .respond(b.body(r, for: req))
        }
        broker.addTopic("t", partitions: 1)
        defer { broker.stop() }
        let start = ContinuousClock.now
        let r = try await kwireMeasured(["-b", broker.address, "metadata"])
        let took = ContinuousClock.now - start
        #expect(r.status == 0, "\(r.stderr.suffix(400))")
        #expect(r.stdout.contains("t"))
        #expect(took < .seconds(5), "kwire metadata took \(took)")
    }
}
