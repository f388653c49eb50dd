/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
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
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Milliseconds since the epoch.
    public var timestamp: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record with UTF-8 string key and value.
    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.init(topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, headers: headers, timestamp: timestamp)
    }
}

/// Where an acknowledged message was written.
public struct RecordMetadata: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// The message's offset; -1 when unknown (acks=0, or a duplicate the broker recognised).
    public var offset: Int64
    /// The message timestamp (create time, or the broker's log-append time when so configured);
    /// -1 when unknown.
    public var timestamp: Int64
}

/// The outcome of one batch of messages enqueued with `KafkaProducer.enqueue`: one report per
/// batch, carrying every message's id (as returned by `enqueue`) in order. Message `i` of the
/// batch was written at `baseOffset + i`.
public struct DeliveryReport: Sendable {
    public var topicPartition: TopicPartition
    /// The ids `enqueue` returned for these messages, in offset order.
    public var messageIds: [UInt64]
    /// Offset of the first message; -1 when unknown (acks=0) or on failure.
    public var baseOffset: Int64
    /// nil on success.
    public var error: KafkaError?

    /// Success or failure of the whole batch.
    public var isSuccess: Bool { error == nil }
}
