// ConsumerProtocolSubscription / ConsumerProtocolAssignment · no API key · versions 0…3 · never flexible
// The `consumer` protocol type's payloads, carried as opaque bytes in JoinGroup
// (`protocols[].metadata`, `members[].metadata`) and SyncGroup (`assignments[].assignment`,
// `assignment`). Each payload starts with an Int16 version, then the struct at that version.
// Forward compatible: a payload of a newer version than we know is decoded as our newest and its
// trailing bytes ignored (as Kafka's `ConsumerProtocol` does).
//   Subscription v1: owned_partitions (KIP-429, cooperative rebalancing).
//   Subscription v2: generation_id (KIP-792).  v3: rack_id (KIP-881).
//   Assignment v1–3: same layout as v0 (bumped together with the subscription).

/// A consumer's subscription, sent as JoinGroup protocol metadata.
public struct ConsumerProtocolSubscription: ProtocolStruct, Equatable {
    /// Versions whose layout we know (newer ones decode as the newest).
    public static let versions: ClosedRange<Int16> = 0 ... 3

    /// Partitions of one topic the member owns (v1+). Schema struct `TopicPartition`.
    public struct TopicPartition: ProtocolStruct, Equatable {
        /// `topic`: the topic name.
        public var topic = ""
        /// `partitions`: the partition indexes.
        public var partitions: [Int32] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - topic: the topic name (`topic`).
        ///   - partitions: the partition indexes (`partitions`).
        public init(topic: String, partitions: [Int32]) {
            self.topic = topic
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&topic, "topic", compact: false)
            try c.int32Array(&partitions, "partitions", compact: false)
        }
    }

    /// The subscribed topics.
    public var topics: [String] = []
    /// Assignor-specific data.
    public var userData: [UInt8]?
    /// v1+: the partitions the member owns now (cooperative rebalancing).
    public var ownedPartitions: [TopicPartition] = []
    /// v2+: the generation the owned partitions belong to; -1 when unknown.
    public var generationId: Int32 = -1
    /// v3+: the consumer's rack, for rack-aware assignment.
    public var rackId: String?

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - topics: The subscribed topics.
    ///   - userData: Assignor-specific data.
    ///   - ownedPartitions: v1+: the partitions the member owns now (cooperative rebalancing).
    ///   - generationId: the group generation the member belongs to; v2+: the generation the owned partitions belong to; -1 when unknown (`generation_id`).
    ///   - rackId: v3+: the consumer's rack, for rack-aware assignment.
    public init(topics: [String], userData: [UInt8]? = nil, ownedPartitions: [TopicPartition] = [], generationId: Int32 = -1, rackId: String? = nil) {
        self.topics = topics
        self.userData = userData
        self.ownedPartitions = ownedPartitions
        self.generationId = generationId
        self.rackId = rackId
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        try c.stringArray(&topics, "topics", compact: false)
        try c.nullableBytes(&userData, "user_data", compact: false, nullable: true)
        try c.structArray(&ownedPartitions, "owned_partitions", compact: false, version: version, present: version >= 1, ignorable: true)
        try c.int32(&generationId, "generation_id", present: version >= 2, default: -1, ignorable: true)
        try c.nullableString(&rackId, "rack_id", compact: false, nullable: true, present: version >= 3, ignorable: true)
    }

    /// The payload: the Int16 `version`, then the subscription at that version.
    ///
    /// Note: this shadows `ProtocolStruct.encoded(version:)` (which writes the body alone, without
    /// the version prefix) for this concrete type.
    /// - Parameter version: The payload version (0–3).
    /// - Returns: The bytes for a group protocol's metadata or assignment.
    /// - Throws: `ProtocolEncodingError` when a field set here cannot be carried at `version`.
    public func encoded(version: Int16) throws -> [UInt8] {
        try ConsumerProtocolPayload.encode(self, version: version, name: "ConsumerProtocolSubscription")
    }

    /// Decodes a payload, whatever its version (see `decode(_:)`).
    /// - Parameter bytes: The payload, version prefix included.
    /// - Throws: `ProtocolDecodingError` for truncated or malformed bytes.
    public init(decoding bytes: [UInt8]) throws {
        self = try Self.decode(bytes).value
    }

    /// Decodes a payload and returns it with the version it was written at. A version above 3 is
    /// decoded as v3 with any trailing bytes ignored; at v0–3 every byte must be consumed.
    /// - Parameter bytes: The payload, version prefix included.
    /// - Returns: The value and the version it was written at.
    /// - Throws: `ProtocolDecodingError` for truncated or malformed bytes, or bytes left over.
    public static func decode(_ bytes: [UInt8]) throws -> (value: Self, version: Int16) {
        try ConsumerProtocolPayload.decode(bytes, name: "ConsumerProtocolSubscription")
    }
}

