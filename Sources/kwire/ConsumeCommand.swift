import Foundation
import KafkaClient

/// `kwire consume TOPIC`: prints messages with a kcat-compatible format.
enum ConsumeCommand {
    static let help = """
    usage: kwire consume TOPIC [--partition P] [--from beginning|end|OFFSET|@TIMESTAMP_MS]
                               [--count N] [--exit-at-end] [--format FMT]
                               [--isolation read_committed|read_uncommitted] [options]
           kwire consume TOPIC... --group G [--assignor NAME] [--instance-id ID]
                               [--from beginning|end] [--count N] [--exit-at-end] [--format FMT]
                               [--isolation read_committed|read_uncommitted]

    Reads TOPIC (all partitions, or --partition P) and prints each message with FMT
    (kcat-compatible): %t topic, %p partition, %o offset, %k key, %s value, %T timestamp,
    %h headers (k=v,…), %% a percent sign; \\n and \\t are newline and tab. Default: %s\\n.
    --from defaults to beginning. --exit-at-end stops once every partition is read up to its
    high watermark (read_committed: its last stable offset). A summary goes to stderr.
    --isolation read_committed hides records of aborted transactions and stops at the last
    stable offset (isolation.level; default read_uncommitted: every record, as written).

    With --group G the topics are read as a member of consumer group G: partitions are shared
    with the group's other members (ours, librdkafka's, Java's), reading starts at the
    committed offsets (else --from: beginning by default), processed offsets are committed
    automatically and on exit; SIGINT/SIGTERM close cleanly (final commit, leave the group).
    --assignor range|roundrobin|cooperative-sticky (default range,roundrobin); --instance-id
    makes a static member (group.instance.id). --exit-at-end stops once every partition this
    member owns is read up to its high watermark.
    \(Common.help)
    """

    static func run(_ argv: [String]) async throws {
        let args = try Arguments(argv, valued: Common.valued.union(["--partition", "--from", "--count", "--format", "--group", "--assignor", "--instance-id", "--isolation"]),
                                 flags: Common.flags.union(["--exit-at-end"]))
        if args.flag("-h", "--help") { print(help); return }
        let group = try args.value("--group")
        if group == nil { guard args.positional.count == 1 else { throw CLIError.usage("consume takes exactly one TOPIC (several only with --group)") } }
        guard !args.positional.isEmpty else { throw CLIError.usage("consume needs a TOPIC") }
        let topic = args.positional[0]
        var config = ConsumerConfig()
        config.client = try Common.config(args, applyX: false)
        config.fetchMaxWait = .milliseconds(100)
        if let group {
            config.groupId = group
            config.autoOffsetReset = try args.value("--from") == "end" ? .latest : .earliest
            if let a = try args.value("--assignor") { try config.set("partition.assignment.strategy", a) }
            if let i = try args.value("--instance-id") { config.groupInstanceId = i }
        } else if try args.value("--assignor") != nil || args.value("--instance-id") != nil {
            throw CLIError.usage("--assignor and --instance-id need --group")
        }
        for x in args.values("-X") {
            let (key, value) = try Common.property(x)
            try config.set(key, value)
        }
        if let i = try args.value("--isolation") { config.isolationLevel = try isolationLevel(i) }
        let from: OffsetSpec
        switch try args.value("--from") ?? "beginning" {
        case "beginning": from = .beginning
        case "end": from = .end
        case let s where s.hasPrefix("@"):
            guard let ts = Int64(s.dropFirst()) else { throw CLIError.usage("--from @TIMESTAMP_MS needs a number") }
            from = .timestamp(ts)
        case let s:
            guard let o = Int64(s), o >= 0 else { throw CLIError.usage("--from takes beginning, end, an offset or @timestamp") }
            from = .offset(o)
        }
        let count = try args.int("--count")
        let format = try Format(try args.value("--format") ?? "%s\\n")
        if group != nil {
            guard try args.int("--partition") == nil else { throw CLIError.usage("--partition cannot be used with --group") }
            if case .offset = from { throw CLIError.usage("with --group, --from takes beginning or end") }
            if case .timestamp = from { throw CLIError.usage("with --group, --from takes beginning or end") }
            try await runGroup(topics: args.positional, config: config, count: count, format: format, exitAtEnd: args.flag("--exit-at-end"))
            return
        }

        let admin = try KafkaAdminClient(config: config.client)
        let meta = try await admin.describeTopics([topic])[0]
        await admin.close()
        var partitions = meta.partitions.map { TopicPartition(topic: topic, partition: $0.partition) }
        if let p = try args.int("--partition") {
            guard partitions.contains(where: { $0.partition == p }) else { throw CLIError.failure("topic \(topic) has no partition \(p)") }
            partitions = [TopicPartition(topic: topic, partition: Int32(p))]
        }
        let consumer = try KafkaConsumer(config: config)
        try await consumer.assign(partitions, from: from)
        let start = ContinuousClock.now
        var lastProgress = start
        var printer = Printer(format: format, limit: count)
        while !printer.done {
            let batch = try await consumer.poll(max: 10000, timeout: .milliseconds(200))
            printer.emit(batch)
            if printer.done { break }
            if args.flag("--exit-at-end"), batch.isEmpty, partitions.allSatisfy({ atEnd(consumer, $0, config.isolationLevel) }) { break }
            let now = ContinuousClock.now
            if now - lastProgress >= .seconds(1), now - start >= .seconds(2) {
                lastProgress = now
                printError("kwire: \(printer.count) messages consumed")
            }
        }
        printer.flush()
        await consumer.close()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printError("consumed \(printer.count) messages, \(printer.bytes) bytes, \(String(format: "%.3f", seconds)) s")
    }

