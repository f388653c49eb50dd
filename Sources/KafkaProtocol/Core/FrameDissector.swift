/// Decodes whole frames (size prefix, header, body) of any registered API to JSON and
/// re-encodes them, for `kwire decode` and the fixture tests.
public enum FrameDissector {
    /// Why a frame could not be dissected.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The API key or version is not one we speak.
        case unsupported(apiKey: ApiKey, version: Int16)
        /// The frame's bytes are malformed.
        case decoding(ProtocolDecodingError)
        /// The frame decoded, but could not be encoded again.
        case encoding(any Error)

        public var description: String {
            switch self {
            case let .unsupported(key, version): return "unsupported API \(key.name) (key \(key.rawValue)) version \(version)"
            case let .decoding(e): return "decode error: \(e)"
            case let .encoding(e): return "re-encode error: \(e)"
            }
        }
    }

    /// The result of dissecting one frame.
    public struct Dissection: Sendable {
        /// `{"header": …, "body": …}` plus `api`/`version`/`kind`.
        public let json: JSONValue
        /// The frame re-encoded from the decoded values (including the size prefix).
        public let reencoded: [UInt8]
        /// The frame's API.
        public let apiKey: ApiKey
        /// The frame's version.
        public let apiVersion: Int16
    }

    /// Splits off the 4-byte size prefix, checking it matches the frame.
    static func payload(_ frame: [UInt8]) throws -> ByteReader {
        var r = ByteReader(frame)
        let size = try r.readInt32("size")
        guard size >= 0, Int(size) == r.remaining else {
            throw ProtocolDecodingError(path: "size", offset: 0, reason: .invalid("size prefix \(size) but \(r.remaining) bytes follow"))
        }
        return r
    }

    /// A whole frame: size prefix, the header `writeHeader` writes, then `body`.
    static func assemble(capacity: Int, _ body: [UInt8], writeHeader: (inout ByteWriter) throws -> Void) throws -> [UInt8] {
        var w = ByteWriter(capacity: capacity)
        let sizeAt = w.reserveInt32()
        try writeHeader(&w)
        w.writeBytes(body)
        w.patchInt32(at: sizeAt, Int32(w.count - 4))
        return w.take()
    }

    /// Reads the api key and version of a request frame.
    /// - Parameter frame: A request frame without its size prefix.
    /// - Returns: Its API key and version.
    /// - Throws: `ProtocolDecodingError` for a frame shorter than 4 bytes.
    public static func peekRequest(_ frame: [UInt8]) throws -> (apiKey: ApiKey, apiVersion: Int16) {
        try RequestHeader.peek(payload(frame))
    }

    /// Decodes a request frame and re-encodes it.
    /// - Parameter frame: A request frame without its size prefix.
    /// - Returns: Its JSON and re-encoding.
    /// - Throws: `Failure` naming an unknown API or version, or the decoding error.
    public static func dissectRequest(_ frame: [UInt8]) throws(Failure) -> Dissection {
        do {
            var r = try payload(frame)
            let (key, version) = try RequestHeader.peek(r)
            guard let api = ApiRegistry.all[key], api.versions.contains(version) else { throw Failure.unsupported(apiKey: key, version: version) }
            let hv = api.requestHeaderVersion(version)
            let header = try RequestHeader.decode(from: &r, headerVersion: hv)
            let (body, bodyBytes) = try api.requestCodec.roundTrip(&r, version)
            let reencoded = try assemble(capacity: frame.count, bodyBytes) { try header.encode(into: &$0, headerVersion: hv) }
            let json = JSONValue.object([
                ("kind", .string("request")), ("api", .string(key.name)), ("api_key", .int(Int64(key.rawValue))),
                ("api_version", .int(Int64(version))), ("header", header.json(headerVersion: hv)), ("body", body),
            ])
            return Dissection(json: json, reencoded: reencoded, apiKey: key, apiVersion: version)
        } catch let f as Failure {
            throw f
        } catch let e as ProtocolDecodingError {
            throw .decoding(e)
        } catch {
            throw .encoding(error)
        }
    }

    /// Decodes a response frame to a request of `apiKey` at `apiVersion` and re-encodes it.
    /// - Parameters:
    ///   - frame: A response frame without its size prefix.
    ///   - apiKey: The API of the request it answers.
    ///   - apiVersion: That request's version.
    /// - Returns: Its JSON and re-encoding.
    /// - Throws: `Failure` naming an unknown API or version, or the decoding error.
    public static func dissectResponse(_ frame: [UInt8], apiKey: ApiKey, apiVersion: Int16) throws(Failure) -> Dissection {
        guard let api = ApiRegistry.all[apiKey], api.versions.contains(apiVersion) else {
            throw .unsupported(apiKey: apiKey, version: apiVersion)
        }
        do {
            var r = try payload(frame)
            let hv = api.responseHeaderVersion(apiVersion)
            let header = try ResponseHeader.decode(from: &r, headerVersion: hv)
            let (body, bodyBytes) = try api.responseCodec.roundTrip(&r, apiVersion)
            let reencoded = try assemble(capacity: frame.count, bodyBytes) { try header.encode(into: &$0, headerVersion: hv) }
            let json = JSONValue.object([
                ("kind", .string("response")), ("api", .string(apiKey.name)), ("api_key", .int(Int64(apiKey.rawValue))),
                ("api_version", .int(Int64(apiVersion))), ("header", header.json()), ("body", body),
            ])
            return Dissection(json: json, reencoded: reencoded, apiKey: apiKey, apiVersion: apiVersion)
        } catch let e as ProtocolDecodingError {
            throw .decoding(e)
        } catch {
            throw .encoding(error)
        }
    }
}
