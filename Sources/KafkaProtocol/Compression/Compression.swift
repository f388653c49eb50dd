// Record-batch compression: the four codecs Kafka uses, both directions, behind one API.
//
//   codec   wire id  implementation                       what we write
//   gzip    1        system zlib (linked, via the shim)   one gzip member (RFC 1952)
//   snappy  2        pure Swift                           xerial-framed snappy, 32 KiB chunks
//   lz4     3        pure Swift (+ xxHash32)              LZ4 frame, independent 64 KiB blocks
//   zstd    4        system libzstd, dlopen'ed at run time one zstd frame
//
// Decompression accepts what every real peer writes: multi-member gzip; raw snappy (librdkafka)
// and xerial snappy (Java client, kafka-python), told apart by the xerial magic; LZ4 frames with
// any block size, linked or independent blocks, optional checksums (verified when present),
// concatenated and skippable frames; zstd frames with or without a content size (librdkafka
// omits it), concatenated.
//
// Hostile input never traps and never makes us allocate more than `maxOutput` (+1) bytes of
// output: every length is checked before it is used, and sizes announced by the input are
// checked against the limit before allocating. zstd's own window buffer is capped by libzstd's
// `windowLogMax` (2^27 bytes, set explicitly).

/// Why compressing or decompressing failed.
public enum CompressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The codec's system library could not be loaded (zstd: `libzstd.so.1` missing or lacking
    /// a function). Every other codec still works.
    case unavailable(RecordCompression, reason: String)
    /// The input is not valid data for the codec (truncated, bad magic, bad checksum, an
    /// out-of-range offset…). `detail` says what and where.
    case corrupt(RecordCompression, detail: String)
    /// Decompressing would produce more than `limit` bytes.
    case outputTooLarge(RecordCompression, limit: Int)
    /// The compression level is outside what the codec accepts.
    case invalidLevel(RecordCompression, level: Int, valid: ClosedRange<Int>)
    /// The codec's library failed for a reason other than the input (out of memory, or an
    /// internal error).
    case failed(RecordCompression, detail: String)

    /// The codec involved.
    public var codec: RecordCompression {
        switch self {
        case let .unavailable(c, _), let .corrupt(c, _), let .outputTooLarge(c, _), let .invalidLevel(c, _, _),
             let .failed(c, _):
            return c
        }
    }

    public var description: String {
        switch self {
        case let .unavailable(c, reason): return "\(c) compression is unavailable: \(reason)"
        case let .corrupt(c, detail): return "corrupt \(c) data: \(detail)"
        case let .outputTooLarge(c, limit): return "\(c) data decompresses to more than \(limit) bytes"
        case let .invalidLevel(c, level, valid):
            return "\(c) compression level \(level) is outside \(valid.lowerBound)...\(valid.upperBound)"
        case let .failed(c, detail): return "\(c) compression failed: \(detail)"
        }
    }
}

/// Compresses and decompresses record-batch payloads.
///
/// ```swift
/// let packed = try Compression.compress(.lz4, records)
/// let records = try Compression.decompress(.lz4, packed, maxOutput: 64 << 20)
/// ```
public enum Compression {
    /// Compresses `input` with `codec` at `level` (nil: the codec's default).
    ///
    /// Levels: gzip -1...9 (default -1 = zlib's 6); lz4 1...17 as in Kafka's
    /// `compression.lz4.level` (1–2: the fast compressor; 3 and up: a hash-chain search that
    /// tries harder as the level rises; default 1, like librdkafka); zstd as libzstd allows
    /// (default 3, like Kafka); snappy has no levels and ignores `level`. `.none` returns the input.
    /// - Parameters:
    ///   - codec: The codec.
    ///   - input: The bytes to compress.
    ///   - level: The codec's level; nil for its default.
    /// - Returns: The compressed bytes (in the format Kafka stores for the codec).
    /// - Throws: `CompressionError` naming the codec and what failed.
    public static func compress(_ codec: RecordCompression, _ input: [UInt8], level: Int? = nil) throws(CompressionError) -> [UInt8] {
        try compress(codec, input, level: level, zstd: ZstdLibrary.system)
    }

    /// Decompresses `input` into at most `maxOutput` bytes; more is `.outputTooLarge`.
    /// - Parameters:
    ///   - codec: The codec.
    ///   - input: The compressed bytes.
    ///   - maxOutput: The most bytes the output may have.
    /// - Returns: The decompressed bytes.
    /// - Throws: `CompressionError` naming the codec and what failed, or `.outputTooLarge`.
    public static func decompress(_ codec: RecordCompression, _ input: [UInt8], maxOutput: Int) throws(CompressionError) -> [UInt8] {
        try decompress(codec, input, maxOutput: maxOutput, zstd: ZstdLibrary.system)
    }

