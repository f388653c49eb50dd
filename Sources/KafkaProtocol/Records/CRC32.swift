/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as in zlib), the checksum of legacy
/// messages (magic 0 and 1). Same engine as `CRC32C`, other tables.
public enum CRC32 {
    /// The checksum of `bytes`.
    /// - Parameter bytes: The data.
    /// - Returns: The checksum.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// The checksum of `bytes`.
    /// - Parameter bytes: The data.
    /// - Returns: The checksum.
    @inlinable
    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// Continues a checksum: `update(checksum(a), b) == checksum(a + b)`. Start from 0.
    /// - Parameters:
    ///   - crc: The checksum so far.
    ///   - bytes: The next data.
    /// - Returns: The checksum including `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.update(crc, bytes)
    }

    /// Computed once, on first use (a constant, not mutable state).
    static let tables = CRCTables(reflectedPolynomial: 0xEDB8_8320)
}
