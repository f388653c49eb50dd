/// xxHash32 (Yann Collet's XXH32), as the LZ4 frame format uses for its header, block and
/// content checksums. One-shot and streaming.
struct XXHash32 {
    static let prime1: UInt32 = 2_654_435_761
    static let prime2: UInt32 = 2_246_822_519
    static let prime3: UInt32 = 3_266_489_917
    static let prime4: UInt32 = 668_265_263
    static let prime5: UInt32 = 374_761_393

    private var v1, v2, v3, v4: UInt32
    private let seed: UInt32
    private var total = 0
    /// Bytes not yet folded into v1…v4 (fewer than 16).
    private var pending: (UInt64, UInt64) = (0, 0)
    private var pendingCount = 0

    init(seed: UInt32 = 0) {
        self.seed = seed
        v1 = seed &+ Self.prime1 &+ Self.prime2
        v2 = seed &+ Self.prime2
        v3 = seed
        v4 = seed &- Self.prime1
    }

    /// The hash of `bytes`.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var h = XXHash32(seed: seed)
        h.update(bytes)
        return h.finalize()
    }

    static func hash(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    @inline(__always)
    private static func round(_ acc: UInt32, _ input: UInt32) -> UInt32 {
        rotl(acc &+ input &* prime2, 13) &* prime1
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var n = bytes.count
        total += n
        if pendingCount > 0 {
            let take = min(16 - pendingCount, n)
            withUnsafeMutableBytes(of: &pending) { buf in
                (buf.baseAddress! + pendingCount).copyMemory(from: p, byteCount: take)
            }
            pendingCount += take
            p += take
            n -= take
            if pendingCount < 16 { return }
            withUnsafeBytes(of: pending) { buf in consume(buf.baseAddress!, 16) }
            pendingCount = 0
        }
        let whole = n & ~15
        if whole > 0 { consume(p, whole) }
        let rest = n - whole
        if rest > 0 {
            withUnsafeMutableBytes(of: &pending) { buf in
                buf.baseAddress!.copyMemory(from: p + whole, byteCount: rest)
            }
            pendingCount = rest
        }
    }

    /// Folds `count` (a multiple of 16) bytes into the four lanes.
    private mutating func consume(_ p: UnsafeRawPointer, _ count: Int) {
        var a = v1, b = v2, c = v3, d = v4
        var i = 0
        while i < count {
            a = Self.round(a, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            b = Self.round(b, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self)))
            c = Self.round(c, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i + 8, as: UInt32.self)))
            d = Self.round(d, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i + 12, as: UInt32.self)))
            i += 16
        }
        v1 = a; v2 = b; v3 = c; v4 = d
    }

    func finalize() -> UInt32 {
        var h: UInt32
        if total >= 16 {
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        } else {
            h = seed &+ Self.prime5
        }
        h = h &+ UInt32(truncatingIfNeeded: total)
        withUnsafeBytes(of: pending) { buf in
            var i = 0
            while i + 4 <= pendingCount {
                let word = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                h = rotl(h &+ word &* Self.prime3, 17) &* Self.prime4
                i += 4
            }
            while i < pendingCount {
                h = rotl(h &+ UInt32(buf[i]) &* Self.prime5, 11) &* Self.prime1
                i += 1
            }
        }
        h ^= h >> 15
        h = h &* Self.prime2
        h ^= h >> 13
        h = h &* Self.prime3
        h ^= h >> 16
        return h
    }
}

@inline(__always)
private func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
