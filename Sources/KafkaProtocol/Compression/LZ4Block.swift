/// The LZ4 block format (lz4 `doc/lz4_Block_format.md`), pure Swift.
///
/// A block is a list of sequences: a token (high nibble literal length, low nibble match
/// length - 4, each 15 = "more length bytes follow, 255 meaning keep going"), the literals, a
/// 16-bit LE offset back into the output, and the match-length extension. The last sequence has
/// only literals. Compressed blocks obey the end rules (the last 5 bytes are literals, no match
/// starts in the last 12) so that every decoder, including the reference one, accepts them.
enum LZ4Block {
    static let minMatch = 4
    static let lastLiterals = 5
    static let mfLimit = 12
    static let maxOffset = 65_535

    /// Why a block did not decode.
    enum Failure: Error {
        case corrupt(String)
        /// The block decodes to more than the space offered.
        case outputFull
    }

    /// Largest compressed size of `n` bytes (lz4's `LZ4_COMPRESSBOUND`).
    static func bound(_ n: Int) -> Int { n + n / 255 + 16 }

    // MARK: - Decoding

    /// Decodes `src` into `dst[start ..< capacity]`; matches may reach back to `windowStart`
    /// (`start` for an independent block, earlier for linked blocks). Returns the bytes written.
    /// Every length and offset is checked against the input, the window and the capacity.
    static func decode(
        _ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<UInt8>, start: Int, capacity: Int, windowStart: Int
    ) throws(Failure) -> Int {
        guard let ip0 = src.baseAddress?.assumingMemoryBound(to: UInt8.self), src.count > 0 else {
            throw .corrupt("empty block")
        }
        let iend = src.count
        var ip = 0
        var op = start
        while true {
            guard ip < iend else { throw .corrupt("block ends where a sequence should start (byte \(ip))") }
            let token = ip0[ip]
            ip += 1
            var literals = Int(token >> 4)
            if literals == 15 {
                var b: UInt8 = 255
                while b == 255 {
                    guard ip < iend else { throw .corrupt("literal length runs past the block end") }
                    b = ip0[ip]
                    ip += 1
                    literals += Int(b)
                }
            }
            guard literals <= iend - ip else {
                throw .corrupt("\(literals) literals at block byte \(ip) run past the block end (\(iend - ip) left)")
            }
            guard literals <= capacity - op else { throw .outputFull }
            CodecBytes.copyLiteral(dst + op, ip0 + ip, literals, dstRoom: capacity - op, srcRoom: iend - ip)
            ip += literals
            op += literals
            if ip == iend { return op - start }

            guard iend - ip >= 2 else { throw .corrupt("match offset at block byte \(ip) truncated") }
            let offset = Int(ip0[ip]) | Int(ip0[ip + 1]) << 8
            ip += 2
            guard offset > 0, offset <= op - windowStart else {
                throw .corrupt("match offset \(offset) at block byte \(ip - 2) reaches before the window (\(op - windowStart) bytes)")
            }
            var length = Int(token & 15)
            if length == 15 {
                var b: UInt8 = 255
                while b == 255 {
                    guard ip < iend else { throw .corrupt("match length runs past the block end") }
                    b = ip0[ip]
                    ip += 1
                    length += Int(b)
                }
            }
            length += minMatch
            guard length <= capacity - op else { throw .outputFull }
            CodecBytes.copyMatch(dst + op, offset: offset, length: length)
            op += length
        }
    }

    // MARK: - Encoding

    /// Reusable match-finder tables (one set per frame, reset per block).
    struct Tables {
        static let fastHashLog = 12
        static let chainHashLog = 15
        var head: [Int32]
        var chain: [Int32]

        init(hashChain: Bool) {
            head = [Int32](repeating: 0, count: 1 << (hashChain ? Self.chainHashLog : Self.fastHashLog))
            chain = hashChain ? [Int32](repeating: -1, count: 1 << 16) : []
        }
    }

    /// Compresses `n` bytes at `src` into `dst` (at least `bound(n)` bytes); returns the size.
    /// `attempts` 0 is lz4's fast greedy matcher; more is a hash-chain search that looks at up to
    /// that many earlier positions for the longest match.
    static func compress(
        _ src: UnsafePointer<UInt8>, _ n: Int, into dst: UnsafeMutablePointer<UInt8>, attempts: Int, tables: inout Tables
    ) -> Int {
        if n < mfLimit + 1 { return emitLastLiterals(dst, src, n) }
        return tables.head.withUnsafeMutableBufferPointer { head in
            tables.chain.withUnsafeMutableBufferPointer { chain in
                attempts == 0
                    ? compressFast(src, n, dst, head)
                    : compressChain(src, n, dst, head, chain, attempts: attempts)
            }
        }
    }

    @inline(__always)
    private static func hash(_ p: UnsafePointer<UInt8>, _ log: Int) -> Int {
        Int((CodecBytes.load32(p) &* 2_654_435_761) >> UInt32(32 - log))
    }

