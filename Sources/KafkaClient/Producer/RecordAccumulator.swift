import KafkaNet
import KafkaProtocol

/// The producer's buffer of batches per partition: pure logic, no I/O and no clock of its own
/// (every call takes `now`), so linger, batch-size, retry and expiry decisions are unit-tested
/// deterministically.
///
/// Ordering: at most one request per partition is in flight (`PartitionQueue.inFlight`), and a
/// batch that must be retried goes back to the head of its queue, so messages of a partition are
/// written in the order they were appended — with or without idempotence. Each batch's life is
/// its `BatchState`.
struct RecordAccumulator: Sendable {
    struct Settings: Sendable {
        var batchSize: Int
        var linger: Duration
        var maxRequestSize: Int
        var bufferMemory: Int
        var compression: RecordCompression
        var compressionLevel: Int?
        var deliveryTimeout: Duration
        var retries: Int
        var retryBackoff: Backoff
        var idempotent: Bool
        /// Batches carry the transactional attribute (a transactional producer).
        var transactional = false
        /// `batch.num.messages`: most records per batch.
        var maxBatchRecords = Int.max
    }

    struct PartitionQueue: Sendable {
        var batches: [ProducerBatch] = []
        /// Idempotence: the next sequence number to hand out.
        var nextSequence: Int32 = 0
        /// The request carrying this partition's head, until that request is settled (answered
        /// or failed). Stays set when the head was settled another way meanwhile (expired while
        /// in flight): nothing more of this partition goes out before the broker has answered
        /// or the request died, which keeps the partition's writes in order.
        var inFlight: ProduceRequestID?
        /// The leader's request-size window when it is below `batch.size` (`Int.max`: none): new
        /// batches are sealed at this size. Set by the machine (`setBatchLimit`).
        var batchLimit = Int.max
    }

    /// What `append` did.
    enum AppendOutcome: Equatable {
        /// Appended; `becameReady` when this record filled a batch (the sender should look now),
        /// `firstInQueue` when the partition had nothing buffered (a linger timer starts).
        case appended(becameReady: Bool, firstInQueue: Bool)
        /// `buffer.memory` is exhausted.
        case bufferFull
    }

    let settings: Settings
    private(set) var queues: [TopicPartition: PartitionQueue] = [:]
    /// Bytes of unacknowledged messages buffered.
    private(set) var bufferedBytes = 0
    /// True while `flush` waits: everything is ready regardless of linger.
    var flushing = false
    /// Where the next `drain` starts in the partitions it is given (rotates by one per drain).
    private var drainCursor = 0
    /// Set for one append that already waited for room (`send`): ignore `buffer.memory`.
    var overcommit = false

    init(settings: Settings) { self.settings = settings }

    /// Number of messages buffered or in flight.
    var pendingMessages: Int { queues.values.reduce(0) { $0 + $1.batches.reduce(0) { $0 + $1.recordCount } } }

