import KafkaNet
import KafkaProtocol

/// The producer's buffer of batches per partition: pure logic, no I/O and no clock of its own
/// (every call takes `now`), so linger, batch-size, retry and expiry decisions are unit-tested
/// deterministically.
///
/// Ordering: at most one batch per partition is in flight, and a batch that must be retried goes
/// back to the head of its queue, so messages of a partition are written in the order they were
/// appended — with or without idempotence.
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
        /// `batch.num.messages`: most records per batch.
        var maxBatchRecords = Int.max
    }

    struct PartitionQueue: Sendable {
        var batches: [ProducerBatch] = []
        /// Idempotence: the next sequence number to hand out.
        var nextSequence: Int32 = 0
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
        var size = -1
        // Read the open builder in place: binding it to a local would retain (and later copy)
        // its buffer.
        if let i = queue.batches.indices.last, queue.batches[i].builder != nil {
            size = queue.batches[i].builder!.sizeOfRecord(timestamp: timestamp, keyCount: key?.count, valueCount: value?.count, headers: headers)
            let full = queue.batches[i].builder!.sizeInBytes + size > settings.batchSize || queue.batches[i].recordCount >= settings.maxBatchRecords
            if full && !queue.batches[i].builder!.isEmpty {
                // Does not fit: seal this batch; the record starts a new one.
                let b = queue.batches[i].builder!
                queue.batches[i].builder = nil
                do {
                    queue.batches[i].sealed = try seal(b, settings)
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
            let capacity = min(settings.batchSize, max(16 * 1024, size * 4)) + RecordBatch.headerSize
            queue.batches.append(ProducerBatch(topicPartition: tp, compression: settings.compression, capacity: capacity, now: now()))
        }
        let i = queue.batches.count - 1
        do {
            try queue.batches[i].builder!.append(timestamp: timestamp, key: key, value: value, headers: headers)
        } catch {
            if queue.batches[i].recordCount == 0 { queue.batches.removeLast() }
            return .failure(KafkaError(.encoding, "cannot append record: \(error)", context: .init(topic: tp.topic, partition: tp.partition)))
        }
        queue.batches[i].completions.append(completion)
        queue.batches[i].recordCount += 1
        queue.batches[i].accountedBytes += added
        // Ready transitions only (not "is ready"): the sender is woken once per batch, not once
        // per message, when this record filled its batch or sealed the previous one.
        let justFull = (queue.batches[i].builder?.sizeInBytes ?? 0) >= settings.batchSize || queue.batches[i].recordCount >= settings.maxBatchRecords
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
        guard let head = q.batches.first, !head.inFlight else { return false }
        if let after = head.retryAfter, now < after { return false }
        if flushing || head.builder == nil || q.batches.count > 1 { return true }
        if let b = head.builder, b.sizeInBytes >= settings.batchSize || head.recordCount >= settings.maxBatchRecords { return true }
        return now - head.createdAt >= settings.linger
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
            if head.inFlight { continue }
            consider(head.createdAt + settings.deliveryTimeout)
            // Only future events: a batch that is ready now but waiting for an in-flight slot
            // or a leader is woken by that request's completion or the metadata refresh.
            if let after = head.retryAfter, after > now { consider(after) }
            else if head.retryAfter == nil, head.createdAt + settings.linger > now { consider(head.createdAt + settings.linger) }
        }
        return best
    }

    /// Takes ready head batches of `partitions` (those led by one broker), sealing them and
    /// assigning sequence numbers, until `maxRequestSize` (the first batch always fits).
    mutating func drain(_ partitions: [TopicPartition], producerId: Int64, producerEpoch: Int16, now: ContinuousClock.Instant) -> (batches: [(TopicPartition, [UInt8])], failed: [(ProducerBatch, KafkaError)]) {
        var out: [(TopicPartition, [UInt8])] = []
        var failed: [(ProducerBatch, KafkaError)] = []
        var total = 0
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
            if let b = head.builder {
                head.builder = nil
                do {
                    head.sealed = try Self.seal(b, settings)
                } catch {
                    q.batches.removeFirst()
                    bufferedBytes -= head.accountedBytes
                    queues[tp] = q.batches.isEmpty ? nil : q
                    failed.append((head, error))
                    continue
                }
            }
            guard var bytes = head.sealed else { continue }
            if total > 0 && total + bytes.count > settings.maxRequestSize { break }
            if settings.idempotent {
                if head.baseSequence < 0 || head.producerEpoch != producerEpoch {
                    head.baseSequence = q.nextSequence
                    head.producerEpoch = producerEpoch
                    head.producerId = producerId
                    q.nextSequence = Self.add(q.nextSequence, head.recordCount)
                }
                Self.patchProducer(&bytes, id: head.producerId, epoch: head.producerEpoch, sequence: head.baseSequence)
                head.sealed = bytes
            }
            head.inFlight = true
            head.everSent = true
            head.attempts += 1
            q.batches[0] = head
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
    static func patchProducer(_ bytes: inout [UInt8], id: Int64, epoch: Int16, sequence: Int32) {
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: id.bigEndian, toByteOffset: 43, as: Int64.self)
            raw.storeBytes(of: epoch.bigEndian, toByteOffset: 51, as: Int16.self)
            raw.storeBytes(of: sequence.bigEndian, toByteOffset: 53, as: Int32.self)
            let crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[21...]))
            raw.storeBytes(of: crc.bigEndian, toByteOffset: 17, as: UInt32.self)
        }
    }

    /// The in-flight head batch of `tp` was acknowledged: removes and returns it.
    mutating func complete(_ tp: TopicPartition) -> ProducerBatch? {
        guard var q = queues[tp], let head = q.batches.first, head.inFlight else { return nil }
        q.batches.removeFirst()
        bufferedBytes -= head.accountedBytes
        queues[tp] = q.batches.isEmpty && q.nextSequence == 0 ? nil : q
        return head
    }

    /// The in-flight head batch of `tp` failed retriably: it goes back to the head of its queue
    /// after a backoff — or, when out of retries or time, is removed and returned for failing.
    mutating func retry(_ tp: TopicPartition, now: ContinuousClock.Instant) -> ProducerBatch? {
        guard var q = queues[tp], var head = q.batches.first, head.inFlight else { return nil }
        head.inFlight = false
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
    mutating func fail(_ tp: TopicPartition) -> ProducerBatch? {
        guard var q = queues[tp], let head = q.batches.first, head.inFlight else { return nil }
        q.batches.removeFirst()
        bufferedBytes -= head.accountedBytes
        queues[tp] = q
        return head
    }

    /// Removes every batch (not in flight) older than `delivery.timeout.ms`.
    mutating func expire(now: ContinuousClock.Instant) -> [ProducerBatch] {
        var out: [ProducerBatch] = []
        for (tp, var q) in queues {
            var changed = false
            while let head = q.batches.first, !head.inFlight, now - head.createdAt >= settings.deliveryTimeout {
                q.batches.removeFirst()
                bufferedBytes -= head.accountedBytes
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
            for i in queues[tp]!.batches.indices where !queues[tp]!.batches[i].inFlight {
                queues[tp]!.batches[i].baseSequence = -1
            }
        }
    }

    /// Removes every batch that is not in flight (an error no retry can fix): returns them for
    /// failing. An in-flight head keeps its place until its response or failure arrives.
    mutating func removeNotInFlight() -> [ProducerBatch] {
        var out: [ProducerBatch] = []
        for (tp, var q) in queues {
            let keep = q.batches.filter(\.inFlight)
            guard keep.count < q.batches.count else { continue }
            for b in q.batches where !b.inFlight {
                bufferedBytes -= b.accountedBytes
                out.append(b)
            }
            q.batches = keep
            queues[tp] = q
        }
        return out
    }

    /// Removes everything (close after the flush timeout): returns every batch for failing.
    mutating func drainAll() -> [ProducerBatch] {
        let all = queues.values.flatMap(\.batches)
        queues = [:]
        bufferedBytes = 0
        return all
    }
}
