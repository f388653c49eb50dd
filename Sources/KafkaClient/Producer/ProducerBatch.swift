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

/// One batch of one partition: filled by `append`, then sealed (built, compressed, CRC'd),
/// sent, possibly retried, and finally completed. Owned by `RecordAccumulator`.
struct ProducerBatch: Sendable {
    let topicPartition: TopicPartition
    /// Open while records are appended; nil once sealed.
    var builder: RecordBatchBuilder?
    /// The sealed batch bytes (base sequence and producer id/epoch patched in at send time).
    var sealed: [UInt8]?
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
    var inFlight = false
    /// Whether a request carrying it was ever written (a failure after that is "outcome unknown").
    var everSent = false

    init(topicPartition: TopicPartition, compression: RecordCompression, capacity: Int, now: ContinuousClock.Instant) {
        self.topicPartition = topicPartition
        builder = RecordBatchBuilder(compression: compression, capacity: capacity)
        createdAt = now
    }
}
