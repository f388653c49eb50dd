import Foundation
import Testing
import KafkaProtocol

/// Sessions captured from librdkafka 2.16 and kafka-python 3.0 producing one batch per codec
/// (gzip, snappy, lz4, zstd) and fetching them back from a Tansu broker
/// (`python3 scripts/capture_fixtures.py --session codecs`, see Fixtures/README.md).
///
/// Every frame decodes and re-encodes byte for byte, and every compressed batch in a Produce
/// request or Fetch response decompresses with the real codecs into exactly the records the
/// session produced: 10 per codec, keys `k0`…`k9`, values `codec-<codec>-<i>:` + padding, one
/// header `codec=<codec>`, timestamps 1700000000000 + i.
@Suite struct CodecCaptureTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let codecs: [RecordCompression] = [.gzip, .snappy, .lz4, .zstd]
    static let pad = String(repeating: "kafkawire ", count: 10)
    static var decompress: RecordCodecFunction { Compression.recordDecompressor(maxOutput: 64 << 20) }

    /// The codec capture directories, relative to Fixtures/: `captures-codecs/<client>-codecs`
    /// (where the capture script writes them), and also any `captures/<client>-codecs`, should
    /// they be moved next to the main captures.
    static var directories: [String] {
        var out: [String] = []
        for parent in ["captures-codecs", "captures"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent(parent).path)) ?? []
            out += names.filter { $0.hasSuffix("-codecs") }.sorted().map { "\(parent)/\($0)" }
        }
        return out
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
    static func string(_ b: ArraySlice<UInt8>?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

    /// One partition's `records` bytes from a captured frame.
    struct RecordSet {
        var file: String
        var isFetch: Bool
        var partition: Int32
        var bytes: [UInt8]
    }

    static func recordSets(_ directory: String) throws -> [RecordSet] {
        let dir = fixtures.appendingPathComponent(directory)
        var out: [RecordSet] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            let isProduce = file.contains("-Produce-v") && file.hasSuffix(".request.bin")
            let isFetch = file.contains("-Fetch-v") && file.hasSuffix(".response.bin")
            guard isProduce || isFetch else { continue }
            let frame = try bytes(dir.appendingPathComponent(file))
            var r = ByteReader(frame)
            _ = try r.readInt32("size")
            if isProduce {
                let (_, version) = try FrameDissector.peekRequest(frame)
                _ = try RequestHeader.decode(from: &r, headerVersion: HeaderVersions.request(ProduceRequest.self, version: version))
                let request = try ProduceRequest(decodingAll: &r, version: version)
                for t in request.topicData {
                    for p in t.partitionData { out.append(RecordSet(file: file, isFetch: false, partition: p.index, bytes: p.records ?? [])) }
                }
            } else {
                let request = try bytes(dir.appendingPathComponent(file.replacingOccurrences(of: ".response.bin", with: ".request.bin")))
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

    /// Every batch of every record set, CRC-checked (the reader verifies it; checked again here).
    static func batches(_ sets: [RecordSet]) throws -> [(set: RecordSet, batch: RecordBatch)] {
        var out: [(RecordSet, RecordBatch)] = []
        for s in sets {
            var reader = RecordSetReader(s.bytes)
            while let entry = try reader.next() {
                guard case let .batch(b) = entry else {
                    Issue.record("\(s.file): a legacy message in a v2-only capture")
                    continue
                }
                #expect(b.magic == 2)
                #expect(b.computedCRC == b.crc, "\(s.file): CRC")
                out.append((s, b))
            }
            #expect(reader.partialBytes == 0, "\(s.file) partition \(s.partition): \(reader.partialBytes) trailing bytes")
        }
        return out
    }

    /// The batch holds the session's 10 records for its codec, at offsets baseOffset + i.
    static func checkCodecBatch(_ b: RecordBatch, in file: String) throws -> RecordCompression? {
        guard let codec = b.attributes.compression, codecs.contains(codec) else {
            Issue.record("\(file): batch at \(b.baseOffset) has compression \(b.attributes.compressionCodec), not one of the four codecs")
            return nil
        }
        // Compressed: refused without a decompressor, decoded with the real one.
        let refused = #expect(throws: RecordDecodingError.self) { _ = try b.decodeRecords() }
        #expect(refused?.reason == .unsupportedCompression(codec))
        let records = try b.decodeRecords(decompress: decompress)
        #expect(b.recordCount == 10 && records.count == 10, "\(file) \(codec)")
        #expect(b.lastOffsetDelta == 9)
        #expect(!b.isControl && !b.isTransactional)
        #expect(b.timestampType == .createTime)
        #expect(b.baseTimestamp == 1_700_000_000_000 && b.maxTimestamp == 1_700_000_000_009)
        #expect(b.producerId >= 0 && b.producerEpoch == 0 && b.baseSequence == 0, "\(file) \(codec): idempotent producer, first batch")
        for (i, r) in records.enumerated() {
            #expect(r.offset == b.baseOffset + Int64(i))
            #expect(r.timestamp == 1_700_000_000_000 + Int64(i))
            #expect(string(r.key) == "k\(i)", "\(file) \(codec) #\(i)")
            #expect(string(r.value) == "codec-\(codec)-\(i):\(pad)", "\(file) \(codec) #\(i)")
            #expect(r.headers == [RecordHeader(key: "codec", value: utf8("\(codec)"))], "\(file) \(codec) #\(i)")
        }
        return codec
    }

    @Test func codecCapturesArePresent() {
        let names = Self.directories.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        #expect(names.contains("librdkafka-2.16-codecs"))
        #expect(names.contains("kafka-python-3.0-codecs"))
    }

    /// As CapturedFixtureTests does for Fixtures/captures/: every frame of an API we speak
    /// decodes and re-encodes byte for byte, and the foundation APIs are among them.
    @Test(arguments: directories)
    func everyFrameRoundTrips(directory: String) throws {
        let dir = Self.fixtures.appendingPathComponent(directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".request.bin") }.sorted()
        var verified: [String: Int] = [:]
        var pending: Set<String> = []
        for file in files {
            let request = try Self.bytes(dir.appendingPathComponent(file))
            let (key, version) = try FrameDissector.peekRequest(request)
            guard let api = ApiRegistry.all[key], api.versions.contains(version) else {
                pending.insert("\(key.name) v\(version)")
                continue
            }
            let d = try FrameDissector.dissectRequest(request)
            #expect(d.reencoded == request, "\(directory)/\(file): request re-encoding differs")
            let respURL = dir.appendingPathComponent(String(file.dropLast(".request.bin".count)) + ".response.bin")
            if FileManager.default.fileExists(atPath: respURL.path) {
                let response = try Self.bytes(respURL)
                let d = try FrameDissector.dissectResponse(response, apiKey: key, apiVersion: version)
                #expect(d.reencoded == response, "\(directory)/\(respURL.lastPathComponent): response re-encoding differs")
            }
            verified[key.name, default: 0] += 1
        }
        print("[codecs] \(directory): verified \(verified.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))")
        if !pending.isEmpty { print("[codecs] \(directory): pending (not yet spoken): \(pending.sorted().joined(separator: ", "))") }
        for name in ["ApiVersions", "Metadata", "CreateTopics", "DeleteTopics", "InitProducerId", "Produce", "Fetch"] {
            #expect(verified[name, default: 0] > 0, "\(directory): no \(name) frame verified")
        }
    }

    /// Each codec's producer sent exactly one batch, from offset 0, holding the known records.
    @Test(arguments: directories)
    func producedBatchesDecompress(directory: String) throws {
        let batches = try Self.batches(try Self.recordSets(directory).filter { !$0.isFetch })
        var seen: [RecordCompression] = []
        for (set, b) in batches {
            #expect(set.partition == 0)
            #expect(b.baseOffset == 0, "producers send offsets from 0")
            if let codec = try Self.checkCodecBatch(b, in: set.file) { seen.append(codec) }
        }
        #expect(seen.sorted { $0.rawValue < $1.rawValue } == Self.codecs, "\(directory): one Produce batch per codec")
    }

    /// The Fetch read the four batches back, in produce order, at log offsets 0, 10, 20, 30.
    @Test(arguments: directories)
    func fetchedBatchesDecompress(directory: String) throws {
        let batches = try Self.batches(try Self.recordSets(directory).filter(\.isFetch))
        var seen: [RecordCompression] = []
        var offsets: [Int64] = []
        for (set, b) in batches {
            #expect(set.partition == 0)
            if let codec = try Self.checkCodecBatch(b, in: set.file) {
                seen.append(codec)
                offsets.append(b.baseOffset)
            }
        }
        for codec in Self.codecs { #expect(seen.contains(codec), "\(directory): no fetched \(codec) batch") }
        // Every record was fetched (a refetch would repeat a batch, never skip one).
        let unique = Dictionary(zip(offsets, seen), uniquingKeysWith: { a, _ in a })
        #expect(unique == [0: .gzip, 10: .snappy, 20: .lz4, 30: .zstd], "\(directory): \(unique)")
        print("[codecs] \(directory): fetched \(batches.count) batches: \(zip(offsets, seen).map { "\($0.0):\($0.1)" }.joined(separator: " "))")
    }

    /// The two clients frame their compressed data differently, so the fixtures exercise both
    /// paths of the snappy, lz4 and zstd decoders (see Fixtures/README.md).
    @Test(arguments: directories)
    func codecFramingPerClient(directory: String) throws {
        let librdkafka = directory.contains("librdkafka")
        let batches = try Self.batches(try Self.recordSets(directory).filter { !$0.isFetch })
        for (_, b) in batches {
            let payload = Array(b.bytes.dropFirst(RecordBatch.headerSize))
            guard payload.count > 8 else { Issue.record("short payload"); continue }
            switch b.attributes.compression {
            case .gzip?:
                #expect(payload[0] == 0x1F && payload[1] == 0x8B && payload[2] == 8, "one gzip member, deflate")
            case .snappy?:
                let xerial: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]  // \x82SNAPPY\0
                // librdkafka: one raw snappy block; kafka-python: xerial framing.
                #expect((Array(payload.prefix(8)) == xerial) == !librdkafka, "\(directory): snappy framing")
            case .lz4?:
                #expect(Array(payload.prefix(4)) == [0x04, 0x22, 0x4D, 0x18], "LZ4 frame magic")
                let flg = payload[4]
                #expect(flg & 0x20 != 0, "independent blocks")
                // librdkafka omits the content size, kafka-python (lz4.frame) writes it.
                #expect((flg & 0x08 != 0) == !librdkafka, "\(directory): LZ4 content size flag")
            case .zstd?:
                #expect(Array(payload.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD], "zstd frame magic")
                // librdkafka streams without a content size; kafka-python's one-shot compress
                // writes one (single segment).
                let fhd = payload[4]
                #expect((fhd >> 6 == 0 && fhd & 0x20 == 0) == librdkafka, "\(directory): zstd frame header descriptor 0x\(String(fhd, radix: 16))")
            default:
                Issue.record("unexpected compression \(b.attributes.compressionCodec)")
            }
        }
    }
}
