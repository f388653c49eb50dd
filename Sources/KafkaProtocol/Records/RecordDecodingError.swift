/// Record batches or legacy messages could not be decoded.
///
/// `offset` is the byte offset of the failing read from the start of the buffer being walked
/// (a partition's `records` bytes; for compressed batches, the decompressed records section),
/// `path` names what was being read (`batch[2].records[5].headers[0].key`). Decoding never traps
/// and never allocates from an unchecked length; every failure ends up here.
public struct RecordDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public enum Reason: Sendable, Equatable {
        /// A field needed more bytes than its record or batch had left.
        case truncated(needed: Int, remaining: Int)
        /// A length or count was negative (other than a null marker) or larger than what is left.
        case invalidLength(Int64)
        /// A varint ran past its maximum width (5 bytes; 10 for varlongs).
        case malformedVarint
        /// A header key was not valid UTF-8.
        case invalidUTF8
        /// The stored checksum does not match the bytes (corruption).
        case crcMismatch(stored: UInt32, computed: UInt32)
        /// A magic byte other than 0, 1 or 2.
        case unsupportedMagic(Int8)
        /// The codec bits hold an unassigned value (5–7).
        case unknownCompressionCodec(Int16)
        /// The batch is compressed and no decompressor was given.
        case unsupportedCompression(RecordCompression)
        /// The decompressor failed (its error, described).
        case decompressionFailed(RecordCompression, String)
        /// The batch would inflate past what is left of a shared `DecompressionBudget` (e.g. one
        /// fetch response's): the batch itself may be fine; decode it later with a fresh budget.
        case decompressionBudgetExhausted(remaining: Int)
        /// Bytes were left over after the declared records.
        case trailingBytes(Int)
        /// Anything else, described in words.
        case invalid(String)
    }

    /// What was being read, e.g. `batch[2].records[5].key`.
    public var path: String
    /// The byte offset of the failing read.
    public var offset: Int
    /// What was wrong.
    public var reason: Reason

    /// An error.
    /// - Parameters:
    ///   - path: What was being read.
    ///   - offset: The byte offset.
    ///   - reason: What was wrong.
    public init(path: String, offset: Int, reason: Reason) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    /// A copy whose path is prefixed by `component`.
    func prefixed(_ component: String) -> RecordDecodingError {
        var copy = self
        copy.path = path.isEmpty ? component : component + "." + path
        return copy
    }

    public var description: String {
        let what: String
        switch reason {
        case let .truncated(needed, remaining): what = "needed \(needed) bytes, \(remaining) left"
        case let .invalidLength(n): what = "invalid length \(n)"
        case .malformedVarint: what = "malformed varint"
        case .invalidUTF8: what = "invalid UTF-8"
        case let .crcMismatch(stored, computed): what = "CRC mismatch: stored 0x\(hex32(stored)), computed 0x\(hex32(computed))"
        case let .unsupportedMagic(m): what = "unsupported magic \(m)"
        case let .unknownCompressionCodec(c): what = "unknown compression codec \(c)"
        case let .unsupportedCompression(c): what = "unsupported compression \(c) (no decompressor)"
        case let .decompressionFailed(c, e): what = "\(c) decompression failed: \(e)"
        case let .decompressionBudgetExhausted(left): what = "the decompression budget is spent (\(left) bytes left)"
        case let .trailingBytes(n): what = "\(n) bytes after the last record"
        case let .invalid(s): what = s
        }
        return "\(path.isEmpty ? "<records>" : path) at offset \(offset): \(what)"
    }
}

/// Record batches could not be built.
public struct RecordEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public enum Reason: Sendable, Equatable {
        /// The batch asks for compression and no compressor was given.
        case unsupportedCompression(RecordCompression)
        /// The compressor failed (its error, described).
        case compressionFailed(RecordCompression, String)
        /// The batch would exceed what its int32 length (or a record's varint length) can say.
        case tooLarge(Int)
    }

    /// What was wrong.
    public var reason: Reason
    /// An error.
    /// - Parameter reason: What was wrong.
    public init(reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case let .unsupportedCompression(c): return "unsupported compression \(c) (no compressor)"
        case let .compressionFailed(c, e): return "\(c) compression failed: \(e)"
        case let .tooLarge(n): return "record batch too large (\(n) bytes)"
        }
    }
}

/// Eight lower-case hex digits.
func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