    /// Appends one record to its partition's open batch (or a new batch).
    ///
    /// Per-message hot path: the partition's queue is mutated in place (never copied out of the
    /// dictionary, which would copy the batch buffer on write).
    mutating func append(
        _ tp: TopicPartition, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader],
        completion: Completion, now: @autoclosure () -> ContinuousClock.Instant
    ) throws(KafkaError) -> AppendOutcome {
        let limit = overcommit ? Int.max : settings.bufferMemory - bufferedBytes
        // One hash lookup, mutated in place (an empty queue left behind is harmless).
        let outcome: Result<(AppendOutcome, added: Int), KafkaError> = Self.append(
            to: &queues[tp, default: PartitionQueue()], tp, settings: settings, room: limit, anyBuffered: bufferedBytes > 0,
            timestamp: timestamp, key: key, value: value, headers: headers, completion: completion, now: now
        )
        switch outcome {
        case let .success((result, added)):
            bufferedBytes += added
            return result
        case let .failure(e):
            throw e
        }
    }

    private static func append(
        to queue: inout PartitionQueue, _ tp: TopicPartition, settings: Settings, room: Int, anyBuffered: Bool,
        timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], completion: Completion, now: () -> ContinuousClock.Instant
    ) -> Result<(AppendOutcome, added: Int), KafkaError> {
        let firstInQueue = queue.batches.isEmpty
        let batchSize = min(settings.batchSize, queue.batchLimit)
        var size = -1
        // The binding below lives only in this `if`: it is released before the append further
        // down mutates the builder in place (`withOpenBuilder`), so the buffer is not copied.
        if let i = queue.batches.indices.last, case let .open(builder) = queue.batches[i].state {
            size = builder.sizeOfRecord(timestamp: timestamp, keyCount: key?.count, valueCount: value?.count, headers: headers)
            let full = builder.sizeInBytes + size > batchSize || queue.batches[i].recordCount >= settings.maxBatchRecords
            if full && !builder.isEmpty {
                // Does not fit: seal this batch; the record starts a new one.
                do {
                    try queue.batches[i].seal { b throws(KafkaError) in try seal(b, settings) }
                } catch {
                    return .failure(error)
                }
                size = -1
            }
        }
        let needsNew = size < 0
        if needsNew {
            size = RecordBatchBuilder(compression: settings.compression, capacity: 0)
                .sizeOfRecord(timestamp: timestamp, keyCount: key?.count, valueCount: value?.count, headers: headers)
        }
        let added = size + (needsNew ? RecordBatch.headerSize : 0)
        if added > room && anyBuffered { return .success((.bufferFull, 0)) }
        if size + RecordBatch.headerSize > settings.maxRequestSize {
            return .failure(KafkaError(.configuration, "message of \(size) bytes exceeds max.request.size (\(settings.maxRequestSize))", context: .init(topic: tp.topic, partition: tp.partition)))
        }
        if needsNew {
            let capacity = min(batchSize, max(16 * 1024, size * 4)) + RecordBatch.headerSize
            queue.batches.append(ProducerBatch(topicPartition: tp, compression: settings.compression, capacity: capacity, now: now()))
        }
        let i = queue.batches.count - 1
        do {
            try queue.batches[i].withOpenBuilder { b in try b.append(timestamp: timestamp, key: key, value: value, headers: headers) }
        } catch {
            if queue.batches[i].recordCount == 0 { queue.batches.removeLast() }
            return .failure(KafkaError(.encoding, "cannot append record: \(error)", context: .init(topic: tp.topic, partition: tp.partition)))
        }
        queue.batches[i].completions.append(completion)
        queue.batches[i].recordCount += 1
        queue.batches[i].accountedBytes += added
        // Ready transitions only (not "is ready"): the sender is woken once per batch, not once
        // per message, when this record filled its batch or sealed the previous one.
        let justFull = (queue.batches[i].openSize ?? 0) >= batchSize || queue.batches[i].recordCount >= settings.maxBatchRecords
        let sealedPrevious = needsNew && queue.batches.count > 1
        return .success((.appended(becameReady: justFull || sealedPrevious, firstInQueue: firstInQueue), added))
    }

    static func seal(_ b: RecordBatchBuilder, _ s: Settings) throws(KafkaError) -> [UInt8] {
        do {
            return try b.build(compress: s.compression == .none ? nil : Compression.recordCompressor(level: s.compressionLevel))
        } catch {
            throw KafkaError(.encoding, "cannot build batch: \(error)")
        }
    }

    /// Whether the head batch of `q` may be sent now.
    private func headReady(_ q: PartitionQueue, now: ContinuousClock.Instant) -> Bool {
        guard q.inFlight == nil, let head = q.batches.first else { return false }
        if let after = head.retryAfter, now < after { return false }
        guard let size = head.openSize else { return true }
        if flushing || q.batches.count > 1 { return true }
        if size >= min(settings.batchSize, q.batchLimit) || head.recordCount >= settings.maxBatchRecords { return true }
        return now - head.createdAt >= settings.linger
    }

    /// New batches of `tp` are sealed at `limit` bytes (its leader's window) rather than at
    /// `batch.size` when that is smaller. Batches already sealed keep their size.
    mutating func setBatchLimit(_ tp: TopicPartition, _ limit: Int) {
        let l = limit >= settings.batchSize ? Int.max : limit
        if queues[tp]?.batchLimit != l { queues[tp]?.batchLimit = l }
    }

    /// Partitions whose head batch may be sent now.
    func readyPartitions(now: ContinuousClock.Instant) -> [TopicPartition] {
        queues.compactMap { headReady($0.value, now: now) ? $0.key : nil }
    }

    /// The earliest instant something becomes ready or expires (nil when nothing is buffered).
    func nextDeadline(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        var best: ContinuousClock.Instant?
        func consider(_ t: ContinuousClock.Instant) { if best == nil || t < best! { best = t } }
        for q in queues.values {
            guard let head = q.batches.first else { continue }
            // An in-flight batch is settled by its request (bounded by its delivery deadline):
            // a past deadline here would make the sender loop spin.
            if head.isInFlight {
                let deadline = head.createdAt + settings.deliveryTimeout
                if deadline > now { consider(deadline) }
                continue
            }
            consider(head.createdAt + settings.deliveryTimeout)
            // Only future events: a batch that is ready now but waiting for an in-flight slot
            // or a leader is woken by that request's completion or the metadata refresh.
            if let after = head.retryAfter, after > now { consider(after) }
            else if head.retryAfter == nil, head.createdAt + settings.linger > now { consider(head.createdAt + settings.linger) }
        }
        return best
    }

    /// Takes ready head batches of `partitions` (those led by one broker) for `request`, sealing
    /// them and assigning sequence numbers, until `maxBytes` (default `max.request.size`; the
    /// first batch always fits).
    mutating func drain(
        _ partitions: [TopicPartition], producerId: Int64, producerEpoch: Int16, now: ContinuousClock.Instant,
        request: ProduceRequestID = ProduceRequestID(broker: -1, serial: 0), maxBytes: Int? = nil
    ) -> (batches: [(TopicPartition, [UInt8])], failed: [(ProducerBatch, KafkaError)]) {
        var out: [(TopicPartition, [UInt8])] = []
        var failed: [(ProducerBatch, KafkaError)] = []
        var total = 0
        let limit = maxBytes ?? settings.maxRequestSize
        // Each drain starts one partition further along (as franz-go's sinks do): always
        // starting at the first would let a busy partition whose batches fill
        // `max.request.size` starve the ones after it.
        let n = partitions.count
        let start = n > 0 ? drainCursor % n : 0
        drainCursor &+= 1
        for i in 0 ..< n {
            let tp = partitions[(start + i) % n]
            guard var q = queues[tp], headReady(q, now: now) else { continue }
            var head = q.batches[0]
            do {
                try head.seal { b throws(KafkaError) in try Self.seal(b, settings) }
            } catch {
                q.batches.removeFirst()
                bufferedBytes -= head.accountedBytes
                queues[tp] = q.batches.isEmpty ? nil : q
                head.state = .done
                failed.append((head, error))
                continue
            }
            // Larger than the window and never sent: split (new batches are already smaller).
            if let bytes = head.sealedBytes, bytes.count > limit, let pieces = head.splitForWindow(maxBytes: limit, settings: settings) {
                q.batches.replaceSubrange(0 ... 0, with: pieces)
                head = pieces[0]
            }
            guard var bytes = head.sealedBytes else { continue }
            if total > 0 && total + bytes.count > limit {
                // Keep the sealed bytes (sealing is done once) for the next request.
                q.batches[0] = head
                queues[tp] = q
                break
            }
            let earlierUnknown = head.mayBeWritten
            // Drop the state's reference so patching the bytes does not copy them.
            head.state = .done
            if settings.idempotent {
                if head.baseSequence < 0 || head.producerEpoch != producerEpoch {
                    head.baseSequence = q.nextSequence
                    head.producerEpoch = producerEpoch
                    head.producerId = producerId
                    q.nextSequence = Self.add(q.nextSequence, head.recordCount)
                }
                Self.patchProducer(&bytes, id: head.producerId, epoch: head.producerEpoch, sequence: head.baseSequence, transactional: settings.transactional)
            }
            head.state = .inFlight(bytes, request: request, earlierUnknown: earlierUnknown)
            head.attempts += 1
            q.batches[0] = head
            q.inFlight = request
            queues[tp] = q
            out.append((tp, bytes))
            total += bytes.count
        }
        return (out, failed)
    }

    /// Sequence numbers wrap at Int32.max to 0 (Kafka's rule).
    static func add(_ seq: Int32, _ n: Int) -> Int32 {
        Int32((Int64(seq) + Int64(n)) % (Int64(Int32.max) + 1))
    }

    /// Writes producer id, epoch and base sequence into a sealed batch and recomputes its CRC
    /// (the CRC covers attributes..end, which includes these fields).
    static func patchProducer(_ bytes: inout [UInt8], id: Int64, epoch: Int16, sequence: Int32, transactional: Bool = false) {
        bytes.withUnsafeMutableBytes { raw in
            if transactional { raw[22] |= 0x10 }  // attributes bit 4, before the CRC covering it
            raw.storeBytes(of: id.bigEndian, toByteOffset: 43, as: Int64.self)
            raw.storeBytes(of: epoch.bigEndian, toByteOffset: 51, as: Int16.self)
            raw.storeBytes(of: sequence.bigEndian, toByteOffset: 53, as: Int32.self)
            let crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[21...]))
            raw.storeBytes(of: crc.bigEndian, toByteOffset: 17, as: UInt32.self)
        }
    }

    /// Ends `tp`'s outstanding request (`request`, or whichever when nil) and takes its head
    /// batch when that batch is the one the request carried; nil when the head was settled
    /// another way meanwhile (expired, failed at close).
    private mutating func takeInFlightHead(_ tp: TopicPartition, request: ProduceRequestID?) -> (queue: PartitionQueue, head: ProducerBatch)? {
        guard var q = queues[tp], let outstanding = q.inFlight, request == nil || request == outstanding else { return nil }
        q.inFlight = nil
        guard let head = q.batches.first, head.request == outstanding else {
            queues[tp] = q.batches.isEmpty && q.nextSequence == 0 ? nil : q
            return nil
        }
        return (q, head)
    }

    /// The in-flight head batch of `tp` was acknowledged: removes and returns it.
    mutating func complete(_ tp: TopicPartition, request: ProduceRequestID? = nil) -> ProducerBatch? {
        guard let taken = takeInFlightHead(tp, request: request) else { return nil }
        var (q, head) = taken
        q.batches.removeFirst()
        bufferedBytes -= head.accountedBytes
        queues[tp] = q.batches.isEmpty && q.nextSequence == 0 ? nil : q
        head.state = .done
        return head
    }

    /// The in-flight head batch of `tp` failed retriably: it goes back to the head of its queue
    /// after a backoff — `unsure` when the request may have been written (`written`), as it was
    /// before otherwise — or, when out of retries or time, is removed and returned for failing
    /// (its state tells whether it may be in the log).
    mutating func retry(_ tp: TopicPartition, now: ContinuousClock.Instant, written: Bool = true, request: ProduceRequestID? = nil) -> ProducerBatch? {
        guard let taken = takeInFlightHead(tp, request: request),
              case let .inFlight(bytes, _, earlierUnknown) = taken.head.state else { return nil }
        var (q, head) = taken
        head.state = written || earlierUnknown ? .unsure(bytes) : .sealed(bytes)
        if head.attempts > settings.retries || now - head.createdAt >= settings.deliveryTimeout {
            q.batches.removeFirst()
            bufferedBytes -= head.accountedBytes
            queues[tp] = q
            return head
        }
        head.retryAfter = now + settings.retryBackoff.delay(afterFailures: head.attempts)
        q.batches[0] = head
        queues[tp] = q
        return nil
    }

    /// Removes the in-flight head batch of `tp` (non-retriable failure).
    mutating func fail(_ tp: TopicPartition, request: ProduceRequestID? = nil) -> ProducerBatch? {
        guard let taken = takeInFlightHead(tp, request: request) else { return nil }
        var (q, head) = taken
        q.batches.removeFirst()
        bufferedBytes -= head.accountedBytes
        queues[tp] = q
        head.state = .done
        return head
    }

    /// Removes every head batch older than `delivery.timeout.ms`. One in flight becomes
    /// `unsure` (its request may have been written); its partition stays blocked until that
    /// request is settled. Returns them for failing (their state tells "may be in the log").
    mutating func expire(now: ContinuousClock.Instant) -> [ProducerBatch] {
        var out: [ProducerBatch] = []
        for (tp, var q) in queues {
            var changed = false
            while var head = q.batches.first, now - head.createdAt >= settings.deliveryTimeout {
                q.batches.removeFirst()
                bufferedBytes -= head.accountedBytes
                if case let .inFlight(bytes, _, _) = head.state { head.state = .unsure(bytes) }
                out.append(head)
                changed = true
                // Later batches of this partition are younger; only expire further heads.
            }
            if changed { queues[tp] = q }
        }
        return out
    }

    /// After an epoch bump (KIP-360) every partition starts again at sequence 0; batches not
    /// yet acknowledged get new sequence numbers when next drained.
    mutating func resetSequences() {
        for tp in queues.keys {
            queues[tp]!.nextSequence = 0
            for i in queues[tp]!.batches.indices where !queues[tp]!.batches[i].isInFlight {
                queues[tp]!.batches[i].baseSequence = -1
            }
        }
    }

    /// Removes every batch that is not in flight (an error no retry can fix): returns them for
    /// failing. An in-flight head keeps its place until its response or failure arrives.
    mutating func removeNotInFlight() -> [ProducerBatch] {
        var out: [ProducerBatch] = []
        for (tp, var q) in queues {
            let keep = q.batches.filter(\.isInFlight)
            guard keep.count < q.batches.count else { continue }
            for b in q.batches where !b.isInFlight {
                bufferedBytes -= b.accountedBytes
                out.append(b)
            }
            q.batches = keep
            queues[tp] = q
        }
        return out
    }

    /// Removes everything (close after the flush timeout): returns every batch for failing,
    /// those in flight as `unsure`.
    mutating func drainAll() -> [ProducerBatch] {
        var all = queues.values.flatMap(\.batches)
        for i in all.indices {
            if case let .inFlight(bytes, _, _) = all[i].state { all[i].state = .unsure(bytes) }
        }
        queues = [:]
        bufferedBytes = 0
        return all
    }

    /// Whether any partition waits for a request's answer.
    var anyInFlight: Bool { queues.values.contains { $0.inFlight != nil } }
}
