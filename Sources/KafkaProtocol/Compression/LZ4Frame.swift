/// The LZ4 frame format (lz4 `doc/lz4_Frame_format.md`) that Kafka uses for codec 3.
///
///   magic 04 22 4D 18 · FLG · BD · [content size u64 LE] · [dict id u32 LE] · HC
///   blocks: u32 LE size (high bit: stored uncompressed; 0: end mark) · data · [xxh32 of data]
///   [xxh32 of all content]
///
/// FLG: bits 7–6 version (01), 5 independent blocks, 4 block checksums, 3 content size,
/// 2 content checksum, 1 reserved, 0 dictionary id. BD: bits 6–4 block max size (4: 64 KiB,
/// 5: 256 KiB, 6: 1 MiB, 7: 4 MiB). HC = (xxh32(FLG…last descriptor byte) >> 8) & 0xFF.
///
/// We write what Kafka's Java client and librdkafka write: independent 64 KiB blocks, no
/// checksums, no content size (Java's reader refuses linked blocks and dictionary ids).
/// Reading takes every variant (linked blocks, any block size, checksums verified when
/// present), concatenated and skippable frames, and one historical bug: Kafka before 0.10
/// (KAFKA-3160, message format v0/v1) hashed the magic into HC; such a header is accepted too.
enum LZ4Frame {
    static let magic: UInt32 = 0x184D_2204
    static let levels = 1 ... 17
    static let blockSize = 64 * 1024

    // MARK: - Compression

    static func compress(_ input: [UInt8], level: Int?) throws(CompressionError) -> [UInt8] {
        let level = level ?? 1
        guard levels.contains(level) else { throw .invalidLevel(.lz4, level: level, valid: levels) }
        // Levels 1–2: lz4's fast matcher; 3 and up: hash chains, 4 candidates at level 3,
        // doubling per level (as lz4hc's search depth), at most 4096.
        let attempts = level < 3 ? 0 : 1 << min(level - 1, 12)
        var tables = LZ4Block.Tables(hashChain: attempts > 0)

        let flg: UInt8 = 0b0110_0000 // version 01, independent blocks
        let bd: UInt8 = 4 << 4 // 64 KiB blocks
        let hc = UInt8(truncatingIfNeeded: XXHash32.hash([flg, bd]) >> 8)
        var out: [UInt8] = [0x04, 0x22, 0x4D, 0x18, flg, bd, hc]
        let blocks = (input.count + blockSize - 1) / blockSize
        let capacity = out.count + blocks * (4 + LZ4Block.bound(blockSize)) + 4
        out.reserveCapacity(capacity)
        out.append(contentsOf: [UInt8](repeating: 0, count: capacity - out.count))
        var op = 7
        out.withUnsafeMutableBufferPointer { dstBuf in
            input.withUnsafeBufferPointer { srcBuf in
                let dst = dstBuf.baseAddress!
                var pos = 0
                while pos < srcBuf.count {
                    let n = min(blockSize, srcBuf.count - pos)
                    let src = srcBuf.baseAddress! + pos
                    var size = LZ4Block.compress(src, n, into: dst + op + 4, attempts: attempts, tables: &tables)
                    var header = UInt32(size)
                    if size >= n {
                        // Incompressible: store the bytes as they are.
                        (dst + op + 4).update(from: src, count: n)
                        size = n
                        header = UInt32(n) | 0x8000_0000
                    }
                    storeLE32(dst + op, header)
                    op += 4 + size
                    pos += n
                }
                storeLE32(dst + op, 0) // end mark
                op += 4
            }
        }
        out.removeLast(out.count - op)
        return out
    }

    @inline(__always)
    private static func storeLE32(_ p: UnsafeMutablePointer<UInt8>, _ v: UInt32) {
        UnsafeMutableRawPointer(p).storeBytes(of: v.littleEndian, as: UInt32.self)
    }

