public import KafkaProtocol

/// A partition's log as a read_committed reader should see it, worked out from the batches
/// themselves instead of trusting the broker's `aborted_transactions` and last stable offset.
///
/// Tansu 0.6.0 stores transactional batches and their COMMIT/ABORT markers but answers Fetch
/// with no `aborted_transactions` and a last stable offset equal to the high watermark, so a
/// read_committed consumer (ours or librdkafka) sees aborted records there. To check what a
/// transactional writer (`kwire copy`, `kwire produce --transactional-id`) left in such a log,
/// feed this every batch read read_uncommitted, in offset order (`TransactionalLogReader` does),
/// and ask for `committed`: the non-transactional records plus those of committed transactions,
/// in offset order, up to the first transaction still undecided — what read_committed means.
///
/// The rule (KIP-98): a producer id's transactional batches belong to its open transaction,
/// which its next control batch (COMMIT or ABORT) ends; records of other producers are
/// independent of it. Pure: no I/O, fed batches, asked for results.
public struct TransactionalLogAudit: Sendable {
    /// One data record of the log.
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        /// Its offset.
        public let offset: Int64
        /// Its key (nil: null).
        public let key: [UInt8]?
        /// Its value (nil: null).
        public let value: [UInt8]?
        /// The transaction's producer id; nil for a non-transactional record.
        public let producerId: Int64?

        /// The value as UTF-8 text ("" for null), for test messages.
        public var valueString: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        public var description: String { "\(offset):\(valueString)" }
    }

    /// One COMMIT or ABORT marker seen.
    public struct Marker: Sendable, Equatable {
        /// The control batch's offset.
        public let offset: Int64
        /// The producer whose transaction it ends.
        public let producerId: Int64
        /// COMMIT or ABORT (other control types are listed too, and end nothing).
        public let type: ControlRecordType
    }

    private enum Fate { case visible, aborted, undecided }

    private var entries: [Entry] = []
    private var fates: [Fate] = []
    /// Per producer with an open transaction: the indexes (in `entries`) of its records so far.
    private var open: [Int64: [Int]] = [:]
    /// Per producer with an open transaction: its first offset.
    private var openSince: [Int64: Int64] = [:]

    /// Every COMMIT/ABORT marker, in offset order.
    public private(set) var markers: [Marker] = []
    /// Transactions that ended with COMMIT (with at least one record here).
    public private(set) var committedTransactions = 0
    /// Transactions that ended with ABORT (with at least one record here).
    public private(set) var abortedTransactions = 0
    /// Data records dropped because their transaction aborted.
    public private(set) var abortedRecords = 0
    /// The offset after the last batch fed (where the next read starts).
    public private(set) var nextOffset: Int64 = 0
    /// Batches fed that lie wholly before `nextOffset` (a re-read), ignored.
    public private(set) var ignoredBatches = 0

    /// An empty audit: feed it from the start of the partition's log.
    /// - Parameter firstOffset: Where the log starts (its log start offset).
    public init(firstOffset: Int64 = 0) { nextOffset = firstOffset }

    /// Feeds the next batch of the log (record batch v2 or legacy message).
    /// - Parameter entry: A batch at or after `nextOffset`; one wholly before it is ignored (a
    ///   broker resending a batch a previous read already returned).
    /// - Throws: `RecordDecodingError` for records that do not decode (the batch is not applied).
    public mutating func add(_ entry: RecordSetEntry) throws {
        guard entry.lastOffset >= nextOffset else {
            ignoredBatches += 1
            return
        }
        let decompress = Compression.recordDecompressor(maxOutput: 64 << 20)
        switch entry {
        case let .legacy(m):
            // Magic 0/1 has no transactions: every inner message is visible.
            for r in try m.records(decompress: decompress) where r.offset >= nextOffset {
                append(Entry(offset: r.offset, key: r.key.map(Array.init), value: r.value.map(Array.init), producerId: nil), .visible)
            }
        case let .batch(b):
            if b.isControl {
                for c in try b.controlRecords(decompress: decompress) {
                    markers.append(Marker(offset: b.baseOffset, producerId: b.producerId, type: c.type))
                    if c.type == .commit || c.type == .abort { end(b.producerId, committed: c.type == .commit) }
                }
            } else {
                let records = try b.decodeRecords(decompress: decompress)
                let producerId: Int64? = b.isTransactional ? b.producerId : nil
                if let pid = producerId, open[pid] == nil {
                    open[pid] = []
                    openSince[pid] = b.baseOffset
                }
                for r in records where r.offset >= nextOffset {
                    let e = Entry(offset: r.offset, key: r.key.map(Array.init), value: r.value.map(Array.init), producerId: producerId)
                    if let pid = producerId { open[pid, default: []].append(entries.count) }
                    append(e, producerId == nil ? .visible : .undecided)
                }
            }
        }
        nextOffset = entry.lastOffset + 1
    }

    private mutating func append(_ e: Entry, _ fate: Fate) {
        entries.append(e)
        fates.append(fate)
    }

    /// A marker ends `pid`'s open transaction; a marker with none open (a partition added to a
    /// transaction that wrote nothing to it) changes nothing.
    private mutating func end(_ pid: Int64, committed: Bool) {
        guard let indexes = open.removeValue(forKey: pid) else { return }
        openSince[pid] = nil
        for i in indexes { fates[i] = committed ? .visible : .aborted }
        if committed { committedTransactions += 1 } else {
            abortedTransactions += 1
            abortedRecords += indexes.count
        }
    }

    /// The last stable offset: the first offset of the earliest transaction still open, or
    /// `nextOffset` when none is.
    public var lastStableOffset: Int64 { openSince.values.min() ?? nextOffset }

    /// Producer id → first offset of each transaction with no marker yet.
    public var openTransactions: [Int64: Int64] { openSince }

    /// What a read_committed reader sees: non-transactional records and those of committed
    /// transactions, in offset order, below `lastStableOffset`.
    public var committed: [Entry] {
        let stable = lastStableOffset
        var out: [Entry] = []
        out.reserveCapacity(entries.count)
        for (e, f) in zip(entries, fates) {
            if e.offset >= stable { break }
            if f == .visible { out.append(e) }
        }
        return out
    }

    /// Every data record fed (what read_uncommitted shows), in offset order.
    public var all: [Entry] { entries }
}
