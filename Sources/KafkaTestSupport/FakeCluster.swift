import Synchronization
public import KafkaProtocol

/// Partition logs served by one or more `FakeBroker`s, for consumer and producer tests
/// (Metadata and ListOffsets: `FakeCluster+Metadata.swift`; Produce: `+Produce.swift`; the transaction coordinator: `+Transactions.swift`
/// over `+TransactionCoordinator.swift`; FindCoordinator and group offsets: `+GroupOffsets.swift`; classic group membership: `+GroupMembership.swift` and `+GroupMembershipServing.swift`;
/// scripted errors per request type and the coordinator request log: `+ScriptedAnswers.swift`): Metadata (every
/// broker, each partition's leader and leader epoch, topic ids), ListOffsets, and Fetch the way
/// Kafka answers it — whole batches from the one containing the fetch offset, size limits,
/// NOT_LEADER_OR_FOLLOWER from a broker that does not lead (with the new leader, v12+),
/// FENCED/UNKNOWN_LEADER_EPOCH against the request's leader epoch, OFFSET_OUT_OF_RANGE,
/// aborted transactions for read_committed, and KIP-227 fetch sessions (ids, epochs,
/// forgotten partitions, incremental answers that omit unchanged partitions).
///
/// Faults to script: leadership moves (`moveLeader`), leaderless partitions, partition errors
/// for the next N fetches (`failFetches`), lost sessions (`expireSessions`) and wrong epochs
/// (`desynchronizeSessions`). Every Fetch is logged (`fetches`).
///
/// Like `FakeBroker`, it uses our own codec: it proves client behaviour, not wire compatibility.
public final class FakeCluster: Sendable {
    public struct PartitionKey: Hashable, Sendable, CustomStringConvertible {
        public let topic: String
        public let partition: Int32
        public init(_ topic: String, _ partition: Int32) {
            self.topic = topic
            self.partition = partition
        }
        public var description: String { "\(topic)-\(partition)" }
    }

    /// One Fetch request and what the cluster answered.
    public struct FetchSeen: Sendable {
        public let broker: Int32
        /// The broker's connection index (see `FakeBroker.Request.connection`).
        public let connection: Int
        public let version: Int16
        public let sessionId: Int32
        public let sessionEpoch: Int32
        public let isolationLevel: Int8
        /// Partitions listed in the request with their fetch offsets (topic ids resolved).
        public let partitions: [(PartitionKey, Int64)]
        /// Partitions in `forgotten_topics_data` (topic ids resolved).
        public let forgotten: [PartitionKey]
        /// Whether the request named topics by id.
        public let byTopicId: Bool
        /// The answer: top-level error, session id, and the partitions it carried.
        public let errorCode: KafkaErrorCode
        public let responseSessionId: Int32
        public let answered: [(PartitionKey, KafkaErrorCode)]
        public let at: ContinuousClock.Instant
    }

    struct Batch {
        var base: Int64
        var last: Int64
        var maxTimestamp: Int64
        var bytes: [UInt8]
    }

    struct Partition {
        var leader: Int32
        var leaderEpoch: Int32 = 0
        var batches: [Batch] = []
        var end: Int64 = 0
        /// Producer id → first offset of its open transaction.
        var open: [Int64: Int64] = [:]
        /// (producer id, first offset, marker offset).
        var aborted: [(Int64, Int64, Int64)] = []
        /// Error codes to answer the next fetches with, first first.
        var injected: [KafkaErrorCode] = []

        var lastStable: Int64 { open.values.min() ?? end }
    }

    struct Topic {
        var id: KafkaUUID
        var partitions: [Partition]
    }

    struct Session {
        var epoch: Int32
        var order: [PartitionKey]
        var partitions: [PartitionKey: (offset: Int64, maxBytes: Int32, leaderEpoch: Int32)]
        /// What the last response told about each partition (high watermark, LSO, log start).
        var reported: [PartitionKey: (Int64, Int64, Int64)] = [:]
    }

    struct State {
        var brokers: [Int32: (host: String, port: Int)] = [:]
        var topics: [String: Topic] = [:]
        var sessions: [Int32: [Int32: Session]] = [:]
        var nextSessionId: Int32 = 1000
        var nextTopicId: UInt64 = 1
        var fetches: [FetchSeen] = []
        var metadataRequests: [Int32: Int] = [:]
        /// Produce (see FakeCluster+Produce.swift): every request seen, answer delays per broker.
        var produces: [ProduceSeen] = []
        var produceDelay: [Int32: Duration] = [:]
        /// The coordinators (FakeCluster+Transactions.swift, +GroupOffsets.swift) and the
        /// scripted answers and request log they share (+ScriptedAnswers.swift).
        var transactions = TransactionCoordinator()
        var groups = GroupOffsets()
        /// Classic group membership (FakeCluster+GroupMembership.swift) and its rebalance cap.
        var membership: [String: ClassicGroup] = [:]
        var rebalanceWait = Duration.seconds(3)
        var coordinatorNodes: [CoordinatorKey: Int32] = [:]
        var scripted: [ApiKey: [ScriptedAnswer]] = [:]
        var coordinatorRequests: [CoordinatorRequestSeen] = []
    }

