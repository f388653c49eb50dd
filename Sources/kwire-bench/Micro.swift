import KafkaProtocol
import KafkaTestSupport

/// `kwire-bench micro`: hot-path micro-benchmarks, one JSON line per measurement.
///
/// Each measurement repeats its operation until at least `minDuration` has passed (after one
/// warm-up round) and reports throughput. Run in release mode (`swift run -c release
/// kwire-bench micro`); debug numbers mean nothing.
enum Micro {
    struct Options {
        var minDuration: Duration = .milliseconds(700)
        var only: Set<String> = []
    }

    /// Times `body` (which returns the amount of work it did) until `minDuration` has passed.
    static func measure(_ minDuration: Duration, _ body: () throws -> Int) rethrows -> (work: Int, seconds: Double) {
        _ = try body()
        let clock = ContinuousClock()
        let start = clock.now
        var work = 0
        repeat { work += try body() } while clock.now - start < minDuration
        let elapsed = clock.now - start
        return (work, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func emit(_ pairs: [(String, JSONValue)]) {
        print(JSONValue.object(pairs).serialized())
    }

    static func round(_ x: Double, _ digits: Int = 2) -> Double {
        var p = 1.0
        for _ in 0 ..< digits { p *= 10 }
        return (x * p).rounded() / p
    }

    /// 100-byte values that look like application data (JSON-ish, partly repetitive), so the
    /// codecs see realistic input rather than all zeros or pure noise.
    static func values(count: Int) -> [[UInt8]] {
        var rng = SplitMix64(seed: 42)
        return (0 ..< count).map { i in
            var s = "{\"id\":\(i),\"user\":\"u\(rng.next() % 10000)\",\"event\":\"click\",\"v\":\(rng.next() % 1_000_000)"
            while s.utf8.count < 99 { s += String(UnicodeScalar(UInt8(97 + rng.next() % 26))) }
            return Array(s.utf8.prefix(99)) + [UInt8(ascii: "}")]
        }
    }

    static func buildBatch(_ values: [[UInt8]], compression: RecordCompression = .none) throws -> [UInt8] {
        var b = RecordBatchBuilder(compression: compression, capacity: values.count * 112 + 128)
        let ts: Int64 = 1_700_000_000_000
        for (i, v) in values.enumerated() { try b.append(timestamp: ts + Int64(i), key: nil, value: v) }
        return try b.build(compress: Compression.recordCompressor())
    }

    static func run(_ o: Options) throws {
        func wanted(_ name: String) -> Bool { o.only.isEmpty || o.only.contains(where: { name.hasPrefix($0) }) }

        if wanted("crc32c") {
            var rng = SplitMix64(seed: 7)
            let buf = (0 ..< (1 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var sink: UInt32 = 0
            let (bytes, s) = measure(o.minDuration) { sink ^= CRC32C.checksum(buf); return buf.count }
            emit([("bench", .string("crc32c")), ("buffer_bytes", .int(Int64(buf.count))), ("gb_per_s", .double(round(Double(bytes) / s / 1e9))), ("sink", .int(Int64(sink & 1)))])
        }

        let values = values(count: 1000)
        if wanted("batch_encode") {
            let (records, s) = try measure(o.minDuration) { _ = try buildBatch(values); return values.count }
            emit([("bench", .string("batch_encode")), ("record_bytes", .int(100)), ("records_per_batch", .int(1000)), ("compression", .string("none")),
                  ("records_per_s", .int(Int64(Double(records) / s))), ("ns_per_record", .double(round(s / Double(records) * 1e9, 1)))])
        }
        let batch = try buildBatch(values)
        if wanted("batch_decode") {
            let (records, s) = try measure(o.minDuration) {
                let b = try RecordBatch(batch)
                return try b.decodeRecords().count
            }
            emit([("bench", .string("batch_decode")), ("record_bytes", .int(100)), ("records_per_batch", .int(1000)), ("compression", .string("none")), ("verify_crc", .bool(true)),
                  ("records_per_s", .int(Int64(Double(records) / s))), ("ns_per_record", .double(round(s / Double(records) * 1e9, 1)))])
            let (lazyRecords, s2) = try measure(o.minDuration) {
                var reader = try RecordBatch(batch).records()
                var n = 0
                while let r = try reader.next() { n += r.value == nil ? 0 : 1 }
                return n
            }
            emit([("bench", .string("batch_decode_lazy")), ("record_bytes", .int(100)), ("records_per_batch", .int(1000)), ("compression", .string("none")), ("verify_crc", .bool(true)),
                  ("records_per_s", .int(Int64(Double(lazyRecords) / s2))), ("ns_per_record", .double(round(s2 / Double(lazyRecords) * 1e9, 1)))])
        }

        // Codecs on the record section of the batch above (what a producer compresses).
        let payload = Array(batch[RecordBatch.headerSize...])
        for codec in [RecordCompression.gzip, .snappy, .lz4, .zstd] where wanted("codec") || wanted("codec_\(codec)") {
            do {
                let compressed = try Compression.compress(codec, payload)
                let (inBytes, s1) = try measure(o.minDuration) { _ = try Compression.compress(codec, payload); return payload.count }
                let (outBytes, s2) = try measure(o.minDuration) { try Compression.decompress(codec, compressed, maxOutput: payload.count * 2).count }
                emit([("bench", .string("codec_\(codec)")), ("input_bytes", .int(Int64(payload.count))), ("ratio", .double(round(Double(payload.count) / Double(compressed.count)))),
                      ("compress_mb_per_s", .double(round(Double(inBytes) / s1 / 1e6, 1))), ("decompress_mb_per_s", .double(round(Double(outBytes) / s2 / 1e6, 1)))])
            } catch {
                emit([("bench", .string("codec_\(codec)")), ("error", .string("\(error)"))])
            }
        }
    }
}

