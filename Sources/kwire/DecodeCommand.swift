import Foundation
import KafkaProtocol

/// `kwire decode`: a protocol dissector for captured frames.
enum DecodeCommand {
    static let help = """
    usage: kwire decode [--request REQ.bin | --api-key K --api-version V] [--pretty] FILE…

    Decodes Kafka frames (4-byte big-endian size, then the payload; one frame per file) and
    prints one JSON object per frame: header and body with the Kafka schema's field names in
    snake_case. Each decoded frame is then encoded again and compared with the input.

    A request is recognised from its header. A response needs its request: --request FILE,
    --api-key/--api-version, or automatically the sibling X.request.bin of a file X.response.bin.

      --request FILE                 the request frame the response files answer
      --api-key K --api-version V    the API key and version the response files answer
      --pretty                       indent the JSON

    Exit status: 0 when every frame decoded and re-encoded byte for byte; 1 when a frame could
    not be decoded or re-encoded differently (file and first differing offset on stderr); 2 when
    a frame is of an API key or version this tool does not speak (and nothing worse happened).
    """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(argv, valued: ["--request", "--api-key", "--api-version"], flags: ["-h", "--help", "--pretty"])
        if args.flag("-h", "--help") { print(help); return }
        guard !args.positional.isEmpty else { throw CLIError.usage("decode needs at least one FILE") }
        var forced: (ApiKey, Int16)?
        if let req = try args.value("--request") {
            guard try args.value("--api-key") == nil, try args.value("--api-version") == nil else {
                throw CLIError.usage("give either --request or --api-key/--api-version, not both")
            }
            let frame = try read(req)
            do {
                let (k, v) = try FrameDissector.peekRequest(frame)
                forced = (k, v)
            } catch {
                throw CLIError.failure("\(req): not a request frame: \(error)")
            }
        } else if let k = try args.int("--api-key") {
            guard let v = try args.int("--api-version") else { throw CLIError.usage("--api-key needs --api-version") }
            guard let key = Int16(exactly: k), let version = Int16(exactly: v) else { throw CLIError.usage("api key/version out of range") }
            forced = (ApiKey(key), version)
        } else if try args.int("--api-version") != nil {
            throw CLIError.usage("--api-version needs --api-key")
        }

        var worst: Int32 = 0
        for path in args.positional {
            let frame: [UInt8]
            do { frame = try read(path) } catch let e as CLIError { printError(e.message); worst = max(worst, 1); continue }
            var responseTo = forced
            if responseTo == nil, path.hasSuffix(".response.bin") {
                let sibling = String(path.dropLast(".response.bin".count)) + ".request.bin"
                guard FileManager.default.fileExists(atPath: sibling) else {
                    printError("\(path): a response needs its request: \(sibling) not found (use --request or --api-key/--api-version)")
                    worst = max(worst, 1)
                    continue
                }
                do {
                    responseTo = try FrameDissector.peekRequest(read(sibling))
                } catch {
                    printError("\(path): cannot read the request in \(sibling): \(error)")
                    worst = max(worst, 1)
                    continue
                }
            }
            do {
                let d: FrameDissector.Dissection
                if let (k, v) = responseTo {
                    d = try FrameDissector.dissectResponse(frame, apiKey: k, apiVersion: v)
                } else {
                    d = try FrameDissector.dissectRequest(frame)
                }
                print(d.json.serialized(pretty: args.flag("--pretty")))
                if d.reencoded != frame {
                    let n = min(d.reencoded.count, frame.count)
                    let at = (0 ..< n).first { d.reencoded[$0] != frame[$0] } ?? n
                    printError("\(path): re-encoded \(d.apiKey.name) v\(d.apiVersion) differs from the input at offset \(at) (input \(frame.count) bytes, re-encoded \(d.reencoded.count))")
                    worst = max(worst, 1)
                }
            } catch {
                switch error {
                case let .unsupported(key, version):
                    printError("\(path): unsupported API \(key.name) (key \(key.rawValue)) version \(version)")
                    if worst == 0 { worst = 2 }
                case let .decoding(e):
                    printError("\(path): cannot decode: \(e)")
                    worst = 1
                case let .encoding(e):
                    printError("\(path): cannot re-encode: \(e)")
                    worst = 1
                }
            }
        }
        if worst != 0 { throw CLIError(message: "", code: worst) }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.failure("\(path): cannot read file") }
        return [UInt8](data)
    }
}
