/// The one error type of KafkaWire.
///
/// Either a Kafka error code sent by a broker (`.broker(code)`, with the code's wire name and
/// retriability) or a client-side failure: timeout, connection, decoding, configuration,
/// authentication, outcome unknown… `isRetriable` says whether trying again may succeed.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The broker answered with this error code.
        case broker(KafkaErrorCode)
        /// No answer in time (`request.timeout.ms`, connect timeout…).
        case timeout
        /// Could not connect, or the connection was lost or closed.
        case connection
        /// The broker's bytes could not be decoded.
        case decoding
        /// A request could not be encoded at the chosen version.
        case encoding
        /// The broker speaks no version of an API that we speak.
        case unsupportedVersion
        /// Bad configuration or arguments (unknown key, bad value, missing setting).
        case configuration
        /// SASL or TLS authentication failed.
        case authentication
        /// A request may or may not have taken effect (e.g. a produce whose connection died
        /// after it was written).
        case outcomeUnknown
        /// The client, producer or consumer was closed.
        case closed
        /// A bounded queue is full.
        case queueFull
        /// The operation was cancelled.
        case cancelled
        /// The call is not allowed in the object's current state (a transaction method called
        /// out of order, a record sent outside a transaction).
        case invalidState

        public var description: String {
            switch self {
            case let .broker(code): return code.name
            case .timeout: return "timeout"
            case .connection: return "connection"
            case .decoding: return "decoding"
            case .encoding: return "encoding"
            case .unsupportedVersion: return "unsupported version"
            case .configuration: return "configuration"
            case .authentication: return "authentication"
            case .outcomeUnknown: return "outcome unknown"
            case .closed: return "closed"
            case .queueFull: return "queue full"
            case .cancelled: return "cancelled"
            case .invalidState: return "invalid state"
            }
        }
    }

    /// Where the error happened, as far as known.
    public struct Context: Sendable, Equatable {
        /// `host:port` of the broker involved.
        public var broker: String?
        /// The API of the request involved.
        public var apiKey: ApiKey?
        /// The version it was sent at.
        public var apiVersion: Int16?
        /// The topic involved.
        public var topic: String?
        /// The partition involved (with `topic`).
        public var partition: Int32?
        /// A context; every part is optional.
        /// - Parameters:
        ///   - broker: `host:port` of the broker.
        ///   - apiKey: The request's API.
        ///   - apiVersion: Its version.
        ///   - topic: The topic.
        ///   - partition: The partition.
        public init(broker: String? = nil, apiKey: ApiKey? = nil, apiVersion: Int16? = nil, topic: String? = nil, partition: Int32? = nil) {
            self.broker = broker
            self.apiKey = apiKey
            self.apiVersion = apiVersion
            self.topic = topic
            self.partition = partition
        }
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// A human-readable explanation (never contains secrets).
    public var message: String
    /// Where it happened, as far as known.
    public var context: Context
    /// The lower-level error that caused this one, if any.
    public var underlying: (any Error & Sendable)?

    /// An error.
    /// - Parameters:
    ///   - kind: What kind of failure.
    ///   - message: A human-readable explanation (never include secrets).
    ///   - context: Where it happened.
    ///   - underlying: The lower-level error that caused it.
    public init(_ kind: Kind, _ message: String, context: Context = Context(), underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    /// An error for a broker error code, with Kafka's message unless one is given.
    /// - Parameters:
    ///   - code: The broker's error code.
    ///   - message: The explanation; nil for Kafka's message for the code.
    ///   - context: Where it happened.
    /// - Returns: A `.broker(code)` error.
    public static func broker(_ code: KafkaErrorCode, _ message: String? = nil, context: Context = Context()) -> KafkaError {
        KafkaError(.broker(code), message ?? code.message, context: context)
    }

    /// The broker error code, if this is a broker error.
    public var code: KafkaErrorCode? {
        if case let .broker(c) = kind { return c }
        return nil
    }

    /// Whether retrying the same operation may succeed.
    public var isRetriable: Bool {
        switch kind {
        case let .broker(code): return code.isRetriable
        case .timeout, .connection: return true
        default: return false
        }
    }

    /// Returns a copy with more context filled in (existing values win).
    /// - Parameter extra: Context to add where this error has none.
    /// - Returns: The error with the merged context.
    public func with(_ extra: Context) -> KafkaError {
        var copy = self
        copy.context.broker = copy.context.broker ?? extra.broker
        copy.context.apiKey = copy.context.apiKey ?? extra.apiKey
        copy.context.apiVersion = copy.context.apiVersion ?? extra.apiVersion
        copy.context.topic = copy.context.topic ?? extra.topic
        copy.context.partition = copy.context.partition ?? extra.partition
        return copy
    }

    public var description: String {
        var parts: [String] = []
        if let t = context.topic { parts.append(context.partition.map { "\(t)[\($0)]" } ?? t) }
        if let k = context.apiKey { parts.append(context.apiVersion.map { "\(k.name) v\($0)" } ?? k.name) }
        if let b = context.broker { parts.append("broker \(b)") }
        let where_ = parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
        switch kind {
        case let .broker(code): return "\(code.name) [\(code.rawValue)]: \(message)\(where_)"
        default: return "\(kind): \(message)\(where_)"
        }
    }
}

/// The cause attached to an error that ended a request the broker certainly never processed:
/// its frame was never completely written (refused before it was queued, or the connection died
/// partway through it). Kafka only handles whole frames, so such a request had no effect.
struct RequestNotWritten: Error, Sendable {
    let cause: (any Error & Sendable)?
}

extension KafkaError {
    /// True when the request this error ended was never completely written to the broker, so
    /// it certainly had no effect there: a retry cannot duplicate it, and what it carried may
    /// be rearranged (the producer re-splits such batches for a smaller request-size window).
    /// False means "may or may not have been processed" (the error came later, or is not about
    /// a request at all).
    public var requestNotWritten: Bool { underlying is RequestNotWritten }

    /// This error, marked as ending a request that was never completely written (for the
    /// connection layer, which knows how many of a request's bytes went out).
    package func markingRequestNotWritten() -> KafkaError {
        guard !requestNotWritten else { return self }
        var copy = self
        copy.underlying = RequestNotWritten(cause: underlying)
        return copy
    }
}
