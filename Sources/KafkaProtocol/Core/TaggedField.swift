/// A tagged field (KIP-482) that this version of the library does not know, kept verbatim so
/// that decode → encode is lossless.
public struct TaggedField: Hashable, Sendable {
    /// The tag number.
    public var tag: UInt32
    /// The field's raw bytes, without the tag and size prefix.
    public var data: [UInt8]

    /// A tagged field.
    /// - Parameters:
    ///   - tag: Its tag number.
    ///   - data: Its bytes, as on the wire.
    public init(tag: UInt32, data: [UInt8]) {
        self.tag = tag
        self.data = data
    }
}
