/// Snappy, pure Swift: the raw block format and the xerial framing Java clients use.
///
/// Raw block (google/snappy `format_description.txt`): a varint with the uncompressed length,
/// then elements, each a tag byte whose low two bits say what follows:
///   00 literal: length-1 in the upper 6 bits, or 60…63 = that length-1 follows in 1…4 LE bytes
///   01 copy, length 4…11 in bits 2–4, 11-bit offset (bits 5–7 + one byte)
///   10 copy, length 1…64 in bits 2–7, 16-bit LE offset
///   11 copy, length 1…64 in bits 2–7, 32-bit LE offset
///
/// xerial framing (snappy-java's `SnappyOutputStream`, written by Kafka's Java client and by
/// kafka-python): the 8-byte magic `82 'SNAPPY' 00`, int32 BE version and compatible version
/// (both 1), then chunks of [int32 BE length, raw snappy block] of up to 32 KiB of input each.
/// librdkafka writes raw snappy, and reads both; so do kafka-python and the Java client (whose
/// `SnappyInputStream` falls back to raw when the magic is absent). We write xerial — what the
/// reference client writes and every reader accepts — and read both, telling them apart by the
/// magic.
enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16
    /// Input bytes per xerial chunk, as snappy-java's default block size.
    static let xerialChunkSize = 32 * 1024

    // MARK: - Decompression

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        if isXerial(input) { return try decompressXerial(input, maxOutput: maxOutput) }
        return try decompressRaw(input, maxOutput: maxOutput)
    }

    /// Whether `input` starts with the xerial magic. No raw block can: after its length varint
    /// (0x82 0x53) would come the tag 0x4E, a copy, and a block cannot start with a copy.
    static func isXerial(_ input: UnsafeRawBufferPointer) -> Bool {
        input.count >= xerialMagic.count && input.prefix(xerialMagic.count).elementsEqual(xerialMagic)
    }

    /// One raw snappy block.
    static func decompressRaw(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        let (length, headerSize) = try readLength(input, at: 0)
        let body = UnsafeRawBufferPointer(rebasing: input[headerSize...])
        try checkExpansion(length, body: body.count, at: 0)
        guard length <= maxOutput else { throw .outputTooLarge(.snappy, limit: maxOutput) }
        var failure: CompressionError?
        let out = [UInt8](unsafeUninitializedCapacity: length) { dst, initialized in
            do throws(CompressionError) {
                try decodeBlock(body, into: dst.baseAddress, count: length, blockStart: headerSize)
                initialized = length
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return out
    }

    /// xerial framing: the sizes of all chunks are read first, so the output is allocated once
    /// and checked against `maxOutput` before any decoding.
    static func decompressXerial(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        guard input.count >= xerialHeaderSize else {
            throw .corrupt(.snappy, detail: "xerial header truncated (\(input.count) of 16 bytes)")
        }
        var chunks: [(start: Int, end: Int, body: Int, length: Int)] = []
        var total = 0
        var pos = xerialHeaderSize
        while pos < input.count {
            guard input.count - pos >= 4 else {
                throw .corrupt(.snappy, detail: "xerial chunk length at byte \(pos) truncated")
            }
            let size = Int(CodecBytes.readBE32(input, pos))
            let start = pos + 4
            guard size <= input.count - start else {
                throw .corrupt(.snappy, detail: "xerial chunk at byte \(pos) claims \(size) bytes, \(input.count - start) left")
            }
            pos = start + size
            if size == 0 { continue }
            let chunk = UnsafeRawBufferPointer(rebasing: input[start ..< pos])
            let (length, header) = try readLength(chunk, at: start)
            try checkExpansion(length, body: size - header, at: start)
            total += length
            guard total <= maxOutput else { throw .outputTooLarge(.snappy, limit: maxOutput) }
            chunks.append((start, pos, start + header, length))
        }
        var failure: CompressionError?
        let out = [UInt8](unsafeUninitializedCapacity: total) { dst, initialized in
            initialized = 0
            var written = 0
            for chunk in chunks {
                do throws(CompressionError) {
                    try decodeBlock(
                        UnsafeRawBufferPointer(rebasing: input[chunk.body ..< chunk.end]),
                        into: dst.baseAddress.map { $0 + written }, count: chunk.length, blockStart: chunk.body)
                } catch {
                    failure = error
                    return
                }
                written += chunk.length
            }
            initialized = total
        }
        if let failure { throw failure }
        return out
    }

    /// No element yields more than 64 bytes from 3 (a 2-byte-offset copy), so a block cannot
    /// decode to more than 22 times its size: a larger declared length is rejected before the
    /// output is allocated.
    static func checkExpansion(_ length: Int, body: Int, at offset: Int) throws(CompressionError) {
        guard length <= body * 22 else {
            throw .corrupt(.snappy, detail: "block at byte \(offset) declares \(length) bytes, more than \(body) bytes can hold")
        }
    }

    /// The varint uncompressed length at the start of a raw block (at most 32 bits).
    static func readLength(_ block: UnsafeRawBufferPointer, at offset: Int) throws(CompressionError) -> (length: Int, size: Int) {
        var value = 0
        for i in 0 ..< 5 {
            guard i < block.count else {
                throw .corrupt(.snappy, detail: "truncated length varint at byte \(offset + i)")
            }
            let byte = block[i]
            value |= Int(byte & 0x7F) << (7 * i)
            if byte & 0x80 == 0 {
                guard value <= Int(UInt32.max) else {
                    throw .corrupt(.snappy, detail: "length varint at byte \(offset) exceeds 32 bits")
                }
                return (value, i + 1)
            }
        }
        throw .corrupt(.snappy, detail: "length varint at byte \(offset) longer than 5 bytes")
    }

    /// Decodes the elements of a raw block into exactly `count` bytes at `dst`. Every length
    /// and offset is checked; `blockStart` only serves error messages.
    static func decodeBlock(
        _ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<UInt8>?, count: Int, blockStart: Int
    ) throws(CompressionError) {
        guard let ip0 = src.baseAddress?.assumingMemoryBound(to: UInt8.self), src.count > 0 else {
            if count == 0 { return }
            throw .corrupt(.snappy, detail: "block at byte \(blockStart) has no elements but declares \(count) bytes")
        }
        guard let op0 = dst else {
            throw .corrupt(.snappy, detail: "block at byte \(blockStart) declares 0 bytes but has elements")
        }
        let ipEnd = src.count
        var ip = 0
        var op = 0
        while ip < ipEnd {
            let tag = ip0[ip]
            ip += 1
            switch tag & 3 {
            case 0: // literal
                var length = Int(tag >> 2) + 1
                if length > 60 {
                    let extra = length - 60
                    guard ipEnd - ip >= extra else {
                        throw .corrupt(.snappy, detail: "literal length at byte \(blockStart + ip) truncated")
                    }
                    length = 0
                    for k in 0 ..< extra { length |= Int(ip0[ip + k]) << (8 * k) }
                    length += 1
                    ip += extra
                }
                guard length <= ipEnd - ip else {
                    throw .corrupt(.snappy, detail: "literal of \(length) bytes at byte \(blockStart + ip) runs past the input")
                }
                guard length <= count - op else {
                    throw .corrupt(.snappy, detail: "literal at byte \(blockStart + ip) runs past the declared length \(count)")
                }
                CodecBytes.copyLiteral(op0 + op, ip0 + ip, length, dstRoom: count - op, srcRoom: ipEnd - ip)
                ip += length
                op += length
            case 1: // copy, 1-byte offset
                guard ip < ipEnd else { throw .corrupt(.snappy, detail: "copy at byte \(blockStart + ip - 1) truncated") }
                let length = Int((tag >> 2) & 7) + 4
                let offset = Int(tag >> 5) << 8 | Int(ip0[ip])
                ip += 1
                try copy(op0, &op, offset: offset, length: length, count: count, at: blockStart + ip - 2)
            case 2: // copy, 2-byte offset
                guard ipEnd - ip >= 2 else { throw .corrupt(.snappy, detail: "copy at byte \(blockStart + ip - 1) truncated") }
                let length = Int(tag >> 2) + 1
                let offset = Int(ip0[ip]) | Int(ip0[ip + 1]) << 8
                ip += 2
                try copy(op0, &op, offset: offset, length: length, count: count, at: blockStart + ip - 3)
            default: // copy, 4-byte offset
                guard ipEnd - ip >= 4 else { throw .corrupt(.snappy, detail: "copy at byte \(blockStart + ip - 1) truncated") }
                let length = Int(tag >> 2) + 1
                let offset = Int(ip0[ip]) | Int(ip0[ip + 1]) << 8 | Int(ip0[ip + 2]) << 16 | Int(ip0[ip + 3]) << 24
                ip += 4
                try copy(op0, &op, offset: offset, length: length, count: count, at: blockStart + ip - 5)
            }
        }
        guard op == count else {
            throw .corrupt(.snappy, detail: "block at byte \(blockStart) decodes to \(op) bytes, declares \(count)")
        }
    }

    @inline(__always)
    private static func copy(
        _ base: UnsafeMutablePointer<UInt8>, _ op: inout Int, offset: Int, length: Int, count: Int, at: Int
    ) throws(CompressionError) {
        guard offset > 0, offset <= op else {
            throw .corrupt(.snappy, detail: "copy at byte \(at) has offset \(offset) with \(op) bytes decoded")
        }
        guard length <= count - op else {
            throw .corrupt(.snappy, detail: "copy at byte \(at) runs past the declared length \(count)")
        }
        CodecBytes.copyMatch(base + op, offset: offset, length: length)
        op += length
    }

    // MARK: - Compression

    /// xerial framing: header, then one raw block per 32 KiB of input. Empty input gets one
    /// empty block, not a bare header: kafka-python takes a 16-byte payload for raw snappy.
    static func compressXerial(_ input: [UInt8]) -> [UInt8] {
        var out = xerialMagic
        out += [0, 0, 0, 1, 0, 0, 0, 1]
        out.reserveCapacity(xerialHeaderSize + input.count + input.count / 6 + 64)
        var table = [UInt16](repeating: 0, count: maxTableSize)
        input.withUnsafeBufferPointer { src in
            var pos = 0
            repeat {
                let n = min(xerialChunkSize, src.count - pos)
                let lengthAt = out.count
                out += [0, 0, 0, 0]
                let written = appendRaw(UnsafeBufferPointer(rebasing: src[pos ..< pos + n]), to: &out, table: &table)
                withUnsafeBytes(of: UInt32(written).bigEndian) { b in
                    for k in 0 ..< 4 { out[lengthAt + k] = b[k] }
                }
                pos += n
            } while pos < src.count
        }
        return out
    }

    /// One raw snappy block (what librdkafka writes).
    static func compressRaw(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var table = [UInt16](repeating: 0, count: maxTableSize)
        input.withUnsafeBufferPointer { _ = appendRaw($0, to: &out, table: &table) }
        return out
    }

    /// Largest compressed size of `n` input bytes (snappy's `MaxCompressedLength`).
    static func maxCompressedLength(_ n: Int) -> Int { 32 + n + n / 6 }

    /// Snappy compresses in independent 64 KiB fragments, so 16-bit positions suffice.
    static let fragmentSize = 1 << 16
    static let maxTableSize = 1 << 14

    /// Appends one raw block for `src` to `out`; returns its size.
    static func appendRaw(_ src: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], table: inout [UInt16]) -> Int {
        let start = out.count
        let bound = maxCompressedLength(src.count)
        out.append(contentsOf: [UInt8](repeating: 0, count: bound))
        let written = out.withUnsafeMutableBufferPointer { dstBuf in
            table.withUnsafeMutableBufferPointer { tableBuf in
                let dst = dstBuf.baseAddress! + start
                var op = writeVarint(UInt32(src.count), dst)
                var pos = 0
                while pos < src.count {
                    let n = min(fragmentSize, src.count - pos)
                    op += compressFragment(src.baseAddress! + pos, n, dst + op, tableBuf)
                    pos += n
                }
                return op
            }
        }
        out.removeLast(bound - written)
        return written
    }

    private static func writeVarint(_ value: UInt32, _ dst: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value
        var i = 0
        while v >= 0x80 {
            dst[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        dst[i] = UInt8(v)
        return i + 1
    }

    /// Snappy's fast greedy matcher: hash 4-byte words, skip ahead faster the longer nothing
    /// matches, extend every match as far as it goes. Returns bytes written to `dst`.
    private static func compressFragment(
        _ src: UnsafePointer<UInt8>, _ n: Int, _ dst: UnsafeMutablePointer<UInt8>, _ table: UnsafeMutableBufferPointer<UInt16>
    ) -> Int {
        var op = 0
        let inputMargin = 15
        guard n >= inputMargin else {
            if n > 0 { op = emitLiteral(dst, src, n) }
            return op
        }
        var tableSize = 256
        while tableSize < maxTableSize && tableSize < n { tableSize <<= 1 }
        let shift = UInt32(32 - tableSize.trailingZeroBitCount)
        table.baseAddress!.update(repeating: 0, count: tableSize)
        @inline(__always) func hash(_ p: Int) -> Int { Int((CodecBytes.load32(src + p) &* 0x1E35_A7BD) >> shift) }

        let ipLimit = n - inputMargin
        var nextEmit = 0
        var ip = 1
        var nextHash = hash(ip)
        outer: while true {
            // Look for a 4-byte match, skipping faster after each 32 misses.
            var skip = 32
            var nextIp = ip
            var candidate = 0
            repeat {
                ip = nextIp
                let h = nextHash
                let step = skip >> 5
                skip += 1
                nextIp = ip + step
                if nextIp > ipLimit { break outer }
                nextHash = hash(nextIp)
                candidate = Int(table[h])
                table[h] = UInt16(truncatingIfNeeded: ip)
            } while CodecBytes.load32(src + ip) != CodecBytes.load32(src + candidate)

            op += emitLiteral(dst + op, src + nextEmit, ip - nextEmit)
            // Emit copies for as long as the next position also matches.
            repeat {
                let base = ip
                let matched = 4 + CodecBytes.matchLength(src + candidate + 4, src + ip + 4, n - ip - 4)
                ip += matched
                op += emitCopy(dst + op, offset: base - candidate, length: matched)
                nextEmit = ip
                if ip >= ipLimit { break outer }
                table[hash(ip - 1)] = UInt16(truncatingIfNeeded: ip - 1)
                let h = hash(ip)
                candidate = Int(table[h])
                table[h] = UInt16(truncatingIfNeeded: ip)
            } while CodecBytes.load32(src + ip) == CodecBytes.load32(src + candidate)
            ip += 1
            nextHash = hash(ip)
        }
        if nextEmit < n { op += emitLiteral(dst + op, src + nextEmit, n - nextEmit) }
        return op
    }

    private static func emitLiteral(_ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ length: Int) -> Int {
        let n = length - 1
        var op = 0
        if n < 60 {
            dst[0] = UInt8(n << 2)
            op = 1
        } else {
            var bytes = 0
            var v = n
            while v > 0 {
                dst[1 + bytes] = UInt8(truncatingIfNeeded: v)
                v >>= 8
                bytes += 1
            }
            dst[0] = UInt8((59 + bytes) << 2)
            op = 1 + bytes
        }
        (dst + op).update(from: src, count: length)
        return op + length
    }

    private static func emitCopy(_ dst: UnsafeMutablePointer<UInt8>, offset: Int, length: Int) -> Int {
        var op = 0
        var length = length
        // Long copies go out as 64-byte pieces, keeping at least 4 for the last one.
        while length >= 68 {
            op += emitCopy2(dst + op, offset: offset, length: 64)
            length -= 64
        }
        if length > 64 {
            op += emitCopy2(dst + op, offset: offset, length: 60)
            length -= 60
        }
        if length < 12 && offset < 2048 {
            dst[op] = UInt8(1 | ((length - 4) << 2) | ((offset >> 8) << 5))
            dst[op + 1] = UInt8(truncatingIfNeeded: offset)
            return op + 2
        }
        return op + emitCopy2(dst + op, offset: offset, length: length)
    }

    @inline(__always)
    private static func emitCopy2(_ dst: UnsafeMutablePointer<UInt8>, offset: Int, length: Int) -> Int {
        dst[0] = UInt8(2 | ((length - 1) << 2))
        dst[1] = UInt8(truncatingIfNeeded: offset)
        dst[2] = UInt8(truncatingIfNeeded: offset >> 8)
        return 3
    }
}
