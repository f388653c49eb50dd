import Foundation
import Testing

/// What `import KafkaClient` puts into a user's namespace: the client API, not the lower
/// layers' plumbing (whose names — `EventLoop`, `Connection`, `SHA256`, `HMAC`, `Record` —
/// clash with SwiftNIO and swift-crypto). Type-checks small files with the toolchain's
/// `swiftc` against the modules this test run was built with.
@Suite struct NamespaceTests {
    /// Names public in KafkaProtocol or KafkaNet that `import KafkaClient` must not show.
    static let hidden = [
        "EventLoop", "Connection", "SHA256", "SHA512", "HMAC", "PBKDF2", "BrokerLink", "BrokerConnection", "Backoff",
        "Record", "RecordBatch", "RecordBatchBuilder", "Compression", "CRC32C", "ByteWriter", "ByteReader",
        "ProduceRequest", "FetchResponse", "WireEncoder", "FrameDecoder", "SystemCallError",
    ]

    /// The client API by name, as a user writes it with `import KafkaClient` alone.
    static let control = """
        import KafkaClient
        func use(_ e: KafkaError, _ c: KafkaErrorCode, _ k: ApiKey?, _ h: RecordHeader, _ t: TimestampType,
                 _ z: RecordCompression, _ u: KafkaUUID?, _ s: ConsumerProtocolSubscription?, _ a: ConsumerProtocolAssignment?,
                 _ tls: TLSConfiguration, _ m: SaslMechanism, _ o: OAuthBearerToken?, _ acks: ProducerConfig.Acks,
                 _ tp: TopicPartition, _ p: Partitioner, _ x: any PartitionAssignor, _ r: ProducerRecord, _ cr: ConsumerRecord,
                 _ cc: ClientConfig, _ pc: ProducerConfig, _ kc: ConsumerConfig, _ ev: RebalanceEvent) -> Bool {
            e.code == .topicAlreadyExists || c.isRetriable || z == .zstd || m == .scramSHA512 || acks == .all
        }
        func clients(_ p: KafkaProducer, _ c: KafkaConsumer, _ a: KafkaAdminClient) {}
        """

    /// The build directory holding `Modules/` (the test binary lives in it), and the C shims'
    /// module maps the Swift modules refer to.
    static func compilerArguments() throws -> [String] {
        let binary = try #require(try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        var dir = URL(fileURLWithPath: binary).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Modules/KafkaClient.swiftmodule").path) {
            let parent = dir.deletingLastPathComponent()
            try #require(parent.path != dir.path, "no Modules/KafkaClient.swiftmodule above \(binary)")
            dir = parent
        }
        var args = ["-typecheck", "-swift-version", "6", "-I", dir.appendingPathComponent("Modules").path]
        for shim in ["CKafkaCompressionShims", "CKafkaNetShims"] {
            args += ["-Xcc", "-fmodule-map-file=" + dir.appendingPathComponent("\(shim).build/module.modulemap").path]
        }
        return args
    }

    /// Type-checks `source`; the exit status and the diagnostics.
    static func typecheck(_ source: String) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kwire-namespace-\(UUID().uuidString).swift")
        try source.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swiftc"] + (try compilerArguments()) + [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func theClientAPITypeChecksWithImportKafkaClientAlone() throws {
        let result = try Self.typecheck(Self.control)
        #expect(result.status == 0, "\(result.output)")
    }

    /// One file naming every hidden type: each must be reported as not found.
    @Test func importKafkaClientDoesNotShowTheLowerLayersTypes() throws {
        let source = "import KafkaClient\n" + Self.hidden.enumerated().map { "typealias Probe\($0.offset) = \($0.element)" }.joined(separator: "\n") + "\n"
        let result = try Self.typecheck(source)
        #expect(result.status != 0, "every probe type-checked: the lower modules are visible through KafkaClient")
        for name in Self.hidden {
            #expect(result.output.contains("cannot find type '\(name)' in scope"), "'\(name)' is visible with `import KafkaClient`:\n\(result.output)")
        }
    }

    /// The lower modules stay importable on their own for those who want them.
    @Test func theLowerModulesCanStillBeImported() throws {
        let result = try Self.typecheck("""
            import KafkaNet
            import KafkaProtocol
            typealias A = EventLoop
            typealias B = RecordBatchBuilder
            typealias C = SHA256
            """)
        #expect(result.status == 0, "\(result.output)")
    }
}
