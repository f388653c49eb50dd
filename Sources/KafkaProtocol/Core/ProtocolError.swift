/// A frame or message could not be decoded.
///
/// Carries the absolute byte offset where decoding failed and the field path that was being
/// read, e.g. `MetadataResponse.topics[3].partitions[0].leader_epoch`. Decoding never traps on
/// hostile input; every failure ends up here.
public struct ProtocolDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the bytes could not be read.
    public enum Reason: Sendable, Equatable {
        /// The field needed more bytes than were left.
        case truncated(needed: Int, remaining: Int)
        /// A length prefix was negative (other than the null marker) or larger than what is left.
        case invalidLength(Int64)
        /// A varint ran past its maximum width.
        case malformedVarint
        /// A string was not valid UTF-8.
        case invalidUTF8
        /// A non-nullable field was sent as null.
        case unexpectedNull
        /// Bytes were left over after the message ended.
        case trailingBytes(Int)
        /// Anything else, described in words.
        case invalid(String)
    }

    /// Dotted field path, outermost first.
    public var path: String
    /// Absolute byte offset (from the start of the buffer being decoded) of the failing read.
    public var offset: Int
    /// What went wrong.
    public var reason: Reason

    /// An error.
    /// - Parameters:
    ///   - path: The field path.
    ///   - offset: The absolute byte offset.
    ///   - reason: What was wrong.
    public init(path: String, offset: Int, reason: Reason) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    /// Returns a copy whose path is prefixed by `component` (used while unwinding nested reads).
    func prefixed(_ component: String) -> ProtocolDecodingError {
        var copy = self
        copy.path = path.isEmpty ? component : (path.hasPrefix("[") ? component + path : component + "." + path)
        return copy
    }

    public var description: String {
        let what: String
        switch reason {
        case let .truncated(needed, remaining): what = "needed \(needed) bytes, \(remaining) left"
        case let .invalidLength(n): what = "invalid length \(n)"
        case .malformedVarint: what = "malformed varint"
        case .invalidUTF8: what = "invalid UTF-8"
        case .unexpectedNull: what = "null in a non-nullable field"
        case let .trailingBytes(n): what = "\(n) unread bytes after the message"
        case let .invalid(s): what = s
        }
        return "\(path.isEmpty ? "<frame>" : path) at offset \(offset): \(what)"
    }
}

/// A value could not be encoded at the requested version.
public struct ProtocolEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why encoding failed.
    public enum Reason: Sendable, Equatable {
        /// The field holds a non-default value that the chosen version cannot carry.
        case unsupportedAtVersion(Int16)
        /// The field is null but the chosen version does not allow null.
        case nullNotAllowed(Int16)
        /// A string, byte string or array is longer than its length prefix can say.
        case tooLong(Int)
        /// The version is outside the message's declared range.
        case unsupportedVersion(Int16)
    }

    /// Field name (snake_case, as in Kafka's schema).
    public var field: String
    /// What went wrong.
    public var reason: Reason

    /// An error.
    /// - Parameters:
    ///   - field: The field path.
    ///   - reason: What was wrong.
    public init(field: String, reason: Reason) {
        self.field = field
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case let .unsupportedAtVersion(v): return "field \(field) has a non-default value that version \(v) cannot carry"
        case let .nullNotAllowed(v): return "field \(field) is null but version \(v) does not allow null"
        case let .tooLong(n): return "field \(field) is too long (\(n))"
        case let .unsupportedVersion(v): return "\(field) does not exist at version \(v)"
        }
    }
}
