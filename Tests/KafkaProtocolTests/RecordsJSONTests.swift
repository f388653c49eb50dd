import Foundation
import Testing
import KafkaProtocol

/// The JSON `kwire decode --records` shows for record sets, and the CLI flag itself.
@Suite struct RecordsJSONTests {
    @Test func describesBatchesRecordsAndProblems() throws {
        var b = RecordBatchBuilder(baseOffset: 10, producerId: 4, producerEpoch: 1, baseSequence: 0)
        try b.append(timestamp: 100, key: utf8("k"), value: [0xFF, 0x00], headers: [RecordHeader(key: "h", value: nil), RecordHeader(key: "e", value: [])])
        let plain = try b.build()
        let gzip = try buildBatch(baseOffset: 11, compression: .gzip, [(5, nil, [1], [])])
        var c = RecordBatchBuilder(baseOffset: 12, isTransactional: true, isControl: true)
        try c.appendControl(type: .abort, coordinatorEpoch: 3, timestamp: 7)
        let control = try c.build()
        let d = RecordSetJSON.describe(plain + gzip + control + Array(plain.prefix(20)))

        #expect(d.entries.count == 3)
        #expect(d.partialBytes == 20)
        #expect(d.errors.map(\.reason) == [.unsupportedCompression(.gzip)])

        let first = d.entries[0]
        #expect(keys(first) == [
            "base_offset", "batch_length", "partition_leader_epoch", "magic", "crc", "attributes", "compression",
            "timestamp_type", "is_transactional", "is_control", "last_offset_delta", "base_timestamp", "max_timestamp",
            "producer_id", "producer_epoch", "base_sequence", "records_count", "records",
        ])
        #expect(first["producer_id"] == .int(4) && first["compression"] == .string("none"))
        #expect(first["crc"] == .string("0x" + String(try RecordBatch(plain).crc, radix: 16).leftPadded(8)))
        let record = try #require(Self.firstItem(first["records"]))
        #expect(record["offset"] == .int(10) && record["timestamp"] == .int(100))
        #expect(record["key"] == .string("k"))
        #expect(record["value"] == .object([("hex", .string("ff00"))]))
        #expect(record["headers"] == .array([
            .object([("key", .string("h")), ("value", .null)]),
            .object([("key", .string("e")), ("value", .string(""))]),
        ]))

        #expect(d.entries[1]["compression"] == .string("gzip"))
        #expect(d.entries[1]["records"] == nil)
        guard case let .string(error)? = d.entries[1]["error"] else { Issue.record("no error"); return }
        #expect(error.contains("unsupported compression gzip"))

        #expect(d.entries[2]["is_control"] == .bool(true))
        #expect(d.entries[2]["control_records"] == .array([.object([
            ("offset", .int(12)), ("timestamp", .int(7)), ("type", .string("ABORT")), ("version", .int(0)), ("coordinator_epoch", .int(3)),
        ])]))
    }

    @Test func aBrokenFrameIsOneErrorEntry() {
        let d = RecordSetJSON.describe(hex("0000000000000000 00000002 0000"))
        #expect(d.entries.count == 1 && d.errors.count == 1)
        #expect(d.entries[0]["error"] != nil)
    }

    static func firstItem(_ v: JSONValue?) -> JSONValue? {
        if case let .array(items)? = v { return items.first }
        return nil
    }

    // MARK: kwire decode --records (runs the built executable when there is one)

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var kwire: URL? {
        ["debug", "release"].map { root.appendingPathComponent(".build/\($0)/kwire") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func run(_ args: [String]) throws -> (status: Int32, stdout: String) {
        struct NotBuilt: Error {}
        guard let binary = Self.kwire else { throw NotBuilt() }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: kwire != nil, "kwire not built"))
    func decodeRecordsFlagAddsRecordBatchesAndNothingElse() throws {
        let file = Self.root.appendingPathComponent("Fixtures/captures/librdkafka-2.16/0015-Produce-v10.request.bin").path
        let plain = try Self.run(["decode", file])
        let withRecords = try Self.run(["decode", "--records", file])
        #expect(plain.status == 0 && withRecords.status == 0)
        #expect(!plain.stdout.contains("record_batches"))
        #expect(withRecords.stdout.contains("\"record_batches\":[{\"base_offset\":0,"))
        #expect(withRecords.stdout.contains("\"key\":\"key-07\",\"value\":null"))
        // Removing the added member gives back exactly the plain output.
        guard let start = withRecords.stdout.range(of: ",\"record_batches\":") else { Issue.record("no record_batches"); return }
        var depth = 0
        var end = start.upperBound
        for i in withRecords.stdout[start.upperBound...].indices {
            let ch = withRecords.stdout[i]
            if ch == "[" || ch == "{" { depth += 1 }
            if ch == "]" || ch == "}" { depth -= 1 }
            if depth == 0 { end = withRecords.stdout.index(after: i); break }
        }
        var stripped = withRecords.stdout
        stripped.removeSubrange(start.lowerBound ..< end)
        #expect(stripped == plain.stdout)
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
