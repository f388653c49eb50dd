import Foundation
import Testing
import KafkaProtocol

/// Every frame captured from real clients (librdkafka, kafka-python) talking to a real broker
/// (see Fixtures/README.md) must decode and re-encode byte for byte. Frames of APIs we do not
/// speak yet are listed as pending, not failed.
@Suite struct CapturedFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let capturesDir = root.appendingPathComponent("Fixtures/captures")

    static var clients: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: capturesDir.path)) ?? []).sorted()
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    @Test func capturesArePresent() {
        #expect(Self.clients.contains { $0.hasPrefix("librdkafka") })
        #expect(Self.clients.contains { $0.hasPrefix("kafka-python") })
    }

    @Test(arguments: clients)
    func everyCapturedFrameRoundTrips(client: String) throws {
        let dir = Self.capturesDir.appendingPathComponent(client)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".request.bin") }.sorted()
        var verified: [String: Int] = [:]
        var pending: Set<String> = []
        for file in files {
            let reqURL = dir.appendingPathComponent(file)
            let request = try Self.bytes(reqURL)
            let (key, version) = try FrameDissector.peekRequest(request)
            guard let api = ApiRegistry.all[key], api.versions.contains(version) else {
                pending.insert("\(key.name) v\(version)")
                continue
            }
            do {
                let d = try FrameDissector.dissectRequest(request)
                #expect(d.reencoded == request, "\(client)/\(file): request re-encoding differs at \(firstDifference(d.reencoded, request))")
            } catch {
                Issue.record("\(client)/\(file): \(error)")
                continue
            }
            let respURL = dir.appendingPathComponent(String(file.dropLast(".request.bin".count)) + ".response.bin")
            if FileManager.default.fileExists(atPath: respURL.path) {
                let response = try Self.bytes(respURL)
                do {
                    let d = try FrameDissector.dissectResponse(response, apiKey: key, apiVersion: version)
                    #expect(d.reencoded == response, "\(client)/\(respURL.lastPathComponent): response re-encoding differs at \(firstDifference(d.reencoded, response))")
                } catch {
                    Issue.record("\(client)/\(respURL.lastPathComponent): \(error)")
                    continue
                }
            }
            verified["\(key.name)", default: 0] += 1
        }
        print("[fixtures] \(client): verified \(verified.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))")
        if !pending.isEmpty { print("[fixtures] \(client): pending (not yet spoken): \(pending.sorted().joined(separator: ", "))") }
        // The foundation APIs must be among what was verified for every client.
        for name in ["ApiVersions", "Metadata", "CreateTopics", "DeleteTopics"] {
            #expect(verified[name, default: 0] > 0, "\(client): no \(name) frame verified")
        }
    }

    func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let n = min(a.count, b.count)
        let at = (0 ..< n).first { a[$0] != b[$0] } ?? n
        return "offset \(at) (re-encoded \(a.count) bytes, captured \(b.count))"
    }
}
