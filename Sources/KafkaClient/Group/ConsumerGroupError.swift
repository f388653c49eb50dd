public import KafkaProtocol

/// A consumer-group failure the member recovers from by itself, told to the application
/// through `KafkaConsumer.groupErrors` (and logged as a warning) instead of being dropped.
/// Fatal group errors are thrown by `poll` / `records` instead.
public struct ConsumerGroupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failures reported this way.
    public enum Kind: Sendable, Equatable {
        /// An automatic commit (`enable.auto.commit`: the periodic one, or the one after a
        /// revocation) failed. The next one tries again; until one succeeds, a restart re-reads
        /// from the last committed offsets.
        case autoCommitFailed
        /// SyncGroup answered an assignment this member cannot decode. Reading it as "nothing
        /// assigned" would silently stop consuming, so the member rejoins for a new one.
        case undecodableAssignment
    }

    /// What went wrong.
    public let kind: Kind
    /// The group generation it happened in (nil when the member had none).
    public let generationId: Int32?
    /// The cause: the commit's or the decoder's error.
    public let underlying: KafkaError

    /// Makes an error value (public so applications can fake one in their own tests).
    /// - Parameters:
    ///   - kind: What went wrong.
    ///   - generationId: The generation it happened in, nil when none.
    ///   - underlying: The cause.
    public init(_ kind: Kind, generationId: Int32?, _ underlying: KafkaError) {
        self.kind = kind
        self.generationId = generationId
        self.underlying = underlying
    }

    /// What happened, the generation and the cause, as the warning in the log says it.
    public var description: String {
        let generation = generationId.map { " (generation \($0))" } ?? ""
        switch kind {
        case .autoCommitFailed: return "auto-commit failed\(generation): \(underlying)"
        case .undecodableAssignment: return "the assignment from SyncGroup cannot be used\(generation) (\(underlying)); rejoining"
        }
    }

    /// Equal when kind, generation and the cause's text agree (`KafkaError` is not `Equatable`).
    /// - Parameters:
    ///   - a: One error.
    ///   - b: The other.
    public static func == (a: ConsumerGroupError, b: ConsumerGroupError) -> Bool {
        a.kind == b.kind && a.generationId == b.generationId && a.underlying.description == b.underlying.description
    }
}
