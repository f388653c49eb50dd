import Foundation
import Synchronization
import KafkaClient

/// `kwire produce TOPIC`: one message per line of standard input.
enum ProduceCommand {
    static let help = """
    usage: kwire produce TOPIC [--key-delimiter D] [--partition P] [--acks 0|1|all]
                               [--compression none|gzip|snappy|lz4|zstd] [--linger-ms L]
                               [--batch-size B] [--transactional-id ID [--transaction-size N] [--abort]]
                               [options]

    Reads standard input and produces each line (without its newline) as one message. With
    --key-delimiter, a line is split at the first D into key and value (a line without D has a
    null key). Prints progress every second on stderr for long runs and a final summary; exits
    non-zero if any message failed. A message not delivered within delivery.timeout.ms fails
    (default 300000 ms, librdkafka's message.timeout.ms; -X delivery.timeout.ms=... sets it;
    in transactions at most transaction.timeout.ms, default 60000).
    \(ProduceTransactionOptions.help)
    \(Common.help)
    """

    /// `kwire produce`'s delivery timeout when `-X delivery.timeout.ms` (or `message.timeout.ms`)
    /// does not set one: librdkafka's `message.timeout.ms` default, as kcat users expect. The
    /// library keeps the Java client's 120 s; the CLI used to force 30 s, which turned a broker
    /// restart into failed messages.
    static let defaultDeliveryTimeout: Duration = .seconds(300)

    /// The producer settings `args` ask for: `-b`/`-X` client and producer properties and the
    /// command's own options, over the defaults (with `defaultDeliveryTimeout`).
    static func producerConfig(_ args: Arguments) throws -> ProducerConfig {
        var config = ProducerConfig()
        config.client = try Common.config(args, applyX: false)
        if let t = try ProduceTransactionOptions.parse(args) {
            // The library's default delivery timeout for a transactional producer: no longer
            // than the transaction may stay open.
            config.transactionalId = t.transactionalId
        } else {
            config.deliveryTimeout = defaultDeliveryTimeout
        }
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
        return config
    }

    /// Parses `kwire produce`'s arguments.
    static func arguments(_ argv: [String]) throws -> Arguments {
        try Arguments(
            argv, valued: Common.valued.union(["--key-delimiter", "--partition", "--acks", "--compression", "--linger-ms", "--batch-size"]).union(ProduceTransactionOptions.valued),
            flags: Common.flags.union(ProduceTransactionOptions.flags)
        )
    }

    /// One input line as a record's key and value: split at the first `delimiter` (`-K`), or
    /// all value without one (or when the line does not contain it).
    static func keyAndValue(_ line: String, delimiter: [UInt8]?) -> (key: [UInt8]?, value: [UInt8]) {
        let raw = Array(line.utf8)
        guard let d = delimiter, let r = raw.firstRange(of: d) else { return (nil, raw) }
        return (Array(raw[..<r.lowerBound]), Array(raw[r.upperBound...]))
    }

    static func run(_ argv: [String]) async throws {
        let args = try arguments(argv)
        if args.flag("-h", "--help") { print(help); return }
        guard args.positional.count == 1 else { throw CLIError.usage("produce takes exactly one TOPIC") }
        let topic = args.positional[0]
        let config = try producerConfig(args)
        let partition: Int32? = try args.int("--partition").map {
            guard let p = Int32(exactly: $0), p >= 0 else { throw CLIError.usage("--partition must be a partition number") }
            return p
        }
        let delimiter = try args.value("--key-delimiter").map { d -> [UInt8] in
            guard !d.isEmpty else { throw CLIError.usage("--key-delimiter must not be empty") }
            return Array(d.utf8)
        }
        if let t = try ProduceTransactionOptions.parse(args) {
            try await runTransactional(topic: topic, config: config, options: t, partition: partition, delimiter: delimiter)
            return
        }

        let tally = ProduceTally()
        let producer = try KafkaProducer(config: config) { tally.count($0) }
        let start = ContinuousClock.now
        var lastProgress = start
        var count = 0
        var bytes = 0
        var sendError: (any Error)?
        // Standard input is read on a thread of its own (readLine blocks; the cooperative pool
        // must not), at most 1024 lines ahead of the producer.
        let input = BlockingLineReader.standardInput()
        while let line = await input.next() {
            let (key, value) = keyAndValue(line, delimiter: delimiter)
            let record = ProducerRecord(topic: topic, partition: partition, key: key, value: value)
            do {
                try producer.enqueue(record)
            } catch let e as KafkaError where e.kind == .queueFull {
                // The buffer is full: `send` waits for room and then for this message's own
                // outcome, which comes back here, not as a delivery report.
                do {
                    tally.count(.success(try await producer.send(record)))
                } catch {
                    tally.count(.failure(error))
                }
            } catch {
                sendError = error
                break
            }
            count += 1
            bytes += line.utf8.count
            let now = ContinuousClock.now
            if now - lastProgress >= .seconds(1) {
                lastProgress = now
                printError("kwire: \(count) messages read, \(tally.delivered) delivered, \(tally.failed) failed")
            }
        }
        try await producer.flush()
        await producer.close()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let nFailed = tally.failed
        printError("produced \(tally.delivered) messages, \(bytes) bytes, \(String(format: "%.3f", seconds)) s\(nFailed > 0 ? ", \(nFailed) failed" : "")")
        if let sendError { throw sendError }
        if nFailed > 0 {
            throw CLIError.failure("\(nFailed) message\(nFailed == 1 ? "" : "s") failed: \(tally.firstError ?? "unknown error")")
        }
    }
}

/// `kwire produce`'s count of outcomes: delivery reports for enqueued messages and the results
/// of the `send` calls made when the buffer was full. Each message is counted exactly once, in
/// one of the two: a `send`'s message gets no delivery report.
final class ProduceTally: Sendable {
    private let counts = Mutex<(delivered: Int, failed: Int, firstError: String?)>((0, 0, nil))

    /// A delivery report (from the producer's `onDelivery`).
    func count(_ report: DeliveryReport) {
        add(report.messageIds.count, report.error)
    }

    /// One `send`'s result.
    func count(_ result: Result<RecordMetadata, any Error>) {
        switch result {
        case .success: add(1, nil)
        case let .failure(e): add(1, e)
        }
    }

    private func add(_ n: Int, _ error: (any Error)?) {
        counts.withLock { c in
            if let error {
                c.failed += n
                if c.firstError == nil { c.firstError = "\(error)" }
            } else {
                c.delivered += n
            }
        }
    }

    var delivered: Int { counts.withLock { $0.delivered } }
    var failed: Int { counts.withLock { $0.failed } }
    var firstError: String? { counts.withLock { $0.firstError } }
}
