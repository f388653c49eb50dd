/// One record as a consumer sees it, from a record batch v2 or a legacy message.
///
/// Decoded keys and values are *views* into the buffer they were decoded from (the fetched
/// `records` bytes, or a batch's decompressed records): decoding copies no payload bytes, and a
/// record holds one reference to that buffer plus the key's and value's positions in it (one
/// retain per record rather than one per field — the decode loop is dominated by reference
/// counting). `key` and `value` hand out slices, which keep the buffer's indices: use
/// `key.startIndex`, or `Array(key)` to own a copy. Header values are slices too.
///
/// `nil` and empty are different: a nil value is a tombstone on a compacted topic.
public struct Record: Sendable {
    /// The record's absolute offset in its partition.
    public var offset: Int64
    /// Milliseconds since the epoch: the producer's create time, or the broker's append time
    /// (`TimestampType.logAppendTime`); -1 when absent (legacy magic 0).
    public var timestamp: Int64
    /// Headers in wire order (duplicate keys allowed); always empty for legacy messages.
    public var headers: [RecordHeader]

    /// The buffer holding the key and value, and their positions (start -1 = null).
    let storage: [UInt8]
    let keyStart: Int, keyEnd: Int
    let valueStart: Int, valueEnd: Int

    /// The key (a slice of the decoded buffer), nil when null.
    public var key: ArraySlice<UInt8>? {
        get { keyStart < 0 ? nil : storage[keyStart ..< keyEnd] }
        set { self = Record(offset: offset, timestamp: timestamp, key: newValue, value: value, headers: headers) }
    }

    /// The value (a slice of the decoded buffer), nil when null.
    public var value: ArraySlice<UInt8>? {
        get { valueStart < 0 ? nil : storage[valueStart ..< valueEnd] }
        set { self = Record(offset: offset, timestamp: timestamp, key: key, value: newValue, headers: headers) }
    }

    /// A record holding copies of `key` and `value` (in one new buffer).
    /// - Parameters:
    ///   - offset: Its absolute offset.
    ///   - timestamp: Milliseconds since the epoch; -1 when absent.
    ///   - key: The key; nil for null.
    ///   - value: The value; nil for null.
    ///   - headers: Its headers, in order.
    public init(offset: Int64, timestamp: Int64, key: ArraySlice<UInt8>?, value: ArraySlice<UInt8>?, headers: [RecordHeader] = []) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity((key?.count ?? 0) + (value?.count ?? 0))
        if let key { buffer.append(contentsOf: key) }
        if let value { buffer.append(contentsOf: value) }
        let k = key?.count ?? 0
        self.init(
            storage: buffer, offset: offset, timestamp: timestamp,
            key: key == nil ? nil : 0 ..< k, value: value.map { k ..< k + $0.count }, headers: headers
        )
    }

    /// A record whose key and value are `storage[key]` and `storage[value]`.
    @inline(__always)
    init(storage: [UInt8], offset: Int64, timestamp: Int64, key: Range<Int>?, value: Range<Int>?, headers: [RecordHeader]) {
        self.storage = storage
        self.offset = offset
        self.timestamp = timestamp
        self.headers = headers
        keyStart = key?.lowerBound ?? -1
        keyEnd = key?.upperBound ?? -1
        valueStart = value?.lowerBound ?? -1
        valueEnd = value?.upperBound ?? -1
    }

    /// A record that shares `storage` (legacy messages: key and value already sliced from it).
    init(sharing key: ArraySlice<UInt8>?, _ value: ArraySlice<UInt8>?, in storage: [UInt8], offset: Int64, timestamp: Int64) {
        self.init(storage: storage, offset: offset, timestamp: timestamp, key: key.map { $0.indices }, value: value.map { $0.indices }, headers: [])
    }

    /// Runs `body` with the key's and value's bytes (nil when null) without making slices.
    @inline(__always)
    func withKeyAndValue(_ body: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer?) -> Void) {
        storage.withUnsafeBytes { raw in
            body(keyStart < 0 ? nil : UnsafeRawBufferPointer(rebasing: raw[keyStart ..< keyEnd]),
                 valueStart < 0 ? nil : UnsafeRawBufferPointer(rebasing: raw[valueStart ..< valueEnd]))
        }
    }
}

extension Record: Equatable {
    /// Same offset, timestamp, key bytes, value bytes and headers (wherever the bytes live).
    /// - Parameters:
    ///   - a: A record.
    ///   - b: Another record.
    /// - Returns: Whether they hold the same record.
    public static func == (a: Record, b: Record) -> Bool {
        a.offset == b.offset && a.timestamp == b.timestamp && a.key == b.key && a.value == b.value && a.headers == b.headers
    }
}

/// A record header: a string key and a nullable byte value.
public struct RecordHeader: Sendable, Equatable {
    /// The header's name.
    public var key: String
    /// A view into the decoded buffer (see `Record`); nil is distinct from empty.
    public var value: ArraySlice<UInt8>?

