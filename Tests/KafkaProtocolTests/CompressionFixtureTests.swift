import Foundation
import Testing
@testable import KafkaProtocol

/// Data compressed by real peers (see Fixtures/compression/README.md): the reference libraries
/// (zlib via Python's gzip, python-snappy, kafka-python's xerial framing, lz4, zstandard) and
/// the compressed payloads of record batches that confluent-kafka (librdkafka) and kafka-python
/// wrote to a broker. Every one must decompress to the bytes the reference decoder produced.
@Suite struct CompressionFixtureTests {
    static let dir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/compression")

    static func load(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    static let libraryBlobs: [(RecordCompression, String)] = [
        (.gzip, "gzip/gzip-level9.gz"),
        (.gzip, "gzip/two-members.gz"),
        (.snappy, "snappy/raw.snappy"),
        (.snappy, "snappy/xerial-kafka-python.snappy"),
        (.lz4, "lz4/independent-64k.lz4"),
        (.lz4, "lz4/linked-256k-checksums-size.lz4"),
        (.lz4, "lz4/hc-level12-4m.lz4"),
        (.lz4, "lz4/kafka-3160-header.lz4"),
        (.zstd, "zstd/level3-with-size.zst"),
        (.zstd, "zstd/level19-no-size-checksum.zst"),
        (.zstd, "zstd/two-frames.zst"),
    ]

    @Test(arguments: libraryBlobs)
    func referenceLibraryOutputDecompresses(codec: RecordCompression, file: String) throws {
        let expected = try Self.load("input.bin")
        let blob = try Self.load(file)
        #expect(try Compression.decompress(codec, blob, maxOutput: expected.count) == expected, "\(file)")
        // The limit is exact: one byte less is too much output.
        #expect(throws: CompressionError.outputTooLarge(codec, limit: expected.count - 1), "\(file)") {
            try Compression.decompress(codec, blob, maxOutput: expected.count - 1)
        }
    }

    static var peerBlobs: [String] {
        let peer = dir.appendingPathComponent("peer")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: peer.path)) ?? []
        return files.filter { $0.hasSuffix(".bin") }.map { String($0.dropLast(4)) }.sorted()
    }

    @Test func everyClientAndCodecHasAPeerFixture() {
        for client in ["librdkafka", "kafka-python"] {
            for codec in compressingCodecs {
                #expect(Self.peerBlobs.contains { $0.hasPrefix(client) && $0.hasSuffix("-\(codec)") }, "\(client) \(codec)")
            }
        }
    }

    /// `peer/<client>-<version>-<codec>.bin` is a record batch's compressed records section as
    /// the client sent it; `.records` is what the reference decoder made of it.
    @Test(arguments: peerBlobs)
    func recordBatchesWrittenByKafkaClientsDecompress(name: String) throws {
        let codecName = String(name.split(separator: "-").last!)
        let codec = try #require(RecordCompression.allCases.first { $0.description == codecName })
        let blob = try Self.load("peer/\(name).bin")
        let records = try Self.load("peer/\(name).records")
        #expect(try Compression.decompress(codec, blob, maxOutput: 1 << 20) == records)
        // Five records of a v2 batch: the first starts with its varint length, attributes 0,
        // and the values carry the client's marker text.
        #expect(String(decoding: records, as: UTF8.self).contains("record 4: kafkawire-compression"))
    }

    /// What the peers wrote, as observed: librdkafka writes raw snappy and zstd frames without
    /// a content size; kafka-python writes xerial snappy. Our decoder must take all of them.
    @Test func peersWriteTheFormsWeClaim() throws {
        let rdSnappy = try Self.load("peer/librdkafka-2.16.0-snappy.bin")
        let kpSnappy = try Self.load("peer/kafka-python-3.0.12-snappy.bin")
        #expect(!rdSnappy.withUnsafeBytes { Snappy.isXerial($0) })
        #expect(kpSnappy.withUnsafeBytes { Snappy.isXerial($0) })
        let rdZstd = try Self.load("peer/librdkafka-2.16.0-zstd.bin")
        // Frame header descriptor: content-size flag (bits 7-6) and single-segment (bit 5) clear.
        #expect(rdZstd[4] & 0b1110_0000 == 0)
        let rdLZ4 = try Self.load("peer/librdkafka-2.16.0-lz4.bin")
        #expect(rdLZ4[4] & 0b0010_0000 != 0, "independent blocks")
    }
}
