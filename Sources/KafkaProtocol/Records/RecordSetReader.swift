/// One entry of a record set: a record batch v2, or a legacy message (magic 0/1).
public enum RecordSetEntry: Sendable {
    /// A record batch (magic 2).
    case batch(RecordBatch)
    /// A legacy message (magic 0 or 1), possibly a compressed wrapper.
    case legacy(LegacyMessage)

    /// The offset of the entry's last record (a compressed legacy message carries the offset of
    /// its last inner message).
    public var lastOffset: Int64 {
        switch self {
        case let .batch(b): return b.lastOffset
        case let .legacy(m): return m.offset
        }
    }

    /// The entry's position in the buffer it was read from.
    public var byteRange: Range<Int> {
        switch self {
        case let .batch(b): return b.byteRange
        case let .legacy(m): return m.byteRange
        }
    }

    /// Every record of the entry (decompressing with `decompress` when needed). Control batches
    /// yield their control records as records (see `ControlRecord`).
    /// - Parameter decompress: Decompresses compressed entries; nil fails them.
    /// - Returns: The records.
    /// - Throws: `RecordDecodingError` for malformed or undecompressable records.
    public func records(decompress: RecordCodecFunction? = nil) throws(RecordDecodingError) -> [Record] {
        switch self {
        case let .batch(b): return try b.decodeRecords(decompress: decompress)
        case let .legacy(m): return try m.records(decompress: decompress)
        }
    }
}

/// Walks a `records` buffer (a partition's record set in a Fetch response or Produce request)
/// entry by entry, without copying it.
///
/// Both formats share their first 17 bytes' layout (int64 offset, int32 size, 4 more bytes, int8
/// magic), so one walker reads v2 batches and legacy messages alike. A Fetch response may end in
/// a partial batch (the broker cuts at the byte limit): `next()` then returns nil and
/// `completeBytes` says how far the complete entries went (`partialBytes` the rest). CRCs are
/// checked as each entry is read; a CRC mismatch throws but leaves the walker after the bad
/// entry (its framing is intact), while a broken size field ends the walk.
public struct RecordSetReader: Sendable {
    let storage: [UInt8]
    let verifyCRC: Bool
    /// Offset after the last complete entry read so far.
    public private(set) var completeBytes = 0
    /// Index of the next entry (for error paths).
    public private(set) var entryIndex = 0
    private var broken: RecordDecodingError?

    /// Reads `bytes`; `verifyCRC: false` skips checksums (Kafka's `check.crcs=false`).
    /// - Parameters:
    ///   - bytes: The record set.
    ///   - verifyCRC: Check each entry's checksum.
    public init(_ bytes: [UInt8], verifyCRC: Bool = true) {
        storage = bytes
        self.verifyCRC = verifyCRC
    }

    /// True after a size field was invalid: nothing after it can be framed, `next()` keeps
    /// throwing that error.
    public var isBroken: Bool { broken != nil }

    /// Bytes after the complete entries: a partial trailing entry, once `next()` returned nil.
    public var partialBytes: Int { storage.count - completeBytes }

    /// The next entry, or nil when the rest is empty or only the start of an entry.
    /// - Returns: The next complete entry; nil at the end or before a partial entry.
    /// - Throws: `RecordDecodingError` for a bad CRC (the walk can go on) or a broken size field (it cannot).
    public mutating func next() throws(RecordDecodingError) -> RecordSetEntry? {
        if let broken { throw broken }
        let start = completeBytes
        let left = storage.count - start
        // offset int64 + size int32: the log overhead every entry has.
        guard left >= 12 else { return nil }
        let (size, magic) = storage.withUnsafeBytes { raw -> (Int32, Int8?) in
            let size = Int32(bigEndian: raw.loadUnaligned(fromByteOffset: start + 8, as: Int32.self))
            return (size, left >= 17 ? Int8(bitPattern: raw[start + 16]) : nil)
        }
        guard size >= LegacyMessage.minimumSizeV0 else {
            let e = RecordDecodingError(path: "batch[\(entryIndex)].batch_length", offset: start + 8, reason: .invalidLength(Int64(size)))
            broken = e
            throw e
        }
        guard Int(size) <= left - 12 else { return nil } // partial trailing entry
        guard let magic else { return nil } // unreachable: size >= 14 implies 17 bytes are here
        let range = start ..< start + 12 + Int(size)
        let index = entryIndex
        // The entry's framing is sound: move on whatever its content turns out to be.
        completeBytes = range.upperBound
        entryIndex += 1
        do throws(RecordDecodingError) {
            switch magic {
            case 2:
                guard size >= RecordBatch.minimumBatchLength else {
                    throw RecordDecodingError(path: "batch_length", offset: start + 8, reason: .invalidLength(Int64(size)))
                }
                return .batch(try RecordBatch(parsing: storage, range: range, verifyCRC: verifyCRC))
            case 0, 1:
                guard size >= (magic == 0 ? LegacyMessage.minimumSizeV0 : LegacyMessage.minimumSizeV1) else {
                    throw RecordDecodingError(path: "message_size", offset: start + 8, reason: .invalidLength(Int64(size)))
                }
                return .legacy(try LegacyMessage(parsing: storage, range: range, verifyCRC: verifyCRC))
            default:
                throw RecordDecodingError(path: "magic", offset: start + 16, reason: .unsupportedMagic(magic))
            }
        } catch {
            throw error.prefixed("batch[\(index)]")
        }
    }

    /// Every complete entry and its records, stopping quietly at a partial trailing entry.
    /// Throws on the first bad entry; see `RecordSetReader` to go on past one.
    /// - Parameters:
    ///   - bytes: The record set.
    ///   - verifyCRC: Check each entry's checksum.
    ///   - decompress: Decompresses compressed entries; nil fails them.
    /// - Returns: The records and the bytes the complete entries took.
    /// - Throws: `RecordDecodingError` for the first bad entry.
    public static func readAll(_ bytes: [UInt8], verifyCRC: Bool = true, decompress: RecordCodecFunction? = nil) throws(RecordDecodingError) -> (records: [Record], completeBytes: Int) {
        var reader = RecordSetReader(bytes, verifyCRC: verifyCRC)
        var out: [Record] = []
        while let entry = try reader.next() {
            out.append(contentsOf: try entry.records(decompress: decompress))
        }
        return (out, reader.completeBytes)
    }
}