    /// A header.
    /// - Parameters:
    ///   - key: Its name.
    ///   - value: Its value; nil for null.
    public init(key: String, value: ArraySlice<UInt8>?) {
        self.key = key
        self.value = value
    }

    /// A header with a non-null value.
    /// - Parameters:
    ///   - key: Its name.
    ///   - value: Its value.
    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value[...]
    }
}

/// The type of a control record (the key's int16 `type`). Open: KRaft adds types beyond
/// abort and commit.
public struct ControlRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// End of an aborted transaction.
    public static let abort = ControlRecordType(rawValue: 0)
    /// End of a committed transaction.
    public static let commit = ControlRecordType(rawValue: 1)
    /// KRaft metadata-log types (not seen in user topics).
    public static let leaderChange = ControlRecordType(rawValue: 2)
    /// Start of a KRaft snapshot.
    public static let snapshotHeader = ControlRecordType(rawValue: 3)
    /// End of a KRaft snapshot.
    public static let snapshotFooter = ControlRecordType(rawValue: 4)

    public var description: String {
        switch rawValue {
        case 0: return "ABORT"
        case 1: return "COMMIT"
        case 2: return "LEADER_CHANGE"
        case 3: return "SNAPSHOT_HEADER"
        case 4: return "SNAPSHOT_FOOTER"
        default: return "UNKNOWN(\(rawValue))"
        }
    }
}

/// A control record from a control batch (attributes bit 5): the key is `version int16,
/// type int16`; for ABORT and COMMIT the value is the end-transaction marker `version int16,
/// coordinator_epoch int32` (KIP-98).
public struct ControlRecord: Sendable, Equatable {
    /// The record's offset (the marker's position in the partition).
    public var offset: Int64
    /// The marker's timestamp, in ms since the epoch.
    public var timestamp: Int64
    /// The key's version (0 today).
    public var version: Int16
    /// What the marker says (abort, commit, …).
    public var type: ControlRecordType
    /// The transaction coordinator's epoch, for ABORT/COMMIT markers whose value is present.
    public var coordinatorEpoch: Int32?

    /// A control record.
    /// - Parameters:
    ///   - offset: Its offset.
    ///   - timestamp: Its timestamp.
    ///   - version: The key's version.
    ///   - type: Its type.
    ///   - coordinatorEpoch: The coordinator epoch of an end-transaction marker.
    public init(offset: Int64, timestamp: Int64, version: Int16 = 0, type: ControlRecordType, coordinatorEpoch: Int32?) {
        self.offset = offset
        self.timestamp = timestamp
        self.version = version
        self.type = type
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Reads the control key (and, for ABORT/COMMIT, the marker value) of `record`.
    /// - Parameter record: A record of a control batch.
    /// - Throws: `RecordDecodingError` for a key or marker value of the wrong size or version.
    public init(_ record: Record) throws(RecordDecodingError) {
        guard let key = record.key else {
            throw RecordDecodingError(path: "control_record.key", offset: 0, reason: .invalid("a control record needs a key"))
        }
        guard key.count >= 4 else {
            throw RecordDecodingError(path: "control_record.key", offset: key.startIndex, reason: .truncated(needed: 4, remaining: key.count))
        }
        let k = key.startIndex
        version = Int16(bitPattern: UInt16(key[k]) << 8 | UInt16(key[k + 1]))
        type = ControlRecordType(rawValue: Int16(bitPattern: UInt16(key[k + 2]) << 8 | UInt16(key[k + 3])))
        offset = record.offset
        timestamp = record.timestamp
        coordinatorEpoch = nil
        if type == .abort || type == .commit, let value = record.value {
            guard value.count >= 6 else {
                throw RecordDecodingError(path: "control_record.value", offset: value.startIndex, reason: .truncated(needed: 6, remaining: value.count))
            }
            let v = value.startIndex + 2 // after the marker's int16 version
            coordinatorEpoch = Int32(bitPattern: UInt32(value[v]) << 24 | UInt32(value[v + 1]) << 16 | UInt32(value[v + 2]) << 8 | UInt32(value[v + 3]))
        }
    }

    /// The 4-byte key of a control record of `type`.
    /// - Parameters:
    ///   - type: The control type.
    ///   - version: The key's version.
    /// - Returns: `version int16, type int16`.
    public static func key(type: ControlRecordType, version: Int16 = 0) -> [UInt8] {
        let v = UInt16(bitPattern: version), t = UInt16(bitPattern: type.rawValue)
        return [UInt8(v >> 8), UInt8(v & 0xFF), UInt8(t >> 8), UInt8(t & 0xFF)]
    }

    /// The 6-byte value of an end-transaction marker (version 0).
    /// - Parameter coordinatorEpoch: The transaction coordinator's epoch.
    /// - Returns: `version int16 (0), coordinator_epoch int32`.
    public static func endTransactionMarkerValue(coordinatorEpoch: Int32) -> [UInt8] {
        let e = UInt32(bitPattern: coordinatorEpoch)
        return [0, 0, UInt8(e >> 24), UInt8((e >> 16) & 0xFF), UInt8((e >> 8) & 0xFF), UInt8(e & 0xFF)]
    }
}
