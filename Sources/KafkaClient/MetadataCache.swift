import Synchronization
import KafkaProtocol
import KafkaNet

/// One Metadata answer as a requester sees it.
struct MetadataAnswer: Sendable {
    /// The response itself (topic-level errors included, e.g. UNKNOWN_TOPIC_OR_PARTITION).
    let fresh: ClusterMetadata
    /// The cache's merged view after applying it (`TopicRouter.metadata`): leaders and epochs
    /// as the epoch rules left them.
    let view: ClusterMetadata
}

/// The cluster's metadata: a `TopicRouter` and the refreshes that feed it.
///
/// Call sites never send Metadata themselves: they *request* a refresh (optionally for some
/// topics) and await the next answer. Requests coalesce:
/// - a request whose topics the request in flight already covers joins it (as the Java client's
///   `awaitUpdate` does: the answer is newer than the reason for asking);
/// - other requests gather into one queued request (the union of their topics; "all topics"
///   absorbs any list), sent when the one in flight ends;
/// - no two requests start less than `minInterval` (`retry.backoff.ms`) apart, so N requesters
///   failing at once cause one Metadata request, not N, and a broken partition cannot make the
///   client hammer the cluster.
///
/// The sending itself is the caller's closure (the `Cluster` picks a broker); the cache only
/// decides when and for what. Lock order: a caller may hold no lock of its own that the send
/// closure takes; the cache never calls out while holding its lock.
final class MetadataCache: Sendable {
    typealias Send = @Sendable (_ topics: [String]?, _ allowAutoCreate: Bool) async throws -> ClusterMetadata

    private let minInterval: Duration
    private let state = Mutex(State())

    /// A request being gathered or in flight. `topics` nil: all topics.
    private struct Round {
        var topics: Set<String>?
        /// Auto-creation only when every requester allows it (describing a topic must not create it).
        var allowAutoCreate: Bool
        var waiters: [OnceContinuation<MetadataAnswer>] = []

        func covers(_ wanted: Set<String>?, allowAutoCreate: Bool) -> Bool {
            guard allowAutoCreate || !self.allowAutoCreate else { return false }
            guard let topics else { return true }
            guard let wanted else { return false }
            return wanted.isSubset(of: topics)
        }

        mutating func absorb(_ wanted: Set<String>?, allowAutoCreate: Bool) {
            topics = topics.flatMap { t in wanted.map { t.union($0) } }
            self.allowAutoCreate = self.allowAutoCreate && allowAutoCreate
        }
    }

    private struct State {
        var router = TopicRouter()
        var refreshedAt: ContinuousClock.Instant?
        var lastSentAt: ContinuousClock.Instant?
        var inFlight: Round?
        var queued: Round?
        /// A driver task is running (it sends rounds until none is queued).
        var driving = false
        /// Metadata requests sent (tests check coalescing).
        var sent = 0
        var closed = false
    }

    init(minInterval: Duration) {
        self.minInterval = minInterval
    }

    /// The router as it is now (a value: reading it takes the lock once).
    var router: TopicRouter { state.withLock { $0.router } }

    /// The merged view, with when it was last refreshed (nil: never).
    var snapshot: (ClusterMetadata, ContinuousClock.Instant)? {
        state.withLock { s in s.refreshedAt.map { (s.router.metadata, $0) } }
    }

    /// How many Metadata requests the cache has sent.
    var requestsSent: Int { state.withLock { $0.sent } }