/// A consumer's assignment, sent by the group leader in SyncGroup.
public struct ConsumerProtocolAssignment: ProtocolStruct, Equatable {
    /// Versions whose layout we know (newer ones decode as the newest).
    public static let versions: ClosedRange<Int16> = 0 ... 3

    /// Partitions of one topic assigned to the member. Schema struct `TopicPartition`.
    public struct TopicPartition: ProtocolStruct, Equatable {
        /// `topic`: the topic name.
        public var topic = ""
        /// `partitions`: the partition indexes.
        public var partitions: [Int32] = []
        /// A value with every field at its default.
        public init() {}
        /// A value with these fields set (the others at their defaults).
        /// - Parameters:
        ///   - topic: the topic name (`topic`).
        ///   - partitions: the partition indexes (`partitions`).
        public init(topic: String, partitions: [Int32]) {
            self.topic = topic
            self.partitions = partitions
        }
        public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
            try c.string(&topic, "topic", compact: false)
            try c.int32Array(&partitions, "partitions", compact: false)
        }
    }

    /// `assigned_partitions`: the partitions assigned to this member, per topic.
    public var assignedPartitions: [TopicPartition] = []
    /// Assignor-specific data.
    public var userData: [UInt8]?

    /// A value with every field at its default.
    public init() {}
    /// A value with these fields set (the others at their defaults).
    /// - Parameters:
    ///   - assignedPartitions: the partitions assigned to this member, per topic (`assigned_partitions`).
    ///   - userData: Assignor-specific data.
    public init(assignedPartitions: [TopicPartition], userData: [UInt8]? = nil) {
        self.assignedPartitions = assignedPartitions
        self.userData = userData
    }

    public mutating func visit<C: ProtocolCoder>(_ c: inout C, version: Int16) throws {
        try c.structArray(&assignedPartitions, "assigned_partitions", compact: false, version: version)
        try c.nullableBytes(&userData, "user_data", compact: false, nullable: true)
    }

    /// The payload: the Int16 `version`, then the assignment at that version.
    ///
    /// Note: this shadows `ProtocolStruct.encoded(version:)` (which writes the body alone, without
    /// the version prefix) for this concrete type.
    /// - Parameter version: The payload version (0–3).
    /// - Returns: The bytes for a group protocol's metadata or assignment.
    /// - Throws: `ProtocolEncodingError` when a field set here cannot be carried at `version`.
    public func encoded(version: Int16) throws -> [UInt8] {
        try ConsumerProtocolPayload.encode(self, version: version, name: "ConsumerProtocolAssignment")
    }

    /// Decodes a payload, whatever its version (see `decode(_:)`).
    /// - Parameter bytes: The payload, version prefix included.
    /// - Throws: `ProtocolDecodingError` for truncated or malformed bytes.
    public init(decoding bytes: [UInt8]) throws {
        self = try Self.decode(bytes).value
    }

    /// Decodes a payload and returns it with the version it was written at. A version above 3 is
    /// decoded as v3 with any trailing bytes ignored; at v0–3 every byte must be consumed.
    /// - Parameter bytes: The payload, version prefix included.
    /// - Returns: The value and the version it was written at.
    /// - Throws: `ProtocolDecodingError` for truncated or malformed bytes, or bytes left over.
    public static func decode(_ bytes: [UInt8]) throws -> (value: Self, version: Int16) {
        try ConsumerProtocolPayload.decode(bytes, name: "ConsumerProtocolAssignment")
    }
}

/// The version-prefixed framing shared by the two consumer protocol payloads.
enum ConsumerProtocolPayload {
    static let newest: Int16 = 3

    static func encode<T: ProtocolStruct>(_ value: T, version: Int16, name: String) throws -> [UInt8] {
        guard (0 ... newest).contains(version) else {
            throw ProtocolEncodingError(field: name, reason: .unsupportedVersion(version))
        }
        var w = ByteWriter()
        w.writeInt16(version)
        try value.encode(into: &w, version: version)
        return w.take()
    }

    static func decode<T: ProtocolStruct>(_ bytes: [UInt8], name: String) throws -> (value: T, version: Int16) {
        var r = ByteReader(bytes)
        let version: Int16
        let value: T
        do {
            version = try r.readInt16("version")
            guard version >= 0 else {
                throw ProtocolDecodingError(path: "version", offset: 0, reason: .invalid("negative version \(version)"))
            }
            value = try T(from: &r, version: min(version, newest))
        } catch let e as ProtocolDecodingError {
            throw e.prefixed(name)
        }
        if version <= newest && !r.isAtEnd {
            throw ProtocolDecodingError(path: name, offset: r.offset, reason: .trailingBytes(r.remaining))
        }
        return (value, version)
    }
}
