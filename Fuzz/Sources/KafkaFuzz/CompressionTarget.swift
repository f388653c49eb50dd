@testable import KafkaProtocol

/// Every decompressor on hostile input, and compress → decompress round trips.
///
/// Input: byte 0 picks the operation (mod 12): 0 gzip, 1 snappy raw, 2 snappy xerial,
/// 3 lz4 frame, 4 zstd, 5 snappy auto-detect — each decompressing the rest into at most 1 MiB;
/// 6...11 the same codecs' round trip: the rest (as data) is compressed and must decompress
/// to itself (byte 1 picks a level for gzip, lz4 and zstd). Decompressors may only throw.
enum CompressionTarget {
    static let limit = 1 << 20

    @Sendable static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let op = Int(input.byte()) % 12
        if op < 6 {
            let payload = input.rest()
            payload.withUnsafeBytes { raw in
                let out: [UInt8]?
                switch op {
                case 0: out = try? Compression.decompress(.gzip, raw, maxOutput: limit)
                case 1: out = try? Snappy.decompressRaw(raw, maxOutput: limit)
                case 2: out = try? Snappy.decompressXerial(raw, maxOutput: limit)
                case 3: out = try? Compression.decompress(.lz4, raw, maxOutput: limit)
                case 4: out = try? Compression.decompress(.zstd, raw, maxOutput: limit)
                default: out = try? Compression.decompress(.snappy, raw, maxOutput: limit)
                }
                if let out, out.count > limit { finding("decompressor \(op) returned \(out.count) bytes, over its limit \(limit)") }
            }
        } else {
            let levelByte = input.byte()
            let plain = input.rest()
            let codec: RecordCompression
            var level: Int?
            switch op - 6 {
            case 0: codec = .gzip; level = Int(levelByte % 11) - 1
            case 1, 2, 5: codec = .snappy
            case 3: codec = .lz4; level = Int(levelByte % 17) + 1
            default: codec = .zstd; level = Int(levelByte % 10) + 1
            }
            let packed: [UInt8]
            if op - 6 == 1 {
                packed = Snappy.compressRaw(plain)
                let back = packed.withUnsafeBytes { try? Snappy.decompressRaw($0, maxOutput: plain.count) }
                if back != plain { finding("snappy raw round trip of \(plain.count) bytes: \(back.map { "\($0.count) bytes back" } ?? "threw")") }
                return
            }
            do {
                packed = try Compression.compress(codec, plain, level: level)
            } catch {
                finding("\(codec) level \(level.map(String.init) ?? "default") failed to compress \(plain.count) bytes: \(error)")
            }
            let back: [UInt8]
            do {
                back = try Compression.decompress(codec, packed, maxOutput: max(plain.count, 1))
            } catch {
                finding("\(codec) level \(level.map(String.init) ?? "default") round trip of \(plain.count) bytes threw \(error)")
            }
            if back != plain { finding("\(codec) level \(level.map(String.init) ?? "default") round trip of \(plain.count) bytes gave \(back.count) different bytes") }
        }
    }
}