    private static func compressFast(
        _ src: UnsafePointer<UInt8>, _ n: Int, _ dst: UnsafeMutablePointer<UInt8>, _ table: UnsafeMutableBufferPointer<Int32>
    ) -> Int {
        let log = Tables.fastHashLog
        table.update(repeating: 0)
        let mflimit = n - mfLimit
        let matchLimit = n - lastLiterals
        var op = 0
        var anchor = 0
        var ip = 1
        table[hash(src, log)] = 0
        search: while true {
            // Find a match; step further the longer nothing matches (lz4's skip trigger).
            var searches = 1 << 6
            var ref = 0
            var next = ip
            while true {
                ip = next
                next = ip + (searches >> 6)
                searches += 1
                if ip > mflimit { break search }
                let h = hash(src + ip, log)
                ref = Int(table[h])
                table[h] = Int32(ip)
                if ip - ref <= maxOffset && CodecBytes.load32(src + ref) == CodecBytes.load32(src + ip) { break }
            }
            // Extend backwards over equal bytes not yet emitted.
            while ip > anchor && ref > 0 && src[ip - 1] == src[ref - 1] {
                ip -= 1
                ref -= 1
            }
            let length = minMatch + CodecBytes.matchLength(src + ref + minMatch, src + ip + minMatch, matchLimit - ip - minMatch)
            op += emitSequence(dst + op, src + anchor, literals: ip - anchor, offset: ip - ref, length: length)
            ip += length
            anchor = ip
            if ip > mflimit { break }
            table[hash(src + ip - 2, log)] = Int32(ip - 2)
        }
        return op + emitLastLiterals(dst + op, src + anchor, n - anchor)
    }

    private static func compressChain(
        _ src: UnsafePointer<UInt8>, _ n: Int, _ dst: UnsafeMutablePointer<UInt8>,
        _ head: UnsafeMutableBufferPointer<Int32>, _ chain: UnsafeMutableBufferPointer<Int32>, attempts: Int
    ) -> Int {
        let log = Tables.chainHashLog
        head.update(repeating: -1)
        let mflimit = n - mfLimit
        let matchLimit = n - lastLiterals
        var op = 0
        var anchor = 0
        var ip = 0
        var nextToInsert = 0

        // Links every position before `end` into its hash chain.
        @inline(__always) func insert(upTo end: Int) {
            while nextToInsert < end {
                let h = hash(src + nextToInsert, log)
                chain[nextToInsert & 0xFFFF] = head[h]
                head[h] = Int32(nextToInsert)
                nextToInsert += 1
            }
        }

        while ip <= mflimit {
            insert(upTo: ip)
            // Longest match among up to `attempts` earlier positions with the same hash.
            var bestLength = 0
            var bestRef = 0
            var candidate = Int(head[hash(src + ip, log)])
            var left = attempts
            let limit = matchLimit - ip
            while candidate >= 0 && ip - candidate <= maxOffset && left > 0 {
                left -= 1
                // A longer match must also differ nowhere up to the current best length.
                if bestLength < limit, src[candidate + bestLength] == src[ip + bestLength],
                   CodecBytes.load32(src + candidate) == CodecBytes.load32(src + ip) {
                    let length = minMatch + CodecBytes.matchLength(src + candidate + minMatch, src + ip + minMatch, limit - minMatch)
                    if length > bestLength {
                        bestLength = length
                        bestRef = candidate
                        if length == limit { break }
                    }
                }
                candidate = Int(chain[candidate & 0xFFFF])
            }
            if bestLength < minMatch {
                ip += 1
                continue
            }
            var start = ip
            var ref = bestRef
            var length = bestLength
            while start > anchor && ref > 0 && src[start - 1] == src[ref - 1] {
                start -= 1
                ref -= 1
                length += 1
            }
            op += emitSequence(dst + op, src + anchor, literals: start - anchor, offset: start - ref, length: length)
            ip = start + length
            anchor = ip
        }
        return op + emitLastLiterals(dst + op, src + anchor, n - anchor)
    }

    @inline(__always)
    private static func writeLength(_ dst: UnsafeMutablePointer<UInt8>, _ value: Int) -> Int {
        var v = value
        var i = 0
        while v >= 255 {
            dst[i] = 255
            v -= 255
            i += 1
        }
        dst[i] = UInt8(v)
        return i + 1
    }

    @inline(__always)
    private static func emitSequence(
        _ dst: UnsafeMutablePointer<UInt8>, _ literalsAt: UnsafePointer<UInt8>, literals: Int, offset: Int, length: Int
    ) -> Int {
        var op = 1
        let matchCode = length - minMatch
        var token = UInt8(min(matchCode, 15))
        if literals >= 15 {
            token |= 0xF0
            op += writeLength(dst + op, literals - 15)
        } else {
            token |= UInt8(literals << 4)
        }
        dst[0] = token
        (dst + op).update(from: literalsAt, count: literals)
        op += literals
        dst[op] = UInt8(truncatingIfNeeded: offset)
        dst[op + 1] = UInt8(truncatingIfNeeded: offset >> 8)
        op += 2
        if matchCode >= 15 { op += writeLength(dst + op, matchCode - 15) }
        return op
    }

    private static func emitLastLiterals(_ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var op = 1
        if count >= 15 {
            dst[0] = 0xF0
            op += writeLength(dst + 1, count - 15)
        } else {
            dst[0] = UInt8(count << 4)
        }
        if count > 0 { (dst + op).update(from: src, count: count) }
        return op + count
    }
}
