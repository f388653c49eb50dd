import Testing
@testable import KafkaProtocol

/// Bytes from a hex string; spaces, newlines and `|` are ignored ("00 01 | ff").
func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { $0.isHexDigit }
    precondition(digits.count % 2 == 0, "odd number of hex digits in \(s)")
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i ..< j], radix: 16)!)
        i = j
    }
    return out
}

/// The UTF-8 bytes of `s`.
func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Lower-case hex dump, for readable failure messages.
func dump(_ b: [UInt8]) -> String {
    b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
}

/// Encodes `value` at `version`, decodes it back, and checks the value and the bytes survive.
/// Returns the encoding.
@discardableResult
func expectRoundTrip<M: KafkaMessage & Equatable>(
    _ value: M, version: Int16, sourceLocation: SourceLocation = #_sourceLocation
) throws -> [UInt8] {
    let bytes = try value.encodedMessage(version: version)
    let decoded = try M(decoding: bytes, version: version)
    #expect(decoded == value, "\(M.self) v\(version) did not round-trip", sourceLocation: sourceLocation)
    let again = try decoded.encodedMessage(version: version)
    #expect(again == bytes, "\(M.self) v\(version) re-encoding differs", sourceLocation: sourceLocation)
    return bytes
}

/// Decodes a struct with the coder directly (no whole-message checks).
func decodeStruct<T: ProtocolStruct>(_ type: T.Type, _ bytes: [UInt8], version: Int16) throws -> (T, remaining: Int) {
    var r = ByteReader(bytes)
    let v = try T(from: &r, version: version)
    return (v, r.remaining)
}

/// Runs `body` with a `WireEncoder` and returns what it wrote.
func encodeWith(_ body: (inout WireEncoder) throws -> Void) rethrows -> [UInt8] {
    var e = WireEncoder()
    try body(&e)
    return e.writer.take()
}

/// Runs `body` with a `WireDecoder` over `bytes`; returns the bytes left unread.
@discardableResult
func decodeWith(_ bytes: [UInt8], _ body: (inout WireDecoder) throws -> Void) throws -> Int {
    var d = WireDecoder(reader: ByteReader(bytes))
    try body(&d)
    return d.reader.remaining
}

/// Keys of a JSON object, in order (empty for non-objects).
func keys(_ v: JSONValue?) -> [String] {
    if case let .object(pairs)? = v { return pairs.map(\.0) }
    return []
}

/// First element of a JSON array.
func first(_ v: JSONValue?) -> JSONValue? {
    if case let .array(items)? = v { return items.first }
    return nil
}