    /// Decompresses the bytes of `input` (e.g. the tail of a record batch, without copying it).
    /// - Parameters:
    ///   - codec: The codec.
    ///   - input: The compressed bytes.
    ///   - maxOutput: The most bytes the output may have.
    /// - Returns: The decompressed bytes.
    /// - Throws: `CompressionError` naming the codec and what failed, or `.outputTooLarge`.
    public static func decompress(_ codec: RecordCompression, _ input: ArraySlice<UInt8>, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        try withBytes(input) { (raw) throws(CompressionError) in
            try decompress(codec, raw, maxOutput: maxOutput, zstd: ZstdLibrary.system)
        }
    }

    /// Decompresses the bytes in `input` (valid for the duration of the call).
    /// - Parameters:
    ///   - codec: The codec.
    ///   - input: The compressed bytes.
    ///   - maxOutput: The most bytes the output may have.
    /// - Returns: The decompressed bytes.
    /// - Throws: `CompressionError` naming the codec and what failed, or `.outputTooLarge`.
    public static func decompress(_ codec: RecordCompression, _ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        try decompress(codec, input, maxOutput: maxOutput, zstd: ZstdLibrary.system)
    }

    // MARK: - For the record layer

    /// A `RecordCodecFunction` that compresses a batch's records section at `level` (nil: the
    /// codec's default), for `RecordBatchBuilder.build(compress:)`.
    /// - Parameter level: The codec's level; nil for its default.
    /// - Returns: The compressor.
    public static func recordCompressor(level: Int? = nil) -> RecordCodecFunction {
        { codec, records in try compress(codec, records, level: level) }
    }

    /// A `RecordCodecFunction` that decompresses a batch's records section into at most
    /// `maxOutput` bytes, for `RecordBatch.records(decompress:)`.
    /// - Parameter maxOutput: The most bytes one batch's records may inflate to.
    /// - Returns: The decompressor.
    public static func recordDecompressor(maxOutput: Int) -> RecordCodecFunction {
        { codec, records in try decompress(codec, records, maxOutput: maxOutput) }
    }

    // MARK: - With an explicit zstd library (tests inject a failing loader)

    static func compress(
        _ codec: RecordCompression, _ input: [UInt8], level: Int?, zstd: Result<ZstdLibrary, CompressionError>
    ) throws(CompressionError) -> [UInt8] {
        switch codec {
        case .none: return input
        case .gzip: return try Gzip.compress(input, level: level)
        case .snappy: return Snappy.compressXerial(input)
        case .lz4: return try LZ4Frame.compress(input, level: level)
        case .zstd: return try zstd.get().compress(input, level: level)
        }
    }

    static func decompress(
        _ codec: RecordCompression, _ input: [UInt8], maxOutput: Int, zstd: Result<ZstdLibrary, CompressionError>
    ) throws(CompressionError) -> [UInt8] {
        try withBytes(input[...]) { (raw) throws(CompressionError) in
            try decompress(codec, raw, maxOutput: maxOutput, zstd: zstd)
        }
    }

    static func decompress(
        _ codec: RecordCompression, _ input: UnsafeRawBufferPointer, maxOutput: Int, zstd: Result<ZstdLibrary, CompressionError>
    ) throws(CompressionError) -> [UInt8] {
        // Clamped so that `limit + 1` (how OutputBuffer notices "too large") and the buffer's
        // doubling can never overflow: `maxOutput: .max` means "no limit", not a trap.
        let limit = min(max(0, maxOutput), Int.max >> 2)
        switch codec {
        case .none:
            guard input.count <= limit else { throw .outputTooLarge(.none, limit: limit) }
            return [UInt8](input)
        case .gzip: return try Gzip.decompress(input, maxOutput: limit)
        case .snappy: return try Snappy.decompress(input, maxOutput: limit)
        case .lz4: return try LZ4Frame.decompress(input, maxOutput: limit)
        case .zstd: return try zstd.get().decompress(input, maxOutput: limit)
        }
    }

    /// `body` over the bytes of `slice`, keeping the typed error.
    static func withBytes<R>(
        _ slice: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) throws(CompressionError) -> R
    ) throws(CompressionError) -> R {
        let result: Result<R, CompressionError> = slice.withUnsafeBytes { raw in
            do throws(CompressionError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
