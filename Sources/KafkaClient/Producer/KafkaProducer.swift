/// Produces messages to Kafka: batching per partition, one Produce request per broker,
/// retries with backoff, idempotence on by default, and a delivery report or a clear error for
/// every message.
///
/// ```swift
/// let producer = try KafkaProducer(properties: ["bootstrap.servers": "localhost:9092", "linger.ms": "5"])
/// let meta = try await producer.send(ProducerRecord(topic: "orders", key: "o-1", value: "{…}"))
/// let id = try producer.enqueue(ProducerRecord(topic: "orders", key: nil, value: "fast path"))  // no suspension
/// try await producer.flush()
/// await producer.close()
/// ```
/// `send` suspends until the broker acknowledged the message (and, when `buffer.memory` is
/// full, until there is room). `enqueue` never suspends: it returns a message id at once (or
/// throws `.queueFull`), and the outcome arrives in a `DeliveryReport` through
/// `deliveryReports` and the `onDelivery` callback — or, one per message, as a
/// `MessageDelivery` through `onMessageDelivery` / `messageDeliveries` when asked for.
/// `flush(timeout:)` returns how many messages are still queued when its timeout passes.
///
/// Every wait honours Task cancellation with `KafkaError(.cancelled)`; the producer stays
/// usable afterwards.
///
/// Call `close()` when done. A producer released without it does not linger: its background
/// work stops, connections close, and every message still pending fails at once (delivery
/// reports and awaiting `send`s get `.closed`, or `.outcomeUnknown` for a batch already
/// written to a broker).
public final class KafkaProducer: Sendable {
    /// All state and background work. Nothing in there refers back to this wrapper, so the
    /// wrapper's lifetime is the application's, and `deinit` can shut the core down.
    let core: ProducerCore

    /// Delivery reports for messages given to `enqueue`, one per batch. The stream holds up to
    /// 100,000 reports for a reader that falls behind; beyond that the newest are dropped (the
    /// `onDelivery` callback always sees every report). It finishes when the producer closes.
    public let deliveryReports: AsyncStream<DeliveryReport>

    /// Creates a producer. Connections are made in the background; messages can be enqueued
    /// at once.
    /// - Parameters:
    ///   - config: The settings (checked with `validate()`).
    ///   - onDelivery: Called with every batch's `DeliveryReport` (messages from `enqueue`),
    ///     on the producer's own tasks: keep it short and non-blocking.
    ///   - onMessageDelivery: Called once per message from `enqueue` with its id and outcome
    ///     (confluent-kafka's `on_delivery`), after the batch's `onDelivery`. nil (the default)
    ///     costs nothing per message.
    /// - Throws: `.configuration` for an invalid combination of settings.
    public init(config: ProducerConfig, onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil,
                onMessageDelivery: (@Sendable (MessageDelivery) -> Void)? = nil) throws {
        core = try ProducerCore(config: config, onDelivery: onDelivery, onMessageDelivery: onMessageDelivery)
        deliveryReports = core.deliveryReports
    }

    /// Creates a producer from Kafka property names (`bootstrap.servers`, `linger.ms`, …).
    /// - Parameters:
    ///   - properties: Client and producer properties by their Kafka/librdkafka names.
    ///   - onDelivery: See `init(config:onDelivery:onMessageDelivery:)`.
    ///   - onMessageDelivery: See `init(config:onDelivery:onMessageDelivery:)`.
    /// - Throws: `.configuration` for an unknown property, a bad value or an invalid combination.
    public convenience init(properties: [String: String], onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil,
                            onMessageDelivery: (@Sendable (MessageDelivery) -> Void)? = nil) throws {
        try self.init(config: ProducerConfig(properties: properties), onDelivery: onDelivery, onMessageDelivery: onMessageDelivery)
    }

    /// One outcome per message given to `enqueue` (its id and `Result<RecordMetadata,
    /// KafkaError>`), beside the per-batch `deliveryReports`. Made on first use and the same
    /// stream afterwards: it carries the messages whose batch completes after that first use,
    /// so read it before enqueueing. Until then no per-message outcome is built. Holds up to
    /// 1,000,000 outcomes for a reader that falls behind (beyond that the newest are dropped;
    /// `onMessageDelivery` sees every one). Finishes when the producer closes.
    public var messageDeliveries: AsyncStream<MessageDelivery> { core.messageDeliveries }

    deinit { core.abandon() }

    /// Enqueues a message without suspending and returns its id; the outcome comes as a
    /// `DeliveryReport`. Throws `.queueFull` when `buffer.memory` is exhausted, `.closed` after
    /// `close()`, or `.configuration` for a message larger than `max.request.size`.
    /// - Parameter record: The message.
    /// - Returns: Its id, as the delivery reports name it.
    /// - Throws: `KafkaError`: `.queueFull`, `.closed`, or `.configuration` for a message larger than `max.request.size`.
    @discardableResult
    public func enqueue(_ record: ProducerRecord) throws -> MessageID {
        try core.enqueue(record)
    }

    /// Sends a message and returns where it was written once the broker acknowledged it.
    /// Waits for room when `buffer.memory` is full.
    ///
    /// Cancellation: while waiting for room, the record is not sent and `.cancelled` is thrown.
    /// Once the record is in a batch it cannot be taken back: the call throws `.cancelled` at
    /// once, but the record may still be delivered (as with the Java client and franz-go).
    /// - Parameter record: The message.
    /// - Returns: Where it was written.
    /// - Throws: `KafkaError`: the delivery's failure (a broker error, `.timeout` after `delivery.timeout.ms`, `.outcomeUnknown`), `.closed`, or `.cancelled` when the task is cancelled.
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        try await core.send(record)
    }

    /// Waits until every message enqueued so far is acknowledged or has failed (everything
    /// buffered is sent without waiting for `linger.ms`). Throws `.cancelled` when the task is
    /// cancelled; the messages stay queued.
    /// - Throws: `KafkaError(.cancelled)` when the task is cancelled.
    public func flush() async throws {
        try await core.flush()
    }

    /// Waits at most `timeout` until every message enqueued so far is acknowledged or has
    /// failed (everything buffered is sent without waiting for `linger.ms`), and returns how
    /// many are still queued or in flight — confluent-kafka's `flush(timeout)`. 0 means every
    /// message is settled; messages left over stay queued and are delivered later.
    /// - Parameter timeout: The longest wait; zero or less returns the count at once.
    /// - Returns: Messages buffered or in flight when the wait ended (0: all settled).
    /// - Throws: `KafkaError(.cancelled)` when the task is cancelled (the messages stay queued).
    public func flush(timeout: Duration) async throws -> Int {
        try await core.flush(timeout: timeout)
    }

    /// Flushes for at most `timeout` (less when the task is cancelled), then fails whatever
    /// is left and closes every connection: batches already written to a broker but not
    /// acknowledged fail with `.outcomeUnknown` (they may be in the log), the rest with
    /// `.closed`. Later calls fail with `.closed`.
    /// - Parameter timeout: How long to flush before failing what is left.
    public func close(timeout: Duration = .seconds(30)) async {
        await core.close(timeout: timeout)
    }

    /// Messages buffered or in flight.
    public var pendingMessages: Int { core.pendingMessages }
}
