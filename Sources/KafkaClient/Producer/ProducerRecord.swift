public import KafkaProtocol

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition index.
    public var partition: Int32
    /// A partition of a topic.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition index.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

/// A message to produce.
///
/// `key` and `value` keep `nil` (null) distinct from empty. Without `partition`, the configured
/// partitioner chooses (murmur2 of the key, sticky for null keys). Without `timestamp`, the
/// producer stamps the current time (create time).
public struct ProducerRecord: Sendable {
    /// The topic to write to.
    public var topic: String
    /// The partition; nil lets the partitioner choose.
    public var partition: Int32?
    /// The key; nil for a null key.
    public var key: [UInt8]?
    /// The value; nil for a null value (a tombstone on compacted topics).
    public var value: [UInt8]?
    /// Headers, in order (keys may repeat).
    public var headers: [RecordHeader]
    /// Milliseconds since the epoch.
    public var timestamp: Int64?

    /// A message with byte key and value.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition; nil lets the partitioner choose.
    ///   - key: The key; nil for null.
    ///   - value: The value; nil for null.
    ///   - headers: Headers.
    ///   - timestamp: Milliseconds since the epoch; nil for the time of `send`/`enqueue`.
    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record with UTF-8 string key and value.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition; nil lets the partitioner choose.
    ///   - key: The key; nil for null.
    ///   - value: The value; nil for null.
    ///   - headers: Headers.
    ///   - timestamp: Milliseconds since the epoch; nil for the time of `send`/`enqueue`.
    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.init(topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, headers: headers, timestamp: timestamp)
    }
}

/// Where an acknowledged message was written.
public struct RecordMetadata: Sendable, Equatable {
    /// The topic written to.
    public var topic: String
    /// The partition written to.
    public var partition: Int32
    /// The message's offset; nil when unknown: acks=0 (the broker does not answer), or a
    /// duplicate the broker recognised (an idempotent retry of a batch already written).
    public var offset: Int64?
    /// The message timestamp in milliseconds since the epoch: the broker's log-append time
    /// when the topic uses it, else the create time the record carried.
    public var timestamp: Int64

    /// Metadata with every field given: for faking `send` results and delivery outcomes in
    /// tests (the producer builds its own from the broker's answer).
    /// - Parameters:
    ///   - topic: The topic written to.
    ///   - partition: The partition written to.
    ///   - offset: The message's offset; nil when unknown.
    ///   - timestamp: The message timestamp in milliseconds since the epoch.
    public init(topic: String, partition: Int32, offset: Int64?, timestamp: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
    }
}

/// The outcome of one batch of messages enqueued with `KafkaProducer.enqueue`: one report per
/// batch, carrying every message's id (as returned by `enqueue`) in order. Message `i` of the
/// batch was written at `baseOffset + i` — when `send` and `enqueue` share the partition, the
/// batch may also hold `send`'s messages, which are not listed here; `onMessageDelivery` /
/// `KafkaProducer.messageDeliveries` give each message its exact offset.
public struct DeliveryReport: Sendable {
    /// The partition the batch was written to (or meant for).
    public var topicPartition: TopicPartition
    /// The ids `enqueue` returned for these messages, in offset order.
    public var messageIds: [MessageID]
    /// The batch's outcome: on success the offset of its first message (nil when unknown:
    /// acks=0, a duplicate the broker recognised, or offsets the broker gave out of range),
    /// else why every message of the batch failed.
    public var result: Result<Int64?, KafkaError>

    /// Whether the whole batch was written.
    public var isSuccess: Bool {
        if case .success = result { return true }
        return false
    }

    /// Offset of the first message: nil on failure or when unknown (see `result`).
    public var baseOffset: Int64? {
        if case let .success(offset) = result { return offset }
        return nil
    }

    /// Why the batch failed; nil on success.
    public var error: KafkaError? {
        if case let .failure(error) = result { return error }
        return nil
    }

    /// A report with every field given: for faking delivery outcomes in tests (the producer
    /// builds its own when a batch completes).
    /// - Parameters:
    ///   - topicPartition: The partition the batch was for.
    ///   - messageIds: The ids `enqueue` returned for its messages, in offset order.
    ///   - result: The first message's offset (nil when unknown) on success, else the error.
    public init(topicPartition: TopicPartition, messageIds: [MessageID], result: Result<Int64?, KafkaError>) {
        self.topicPartition = topicPartition
        self.messageIds = messageIds
        self.result = result
    }
}