    /// `--group`: a group member until --count, --exit-at-end or SIGINT/SIGTERM; then a clean
    /// close (final commit, LeaveGroup).
    static func runGroup(topics: [String], config: ConsumerConfig, count: Int?, format: Format, exitAtEnd: Bool) async throws {
        let stop = StopSignal()
        let consumer = try KafkaConsumer(config: config) { event in
            switch event {
            case let .assigned(p): printError("kwire: assigned \(p.map(\.description).joined(separator: " "))")
            case let .revoked(p): printError("kwire: revoked \(p.map(\.description).joined(separator: " "))")
            case let .lost(p): printError("kwire: lost \(p.map(\.description).joined(separator: " "))")
            }
        }
        try consumer.subscribe(topics: topics)
        let start = ContinuousClock.now
        var printer = Printer(format: format, limit: count)
        while !stop.requested, !printer.done {
            let batch = try await consumer.poll(max: 10000, timeout: .milliseconds(200))
            // Printed before the next poll, which is what marks these records processed.
            printer.emit(batch)
            if printer.done { break }
            if exitAtEnd, batch.isEmpty {
                let owned = consumer.assignment
                if !owned.isEmpty, owned.allSatisfy({ atEnd(consumer, $0, config.isolationLevel) }) { break }
            }
        }
        printer.flush()
        if count != nil || exitAtEnd || stop.requested {
            // Everything printed is processed: commit it all before leaving.
            do { try await consumer.commit() } catch { printError("kwire: final commit failed: \(error)") }
        }
        await consumer.close()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printError("consumed \(printer.count) messages, \(printer.bytes) bytes, \(String(format: "%.3f", seconds)) s")
    }

    /// `--isolation`'s value as the consumer's `isolation.level`.
    /// - Throws: `CLIError.usage` naming the two accepted values for any other.
    static func isolationLevel(_ value: String) throws -> ConsumerConfig.IsolationLevel {
        switch value {
        case "read_committed": return .readCommitted
        case "read_uncommitted": return .readUncommitted
        default: throw CLIError.usage("--isolation takes read_committed or read_uncommitted, got '\(value)'")
        }
    }