    /// Internal (not private) so that the per-API extensions in other files share it.
    let state = Mutex(State())
    /// Whether brokers open fetch sessions (false: always session id 0, like Tansu).
    public let sessionsEnabled: Bool
    /// Whether NOT_LEADER_OR_FOLLOWER answers (v12+) name the new leader (KIP-951).
    public let leaderHints: Bool
    /// Longest an empty Fetch is held (the request's max_wait_ms, capped here to keep tests fast).
    public let maxHold: Duration

    public init(sessions: Bool = true, leaderHints: Bool = true, maxHold: Duration = .milliseconds(100)) {
        sessionsEnabled = sessions
        self.leaderHints = leaderHints
        self.maxHold = maxHold
    }

    /// Starts a broker of this cluster. `apiRanges` overrides advertised versions per API.
    public func startBroker(nodeId: Int32, apiRanges: [ApiKey: ClosedRange<Int16>] = [:]) throws -> FakeBroker {
        var ranges: [ApiKey: ClosedRange<Int16>] = [:]
        for (k, d) in ApiRegistry.all { ranges[k] = d.versions }
        for (k, r) in apiRanges { ranges[k] = r }
        let broker = try FakeBroker(nodeId: nodeId, apiRanges: ranges) { [self] req, b in self.handle(req, b) }
        state.withLock { $0.brokers[nodeId] = (broker.host, broker.port) }
        return broker
    }

    // MARK: Setup and faults

    /// Creates a topic whose partitions are all led by `leader`.
    public func createTopic(_ name: String, partitions: Int32, leader: Int32) {
        state.withLock { s in
            let id = KafkaUUID(high: 0xFA4E_0000_0000_0000 | s.nextTopicId, low: s.nextTopicId)
            s.nextTopicId += 1
            s.topics[name] = Topic(id: id, partitions: (0 ..< partitions).map { _ in Partition(leader: leader) })
        }
    }

    /// The topic's id (zero if unknown).
    public func topicId(_ name: String) -> KafkaUUID { state.withLock { $0.topics[name]?.id ?? .zero } }

    /// Appends an encoded record batch v2 at the log end (its base offset is rewritten, as a
    /// broker does; the CRC does not cover it). Returns the base offset.
    @discardableResult
    public func append(_ topic: String, _ partition: Int32, batch: [UInt8]) -> Int64 {
        state.withLock { s in Self.append(&s, topic, partition, batch: batch) }
    }

