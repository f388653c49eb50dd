public import KafkaProtocol

/// The outcome of one message given to `KafkaProducer.enqueue`: confluent-kafka's per-message
/// delivery callback `on_delivery(err, msg)`. Produced only when asked for (the
/// `onMessageDelivery` callback or the `messageDeliveries` stream); the per-batch
/// `DeliveryReport` is always there and costs nothing per message.
public struct MessageDelivery: Sendable {
    /// The id `enqueue` returned for the message.
    public var messageId: MessageID
    /// Where the message was written, or why it was not (`.timeout`, `.outcomeUnknown`,
    /// `.closed`, a broker error, …). `offset` is nil when unknown (acks=0, or a duplicate the
    /// broker recognised).
    public var result: Result<RecordMetadata, KafkaError>

    /// An outcome with every field given: for faking deliveries in tests.
    /// - Parameters:
    ///   - messageId: The id `enqueue` returned.
    ///   - result: The metadata on success, the error on failure.
    public init(messageId: MessageID, result: Result<RecordMetadata, KafkaError>) {
        self.messageId = messageId
        self.result = result
    }
}
