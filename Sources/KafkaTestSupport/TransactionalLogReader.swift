import KafkaProtocol
import KafkaNet

/// Reads whole partitions read_uncommitted, batch by batch, into `TransactionalLogAudit`s: the
/// check of transactional topics on brokers that do not say which transactions aborted (Tansu).
///
/// Built directly on `BrokerConnection` and the protocol codecs, not on `KafkaConsumer`, so
/// that what it reports does not depend on the consumer's own read_committed filtering (the
/// thing under test elsewhere). Each partition is read from its log start to the high
/// watermark its leader reported when the read began (records written after that are not
/// waited for).
public enum TransactionalLogReader {
    /// A read that could not complete.
    public struct ReadError: Error, CustomStringConvertible {
        /// What went wrong, naming the partition.
        public let description: String
    }

    /// Reads every partition of `topic`.
    /// - Parameters:
    ///   - bootstrap: One broker's `host:port` (the others come from its Metadata answer).
    ///   - topic: The topic to read.
    ///   - timeout: The longest the whole read may take.
    /// - Returns: Partition index → its audit.
    /// - Throws: `ReadError` for an unknown topic, a partition error or no progress in time;
    ///   `KafkaError` when a broker cannot be reached; `RecordDecodingError` for bad batches.
    public static func read(bootstrap: String, topic: String, timeout: Duration = .seconds(120)) async throws -> [Int32: TransactionalLogAudit] {
        let deadline = ContinuousClock.now + timeout
        let (host, port) = try address(bootstrap)
        let seed = try await BrokerConnection.connect(host: host, port: port, options: options, requestTimeout: .seconds(10))
        defer { seed.close() }
        let meta = try await seed.send(MetadataRequest(topics: [topic]), timeout: .seconds(10))
        guard let t = meta.topics.first(where: { $0.name == topic }), t.errorCode == 0, !t.partitions.isEmpty else {
            throw ReadError(description: "topic \(topic) not found (error \(meta.topics.first?.errorCode ?? -1))")
        }
        let brokers = Dictionary(meta.brokers.map { ($0.nodeId, (host: $0.host, port: Int($0.port))) }, uniquingKeysWith: { a, _ in a })
        var leaders: [Int32: BrokerConnection] = [:]
        defer { for c in leaders.values { c.close() } }
        var out: [Int32: TransactionalLogAudit] = [:]
        for p in t.partitions.sorted(by: { $0.partitionIndex < $1.partitionIndex }) {
            guard let b = brokers[p.leaderId] else { throw ReadError(description: "\(topic)-\(p.partitionIndex): leader \(p.leaderId) not among the brokers") }
            let c: BrokerConnection
            if let known = leaders[p.leaderId] { c = known } else {
                c = try await BrokerConnection.connect(host: b.host, port: b.port, options: options, requestTimeout: .seconds(10))
                leaders[p.leaderId] = c
            }
            out[p.partitionIndex] = try await read(c, topic: topic, partition: p.partitionIndex, deadline: deadline)
        }
        return out
    }

    /// Topic names in Fetch (v12 and below): the reader needs no topic ids.
    static var options: ConnectionOptions {
        var o = ConnectionOptions()
        o.clientId = "kwire-txn-audit"
        o.versionCaps = [.fetch: 12]
        return o
    }

    static func address(_ s: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]) else {
            throw ReadError(description: "bootstrap \(s) is not HOST:PORT")
        }
        var host = s[..<colon]
        if host.first == "[", host.last == "]" { host = host.dropFirst().dropLast() }  // [::1]:9092
        return (String(host), port)
    }

    /// Reads one partition at its leader `c` from the log start to the high watermark the
    /// first answer names.
    static func read(_ c: BrokerConnection, topic: String, partition: Int32, deadline: ContinuousClock.Instant) async throws -> TransactionalLogAudit {
        let name = "\(topic)-\(partition)"
        var audit = TransactionalLogAudit()
        var end: Int64?
        var started = false
        while end.map({ audit.nextOffset < $0 }) ?? true {
            guard ContinuousClock.now < deadline else {
                throw ReadError(description: "\(name): read up to \(audit.nextOffset) of \(end ?? -1) before the deadline")
            }
            var request = FetchRequest()
            request.maxWaitMs = 100
            request.maxBytes = 16 << 20
            request.isolationLevel = 0
            request.topics = [.init(topic: topic, partitions: [.init(partition: partition, fetchOffset: audit.nextOffset, partitionMaxBytes: 8 << 20)])]
            let response = try await c.send(request, timeout: .seconds(30))
            guard let p = response.responses.first(where: { $0.topic == topic })?.partitions.first(where: { $0.partitionIndex == partition }) else {
                throw ReadError(description: "\(name): the Fetch answer lacks the partition (error \(response.errorCode))")
            }
            let code = KafkaErrorCode(rawValue: p.errorCode)
            if code == .offsetOutOfRange, !started, p.logStartOffset > audit.nextOffset {
                // The log was truncated at its start: read from where it begins now.
                audit = TransactionalLogAudit(firstOffset: p.logStartOffset)
                continue
            }
            guard p.errorCode == 0 else { throw ReadError(description: "\(name): Fetch at \(audit.nextOffset) answered \(code)") }
            started = true
            if end == nil { end = p.highWatermark }
            var reader = RecordSetReader(p.records ?? [])
            while let entry = try reader.next() { try audit.add(entry) }
        }
        return audit
    }
}