    /// `append` under the lock already held (Produce and the transaction markers use it).
    @discardableResult
    static func append(_ s: inout State, _ topic: String, _ partition: Int32, batch: [UInt8]) -> Int64 {
        guard let ps = s.topics[topic]?.partitions, ps.indices.contains(Int(partition)), batch.count >= 61 else { return -1 }
        var p = ps[Int(partition)]
        var bytes = batch
        let base = p.end
        for i in 0 ..< 8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(bitPattern: base) >> (56 - 8 * UInt64(i))) }
        let delta = Int64(Self.int32(bytes, 23))
        let attributes = UInt16(bytes[21]) << 8 | UInt16(bytes[22])
        let producerId = Int64(bitPattern: UInt64(UInt32(bitPattern: Self.int32(bytes, 43))) << 32 | UInt64(UInt32(bitPattern: Self.int32(bytes, 47))))
        let maxTimestamp = Int64(bitPattern: UInt64(UInt32(bitPattern: Self.int32(bytes, 35))) << 32 | UInt64(UInt32(bitPattern: Self.int32(bytes, 39))))
        let transactional = attributes & 0x10 != 0, control = attributes & 0x20 != 0
        if transactional && !control && p.open[producerId] == nil { p.open[producerId] = base }
        if control, let first = p.open.removeValue(forKey: producerId) {
            // An ABORT marker closes an aborted transaction (read_committed filters it).
            if let b = try? RecordBatch(bytes), let marker = try? b.controlRecords().first, marker.type == .abort {
                p.aborted.append((producerId, first, base + delta))
            }
        }
        p.batches.append(Batch(base: base, last: base + delta, maxTimestamp: maxTimestamp, bytes: bytes))
        p.end = base + delta + 1
        s.topics[topic]?.partitions[Int(partition)] = p
        return base
    }

    /// Appends one batch of records with these values (keys null). Returns its base offset.
    @discardableResult
    public func appendRecords(_ topic: String, _ partition: Int32, _ values: [String], producerId: Int64 = -1, transactional: Bool = false,
                              compression: RecordCompression = .none, timestamp: Int64 = 1_700_000_000_000) -> Int64 {
        var b = RecordBatchBuilder(compression: compression, producerId: producerId, producerEpoch: producerId < 0 ? -1 : 0,
                                   baseSequence: producerId < 0 ? -1 : 0, isTransactional: transactional)
        for (i, v) in values.enumerated() { try? b.append(timestamp: timestamp + Int64(i), key: nil, value: Array(v.utf8)) }
        guard let bytes = try? b.build(compress: compression == .none ? nil : Compression.recordCompressor()) else { return -1 }
        return append(topic, partition, batch: bytes)
    }

    /// Appends a COMMIT or ABORT marker for `producerId`'s open transaction.
    @discardableResult
    public func appendMarker(_ topic: String, _ partition: Int32, _ type: ControlRecordType, producerId: Int64) -> Int64 {
        var b = RecordBatchBuilder(producerId: producerId, producerEpoch: 0, isTransactional: true, isControl: true)
        try? b.appendControl(type: type, coordinatorEpoch: 0, timestamp: 1_700_000_000_000)
        guard let bytes = try? b.build() else { return -1 }
        return append(topic, partition, batch: bytes)
    }

    /// The log end offset (high watermark).
    public func endOffset(_ topic: String, _ partition: Int32) -> Int64 {
        state.withLock { $0.topics[topic]?.partitions[Int(partition)].end ?? -1 }
    }

    /// Moves leadership (-1: no leader) and bumps the leader epoch.
    public func moveLeader(_ topic: String, _ partition: Int32, to leader: Int32) {
        state.withLock { s in
            s.topics[topic]?.partitions[Int(partition)].leader = leader
            s.topics[topic]?.partitions[Int(partition)].leaderEpoch += 1
        }
    }

    /// The current leader and leader epoch.
    public func leadership(_ topic: String, _ partition: Int32) -> (leader: Int32, epoch: Int32)? {
        state.withLock { s in s.topics[topic].map { ($0.partitions[Int(partition)].leader, $0.partitions[Int(partition)].leaderEpoch) } }
    }

    /// The next `count` fetches of the partition are answered with `code`.
    public func failFetches(_ topic: String, _ partition: Int32, with code: KafkaErrorCode, count: Int) {
        state.withLock { s in s.topics[topic]?.partitions[Int(partition)].injected += Array(repeating: code, count: count) }
    }

    /// Drops the partition's injected fetch errors that have not been answered yet.
    public func healFetches(_ topic: String, _ partition: Int32) {
        state.withLock { s in s.topics[topic]?.partitions[Int(partition)].injected = [] }
    }

    /// Forgets every fetch session of `broker` (its next incremental fetch: FETCH_SESSION_ID_NOT_FOUND).
    public func expireSessions(broker: Int32) {
        state.withLock { $0.sessions[broker] = [:] }
    }

    /// Advances every session epoch of `broker` (its next incremental fetch: INVALID_FETCH_SESSION_EPOCH).
    public func desynchronizeSessions(broker: Int32) {
        state.withLock { s in
            for id in s.sessions[broker, default: [:]].keys { s.sessions[broker]?[id]?.epoch += 5 }
        }
    }

    /// Open sessions on `broker`.
    public func sessionCount(broker: Int32) -> Int { state.withLock { $0.sessions[broker]?.count ?? 0 } }

    /// Every Fetch so far, in arrival order.
    public var fetches: [FetchSeen] { state.withLock { $0.fetches } }

    /// Metadata requests per broker so far.
    public var metadataRequests: [Int32: Int] { state.withLock { $0.metadataRequests } }

    // MARK: Serving

    private func handle(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        if let scripted = scriptedAction(req, broker) { return scripted }
        switch req.header.apiKey {
        case .apiVersions: return apiVersions(req, broker)
        case .findCoordinator: return findCoordinator(req, broker)
        case .offsetCommit: return offsetCommit(req, broker)
        case .offsetFetch: return offsetFetch(req, broker)
        case .joinGroup: return joinGroup(req, broker)
        case .syncGroup: return syncGroup(req, broker)
        case .heartbeat: return heartbeat(req, broker)
        case .leaveGroup: return leaveGroup(req, broker)
        case .addPartitionsToTxn: return addPartitionsToTxn(req, broker)
        case .addOffsetsToTxn: return addOffsetsToTxn(req, broker)
        case .endTxn: return endTxn(req, broker)
        case .txnOffsetCommit: return txnOffsetCommit(req, broker)
        case .metadata: return metadata(req, broker)
        case .listOffsets: return listOffsets(req, broker)
        case .fetch: return fetch(req, broker)
        case .produce: return produce(req, broker)
        case .initProducerId: return initProducerId(req, broker)
        default: return broker.defaultAction(req)
        }
    }

    private struct Wanted {
        var key: PartitionKey
        var offset: Int64
        var maxBytes: Int32
        var leaderEpoch: Int32
    }

    private func fetch(_ req: FakeBroker.Request, _ broker: FakeBroker) -> FakeBroker.Action {
        guard let f = try? req.decode(FetchRequest.self) else { return .disconnect }
        let version = req.header.apiVersion
        let node = broker.nodeId
        let (response, hold): (FetchResponse, Bool) = state.withLock { s in
            let byId = version >= 13
            func key(_ topic: String, _ id: KafkaUUID, _ partition: Int32) -> PartitionKey {
                guard byId else { return PartitionKey(topic, partition) }
                return PartitionKey(s.topics.first { $0.value.id == id }?.key ?? "<unknown id \(id)>", partition)
            }
            var listed: [Wanted] = []
            for t in f.topics {
                for p in t.partitions {
                    listed.append(Wanted(key: key(t.topic, t.topicId, p.partition), offset: p.fetchOffset, maxBytes: p.partitionMaxBytes, leaderEpoch: p.currentLeaderEpoch))
                }
            }
            let forgotten = f.forgottenTopicsData.flatMap { t in t.partitions.map { key(t.topic, t.topicId, $0) } }
            var r = FetchResponse()
            var toServe: [Wanted] = listed
            var incremental = false
            if version >= 7 && sessionsEnabled && f.sessionEpoch != -1 {
                if f.sessionEpoch == 0 {
                    // Full: close the named session (if any) and open a new one.
                    if f.sessionId != 0 { s.sessions[node]?[f.sessionId] = nil }
                    let id = s.nextSessionId
                    s.nextSessionId += 1
                    var session = Session(epoch: 1, order: [], partitions: [:])
                    for w in listed where session.partitions[w.key] == nil {
                        session.order.append(w.key)
                        session.partitions[w.key] = (w.offset, w.maxBytes, w.leaderEpoch)
                    }
                    s.sessions[node, default: [:]][id] = session
                    r.sessionId = id
                } else if var session = s.sessions[node]?[f.sessionId] {
                    if session.epoch != f.sessionEpoch {
                        r.errorCode = KafkaErrorCode.invalidFetchSessionEpoch.rawValue
                        toServe = []
                    } else {
                        for k in forgotten {
                            session.partitions[k] = nil
                            session.order.removeAll { $0 == k }
                        }
                        for w in listed {
                            if session.partitions[w.key] == nil { session.order.append(w.key) }
                            session.partitions[w.key] = (w.offset, w.maxBytes, w.leaderEpoch)
                        }
                        session.epoch = session.epoch == Int32.max ? 1 : session.epoch + 1
                        toServe = session.order.map { k in
                            let p = session.partitions[k]!
                            return Wanted(key: k, offset: p.offset, maxBytes: p.maxBytes, leaderEpoch: p.leaderEpoch)
                        }
                        s.sessions[node]?[f.sessionId] = session
                        r.sessionId = f.sessionId
                        incremental = true
                    }
                } else {
                    r.errorCode = KafkaErrorCode.fetchSessionIdNotFound.rawValue
                    toServe = []
                }
            }
            var remaining = Int(f.maxBytes)
            var answered: [(PartitionKey, KafkaErrorCode)] = []
            var anyData = false
            var topics: [(String, KafkaUUID, [FetchResponse.Partition])] = []
            for w in toServe {
                var out = serve(&s, w, node: node, version: version, isolation: f.isolationLevel, remaining: &remaining)
                let code = KafkaErrorCode(rawValue: out.errorCode)
                let marks = (out.highWatermark, out.lastStableOffset, out.logStartOffset)
                if incremental, code.isSuccess, out.records == nil, let seen = s.sessions[node]?[r.sessionId]?.reported[w.key], seen == marks {
                    // Incremental answers omit partitions with nothing new.
                    continue
                }
                if r.sessionId != 0 { s.sessions[node]?[r.sessionId]?.reported[w.key] = marks }
                if out.records != nil { anyData = true }
                if !code.isSuccess { anyData = true }
                // Kafka sends empty records, never null ones: librdkafka refuses a null set.
                if out.records == nil { out.records = [] }
                answered.append((w.key, code))
                let id = s.topics[w.key.topic]?.id ?? .zero
                if let i = topics.firstIndex(where: { $0.0 == w.key.topic }) {
                    topics[i].2.append(out)
                } else {
                    topics.append((w.key.topic, id, [out]))
                }
            }
            r.responses = topics.map { name, id, parts in
                var t = FetchResponse.Topic()
                t.topic = byId ? "" : name
                t.topicId = byId ? id : .zero
                t.partitions = parts
                return t
            }
            s.fetches.append(FetchSeen(broker: node, connection: req.connection, version: version, sessionId: f.sessionId, sessionEpoch: f.sessionEpoch,
                                       isolationLevel: f.isolationLevel, partitions: listed.map { ($0.key, $0.offset) }, forgotten: forgotten,
                                       byTopicId: byId, errorCode: KafkaErrorCode(rawValue: r.errorCode), responseSessionId: r.sessionId,
                                       answered: answered, at: .now))
            return (r, !anyData && r.errorCode == 0)
        }
        let body = broker.body(response, for: req)
        guard hold else { return .respond(body) }
        let wait = min(.milliseconds(Int64(max(0, f.maxWaitMs))), maxHold)
        return .respondAfter(wait, body)
    }

    /// One partition's answer (leader and epoch checks, injected errors, then whole batches).
    private func serve(_ s: inout State, _ w: Wanted, node: Int32, version: Int16, isolation: Int8, remaining: inout Int) -> FetchResponse.Partition {
        var out = FetchResponse.Partition()
        out.partitionIndex = w.key.partition
        out.abortedTransactions = nil
        guard let topic = s.topics[w.key.topic], topic.partitions.indices.contains(Int(w.key.partition)) else {
            out.errorCode = (version >= 13 ? KafkaErrorCode.unknownTopicId : .unknownTopicOrPartition).rawValue
            (out.highWatermark, out.lastStableOffset, out.logStartOffset) = (-1, -1, -1)
            return out
        }
        var p = topic.partitions[Int(w.key.partition)]
        out.highWatermark = p.end
        out.lastStableOffset = p.lastStable
        out.logStartOffset = p.batches.first?.base ?? p.end
        func fail(_ code: KafkaErrorCode) -> FetchResponse.Partition {
            // As Kafka: an error answer carries no watermarks (-1), not the log's.
            out.errorCode = code.rawValue
            (out.highWatermark, out.lastStableOffset, out.logStartOffset) = (-1, -1, -1)
            return out
        }
        guard p.leader == node else {
            if leaderHints && version >= 12 && p.leader >= 0 { out.currentLeader = .init(leaderId: p.leader, leaderEpoch: p.leaderEpoch) }
            return fail(.notLeaderOrFollower)
        }
        if w.leaderEpoch >= 0 && w.leaderEpoch < p.leaderEpoch { return fail(.fencedLeaderEpoch) }
        if w.leaderEpoch > p.leaderEpoch { return fail(.unknownLeaderEpoch) }
        if !p.injected.isEmpty {
            let code = p.injected.removeFirst()
            s.topics[w.key.topic]?.partitions[Int(w.key.partition)] = p
            return fail(code)
        }
        guard w.offset >= out.logStartOffset, w.offset <= p.end else { return fail(.offsetOutOfRange) }
        let limit = isolation == 1 ? p.lastStable : p.end
        var bytes: [UInt8] = []
        var last: Int64 = -1
        for b in p.batches where b.last >= w.offset && b.base < limit {
            // At least one whole batch, whatever the limits (KIP-74); then within both.
            if !bytes.isEmpty && (bytes.count + b.bytes.count > Int(w.maxBytes) || b.bytes.count > remaining) { break }
            if bytes.isEmpty && remaining <= 0 { break }
            bytes += b.bytes
            remaining -= b.bytes.count
            last = b.last
        }
        if !bytes.isEmpty {
            out.records = bytes
            if isolation == 1 {
                out.abortedTransactions = p.aborted.filter { $0.2 >= w.offset && $0.1 <= last }.map { .init(producerId: $0.0, firstOffset: $0.1) }
            }
        }
        return out
    }

    static func int32(_ b: [UInt8], _ at: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]))
    }
}
