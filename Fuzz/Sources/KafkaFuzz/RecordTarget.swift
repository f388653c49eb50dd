import KafkaProtocol

/// Record-set reading: v2 batches and legacy message sets (magic 0/1), every codec, with and
/// without CRC checks — the path every fetched byte of a partition takes.
///
/// Input: a record set as it sits in a Fetch response. Each input is read twice (CRCs checked
/// and not: mutated bytes nearly always break the CRC, so only the unchecked pass reaches the
/// decompressors and record decoders). Properties, besides "no trap": the walker never goes
/// past the buffer or backwards, the eager and lazy record decoders agree, and a batch whose
/// CRC passes when checked reads the same unchecked.
enum RecordTarget {
    static var decompress: RecordCodecFunction { Compression.recordDecompressor(maxOutput: 4 << 20) }

    @Sendable static func run(_ data: [UInt8]) {
        let checked = walk(data, verifyCRC: true)
        let unchecked = walk(data, verifyCRC: false)
        // A CRC check can only turn entries into errors, never change what a good entry holds.
        for (i, records) in checked where unchecked[i] != nil && unchecked[i]! != records {
            finding("entry \(i): records differ with and without the CRC check")
        }
        _ = RecordSetJSON.describe(data, decompress: decompress)
    }

    /// Entry index → records, for every entry whose records decoded.
    static func walk(_ data: [UInt8], verifyCRC: Bool) -> [Int: [Summary]] {
        var reader = RecordSetReader(data, verifyCRC: verifyCRC)
        var out: [Int: [Summary]] = [:]
        var lastComplete = 0
        for i in 0 ..< 10_000 {
            let entry: RecordSetEntry?
            do {
                entry = try reader.next()
            } catch {
                if reader.isBroken { break }
                continue
            }
            if reader.completeBytes < lastComplete || reader.completeBytes > data.count {
                finding("completeBytes went from \(lastComplete) to \(reader.completeBytes) of \(data.count)")
            }
            lastComplete = reader.completeBytes
            guard let entry else { break }
            let range = entry.byteRange
            if range.lowerBound < 0 || range.upperBound > data.count { finding("entry range \(range) outside 0..<\(data.count)") }
            guard let records = try? entry.records(decompress: decompress) else { continue }
            let eager = records.map(Summary.init)
            if case let .batch(b) = entry {
                // The lazy reader must yield the same records as the eager one.
                if var lazy = try? b.records(decompress: decompress) {
                    var lazyRecords: [Summary] = []
                    while let r = try? lazy.next() { lazyRecords.append(Summary(r)) }
                    if lazyRecords != eager { finding("batch \(i): lazy reader yields \(lazyRecords.count) records, eager \(eager.count), or different ones") }
                }
                _ = try? b.controlRecords(decompress: decompress)
            }
            out[i] = eager
        }
        return out
    }

    struct Summary: Equatable {
        var offset: Int64
        var timestamp: Int64
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [RecordHeader]

        init(_ r: Record) {
            offset = r.offset
            timestamp = r.timestamp
            key = r.key.map(Array.init)
            value = r.value.map(Array.init)
            headers = r.headers
        }
    }
}
