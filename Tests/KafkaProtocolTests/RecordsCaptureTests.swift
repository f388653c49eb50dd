import Foundation
import Testing
import KafkaProtocol

/// The record batches inside every captured Produce request and Fetch response (librdkafka and
/// kafka-python against Tansu, see Fixtures/README.md) decode with valid CRCs and hold what the
/// capture session produced.
@Suite struct RecordsCaptureTests {
    static let capturesDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/captures")

    static var clients: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: capturesDir.path)) ?? []).sorted()
    }

    /// One partition's `records` bytes from a captured frame.
    struct RecordSet {
        var file: String
        var isFetch: Bool
        var partition: Int32
        var bytes: [UInt8]
    }

    static func recordSets(_ client: String) throws -> [RecordSet] {
        let dir = capturesDir.appendingPathComponent(client)
        var out: [RecordSet] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            let frame = [UInt8](try Data(contentsOf: dir.appendingPathComponent(file)))
            var r = ByteReader(frame)
            _ = try r.readInt32("size")
            if file.contains("-Produce-v"), file.hasSuffix(".request.bin") {
                let (_, version) = try FrameDissector.peekRequest(frame)
                _ = try RequestHeader.decode(from: &r, headerVersion: HeaderVersions.request(ProduceRequest.self, version: version))
                let request = try ProduceRequest(decodingAll: &r, version: version)
                for t in request.topicData {
                    for p in t.partitionData { out.append(RecordSet(file: file, isFetch: false, partition: p.index, bytes: p.records ?? [])) }
                }
            } else if file.contains("-Fetch-v"), file.hasSuffix(".response.bin") {
                let request = [UInt8](try Data(contentsOf: dir.appendingPathComponent(file.replacingOccurrences(of: ".response.bin", with: ".request.bin"))))
                let (_, version) = try FrameDissector.peekRequest(request)
                _ = try ResponseHeader.decode(from: &r, headerVersion: HeaderVersions.response(FetchResponse.self, version: version))
                let response = try FetchResponse(decodingAll: &r, version: version)
                for t in response.responses {
                    for p in t.partitions { out.append(RecordSet(file: file, isFetch: true, partition: p.partitionIndex, bytes: p.records ?? [])) }
                }
            }
        }
        return out
    }

    /// Every batch of every record set, CRC-checked (the reader throws on a mismatch).
    static func batches(_ sets: [RecordSet]) throws -> [(set: RecordSet, batch: RecordBatch)] {
        var out: [(RecordSet, RecordBatch)] = []
        for s in sets {
            var reader = RecordSetReader(s.bytes)
            while let entry = try reader.next() {
                guard case let .batch(b) = entry else {
                    Issue.record("\(s.file): a legacy message in a v2-only capture")
                    continue
                }
                #expect(b.computedCRC == b.crc)
                out.append((s, b))
            }
            #expect(reader.partialBytes == 0, "\(s.file) partition \(s.partition): \(reader.partialBytes) trailing bytes")
        }
        return out
    }

    static func string(_ b: ArraySlice<UInt8>?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

    @Test(arguments: clients)
    func producedBatchesDecode(client: String) throws {
        let sets = try Self.recordSets(client).filter { !$0.isFetch }
        let batches = try Self.batches(sets)
        #expect(!batches.isEmpty)
        var plain: [Record] = []
        var gzip = 0
        for (set, b) in batches {
            #expect(b.magic == 2)
            if b.attributes.compression == .gzip {
                // The 5-record gzip batch: recognised, and refused until a decompressor is given.
                gzip += 1
                #expect(b.recordCount == 5 && set.partition == 0)
                let e = #expect(throws: RecordDecodingError.self) { _ = try b.decodeRecords() }
                #expect(e?.reason == .unsupportedCompression(.gzip))
                continue
            }
            #expect(b.attributes.compression == RecordCompression.none)
            let records = try b.decodeRecords()
            #expect(records.count == Int(b.recordCount))
            #expect(records.last?.offset == b.lastOffset)
            // Producers send offsets from 0.
            #expect(b.baseOffset == 0)
            let keys = records.compactMap { Self.string($0.key) }
            if keys.allSatisfy({ $0.hasPrefix("key-") }) {
                #expect(b.producerId >= 0 && b.baseSequence >= 0, "idempotent producer")
                #expect(!b.isTransactional)
                plain += records
            } else if keys.allSatisfy({ $0.hasPrefix("txn-") }) {
                #expect(b.isTransactional && b.producerId >= 0 && set.partition == 2)
                #expect(keys == ["txn-0", "txn-1"])
                #expect(records.map { Self.string($0.value) } == ["transactional 0", "transactional 1"])
            } else {
                #expect(keys == ["acks0"])
                #expect(records.map { Self.string($0.value) } == ["fire and forget"])
            }
        }
        #expect(gzip == 1)
        try Self.checkPlainRecords(plain, client: client)
    }

    /// The 20 keyed records (Fixtures/README.md): key-NN, "value-NN from <client>" (NN = 07 null),
    /// headers seq=NN and client=<client>, plus an empty "empty" header on every fifth;
    /// timestamps 1700000000000 + NN.
    static func checkPlainRecords(_ records: [Record], client: String) throws {
        let name = client.hasPrefix("librdkafka") ? "librdkafka" : "kafka-python"
        let byKey = Dictionary(records.map { (string($0.key) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(records.count == 20 && byKey.count == 20)
        for i in 0 ..< 20 {
            let nn = i < 10 ? "0\(i)" : "\(i)"
            guard let r = byKey["key-\(nn)"] else { Issue.record("key-\(nn) missing"); continue }
            if i == 7 {
                #expect(r.value == nil, "record 7 has a null value")
            } else {
                #expect(string(r.value) == "value-\(nn) from \(name)")
            }
            #expect(r.timestamp == 1_700_000_000_000 + Int64(i))
            var expected = [RecordHeader(key: "seq", value: utf8(nn)), RecordHeader(key: "client", value: utf8(name))]
            if i % 5 == 0 { expected.append(RecordHeader(key: "empty", value: [])) }
            #expect(r.headers == expected, "key-\(nn)")
            if i % 5 == 0 { #expect(r.headers.last?.value != nil, "empty, not null") }
        }
    }

    @Test(arguments: clients)
    func fetchedBatchesDecode(client: String) throws {
        let sets = try Self.recordSets(client).filter(\.isFetch)
        let batches = try Self.batches(sets)
        var plain: [Record] = []
        var all: [Int32: [Int64]] = [:]
        var gzip = 0
        var control = 0
        for (set, b) in batches {
            if b.attributes.compression == .gzip {
                gzip += 1
                #expect(b.recordCount == 5)
                let e = #expect(throws: RecordDecodingError.self) { _ = try b.decodeRecords() }
                #expect(e?.reason == .unsupportedCompression(.gzip))
                all[set.partition, default: []] += Array(b.baseOffset ... b.lastOffset)
                continue
            }
            let records = try b.decodeRecords()
            #expect(records.count == Int(b.recordCount))
            #expect(records.first?.offset == b.baseOffset && records.last?.offset == b.lastOffset)
            if b.isControl {
                control += 1
                for c in try b.controlRecords() { #expect(c.type == .commit) }
            } else {
                plain += records.filter { Self.string($0.key)?.hasPrefix("key-") == true }
            }
            all[set.partition, default: []] += records.map(\.offset)
        }
        // The consumer read everything once (possibly refetching): the plain records are all there.
        let unique = Dictionary(plain.map { (Self.string($0.key) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        try Self.checkPlainRecords(Array(unique.values), client: client)
        #expect(gzip >= 1)
        // Every partition's log was read from 0 without gaps (control markers take an offset).
        #expect(all.keys.sorted() == [0, 1, 2])
        for (p, offsets) in all {
            let seen = Set(offsets)
            #expect(seen == Set(0 ... (seen.max() ?? 0)), "partition \(p): \(offsets.sorted())")
        }
        #expect(control == 1, "the committed transaction's marker")
        print("[records] \(client): fetched \(batches.count) batches, \(plain.count) plain records, \(gzip) gzip, \(control) control")
    }
}
