extension ProducerConfig {
    /// `acks`: how many replicas must have a batch before the leader answers a Produce request.
    ///
    /// An enum rather than Kafka's `Int16` (0, 1, -1) so that a value the broker would reject
    /// cannot be set; the property `acks` still takes `0`, `1`, `-1` and `all`.
    public enum Acks: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `acks=0`: the broker does not answer; a message counts as delivered once written to
        /// the socket, with no offset and no retry. Needs `enable.idempotence=false`.
        case none
        /// `acks=1`: the leader answers once it has written the batch to its own log; a batch
        /// can be lost if the leader fails before followers copy it. Needs
        /// `enable.idempotence=false`.
        case leader
        /// `acks=all` (`-1`): the leader answers once every in-sync replica has the batch. The
        /// default, and the only setting idempotence allows.
        case all

        /// The value as a Kafka property string (`0`, `1` or `all`).
        public var description: String {
            switch self {
            case .none: return "0"
            case .leader: return "1"
            case .all: return "all"
            }
        }

        /// The value of the Produce request's `acks` field.
        var wireValue: Int16 {
            switch self {
            case .none: return 0
            case .leader: return 1
            case .all: return -1
            }
        }

        /// Parses the property value: `0`, `1`, `-1` or `all` (any case, surrounding spaces
        /// ignored); nil for anything else.
        init?(property value: String) {
            switch value.trimmingSpaces.lowercased() {
            case "0": self = .none
            case "1": self = .leader
            case "all", "-1": self = .all
            default: return nil
            }
        }
    }
}
