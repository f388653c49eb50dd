// SHA-256 and SHA-512 (FIPS 180-4), HMAC (RFC 2104) and PBKDF2 (RFC 8018) in Swift, for SCRAM.
//
// PBKDF2 is SCRAM's cost (4096+ HMAC rounds per login), so HMAC keeps the hash state after the
// padded key block instead of hashing that block again every round (2 compressions per round
// instead of 4), and the compression function works on raw pointers and a stack buffer: no
// array copies or bounds checks per word, which keeps debug builds usable too.

/// A Merkle–Damgård hash function usable by HMAC/PBKDF2.
public protocol HashFunction: Sendable {
    /// The chaining state between blocks.
    associatedtype State: Sendable
    /// Output size in bytes.
    static var digestSize: Int { get }
    /// Block size in bytes.
    static var blockSize: Int { get }
    /// Bytes of the message-length field in the final block (8 for SHA-256, 16 for SHA-512).
    static var lengthFieldSize: Int { get }
    /// The state before any input.
    static var initialState: State { get }
    /// Absorbs one block of `blockSize` bytes.
    /// - Parameters:
    ///   - state: The state to update.
    ///   - block: `blockSize` bytes.
    static func compress(_ state: inout State, _ block: UnsafeRawPointer)
    /// The state as the big-endian digest.
    /// - Parameter state: The final state.
    /// - Returns: `digestSize` bytes.
    static func digest(_ state: State) -> [UInt8]
}

extension HashFunction {
    /// The digest of `data`.
    /// - Parameter data: The message.
    /// - Returns: `digestSize` bytes.
    public static func hash(_ data: [UInt8]) -> [UInt8] { finish(initialState, data, absorbed: 0) }

    /// Continues from `state`, which has absorbed `absorbed` bytes (whole blocks), with `data`;
    /// pads and returns the digest.
    static func finish(_ state: State, _ data: [UInt8], absorbed: Int) -> [UInt8] {
        var s = state
        let bits = UInt64(truncatingIfNeeded: absorbed + data.count) &* 8
        data.withUnsafeBytes { raw in
            var offset = 0
            if let base = raw.baseAddress {
                while raw.count - offset >= blockSize {
                    compress(&s, base + offset)
                    offset += blockSize
                }
            }
            let rest = raw.count - offset
            // The tail, 0x80, zeros and the bit length fill one block, or two when they do not fit.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * blockSize) { tail in
                let buf = tail.baseAddress!
                buf.initialize(repeating: 0, count: 2 * blockSize)
                if rest > 0 { buf.initialize(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, count: rest) }
                buf[rest] = 0x80
                let end = rest + 1 + lengthFieldSize <= blockSize ? blockSize : 2 * blockSize
                for i in 0 ..< 8 { buf[end - 1 - i] = UInt8(truncatingIfNeeded: bits >> UInt64(8 * i)) }
                compress(&s, buf)
                if end > blockSize { compress(&s, buf + blockSize) }
            }
        }
        return digest(s)
    }
}

/// SHA-256.
public enum SHA256: HashFunction {
    public struct State: Sendable { var h0, h1, h2, h3, h4, h5, h6, h7: UInt32 }

    public static var digestSize: Int { 32 }
    public static var blockSize: Int { 64 }
    public static var lengthFieldSize: Int { 8 }
    public static var initialState: State {
        State(h0: 0x6a09e667, h1: 0xbb67ae85, h2: 0x3c6ef372, h3: 0xa54ff53a, h4: 0x510e527f, h5: 0x9b05688c, h6: 0x1f83d9ab, h7: 0x5be0cd19)
    }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// SHA-256's compression function: absorbs one block.
    /// - Parameters:
    ///   - s: The eight working words, updated in place.
    ///   - block: 64 bytes of input.
    public static func compress(_ s: inout State, _ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            let w = schedule.baseAddress!
            for i in 0 ..< 16 { w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            for i in 16 ..< 64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] &>> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] &>> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (s.h0, s.h1, s.h2, s.h3, s.h4, s.h5, s.h6, s.h7)
            k.withUnsafeBufferPointer { kb in
                let k = kb.baseAddress!
                for i in 0 ..< 64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ maj)
                }
            }
            s.h0 &+= a; s.h1 &+= b; s.h2 &+= c; s.h3 &+= d
            s.h4 &+= e; s.h5 &+= f; s.h6 &+= g; s.h7 &+= h
        }
    }

    /// The SHA-256 state as the big-endian digest.
    /// - Parameter s: The final state.
    /// - Returns: The digest bytes.
    public static func digest(_ s: State) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for v in [s.h0, s.h1, s.h2, s.h3, s.h4, s.h5, s.h6, s.h7] {
            out += [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        return out
    }
}

