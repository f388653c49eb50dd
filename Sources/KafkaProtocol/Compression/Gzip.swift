internal import CKafkaCompressionShims

/// gzip (RFC 1952) through the system zlib.
///
/// We write one gzip member (windowBits 15 + 16). We read any number of concatenated members
/// (multi-member files are valid gzip, and what `cat a.gz b.gz` or parallel compressors write);
/// bytes after the last member that are not another member are corruption.
enum Gzip {
    static let levels = -1 ... 9
    /// zlib's window (32 KiB) plus 16: gzip wrapper instead of zlib's.
    static let windowBits: Int32 = 15 + 16

    static func compress(_ input: [UInt8], level: Int?) throws(CompressionError) -> [UInt8] {
        let level = level ?? -1
        guard levels.contains(level) else { throw .invalidLevel(.gzip, level: level, valid: levels) }
        // zlib keeps a pointer back to the z_stream and checks it on every call, so the stream
        // must not move: it lives on the heap, not in a Swift variable.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard kwire_deflate_init2(stream, Int32(level), windowBits, 8) == Z_OK else {
            throw .failed(.gzip, detail: "deflateInit2 failed (out of memory?)")
        }
        defer { deflateEnd(stream) }

        // deflateBound covers a single deflate(Z_FINISH) over the whole input; the loop below
        // still copes with inputs and outputs past zlib's 32-bit counters.
        let bound = Int(deflateBound(stream, uLong(input.count)))
        var failure: CompressionError?
        let output = input.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: bound) { dst, written in
                written = 0
                var consumed = 0
                while true {
                    if stream.pointee.avail_in == 0 {
                        let chunk = min(src.count - consumed, Int(UInt32.max))
                        stream.pointee.next_in = chunk == 0 ? nil : UnsafeMutablePointer(mutating: src.baseAddress! + consumed)
                        stream.pointee.avail_in = UInt32(chunk)
                        consumed += chunk
                    }
                    let room = min(dst.count - written, Int(UInt32.max))
                    stream.pointee.next_out = dst.baseAddress! + written
                    stream.pointee.avail_out = UInt32(room)
                    let flush = consumed == src.count ? Z_FINISH : Z_NO_FLUSH
                    let status = deflate(stream, flush)
                    written += room - Int(stream.pointee.avail_out)
                    if status == Z_STREAM_END { return }
                    if status != Z_OK && status != Z_BUF_ERROR {
                        failure = .failed(.gzip, detail: "deflate returned \(status)")
                        return
                    }
                    if written == dst.count {
                        failure = .failed(.gzip, detail: "output exceeded deflateBound")
                        return
                    }
                }
            }
        }
        if let failure { throw failure }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(CompressionError) -> [UInt8] {
        guard let base = input.baseAddress, input.count > 0 else { throw .corrupt(.gzip, detail: "empty input") }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard kwire_inflate_init2(stream, windowBits) == Z_OK else {
            throw .failed(.gzip, detail: "inflateInit2 failed (out of memory?)")
        }
        defer { inflateEnd(stream) }

        var out = OutputBuffer(limit: maxOutput, expected: input.count * 4)
        var consumed = 0
        var members = 0
        while true {
            if stream.pointee.avail_in == 0 && consumed < input.count {
                let chunk = min(input.count - consumed, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self) + consumed)
                stream.pointee.avail_in = UInt32(chunk)
                consumed += chunk
            }
            out.reserve(32 * 1024)
            if out.free == 0 { throw .outputTooLarge(.gzip, limit: maxOutput) }
            let (status, produced): (Int32, Int) = out.withFreeSpace { p, n in
                let room = min(n, Int(UInt32.max))
                stream.pointee.next_out = p
                stream.pointee.avail_out = UInt32(room)
                let status = inflate(stream, Z_NO_FLUSH)
                return (status, room - Int(stream.pointee.avail_out))
            }
            out.count += produced
            if out.overLimit { throw .outputTooLarge(.gzip, limit: maxOutput) }
            let inputLeft = stream.pointee.avail_in != 0 || consumed < input.count
            switch status {
            case Z_STREAM_END:
                members += 1
                if !inputLeft { return out.take() }
                // Another member follows (or garbage, which inflate then rejects).
                guard inflateReset(stream) == Z_OK else { throw .failed(.gzip, detail: "inflateReset failed") }
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grown on the next turn) or
                // the input ended inside a member.
                if !inputLeft && stream.pointee.avail_out != 0 {
                    throw .corrupt(.gzip, detail: "truncated: input ended inside member \(members + 1) after \(input.count) bytes")
                }
            case Z_MEM_ERROR:
                throw .failed(.gzip, detail: "out of memory")
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                let at = consumed - Int(stream.pointee.avail_in)
                throw .corrupt(.gzip, detail: "\(message) (member \(members + 1), near input byte \(at))")
            }
        }
    }
}