    /// Whether `tp` is read to its end: the high watermark, or for read_committed the last
    /// stable offset (an open transaction's records are not readable yet, so waiting for the
    /// high watermark would never end).
    static func atEnd(_ consumer: KafkaConsumer, _ tp: TopicPartition, _ isolation: ConsumerConfig.IsolationLevel) -> Bool {
        guard let w = consumer.watermarks(tp), let p = consumer.position(tp) else { return false }
        let end = isolation == .readCommitted ? w.lastStable ?? w.high : w.high
        return p >= end
    }

    /// Renders records to standard output in large writes, counting them up to `limit`.
    struct Printer {
        let format: Format
        let limit: Int?
        private(set) var count = 0
        private(set) var bytes = 0
        private var out: [UInt8] = []

        init(format: Format, limit: Int?) {
            self.format = format
            self.limit = limit
            out.reserveCapacity(1 << 16)
        }

        var done: Bool { limit.map { count >= $0 } ?? false }

        /// Prints `batch` (up to the limit) and flushes.
        mutating func emit(_ batch: [ConsumerRecord]) {
            for r in batch {
                if done { break }
                format.render(r, into: &out)
                count += 1
                bytes += r.value?.count ?? 0
                if out.count > 1 << 16 { flushStdout(&out) }
            }
            flushStdout(&out)
        }

        mutating func flush() { flushStdout(&out) }
    }

    static func flushStdout(_ out: inout [UInt8]) {
        guard !out.isEmpty else { return }
        out.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let w = write(1, raw.baseAddress! + off, raw.count - off)
                if w <= 0 { break }
                off += w
            }
        }
        out.removeAll(keepingCapacity: true)
    }

    /// A parsed kcat format string.
    struct Format {
        enum Part { case text([UInt8]), topic, partition, offset, key, value, timestamp, headers }
        let parts: [Part]

        init(_ spec: String) throws {
            var parts: [Part] = []
            var text: [UInt8] = []
            var it = Array(spec.utf8).makeIterator()
            func flush() { if !text.isEmpty { parts.append(.text(text)); text = [] } }
            while let c = it.next() {
                if c == UInt8(ascii: "\\") {
                    switch it.next() {
                    case UInt8(ascii: "n"): text.append(0x0A)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "\\"): text.append(UInt8(ascii: "\\"))
                    case let other?: text += [UInt8(ascii: "\\"), other]
                    case nil: text.append(UInt8(ascii: "\\"))
                    }
                } else if c == UInt8(ascii: "%") {
                    guard let f = it.next() else { throw CLIError.usage("--format ends with %") }
                    let part: Part?
                    switch f {
                    case UInt8(ascii: "t"): part = .topic
                    case UInt8(ascii: "p"): part = .partition
                    case UInt8(ascii: "o"): part = .offset
                    case UInt8(ascii: "k"): part = .key
                    case UInt8(ascii: "s"): part = .value
                    case UInt8(ascii: "T"): part = .timestamp
                    case UInt8(ascii: "h"): part = .headers
                    case UInt8(ascii: "%"): text.append(f); part = nil
                    default: throw CLIError.usage("--format: unknown %\(Character(UnicodeScalar(f)))")
                    }
                    if let part { flush(); parts.append(part) }
                } else {
                    text.append(c)
                }
            }
            flush()
            self.parts = parts
        }

        func render(_ r: ConsumerRecord, into out: inout [UInt8]) {
            for p in parts {
                switch p {
                case let .text(t): out += t
                case .topic: out += Array(r.topic.utf8)
                case .partition: out += Array(String(r.partition).utf8)
                case .offset: out += Array(String(r.offset).utf8)
                case .key: if let k = r.key { out += k }
                case .value: if let v = r.value { out += v }
                case .timestamp: out += Array(String(r.timestamp ?? -1).utf8)  // kcat prints -1 for none
                case .headers:
                    for (i, h) in r.headers.enumerated() {
                        if i > 0 { out.append(UInt8(ascii: ",")) }
                        out += Array(h.key.utf8)
                        out.append(UInt8(ascii: "="))
                        if let v = h.value { out += v }
                    }
                }
            }
        }
    }
}