/// SHA-512.
public enum SHA512: HashFunction {
    public struct State: Sendable { var h0, h1, h2, h3, h4, h5, h6, h7: UInt64 }

    public static var digestSize: Int { 64 }
    public static var blockSize: Int { 128 }
    public static var lengthFieldSize: Int { 16 }
    public static var initialState: State {
        State(h0: 0x6a09e667f3bcc908, h1: 0xbb67ae8584caa73b, h2: 0x3c6ef372fe94f82b, h3: 0xa54ff53a5f1d36f1,
              h4: 0x510e527fade682d1, h5: 0x9b05688c2b3e6c1f, h6: 0x1f83d9abfb41bd6b, h7: 0x5be0cd19137e2179)
    }

    private static let k: [UInt64] = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]

    /// SHA-512's compression function: absorbs one block.
    /// - Parameters:
    ///   - s: The eight working words, updated in place.
    ///   - block: 128 bytes of input.
    public static func compress(_ s: inout State, _ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 80) { schedule in
            let w = schedule.baseAddress!
            for i in 0 ..< 16 { w[i] = UInt64(bigEndian: block.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
            for i in 16 ..< 80 {
                let s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] &>> 7)
                let s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] &>> 6)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (s.h0, s.h1, s.h2, s.h3, s.h4, s.h5, s.h6, s.h7)
            k.withUnsafeBufferPointer { kb in
                let k = kb.baseAddress!
                for i in 0 ..< 80 {
                    let s1 = rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ maj)
                }
            }
            s.h0 &+= a; s.h1 &+= b; s.h2 &+= c; s.h3 &+= d
            s.h4 &+= e; s.h5 &+= f; s.h6 &+= g; s.h7 &+= h
        }
    }

    /// The SHA-512 state as the big-endian digest.
    /// - Parameter s: The final state.
    /// - Returns: The digest bytes.
    public static func digest(_ s: State) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for v in [s.h0, s.h1, s.h2, s.h3, s.h4, s.h5, s.h6, s.h7] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
        }
        return out
    }
}

// Concrete (not generic) rotations with masking shifts: a debug build calls generic integer
// operations through protocol witnesses, which made SCRAM's key derivation take seconds.
@inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x &>> n) | (x &<< (32 &- n)) }
@inline(__always) private func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x &>> n) | (x &<< (64 &- n)) }

/// An HMAC key with the hash states after its inner and outer padded blocks, so each message
/// costs only the compressions of the message and of the inner digest.
struct HMACKey<H: HashFunction> {
    let inner: H.State
    let outer: H.State

    init(_ key: [UInt8]) {
        var k = key.count > H.blockSize ? H.hash(key) : key
        k += [UInt8](repeating: 0, count: H.blockSize - k.count)
        var i = H.initialState, o = H.initialState
        k.map { $0 ^ 0x36 }.withUnsafeBytes { H.compress(&i, $0.baseAddress!) }
        k.map { $0 ^ 0x5c }.withUnsafeBytes { H.compress(&o, $0.baseAddress!) }
        inner = i
        outer = o
    }

    func authenticate(_ message: [UInt8]) -> [UInt8] {
        H.finish(outer, H.finish(inner, message, absorbed: H.blockSize), absorbed: H.blockSize)
    }
}

/// HMAC (RFC 2104) over a hash function.
public enum HMAC<H: HashFunction> {
    /// The message authentication code of `message`.
    /// - Parameters:
    ///   - message: The message.
    ///   - key: The secret key (hashed first when longer than a block).
    /// - Returns: `H.digestSize` bytes.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        HMACKey<H>(key).authenticate(message)
    }
}

/// PBKDF2 (RFC 8018) with HMAC-H, producing one block (dkLen = digest size), as SCRAM's Hi().
public enum PBKDF2<H: HashFunction> {
    /// The derived key: SCRAM's `SaltedPassword := Hi(password, salt, iterations)`.
    /// - Parameters:
    ///   - password: The normalized password.
    ///   - salt: The server's salt.
    ///   - iterations: The server's iteration count.
    /// - Returns: `H.digestSize` bytes.
    public static func deriveKey(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let mac = HMACKey<H>(password)
        var u = mac.authenticate(salt + [0, 0, 0, 1])
        var result = u
        if iterations > 1 {
            for _ in 1 ..< iterations {
                u = mac.authenticate(u)
                for i in 0 ..< result.count { result[i] ^= u[i] }
            }
        }
        return result
    }
}
