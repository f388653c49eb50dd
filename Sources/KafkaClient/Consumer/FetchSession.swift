import KafkaProtocol

/// The client half of a KIP-227 incremental fetch session with one broker: which partitions
/// the broker holds for us, and what the next Fetch must carry.
///
/// A *full* fetch (epoch 0) lists every partition wanted; if the broker answers with a non-zero
/// session id it now caches them, and each later *incremental* fetch (epoch 1, 2, …) lists
/// only partitions whose request changed (offset, leader epoch, max bytes, topic id) and, in
/// `forgotten_topics_data`, those no longer wanted. The broker's incremental answers omit
/// partitions with nothing new. A broker that answers session id 0 (no session: old brokers,
/// a full session cache, or Tansu) simply gets full fetches every time.
///
/// Errors make the next request full: FETCH_SESSION_ID_NOT_FOUND starts over without a session
/// id; any other error (INVALID_FETCH_SESSION_EPOCH, a failed send, a new connection, a response
/// that does not match the session) sends epoch 0 *with* the old id, which tells the broker to
/// close that session and open a new one. Modelled on the Java client's `FetchSessionHandler`.
///
/// Pure value type: no I/O, no clocks. The consumer keeps one per broker and uses it from one
/// fetch at a time (one Fetch in flight per broker), so request and response always pair up.
struct FetchSession: Sendable, Equatable {
    /// What is asked for one partition. In an incremental fetch a partition is sent again only
    /// when this changed since the session last saw it.
    struct PartitionRequest: Sendable, Equatable {
        /// Zero when fetching by topic name (Fetch v12 and older, or no id in the metadata).
        var topicId: KafkaUUID
        var fetchOffset: Int64
        var currentLeaderEpoch: Int32
        var maxBytes: Int32

        init(topicId: KafkaUUID = .zero, fetchOffset: Int64, currentLeaderEpoch: Int32 = -1, maxBytes: Int32) {
            self.topicId = topicId
            self.fetchOffset = fetchOffset
            self.currentLeaderEpoch = currentLeaderEpoch
            self.maxBytes = maxBytes
        }
    }

    /// The session id of the next request (0: none).
    private(set) var sessionId: Int32 = 0
    /// The epoch of the next request: 0 = full (open a session if the broker will), ≥1 incremental.
    private(set) var epoch: Int32 = 0
    /// Partitions the broker holds (or will hold, once the request in flight is answered), in
    /// the order they were first sent.
    private(set) var partitions: [TopicPartition: PartitionRequest] = [:]
    private var order: [TopicPartition] = []
    /// Whether the session was built with topic ids (Fetch v13+); switching needs a new session.
    private(set) var usesTopicIds = false

    /// The next request is a full fetch.
    var isFull: Bool { epoch == 0 }

    init() {}

    /// One request's worth of session bookkeeping.
    struct Plan: Sendable {
        var sessionId: Int32
        /// 0 full, ≥1 incremental, -1 sessionless (Fetch v4–6).
        var epoch: Int32
        var isFull: Bool
        /// Partitions to list in `topics`, in order.
        var toSend: [(TopicPartition, PartitionRequest)]
        /// Partitions to list in `forgotten_topics_data` (with the topic id the session knew).
        var toForget: [(TopicPartition, KafkaUUID)]
        /// Every partition the session holds after this request: what a response may mention.
        var session: [TopicPartition: PartitionRequest]
    }

    /// Plans the next request for the partitions `wanted` now (in priority order).
    ///
    /// - Parameters:
    ///   - useTopicIds: the request goes out at Fetch v13+ (topics by id). Must then be true
    ///     only when every wanted partition has a topic id.
    ///   - sessionsSupported: the broker speaks Fetch v7+; otherwise every fetch is full and
    ///     no session state is kept.
    mutating func plan(_ wanted: [(TopicPartition, PartitionRequest)], useTopicIds: Bool, sessionsSupported: Bool = true) -> Plan {
        // Ids are only meaningful on the wire at v13+; without them a topic is its name.
        let wanted = useTopicIds ? wanted : wanted.map { ($0.0, PartitionRequest(topicId: .zero, fetchOffset: $0.1.fetchOffset, currentLeaderEpoch: $0.1.currentLeaderEpoch, maxBytes: $0.1.maxBytes)) }
        guard sessionsSupported else {
            self = FetchSession()
            var all: [TopicPartition: PartitionRequest] = [:]
            for (tp, r) in wanted { all[tp] = r }
            return Plan(sessionId: 0, epoch: -1, isFull: true, toSend: wanted, toForget: [], session: all)
        }
        if !isFull && useTopicIds != usesTopicIds {
            // The session knows its topics by name (or by id): start a new one in the other mode.
            epoch = 0
        }
        if isFull {
            partitions = [:]
            order = []
            for (tp, r) in wanted where partitions[tp] == nil {
                partitions[tp] = r
                order.append(tp)
            }
            usesTopicIds = useTopicIds
            return Plan(sessionId: sessionId, epoch: 0, isFull: true, toSend: order.map { ($0, partitions[$0]!) }, toForget: [], session: partitions)
        }
        var wantedMap: [TopicPartition: PartitionRequest] = [:]
        for (tp, r) in wanted where wantedMap[tp] == nil { wantedMap[tp] = r }
        var toSend: [(TopicPartition, PartitionRequest)] = []
        var toForget: [(TopicPartition, KafkaUUID)] = []
        var kept: [TopicPartition] = []
        for tp in order {
            guard let old = partitions[tp] else { continue }
            guard let new = wantedMap[tp] else {
                // No longer wanted (unassigned, paused, moved to another leader, resetting).
                toForget.append((tp, old.topicId))
                partitions[tp] = nil
                continue
            }
            kept.append(tp)
            if old.topicId != new.topicId, old.topicId != .zero, new.topicId != .zero {
                // The topic was recreated under the same name: drop the old id's partition.
                toForget.append((tp, old.topicId))
            }
            if old != new {
                toSend.append((tp, new))
                partitions[tp] = new
            }
        }
        order = kept
        for (tp, r) in wanted where partitions[tp] == nil {
            partitions[tp] = r
            order.append(tp)
            toSend.append((tp, r))
        }
        return Plan(sessionId: sessionId, epoch: epoch, isFull: false, toSend: toSend, toForget: toForget, session: partitions)
    }

