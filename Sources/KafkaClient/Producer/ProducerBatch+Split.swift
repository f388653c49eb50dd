import KafkaProtocol

/// Re-splitting a batch that is larger than its broker's request-size window.
///
/// Which batches may be split, and why only those: idempotence lets the broker recognise a
/// resent batch as a duplicate only when it carries the same producer id, epoch and sequence
/// range as before. A batch that may have reached the broker (`inFlight`, `unsure`) must
/// therefore be resent exactly as it was — re-split, its pieces would carry sequence ranges the
/// broker has never seen and, if the original is in the log, be refused as out of order (or,
/// without idempotence, written twice in a new shape). A `sealed` batch is certainly not in the
/// log: it never left the producer, or every attempt was refused with an answer or cut short
/// before its request's last byte was written (`KafkaError.requestNotWritten`; Kafka reads whole
/// frames only). Its records can be rebuilt into smaller batches. If it already has a sequence
/// range, the pieces divide that range in record order (same producer id and epoch): the broker
/// has seen none of it, and the batches after it keep theirs, so the partition's sequence stays
/// gapless. Unsequenced pieces are numbered when first drained.
///
/// A batch larger than the link can carry that may have been written is not split: it is resent
/// whole, and if no connection ever carries it, it fails at `delivery.timeout.ms` with
/// `.outcomeUnknown`, naming its size and the window (`ProducerMachine.expire`). On a link that
/// cuts connections mid-request that is rare: the request that first met the cut was cut short
/// (so its batches stay splittable), and new batches are kept to the window from then on
/// (`RequestSizeWindow`).
extension ProducerBatch {
    /// Whether this batch is certainly not in the log (see above): sealed.
    var isUnsent: Bool {
        if case .sealed = state { return true }
        return false
    }

    /// This batch's records rebuilt into consecutive batches of at most `maxBytes`
    /// (uncompressed; a record larger than that gets a batch of its own), with its completions
    /// and buffer accounting divided among them in record order; nil when it may not be split
    /// (see above), has one record, or cannot be rebuilt (then it is sent as it is).
    func splitForWindow(maxBytes: Int, settings: RecordAccumulator.Settings) -> [ProducerBatch]? {
        guard isUnsent, recordCount > 1, let bytes = sealedBytes, bytes.count > maxBytes else { return nil }
        guard let batch = try? RecordBatch(bytes, verifyCRC: false),
              let records = try? batch.decodeRecords(decompress: Compression.recordDecompressor(maxOutput: .max)),
              records.count == completions.count
        else { return nil }
        var pieces: [ProducerBatch] = []
        var start = 0
        var builder = RecordBatchBuilder(compression: settings.compression, capacity: maxBytes)
        func close(_ end: Int) throws(KafkaError) {
            var piece = ProducerBatch(topicPartition: topicPartition, compression: settings.compression, capacity: 0, now: createdAt)
            piece.state = .sealed(try RecordAccumulator.seal(builder, settings))
            piece.completions = Array(completions[start ..< end])
            piece.recordCount = end - start
            piece.attempts = attempts
            piece.retryAfter = retryAfter
            if baseSequence >= 0 {
                // The piece keeps its records' share of the sequence range (see above).
                piece.baseSequence = RecordAccumulator.add(baseSequence, start)
                piece.producerEpoch = producerEpoch
                piece.producerId = producerId
            }
            // Shares of the buffer accounting that add up to the original exactly.
            piece.accountedBytes = accountedBytes * end / recordCount - accountedBytes * start / recordCount
            pieces.append(piece)
            start = end
            builder = RecordBatchBuilder(compression: settings.compression, capacity: maxBytes)
        }
        do {
            for (i, r) in records.enumerated() {
                let size = builder.sizeOfRecord(timestamp: r.timestamp, keyCount: r.key?.count, valueCount: r.value?.count, headers: r.headers)
                if !builder.isEmpty && builder.sizeInBytes + size > maxBytes { try close(i) }
                try builder.append(r)
            }
            try close(records.count)
        } catch {
            return nil
        }
        return pieces.count > 1 ? pieces : nil
    }
}
