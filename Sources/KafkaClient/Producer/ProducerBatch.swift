import KafkaProtocol
import KafkaNet

/// Who to tell about one message when its batch completes.
enum Completion: Sendable {
    /// `enqueue`: reported in the batch's `DeliveryReport` under this id (and, when asked
    /// for, in a `MessageDelivery` carrying the record's timestamp).
    case id(MessageID, timestamp: Int64)
    /// `send`: resumes the awaiting caller with the message's metadata (a no-op when that
    /// caller was cancelled and already resumed).
    case waiter(OnceContinuation<RecordMetadata>, timestamp: Int64)
}

/// Names one Produce request: the broker it goes to and a serial number the producer core
/// hands out. A batch in flight records the request carrying it, so an answer that arrives
/// after the batch was settled another way (expired, closed) is recognised and ignored.
struct ProduceRequestID: Hashable, Sendable {
    var broker: Int32
    var serial: UInt64
}

/// Where one batch is in its life. One state instead of flags, so impossible combinations
/// ("open but in flight", "sent but never sealed") cannot be written down.
///
/// ```
/// open ──seal──▶ sealed ──drain──▶ inFlight ──answer──▶ done
///                  ▲                 │  │
///                  └─ not written ───┘  └─ no answer ──▶ unsure ──drain──▶ inFlight …
/// ```
/// Once sealed, the bytes never change except for the producer id, epoch and base sequence
/// stamped on the first drain (and again only after an epoch bump, KIP-360): a retry resends
/// exactly what the broker may already hold, so idempotence can recognise it.
enum BatchState: Sendable {
    /// Records are still appended.
    case open(RecordBatchBuilder)
    /// Built (compressed, CRC'd); never written, or every write so far was refused by the
    /// broker with an answer (so it is not in the log).
    case sealed([UInt8])
    /// Part of `request`, which is written or about to be. `earlierUnknown`: an earlier
    /// attempt went unanswered, so whatever this attempt's fate, it may be in the log.
    case inFlight([UInt8], request: ProduceRequestID, earlierUnknown: Bool)
    /// Written in a request that got no answer (connection lost, timed out): it may or may not
    /// be in the log. Waits to be resent with the same bytes.
    case unsure([UInt8])
    /// Acknowledged, failed or expired: handed to its completions.
    case done
}

/// One batch of one partition: filled by `append`, then sealed, sent, possibly retried, and
/// finally completed. Owned by `RecordAccumulator`.
struct ProducerBatch: Sendable {
    let topicPartition: TopicPartition
    var state: BatchState
    var completions: [Completion] = []
    var recordCount = 0
    /// Bytes counted against `buffer.memory`.
    var accountedBytes = 0
    /// When the first record arrived (linger and delivery timeout count from here).
    let createdAt: ContinuousClock.Instant
    var attempts = 0
    /// Idempotence: first sequence number, -1 until the batch is first drained.
    var baseSequence: Int32 = -1
    /// The producer epoch the sequence was assigned under.
    var producerEpoch: Int16 = -1
    var producerId: Int64 = -1
    /// Not before this instant (retry backoff).
    var retryAfter: ContinuousClock.Instant?

    init(topicPartition: TopicPartition, compression: RecordCompression, capacity: Int, now: ContinuousClock.Instant) {
        self.topicPartition = topicPartition
        state = .open(RecordBatchBuilder(compression: compression, capacity: capacity))
        createdAt = now
    }

    /// Still taking records.
    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// Part of a request whose answer is awaited.
    var isInFlight: Bool {
        if case .inFlight = state { return true }
        return false
    }

    /// The request carrying it, while in flight.
    var request: ProduceRequestID? {
        if case let .inFlight(_, request, _) = state { return request }
        return nil
    }

    /// Whether some write of it went unanswered (or is outstanding), so it may be in the log: a
    /// failure from here on is "outcome unknown", not "not delivered".
    var mayBeWritten: Bool {
        switch state {
        case .inFlight, .unsure: true
        case .open, .sealed, .done: false
        }
    }

    /// The built bytes, once sealed.
    var sealedBytes: [UInt8]? {
        switch state {
        case let .sealed(b), let .unsure(b), let .inFlight(b, _, _): b
        case .open, .done: nil
        }
    }

    /// The open builder's size so far (nil once sealed).
    var openSize: Int? {
        if case let .open(b) = state { return b.sizeInBytes }
        return nil
    }

    /// Runs `body` on the open builder in place. The state is emptied for the duration so the
    /// builder's buffer has one owner and appending never copies it (the per-message path).
    mutating func withOpenBuilder<R>(_ body: (inout RecordBatchBuilder) throws -> R) rethrows -> R? {
        guard case var .open(builder) = state else { return nil }
        state = .done
        defer { state = .open(builder) }
        return try body(&builder)
    }

    /// Seals an open batch with `build` (compression, CRC); a no-op for any other state.
    mutating func seal(_ build: (RecordBatchBuilder) throws(KafkaError) -> [UInt8]) throws(KafkaError) {
        guard case let .open(builder) = state else { return }
        state = .sealed(try build(builder))
    }
}
