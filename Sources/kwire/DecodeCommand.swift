import Foundation
import KafkaProtocol

/// `kwire decode`: a protocol dissector for captured frames.
enum DecodeCommand {
    static let help = """
    usage: kwire decode [--request REQ.bin | --api-key K --api-version V] [--records] [--pretty] FILE…

    Decodes Kafka frames (4-byte big-endian size, then the payload; one frame per file) and
    prints one JSON object per frame: header and body with the Kafka schema's field names in
    snake_case. Each decoded frame is then encoded again and compared with the input.

    A request is recognised from its header. A response needs its request: --request FILE,
    --api-key/--api-version, or automatically the sibling X.request.bin of a file X.response.bin.

      --request FILE                 the request frame the response files answer
      --api-key K --api-version V    the API key and version the response files answer
      --records                      also decode the record batches inside Produce requests and
                                     Fetch responses: each partition gets "record_batches" (header
                                     fields and records; keys/values as strings when UTF-8, else
                                     {"hex": …}) after its "records" bytes
      --pretty                       indent the JSON

    Exit status: 0 when every frame decoded and re-encoded byte for byte; 1 when a frame could
    not be decoded or re-encoded differently (file and first differing offset on stderr); 2 when
    a frame is of an API key or version this tool does not speak (and nothing worse happened).
    """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(argv, valued: ["--request", "--api-key", "--api-version"], flags: ["-h", "--help", "--pretty", "--records"])
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
                var json = d.json
                if args.flag("--records") {
                    json = withRecordBatches(json, frame: frame, dissection: d, isResponse: responseTo != nil, path: path, worst: &worst)
                }
                print(json.serialized(pretty: args.flag("--pretty")))
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

    /// `json` with "record_batches" added to every partition of a Produce request or Fetch
    /// response (other frames unchanged). Record errors other than a compression codec we cannot
    /// decompress yet are reported on stderr and make the exit status 1.
    static func withRecordBatches(_ json: JSONValue, frame: [UInt8], dissection d: FrameDissector.Dissection, isResponse: Bool, path: String, worst: inout Int32) -> JSONValue {
        // Each topic's partitions' `records` bytes, in wire order (the JSON's order).
        let sets: [[[UInt8]?]]
        let topicsKey: String, partitionsKey: String
        do {
            var r = ByteReader(frame)
            _ = try r.readInt32("size")
            switch (d.apiKey, isResponse) {
            case (.produce, false):
                _ = try RequestHeader.decode(from: &r, headerVersion: HeaderVersions.request(ProduceRequest.self, version: d.apiVersion))
                let request = try ProduceRequest(decodingAll: &r, version: d.apiVersion)
                sets = request.topicData.map { $0.partitionData.map(\.records) }
                (topicsKey, partitionsKey) = ("topic_data", "partition_data")
            case (.fetch, true):
                _ = try ResponseHeader.decode(from: &r, headerVersion: HeaderVersions.response(FetchResponse.self, version: d.apiVersion))
                let response = try FetchResponse(decodingAll: &r, version: d.apiVersion)
                sets = response.responses.map { $0.partitions.map(\.records) }
                (topicsKey, partitionsKey) = ("responses", "partitions")
            default:
                return json
            }
        } catch {
            // Unreachable: the dissector decoded the same frame.
            printError("\(path): cannot decode for --records: \(error)")
            worst = max(worst, 1)
            return json
        }
        // Compressed batches are decompressed into at most 256 MiB each (a hostile frame cannot
        // make the tool allocate more).
        let decompress = Compression.recordDecompressor(maxOutput: 256 << 20)
        func describe(_ partition: JSONValue, _ records: [UInt8]?) -> JSONValue {
            guard case var .object(fields) = partition, let records else { return partition }
            let description = RecordSetJSON.describe(records, decompress: decompress)
            for e in description.errors {
                if case .unsupportedCompression = e.reason { continue }
                printError("\(path): records: \(e)")
                worst = max(worst, 1)
            }
            var added: [(String, JSONValue)] = [("record_batches", .array(description.entries))]
            if description.partialBytes > 0 { added.append(("record_batches_partial_bytes", .int(Int64(description.partialBytes)))) }
            let at = (fields.firstIndex { $0.0 == "records" }).map { $0 + 1 } ?? fields.count
            fields.insert(contentsOf: added, at: at)
            return .object(fields)
        }
        func mapArray(_ value: JSONValue, _ key: String, _ transform: (Int, JSONValue) -> JSONValue) -> JSONValue {
            guard case var .object(fields) = value, let i = fields.firstIndex(where: { $0.0 == key }), case let .array(items) = fields[i].1 else { return value }
            fields[i].1 = .array(items.enumerated().map { transform($0.offset, $0.element) })
            return .object(fields)
        }
        return mapBody(json) { body in
            mapArray(body, topicsKey) { t, topic in
                mapArray(topic, partitionsKey) { p, partition in
                    t < sets.count && p < sets[t].count ? describe(partition, sets[t][p]) : partition
                }
            }
        }
    }

    /// `json` with its "body" member replaced by `transform(body)`.
    static func mapBody(_ json: JSONValue, _ transform: (JSONValue) -> JSONValue) -> JSONValue {
        guard case var .object(fields) = json, let i = fields.firstIndex(where: { $0.0 == "body" }) else { return json }
        fields[i].1 = transform(fields[i].1)
        return .object(fields)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.failure("\(path): cannot read file") }
        return [UInt8](data)
    }
}