    /// What to do with a Fetch response.
    enum Verdict: Sendable, Equatable {
        /// Use the partitions' data.
        case accept
        /// Ignore the whole response (the next request is a full fetch); the reason is for logs
        /// and tests.
        case reject(String)
    }

    /// Records the broker's answer to the request planned last. `mentioned` are the partitions
    /// the response carries (topic ids already mapped back to names).
    ///
    /// A response that names a partition twice, or one the request could not have asked for,
    /// is broken (a hostile or buggy broker): acting on it could deliver records twice, so it
    /// is rejected whole, in every mode, and the next request is full.
    mutating func handleResponse(errorCode: KafkaErrorCode, sessionId responseSessionId: Int32, mentioned: [TopicPartition], sent plan: Plan) -> Verdict {
        if errorCode.isSuccess {
            var seen = Set<TopicPartition>()
            let repeated = mentioned.filter { !seen.insert($0).inserted }
            let extra = mentioned.filter { plan.session[$0] == nil }
            if !repeated.isEmpty || (plan.epoch < 0 && !extra.isEmpty) {
                if plan.epoch >= 0 { epoch = 0 }
                return .reject("the response names partitions twice (\(repeated)) or that were not asked for (\(extra))")
            }
        }
        if plan.epoch < 0 {
            // Sessionless (Fetch v4–6): nothing to track.
            return errorCode.isSuccess ? .accept : .reject("top-level error \(errorCode)")
        }
        guard errorCode.isSuccess else {
            if errorCode == .fetchSessionIdNotFound {
                sessionId = 0
            }
            epoch = 0
            return .reject("top-level error \(errorCode)")
        }
        let extra = mentioned.filter { plan.session[$0] == nil }
        if plan.isFull {
            let seen = Set(mentioned)
            let omitted = plan.session.keys.filter { !seen.contains($0) }
            if !extra.isEmpty || !omitted.isEmpty {
                sessionId = 0
                epoch = 0
                return .reject("full fetch response does not match the request: extra \(extra), omitted \(omitted)")
            }
            sessionId = responseSessionId
            epoch = responseSessionId == 0 ? 0 : 1
            return .accept
        }
        if !extra.isEmpty {
            epoch = 0
            return .reject("incremental fetch response names partitions outside the session: \(extra)")
        }
        if responseSessionId == 0 {
            // The broker closed the session; this answer is still valid.
            sessionId = 0
            epoch = 0
        } else {
            sessionId = responseSessionId
            epoch = epoch == Int32.max ? 1 : epoch + 1
        }
        return .accept
    }

    /// The request failed (connection lost, timeout) or the connection was replaced: the
    /// broker's view is unknown, so the next request is full and asks to replace the session.
    mutating func handleSendError() {
        epoch = 0
    }
}

extension FetchSession.Plan {
    /// The Fetch request for this plan: topics grouped in first-seen order, by id (`useTopicIds`)
    /// or by name.
    func request(base: FetchRequest, useTopicIds: Bool) -> FetchRequest {
        var r = base
        r.sessionId = sessionId
        r.sessionEpoch = epoch
        r.topics = Self.group(toSend.map { ($0.0, $0.1.topicId, $0.1) }).map { topic, id, items in
            FetchRequest.Topic(topic: useTopicIds ? "" : topic, topicId: useTopicIds ? id : .zero, partitions: items.map { tp, p in
                FetchRequest.Partition(partition: tp.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.maxBytes, currentLeaderEpoch: p.currentLeaderEpoch)
            })
        }
        r.forgottenTopicsData = Self.group(toForget.map { ($0.0, $0.1, ()) }).map { topic, id, items in
            FetchRequest.ForgottenTopic(topic: useTopicIds ? "" : topic, topicId: useTopicIds ? id : .zero, partitions: items.map(\.0.partition))
        }
        return r
    }

    /// Groups by (topic name, topic id), keeping the first-seen order of topics and partitions.
    private static func group<T>(_ items: [(TopicPartition, KafkaUUID, T)]) -> [(String, KafkaUUID, [(TopicPartition, T)])] {
        var out: [(String, KafkaUUID, [(TopicPartition, T)])] = []
        var index: [String: [KafkaUUID: Int]] = [:]
        for (tp, id, value) in items {
            if let i = index[tp.topic]?[id] {
                out[i].2.append((tp, value))
            } else {
                index[tp.topic, default: [:]][id] = out.count
                out.append((tp.topic, id, [(tp, value)]))
            }
        }
        return out
    }
}
