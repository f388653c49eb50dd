/// Decompressed bytes of not-yet-known size, grown in steps and never past `limit + 1` bytes
/// (one byte past the caller's `maxOutput` is how "the output is too large" is noticed without
/// asking the decoder twice).
struct OutputBuffer {
    /// Zero-filled storage; the first `count` bytes are output, the rest is writable space.
    private(set) var storage: [UInt8] = []
    /// Bytes of output so far.
    var count = 0
    /// The caller's `maxOutput`.
    let limit: Int

    init(limit: Int, expected: Int) {
        self.limit = limit
        storage.reserveCapacity(min(limit, max(0, expected)) + 1)
    }

    /// Writable bytes after `count`.
    var free: Int { storage.count - count }

    /// Whether more output than `limit` has been produced.
    var overLimit: Bool { count > limit }

    /// Makes at least `wanted` bytes writable (fewer only when that would pass `limit + 1`);
    /// returns how many are writable. Grows geometrically so that repeated calls stay linear.
    @discardableResult
    mutating func reserve(_ wanted: Int) -> Int {
        let cap = limit + 1
        if free < wanted, storage.count < cap {
            let target = min(cap, max(count + wanted, storage.count * 2, 4096))
            // An Array (not repeatElement): appending a lazy repetition runs element by element
            // in debug builds (1 s per 8 MB), an Array is copied in bulk.
            storage.append(contentsOf: [UInt8](repeating: 0, count: target - storage.count))
        }
        return free
    }

    /// Runs `body` with a pointer to the writable space after `count` and its length.
    mutating func withFreeSpace<R>(_ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R {
        let start = count
        return storage.withUnsafeMutableBufferPointer { buf in
            body(buf.baseAddress! + start, buf.count - start)
        }
    }

    /// The output, trimmed to `count` bytes.
    mutating func take() -> [UInt8] {
        storage.removeSubrange(count...)
        return storage
    }
}
