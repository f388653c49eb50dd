/// The exactly-once workload of the restart tests and the soak, and the audit of a log read back.
///
/// Message `i` (0 ..< n) has key `"k\(i % keys)"` and a value starting with `"\(i)|"`, so a
/// record read back names the message it is, and every message of a key goes to one partition
/// in increasing `i`. Reading the whole log back (by a peer client or by us) and feeding each
/// record to `SequencedLogAudit.add` tells what the log holds: each message once or not, in
/// order per key or not, offsets contiguous or not. A pure value: no I/O, fed records, asked for
/// findings.
public enum SequencedWorkload {
    /// Keys cycle through this many values.
    public static let keys = 64

    /// Message `i`'s key.
    public static func key(_ i: Int) -> String { "k\(i % keys)" }

    /// Message `i`'s value: `"<i>|"` padded with `x` to about `size` bytes.
    public static func value(_ i: Int, size: Int) -> String {
        let head = "\(i)|"
        return head + String(repeating: "x", count: max(0, size - head.utf8.count))
    }

    /// The message number a value carries, nil for a value this workload did not write.
    public static func index<Bytes: Collection<UInt8>>(ofValue value: Bytes) -> Int? {
        var n = 0, digits = 0
        for b in value {
            if b == UInt8(ascii: "|") { return digits > 0 ? n : nil }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9"), digits < 18 else { return nil }
            n = n * 10 + Int(b - UInt8(ascii: "0"))
            digits += 1
        }
        return nil
    }
}

/// What a read-back log holds, message by message (see `SequencedWorkload`).
public struct SequencedLogAudit: Sendable {
    /// Messages 0 ..< expected were written (or tried).
    public let expected: Int
    /// How many times each message is in the log.
    private var copies: [UInt8]
    /// Per partition: the next offset expected (reads must come in offset order per partition).
    private var nextOffset: [Int32: Int64] = [:]
    /// Per key: the partition it is in and the last message number seen there.
    private var lastOfKey: [Int: (partition: Int32, index: Int)] = [:]
    /// Problems other than counts, described (the first 20 kept).
    public private(set) var problems: [String] = []
    /// Every problem found, also those not kept in `problems`.
    public private(set) var problemCount = 0
    /// Records read.
    public private(set) var records = 0

    /// Whether offsets may jump forward (a broker that lost batches between ones it kept).
    public let offsetGapsAllowed: Bool

    /// - Parameters:
    ///   - expected: how many messages the workload wrote (0 ..< expected).
    ///   - offsetGapsAllowed: accept offsets that jump forward (never those that repeat).
    public init(expected: Int, offsetGapsAllowed: Bool = false) {
        self.offsetGapsAllowed = offsetGapsAllowed
        self.expected = max(0, expected)
        copies = [UInt8](repeating: 0, count: self.expected)
    }

    private mutating func problem(_ p: String) {
        problemCount += 1
        if problems.count < 20 { problems.append(p) }
    }

    /// Feeds one record, in offset order within its partition.
    /// - Parameters:
    ///   - partition: Where it was read.
    ///   - offset: Its offset.
    ///   - index: The message number its value carries (`SequencedWorkload.index`), nil if none.
    ///   - firstOffset: The offset a partition's log starts at (0 for a topic never truncated).
    public mutating func add(partition: Int32, offset: Int64, index: Int?, firstOffset: Int64 = 0) {
        records += 1
        let want = nextOffset[partition] ?? firstOffset
        if offset < want || (offset > want && !offsetGapsAllowed) { problem("partition \(partition): offset \(offset) where \(want) was next (a gap or a repeat)") }
        nextOffset[partition] = offset + 1
        guard let i = index, i >= 0, i < expected else {
            problem("partition \(partition) offset \(offset): not a message of this workload")
            return
        }
        if copies[i] < UInt8.max { copies[i] += 1 }
        let k = i % SequencedWorkload.keys
        if let last = lastOfKey[k] {
            if last.partition != partition { problem("key k\(k) in partitions \(last.partition) and \(partition)") }
            else if last.index >= i { problem("key k\(k) out of order in partition \(partition): \(last.index) then \(i) at offset \(offset)") }
        }
        lastOfKey[k] = (partition, i)
    }

    /// Messages in the log more than once.
    public var duplicated: [Int] { copies.indices.filter { copies[$0] > 1 } }
    /// Messages not in the log.
    public var missing: [Int] { copies.indices.filter { copies[$0] == 0 } }
    /// Whether message `i` is in the log.
    public func contains(_ i: Int) -> Bool { i >= 0 && i < expected && copies[i] > 0 }
    /// Where each partition's log ends, as read (the next offset).
    public var ends: [Int32: Int64] { nextOffset }
}
