import Foundation
import Synchronization
import KafkaClient

/// `kwire produce TOPIC`: one message per line of standard input.
enum ProduceCommand {
    static let help = """
    usage: kwire produce TOPIC [--key-delimiter D] [--partition P] [--acks 0|1|all]
                               [--compression none|gzip|snappy|lz4|zstd] [--linger-ms L]
                               [--batch-size B] [options]

    Reads standard input and produces each line (without its newline) as one message. With
    --key-delimiter, a line is split at the first D into key and value (a line without D has a
    null key). Prints progress every second on stderr for long runs and a final summary; exits
    non-zero if any message failed.
    \(Common.help)
    """

    static func run(_ argv: [String]) async throws {
        let args = try Arguments(
            argv, valued: Common.valued.union(["--key-delimiter", "--partition", "--acks", "--compression", "--linger-ms", "--batch-size"]),
            flags: Common.flags
        )
        if args.flag("-h", "--help") { print(help); return }
        guard args.positional.count == 1 else { throw CLIError.usage("produce takes exactly one TOPIC") }
        let topic = args.positional[0]
        var config = ProducerConfig()
        config.client = try Common.config(args, applyX: false)
        // The CLI reads until EOF: bound how long a message may wait for a dead cluster.
        config.deliveryTimeout = .seconds(30)
        for x in args.values("-X") {
            let (key, value) = try Common.property(x)
            try config.set(key, value)
        }
        if let a = try args.value("--acks") {
            try config.set("acks", a)
            if config.acks != .all { config.enableIdempotence = false }
        }
        if let c = try args.value("--compression") { try config.set("compression.type", c) }
        if let l = try args.value("--linger-ms") { try config.set("linger.ms", l) }
        if let b = try args.value("--batch-size") { try config.set("batch.size", b) }
        let partition: Int32? = try args.int("--partition").map {
            guard let p = Int32(exactly: $0), p >= 0 else { throw CLIError.usage("--partition must be a partition number") }
            return p
        }
        let delimiter = try args.value("--key-delimiter").map { d -> [UInt8] in
            guard !d.isEmpty else { throw CLIError.usage("--key-delimiter must not be empty") }
            return Array(d.utf8)
        }

        let delivered = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let firstError = Mutex<String?>(nil)
        let producer = try KafkaProducer(config: config) { report in
            if let e = report.error {
                failed.add(report.messageIds.count, ordering: .relaxed)
                firstError.withLock { if $0 == nil { $0 = "\(e)" } }
            } else {
                delivered.add(report.messageIds.count, ordering: .relaxed)
            }
        }
        let start = ContinuousClock.now
        var lastProgress = start
        var count = 0
        var bytes = 0
        var sendError: (any Error)?
        // Standard input is read on a thread of its own (readLine blocks; the cooperative pool
        // must not), at most 1024 lines ahead of the producer.
        let input = BlockingLineReader.standardInput()
        while let line = await input.next() {
            let raw = Array(line.utf8)
            var key: [UInt8]?
            var value = raw
            if let d = delimiter, let r = raw.firstRange(of: d) {
                key = Array(raw[..<r.lowerBound])
                value = Array(raw[r.upperBound...])
            }
            let record = ProducerRecord(topic: topic, partition: partition, key: key, value: value)
            do {
                try producer.enqueue(record)
            } catch let e as KafkaError where e.kind == .queueFull {
                do { _ = try await producer.send(record) } catch { sendError = error; break }
            } catch {
                sendError = error
                break
            }
            count += 1
            bytes += raw.count
            let now = ContinuousClock.now
            if now - lastProgress >= .seconds(1) {
                lastProgress = now
                printError("kwire: \(count) messages read, \(delivered.load(ordering: .relaxed)) delivered, \(failed.load(ordering: .relaxed)) failed")
            }
        }
        try await producer.flush()
        await producer.close()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let nFailed = failed.load(ordering: .relaxed)
        printError("produced \(delivered.load(ordering: .relaxed)) messages, \(bytes) bytes, \(String(format: "%.3f", seconds)) s\(nFailed > 0 ? ", \(nFailed) failed" : "")")
        if let sendError { throw sendError }
        if nFailed > 0 {
            throw CLIError.failure("\(nFailed) message\(nFailed == 1 ? "" : "s") failed: \(firstError.withLock { $0 } ?? "unknown error")")
        }
    }
}
