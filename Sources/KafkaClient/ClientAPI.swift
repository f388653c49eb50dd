// The names from the lower modules that the client API is written in. `import KafkaClient`
// gives exactly these (and KafkaClient's own types); everything else in KafkaProtocol and
// KafkaNet — sockets, event loop, hashes, message structs, codecs — stays out of the user's
// namespace (SwiftNIO and swift-crypto have types with the same names). Whoever wants the
// lower layers imports `KafkaProtocol` or `KafkaNet` themselves.
//
// Add a name here only when a public KafkaClient declaration uses the type, so that a user can
// write it down; `Tests/KafkaClientAPITests` checks what is and is not visible.
public import KafkaNet
public import KafkaProtocol

// MARK: Errors

/// The one error type of KafkaWire: a broker's error code or a client-side failure, with
/// context and retriability. See `KafkaProtocol.KafkaError`.
public typealias KafkaError = KafkaProtocol.KafkaError

/// A Kafka error code (open: a code from a newer broker still decodes), with its wire name
/// and whether retrying may succeed. See `KafkaProtocol.KafkaErrorCode`.
public typealias KafkaErrorCode = KafkaProtocol.KafkaErrorCode

/// A Kafka API (request type), as named in `KafkaError.Context.apiKey`.
public typealias ApiKey = KafkaProtocol.ApiKey

// MARK: Records

/// A record header: a key and an optional value (`ProducerRecord.headers`, `ConsumerRecord.headers`).
public typealias RecordHeader = KafkaProtocol.RecordHeader

/// Whether a record's timestamp was set by the producer or by the broker.
public typealias TimestampType = KafkaProtocol.TimestampType

/// A compression codec for produced batches (`ProducerConfig.compression`).
public typealias RecordCompression = KafkaProtocol.RecordCompression

/// A topic id (`TopicDescription.topicId`, metadata).
public typealias KafkaUUID = KafkaProtocol.KafkaUUID

// MARK: Groups

/// A group member's subscription as sent in JoinGroup (group admin's member descriptions).
public typealias ConsumerProtocolSubscription = KafkaProtocol.ConsumerProtocolSubscription

/// A group member's assignment as sent in SyncGroup (group admin's member descriptions).
public typealias ConsumerProtocolAssignment = KafkaProtocol.ConsumerProtocolAssignment

// MARK: Security

/// TLS settings (`ClientConfig.tls`, the `ssl.*` properties).
public typealias TLSConfiguration = KafkaNet.TLSConfiguration

/// A SASL mechanism (`ClientConfig.saslMechanism`, `sasl.mechanism`).
public typealias SaslMechanism = KafkaNet.SaslMechanism

/// An OAUTHBEARER token returned by `ClientConfig.oauthBearerTokenProvider`.
public typealias OAuthBearerToken = KafkaNet.OAuthBearerToken
