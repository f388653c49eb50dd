import Foundation
import KafkaClient
import KafkaProtocol

/// A confluent-kafka consumer in a group, run by `scripts/peer_group_member.py` and driven over
/// its standard input and output: it joins, reads each assigned partition up to `commitAt`,
/// commits exactly `commitAt` per partition and reports; `leave()` makes it close (LeaveGroup).
///
/// Its output is read on a dedicated thread (blocking reads never run on the cooperative pool)
/// and handed over as an `AsyncStream` of lines. Every wait is bounded by the script's own
/// `--timeout`: it exits, and the stream ends, when it cannot finish.
final class PeerGroupMember: Sendable {
    struct Committed {
        var memberId: String
        var assignment: [TopicPartition]
        var committed: [Int32: Int64]
    }

    private let process: Process
    private let input: FileHandle
    private let lines: AsyncStream<String>

    static let script = KwireCLITests.root.appendingPathComponent("scripts/peer_group_member.py").path

    init(bootstrap: String, topic: String, group: String, commitAt: Int, clientId: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.script, "--bootstrap", bootstrap, "--topic", topic, "--group", group,
                       "--commit-at", String(commitAt), "--client-id", clientId, "--session-timeout-ms", "6000", "--timeout", "90"]
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream<String>.makeStream()
        try p.run()
        process = p
        input = stdin.fileHandleForWriting
        lines = stream
        let output = stdout.fileHandleForReading
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    continuation.yield(String(decoding: buffer[buffer.startIndex ..< nl], as: UTF8.self))
                    buffer = Data(buffer[buffer.index(after: nl)...])
                }
            }
            continuation.finish()
        }
    }

    /// The next JSON event the peer prints, nil when it exited without one.
    func nextEvent() async -> [String: Any]? {
        for await line in lines {
            if let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return obj }
        }
        return nil
    }

    /// Waits until the peer has joined, read and committed.
    func committed() async throws -> Committed {
        guard let e = await nextEvent(), e["event"] as? String == "committed",
              let member = e["member_id"] as? String, let assignment = e["assignment"] as? [[Any]],
              let committed = e["committed"] as? [String: Int] else {
            throw PeerError("the peer did not join and commit (see scripts/peer_group_member.py)")
        }
        return Committed(
            memberId: member,
            assignment: assignment.compactMap { pair in
                guard pair.count == 2, let t = pair[0] as? String, let p = pair[1] as? Int else { return nil }
                return TopicPartition(topic: t, partition: Int32(p))
            }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) },
            committed: Dictionary(uniqueKeysWithValues: committed.compactMap { k, v in Int32(k).map { ($0, Int64(v)) } })
        )
    }

    /// Asks the peer to close its consumer (LeaveGroup) and waits until it says it left.
    func leave() async throws {
        try input.write(contentsOf: Data("leave\n".utf8))
        try input.close()
        guard let e = await nextEvent(), e["event"] as? String == "left" else { throw PeerError("the peer did not leave cleanly") }
    }

    /// Kills the peer if it is still running (cleanup after a failed test).
    func stop() {
        if process.isRunning { process.terminate() }
    }

    struct PeerError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

extension PeerGroupMember {
    /// Creates `topic` and writes `counts[p]` records to partition p, ONE RECORD PER BATCH
    /// (each send awaited, linger 0): Tansu's ListOffsets LATEST answers the newest batch's base
    /// offset + 1, which is the log end only when the last batch holds one record. With single-record
    /// batches our (spec-following) log end offsets are exact on Tansu and on Kafka alike.
    static func makeTopic(bootstrap: String, topic: String, counts: [Int]) async throws {
        let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: [bootstrap]))
        try await admin.createTopic(NewTopic(name: topic, partitions: Int32(counts.count), replicationFactor: 1))
        await admin.close()
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "linger.ms": "0"])
        for (p, n) in counts.enumerated() {
            for i in 0 ..< n {
                _ = try await producer.send(ProducerRecord(topic: topic, partition: Int32(p), value: Array("p\(p)-\(i)".utf8)))
            }
        }
        await producer.close()
    }
}