    /// Requests a refresh for `topics` (nil: all) and awaits the answer that covers them.
    ///
    /// - Parameters:
    ///   - topics: The topics the caller needs (nil: all topics). An empty list asks only for
    ///     brokers and controller.
    ///   - allowAutoCreate: Whether the request may create missing topics
    ///     (`allow.auto.create.topics`); a request that must not is never merged into one that may.
    ///   - send: Sends one Metadata request (used when this call starts the driver).
    /// - Throws: The error of the request that was to answer this one, or `.cancelled` when
    ///   the calling task is cancelled while waiting (the request itself goes on for others).
    func refresh(topics: [String]?, allowAutoCreate: Bool, send: @escaping Send) async throws -> MetadataAnswer {
        let wanted = topics.map(Set.init)
        let once = OnceContinuation<MetadataAnswer>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { c in
                guard once.install(c, cancelledMessage: "metadata wait cancelled") else { return }
                let start = state.withLock { s -> Bool? in
                    if s.closed { return nil }
                    if s.inFlight?.covers(wanted, allowAutoCreate: allowAutoCreate) == true {
                        s.inFlight?.waiters.append(once)
                        return false
                    }
                    if s.queued == nil {
                        s.queued = Round(topics: wanted, allowAutoCreate: allowAutoCreate)
                    } else {
                        s.queued?.absorb(wanted, allowAutoCreate: allowAutoCreate)
                    }
                    s.queued?.waiters.append(once)
                    guard !s.driving else { return false }
                    s.driving = true
                    return true
                }
                switch start {
                case nil: once.resume(with: .failure(KafkaError(.closed, "client closed")))
                case true?: Task { await self.drive(send) }
                case false?: break
                }
            }
        } onCancel: {
            once.cancel("metadata wait cancelled")
        }
    }

    /// Requests a refresh nobody waits for (a routing error was seen; the next answer fixes
    /// the route for every client using this cache).
    func refreshSoon(topics: [String]?, allowAutoCreate: Bool, send: @escaping Send) {
        Task { _ = try? await self.refresh(topics: topics, allowAutoCreate: allowAutoCreate, send: send) }
    }

    /// Sends queued rounds one at a time, at least `minInterval` apart, until none is left.
    private func drive(_ send: Send) async {
        while true {
            enum Next { case done, wait(ContinuousClock.Instant), send(Round) }
            let next = state.withLock { s -> Next in
                guard var round = s.queued, !s.closed else {
                    s.driving = false
                    return .done
                }
                let now = ContinuousClock.now
                if let last = s.lastSentAt, now < last + minInterval { return .wait(last + minInterval) }
                // Topics the router found stale ride along with an explicit list.
                if round.topics != nil { round.topics?.formUnion(s.router.wanted) }
                s.queued = nil
                s.inFlight = round
                s.lastSentAt = now
                s.sent += 1
                return .send(round)
            }
            switch next {
            case .done:
                return
            case let .wait(until):
                try? await Task.sleep(until: until, clock: .continuous)
            case let .send(round):
                let names = round.topics.map { $0.sorted() }
                let result: Result<MetadataAnswer, any Error>
                do {
                    let fresh = try await send(names, round.allowAutoCreate)
                    result = .success(state.withLock { s in
                        s.router.apply(fresh, refreshed: names)
                        s.refreshedAt = .now
                        return MetadataAnswer(fresh: fresh, view: s.router.metadata)
                    })
                } catch {
                    result = .failure(error)
                }
                let waiters = state.withLock { s -> [OnceContinuation<MetadataAnswer>] in
                    defer { s.inFlight = nil }
                    return s.inFlight?.waiters ?? []
                }
                for w in waiters { w.resume(with: result) }
            }
        }
    }

    /// Applies a KIP-951 "leader moved" hint; see `TopicRouter.leaderMoved`.
    func leaderMoved(_ tp: TopicPartition, leader: Int32, epoch: Int32) -> TopicRouter.HintOutcome {
        state.withLock { $0.router.leaderMoved(tp, leader: leader, epoch: epoch) }
    }

    /// Registers brokers the metadata lacks; see `TopicRouter.learn`.
    func learnBrokers(_ brokers: [ClusterMetadata.Broker]) {
        state.withLock { $0.router.learn(brokers) }
    }

    /// Notes a partition-level error; true when it was a routing error (the topic is now
    /// wanted by the next refresh).
    func partitionFailed(_ tp: TopicPartition, code: KafkaErrorCode) -> Bool {
        state.withLock { $0.router.partitionFailed(tp, code: code) }
    }

    /// Fails every waiter with `.closed`; later requests fail at once.
    func close() {
        let waiters = state.withLock { s -> [OnceContinuation<MetadataAnswer>] in
            s.closed = true
            defer { s.queued = nil }
            return (s.queued?.waiters ?? []) + (s.inFlight?.waiters ?? [])
        }
        for w in waiters { w.resume(with: .failure(KafkaError(.closed, "client closed"))) }
    }
}
