import KafkaProtocol

/// Turns one partition's `records` bytes from a Fetch response into what the application sees:
/// records at or after the fetch offset, in order, without control batches and — with
/// read_committed — without records of aborted transactions. Pure (no I/O), so every rule here
/// is tested with hand-built batches.
enum FetchedRecordsDecoder {
    /// The records of `bytes` at or after `from`, and the next fetch position (nil when not one
    /// complete batch arrived).
    ///
    /// - A broker returns whole batches, so the first one may start before `from` (the fetch
    ///   offset fell inside it): those records are skipped.
    /// - A partial batch at the end (the response hit a size limit) is left for the next fetch.
    /// - The next position is the end of the last complete batch, control batches included, so
    ///   a fetch never stops on a transaction marker.
    /// - read_committed (KIP-98): `abortedTransactions` lists (producer id, first offset) of each
    ///   aborted transaction overlapping the data. A producer's transactional batches are dropped
    ///   from its transaction's first offset until that producer's ABORT marker; other
    ///   producers' data in between is kept.
    /// - A batch that would inflate past what is left of `decompress`'s shared budget (a
    ///   `DecompressionBudget` per Fetch response) ends decoding: the batches before it are
    ///   returned and `next` points at it, so it is fetched again.
    /// - Offsets must leave room for a next position: a batch or message reaching `Int64.max`,
    ///   a negative offset, or a record outside its batch's offset range throws
    ///   `InvalidOffset` (a hostile or broken broker; the whole partition's data is refused, so
    ///   no position arithmetic downstream can overflow).
    static func decode(
        _ bytes: [UInt8]?, abortedTransactions: [FetchResponse.AbortedTransaction]?, topic: String, partition: Int32,
        from: Int64, readCommitted: Bool, verifyCRC: Bool, decompress: @escaping RecordCodecFunction
    ) throws -> (records: [ConsumerRecord], next: Int64?) {
        guard let bytes, !bytes.isEmpty else { return ([], nil) }
        var reader = RecordSetReader(bytes, verifyCRC: verifyCRC)
        var out: [ConsumerRecord] = []
        var next: Int64?
        let aborted = readCommitted ? (abortedTransactions ?? []).sorted { $0.firstOffset < $1.firstOffset } : []
        var abortedIndex = 0
        var abortedProducers = Set<Int64>()
        while let entry = try reader.next() {
            // Where the data so far ends: if this batch exceeds what is left of the fetch
            // response's decompression budget, decoding stops here and the batch is fetched
            // again later (with a fresh budget), keeping the batches before it.
            let before = next
            do {
            switch entry {
            case let .batch(b):
                // The batch's last offset must be representable and leave room for the next one.
                guard b.baseOffset >= 0, b.lastOffsetDelta >= 0, b.baseOffset < Int64.max - Int64(b.lastOffsetDelta) else {
                    throw InvalidOffset(what: "batch at base offset \(b.baseOffset) with last offset delta \(b.lastOffsetDelta)")
                }
                next = b.nextOffset
                if readCommitted {
                    // Transactions that began at or before this batch are now open (bookkeeping
                    // runs for batches before `from` too, so an ABORT marker is never missed).
                    while abortedIndex < aborted.count, aborted[abortedIndex].firstOffset <= b.lastOffset {
                        abortedProducers.insert(aborted[abortedIndex].producerId)
                        abortedIndex += 1
                    }
                }
                if b.isControl {
                    if readCommitted, abortedProducers.contains(b.producerId),
                       try b.controlRecords(decompress: decompress).contains(where: { $0.type == .abort }) {
                        abortedProducers.remove(b.producerId)
                    }
                    continue
                }
                if b.lastOffset < from { continue }
                if readCommitted && b.isTransactional && abortedProducers.contains(b.producerId) { continue }
                var records = try b.records(decompress: decompress)
                // The wire says -1 for "none"; the public record says nil (converted once per batch).
                let epoch: Int32? = b.partitionLeaderEpoch >= 0 ? b.partitionLeaderEpoch : nil, type = b.timestampType
                while let r = try records.next() {
                    guard r.offset >= b.baseOffset, r.offset <= b.lastOffset else {
                        throw InvalidOffset(what: "record at offset \(r.offset) in the batch \(b.baseOffset)...\(b.lastOffset)")
                    }
                    if r.offset < from { continue }
                    out.append(ConsumerRecord(topic: topic, partition: partition, offset: r.offset, timestamp: r.timestamp >= 0 ? r.timestamp : nil,
                                              timestampType: type, key: r.key, value: r.value, headers: r.headers, leaderEpoch: epoch))
                }
            case let .legacy(m):
                guard m.offset >= 0, m.offset < Int64.max else { throw InvalidOffset(what: "legacy message at offset \(m.offset)") }
                next = m.offset + 1
                for r in try m.records(decompress: decompress) {
                    guard r.offset >= 0, r.offset < Int64.max else { throw InvalidOffset(what: "legacy inner message at offset \(r.offset)") }
                    guard r.offset >= from else { continue }
                    out.append(ConsumerRecord(topic: topic, partition: partition, offset: r.offset, timestamp: r.timestamp >= 0 ? r.timestamp : nil,
                                              timestampType: .createTime, key: r.key, value: r.value, headers: r.headers, leaderEpoch: nil))
                    next = r.offset + 1
                }
            }
            } catch let e as RecordDecodingError {
                guard case .decompressionBudgetExhausted = e.reason else { throw e }
                return (out, before.map { Swift.max($0, from) })
            }
        }
        return (out, next.map { Swift.max($0, from) })
    }

    /// The data names an offset no partition can have (see `decode`).
    struct InvalidOffset: Error, CustomStringConvertible {
        let what: String
        var description: String { "invalid offset: \(what)" }
    }
}
