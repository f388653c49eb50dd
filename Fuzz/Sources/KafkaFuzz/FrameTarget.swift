import Foundation
import KafkaProtocol

/// Whole-frame dissection of every request and response type (`FrameDissector`, the code
/// behind `kwire decode` and every decoder the client runs on broker bytes).
///
/// Input: byte 0 even → a request payload (header then body; the header names its API and
/// version); odd → int16 api key, int16 version, then a response payload. The harness adds the
/// size prefix, so the fuzzer spends no effort keeping it right.
///
/// Properties: a frame that decodes re-encodes to exactly the input bytes (decode → encode is
/// lossless: unknown tagged fields are kept, booleans must be 0/1, tags must ascend), and
/// nothing traps. The first runs found both non-canonical forms the decoders used to accept (a
/// boolean byte 0x61, tags out of order); both are now decoding errors, and their inputs stay
/// in `Fuzz/regressions/frames/`. `KWIRE_FUZZ_LENIENT=1` checks only that the re-encoding
/// decodes to the same values and is a fixpoint (for hunting other classes of bugs past a
/// known canonical-form finding).
enum FrameTarget {
    static let apis: [ApiDescriptor] = ApiRegistry.all.values.sorted { $0.apiKey < $1.apiKey }
    static let strict = ProcessInfo.processInfo.environment["KWIRE_FUZZ_LENIENT"] != "1"

    static func framed(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    @Sendable static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let mode = input.byte()
        if mode & 1 == 0 {
            let frame = framed(input.rest())
            guard let d = try? FrameDissector.dissectRequest(frame) else { return }
            check(frame, d, "request") { try FrameDissector.dissectRequest($0) }
        } else {
            let rawKey = Int16(bitPattern: input.uint16())
            let rawVersion = Int16(bitPattern: input.uint16())
            let api = ApiRegistry.all[ApiKey(rawKey)] ?? apis[Int(UInt16(bitPattern: rawKey)) % apis.count]
            let span = Int(api.versions.upperBound) - Int(api.versions.lowerBound) + 1
            let version = api.versions.contains(rawVersion) ? rawVersion : api.versions.lowerBound + Int16(Int(UInt16(bitPattern: rawVersion)) % span)
            let frame = framed(input.rest())
            guard let d = try? FrameDissector.dissectResponse(frame, apiKey: api.apiKey, apiVersion: version) else { return }
            check(frame, d, "response") { try FrameDissector.dissectResponse($0, apiKey: api.apiKey, apiVersion: version) }
        }
    }

    static func check(_ frame: [UInt8], _ d: FrameDissector.Dissection, _ kind: String, _ dissect: ([UInt8]) throws -> FrameDissector.Dissection) {
        let what = "\(kind) \(d.apiKey.name) v\(d.apiVersion)"
        if d.reencoded == frame { return }
        if strict { finding("\(what) decoded but re-encoded differently: in \(hexPrefix(frame, 256)) out \(hexPrefix(d.reencoded, 256))") }
        let again: FrameDissector.Dissection
        do {
            again = try dissect(d.reencoded)
        } catch {
            finding("\(what): its own re-encoding does not decode (\(error)): in \(hexPrefix(frame, 256)) out \(hexPrefix(d.reencoded, 256))")
        }
        if again.reencoded != d.reencoded { finding("\(what): re-encoding is not a fixpoint: \(hexPrefix(d.reencoded, 256)) then \(hexPrefix(again.reencoded, 256))") }
        if normalized(again.json) != normalized(d.json) { finding("\(what): re-encoding decodes to other values: in \(hexPrefix(frame, 256)) out \(hexPrefix(d.reencoded, 256))") }
    }

    /// `json` with every `_unknown_tagged_fields` list sorted by tag (stable).
    static func normalized(_ json: JSONValue) -> JSONValue {
        switch json {
        case let .object(fields):
            return .object(fields.map { key, value in
                if key == "_unknown_tagged_fields", case let .array(items) = value {
                    return (key, .array(items.enumerated().sorted { a, b in
                        let ta = tag(a.element), tb = tag(b.element)
                        return ta != tb ? ta < tb : a.offset < b.offset
                    }.map(\.element)))
                }
                return (key, normalized(value))
            })
        case let .array(items):
            return .array(items.map(normalized))
        default:
            return json
        }
    }

    static func tag(_ field: JSONValue) -> Int64 {
        if case let .object(fields) = field, let t = fields.first(where: { $0.0 == "tag" })?.1, case let .int(n) = t { return n }
        return -1
    }
}