    // MARK: - Decompression

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        guard input.count > 0 else { throw .corrupt(.lz4, detail: "empty input") }
        var out = OutputBuffer(limit: maxOutput, expected: input.count * 3)
        var pos = 0
        var frames = 0
        while pos < input.count {
            guard input.count - pos >= 4 else { throw .corrupt(.lz4, detail: "truncated magic at byte \(pos)") }
            let magic = CodecBytes.readLE32(input, pos)
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                // Skippable frame: magic, u32 LE size, that many bytes of anything.
                guard input.count - pos >= 8 else { throw .corrupt(.lz4, detail: "truncated skippable frame at byte \(pos)") }
                let size = Int(CodecBytes.readLE32(input, pos + 4))
                guard size <= input.count - pos - 8 else {
                    throw .corrupt(.lz4, detail: "skippable frame at byte \(pos) claims \(size) bytes, \(input.count - pos - 8) left")
                }
                pos += 8 + size
                continue
            }
            guard magic == Self.magic else {
                throw .corrupt(.lz4, detail: "bad magic \(hex32(magic)) at byte \(pos) (expected 0x184d2204)")
            }
            pos = try decodeFrame(input, at: pos, into: &out)
            frames += 1
        }
        if frames == 0 { throw .corrupt(.lz4, detail: "no LZ4 frame, only skippable frames") }
        return out.take()
    }

    private static func hex32(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }

    /// Decodes the frame whose magic is at `start`, appending to `out`; returns the position
    /// after it.
    private static func decodeFrame(_ input: UnsafeRawBufferPointer, at start: Int, into out: inout OutputBuffer) throws(CompressionError) -> Int {
        var pos = start + 4
        guard input.count - pos >= 3 else { throw .corrupt(.lz4, detail: "truncated frame header at byte \(pos)") }
        let flg = input[pos]
        let bd = input[pos + 1]
        guard flg >> 6 == 1 else { throw .corrupt(.lz4, detail: "unsupported frame version \(flg >> 6) at byte \(pos)") }
        guard flg & 0b10 == 0, bd & 0b1000_1111 == 0 else {
            throw .corrupt(.lz4, detail: "reserved bits set in frame descriptor at byte \(pos)")
        }
        let independent = flg & 0b10_0000 != 0
        let blockChecksums = flg & 0b1_0000 != 0
        let hasContentSize = flg & 0b1000 != 0
        let contentChecksum = flg & 0b100 != 0
        let hasDictionary = flg & 0b1 != 0
        let sizeID = Int(bd >> 4)
        guard (4 ... 7).contains(sizeID) else { throw .corrupt(.lz4, detail: "invalid block size id \(sizeID) at byte \(pos + 1)") }
        let blockMax = 1 << (8 + 2 * sizeID)

        let descriptorSize = 2 + (hasContentSize ? 8 : 0) + (hasDictionary ? 4 : 0)
        guard input.count - pos >= descriptorSize + 1 else { throw .corrupt(.lz4, detail: "truncated frame header at byte \(pos)") }
        let descriptor = UnsafeRawBufferPointer(rebasing: input[pos ..< pos + descriptorSize])
        let hc = input[pos + descriptorSize]
        if hc != UInt8(truncatingIfNeeded: XXHash32.hash(descriptor) >> 8) {
            // KAFKA-3160: Kafka 0.8/0.9 hashed from the magic on.
            let withMagic = UnsafeRawBufferPointer(rebasing: input[start ..< pos + descriptorSize])
            guard hc == UInt8(truncatingIfNeeded: XXHash32.hash(withMagic) >> 8) else {
                throw .corrupt(.lz4, detail: "frame header checksum mismatch at byte \(pos + descriptorSize)")
            }
        }
        guard !hasDictionary else { throw .corrupt(.lz4, detail: "frame at byte \(start) needs a dictionary (unsupported)") }
        var contentSize: Int?
        if hasContentSize {
            var size: UInt64 = 0
            for k in 0 ..< 8 { size |= UInt64(input[pos + 2 + k]) << (8 * k) }
            guard size <= UInt64(out.limit - min(out.count, out.limit)) else { throw .outputTooLarge(.lz4, limit: out.limit) }
            contentSize = Int(size)
            // Sized up front, but not beyond what the rest of the input could decode to (a
            // sequence yields at most ~255 bytes per input byte): a lying header costs nothing.
            out.reserve(min(Int(size), (input.count - pos) * 255 + 64))
        }
        pos += descriptorSize + 1

        let frameStart = out.count
        while true {
            guard input.count - pos >= 4 else { throw .corrupt(.lz4, detail: "truncated block header at byte \(pos)") }
            let header = CodecBytes.readLE32(input, pos)
            pos += 4
            if header == 0 { break } // end mark
            let stored = header & 0x8000_0000 != 0
            let size = Int(header & 0x7FFF_FFFF)
            guard size <= blockMax else {
                throw .corrupt(.lz4, detail: "block at byte \(pos - 4) claims \(size) bytes, more than the frame's \(blockMax)")
            }
            guard size + (blockChecksums ? 4 : 0) <= input.count - pos else {
                throw .corrupt(.lz4, detail: "block at byte \(pos - 4) claims \(size) bytes, \(input.count - pos) left")
            }
            let data = UnsafeRawBufferPointer(rebasing: input[pos ..< pos + size])
            if blockChecksums {
                let expected = CodecBytes.readLE32(input, pos + size)
                guard XXHash32.hash(data) == expected else {
                    throw .corrupt(.lz4, detail: "block checksum mismatch for the block at byte \(pos - 4)")
                }
            }
            let blockStart = out.count
            // Room for a whole block, but never past maxOutput + 1.
            let room = min(blockMax, out.limit + 1 - out.count)
            out.reserve(room)
            if stored {
                guard size <= out.free else { throw .outputTooLarge(.lz4, limit: out.limit) }
                out.withFreeSpace { p, _ in UnsafeMutableRawPointer(p).copyMemory(from: data.baseAddress!, byteCount: size) }
                out.count += size
            } else {
                let window = independent ? blockStart : frameStart
                let result: Result<Int, LZ4Block.Failure> = out.withFreeSpace { p, free in
                    // `p` is the first free byte; give the decoder the whole buffer so that
                    // matches can reach back into earlier output.
                    let base = p - blockStart
                    do throws(LZ4Block.Failure) {
                        let capacity = blockStart + min(free, blockMax)
                        return .success(try LZ4Block.decode(data, into: base, start: blockStart, capacity: capacity, windowStart: window))
                    } catch {
                        return .failure(error)
                    }
                }
                switch result {
                case let .success(written):
                    out.count += written
                case .failure(.outputFull):
                    if out.free < blockMax { throw .outputTooLarge(.lz4, limit: out.limit) }
                    throw .corrupt(.lz4, detail: "block at byte \(pos - 4) decodes to more than the frame's \(blockMax)-byte blocks")
                case let .failure(.corrupt(detail)):
                    throw .corrupt(.lz4, detail: "block at byte \(pos - 4): \(detail)")
                }
            }
            if out.overLimit { throw .outputTooLarge(.lz4, limit: out.limit) }
            pos += size + (blockChecksums ? 4 : 0)
        }
        let produced = out.count - frameStart
        if let contentSize, produced != contentSize {
            throw .corrupt(.lz4, detail: "frame at byte \(start) decodes to \(produced) bytes, declares \(contentSize)")
        }
        if contentChecksum {
            guard input.count - pos >= 4 else { throw .corrupt(.lz4, detail: "truncated content checksum at byte \(pos)") }
            let hash = out.storage.withUnsafeBytes { XXHash32.hash(UnsafeRawBufferPointer(rebasing: $0[frameStart ..< frameStart + produced])) }
            guard hash == CodecBytes.readLE32(input, pos) else {
                throw .corrupt(.lz4, detail: "content checksum mismatch for the frame at byte \(start)")
            }
            pos += 4
        }
        return pos
    }
}
