import Synchronization
import KafkaProtocol
import KafkaNet

/// The client's view of the cluster: bootstrap, broker connections and a metadata cache.
///
/// Shared by the admin client (and later the producer and consumer). Metadata is refreshed on
/// demand and at least every `metadata.max.age.ms` by a background task; requests for a broker
/// go through one `BrokerLink` per node id, which reconnects with backoff.
final class Cluster: Sendable {
    let config: ClientConfig
    private let options: ConnectionOptions
    private let bootstrap: [BrokerLink]
    private let state = Mutex(State())
    private let refresher = Mutex<Task<Void, Never>?>(nil)
    /// Metadata, leaders and epochs (`TopicRouter`), and the coalesced refreshes feeding them.
    let cache: MetadataCache
    /// Group and transaction coordinators: where FindCoordinator is sent and answered.
    let coordinatorDirectory = CoordinatorDirectory()

    private struct State {
        var links: [Int32: BrokerLink] = [:]
        /// Group coordinator connections, kept apart from data connections so that a JoinGroup
        /// the broker holds for seconds never queues behind (or in front of) a Fetch. Keyed
        /// `node@host:port`, with the lookup sequence number of their last use (see
        /// `coordinatorLink`: bounded, least recently looked up evicted first).
        var coordinatorLinks: [String: (link: BrokerLink, lastUsed: UInt64)] = [:]
        var coordinatorLookups: UInt64 = 0
        var closed = false
        var bootstrapCursor = 0
    }

    init(config: ClientConfig) throws {
        try config.validate()
        self.config = config
        options = config.connectionOptions
        cache = MetadataCache(minInterval: config.retryBackoff)
        let opts = options, timeout = config.requestTimeout
        bootstrap = try config.bootstrapServers.map { s in
            let a = try BootstrapAddress.parse(s)
            return BrokerLink(host: a.host, port: a.port, options: opts, requestTimeout: timeout)
        }
    }

    /// Starts the periodic `metadata.max.age.ms` refresh.
    func startPeriodicRefresh() {
        let interval = config.metadataMaxAge
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                _ = try? await self.refreshMetadata(topics: nil)
            }
        }
        refresher.withLock { $0 = task }
    }

    /// The cached metadata if fresher than `maxAge`, else a refresh.
    func metadata(maxAge: Duration? = nil) async throws -> ClusterMetadata {
        let age = maxAge ?? config.metadataMaxAge
        if let (m, at) = cache.snapshot, ContinuousClock.now - at < age {
            return m
        }
        return try await refreshMetadata(topics: nil)
    }

    /// Requests a metadata refresh (all topics when `topics` is nil) through the cache and
    /// returns the merged view once an answer covering `topics` arrived. Concurrent requests
    /// share one Metadata request (see `MetadataCache`).
    @discardableResult
    func refreshMetadata(topics: [String]?) async throws -> ClusterMetadata {
        try await refreshAnswer(topics: topics).view
    }

    /// `refreshMetadata` returning the answer itself too (its topic-level errors).
    /// `allowAutoCreate` nil: `allow.auto.create.topics`.
    func refreshAnswer(topics: [String]?, allowAutoCreate: Bool? = nil) async throws -> MetadataAnswer {
        try await cache.refresh(topics: topics, allowAutoCreate: allowAutoCreate ?? config.allowAutoCreateTopics, send: sendMetadata)
    }

    /// Asks for a refresh nobody waits for (after a routing error).
    func refreshSoon(topics: [String]?) {
        cache.refreshSoon(topics: topics, allowAutoCreate: config.allowAutoCreateTopics, send: sendMetadata)
    }

    /// The router as it is now: leaders and epochs per partition (a value, read once).
    var router: TopicRouter { cache.router }

    /// A KIP-951 "leader moved" hint from a Produce or Fetch answer (see `TopicRouter`). A
    /// hint that cannot be used requests a refresh of the topic.
    @discardableResult
    func leaderMoved(_ tp: TopicPartition, leader: Int32, epoch: Int32) -> TopicRouter.HintOutcome {
        let outcome = cache.leaderMoved(tp, leader: leader, epoch: epoch)
        if outcome == .needsRefresh { refreshSoon(topics: [tp.topic]) }
        return outcome
    }

    /// Registers brokers a KIP-951 answer named (`node_endpoints`) that the metadata lacks.
    func learnBrokers(_ brokers: [ClusterMetadata.Broker]) {
        cache.learnBrokers(brokers)
    }

    /// Notes a partition error from a leader; a routing error (NOT_LEADER_OR_FOLLOWER,
    /// FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH…) requests a refresh of the topic. Returns
    /// whether it was one.
    @discardableResult
    func partitionFailed(_ tp: TopicPartition, code: KafkaErrorCode) -> Bool {
        guard cache.partitionFailed(tp, code: code) else { return false }
        refreshSoon(topics: [tp.topic])
        return true
    }

    /// Metadata requests sent so far (tests check coalescing).
    var metadataRequestsSent: Int { cache.requestsSent }

    /// The one place a Metadata request is sent: to any reachable broker. Links to brokers
    /// that left the cluster (or moved) are closed on the way.
    private var sendMetadata: MetadataCache.Send {
        { [weak self] topics, allowAutoCreate in
            guard let self else { throw KafkaError(.closed, "client closed") }
            let request = MetadataRequest(topics: topics, allowAutoTopicCreation: allowAutoCreate)
            let response = try await self.sendToAny(request)
            if response.errorCode != 0 {
                throw KafkaError.broker(KafkaErrorCode(rawValue: response.errorCode), context: .init(apiKey: .metadata))
            }
            let fresh = ClusterMetadata(response)
            self.forgetStaleLinks(brokers: fresh.brokers)
            return fresh
        }
    }

    private func forgetStaleLinks(brokers: [Int32: ClusterMetadata.Broker]) {
        let retired = state.withLock { s -> [BrokerLink] in
            var retired: [BrokerLink] = []
            // Forget links to brokers that left the cluster, and links whose address changed.
            for (id, link) in s.links {
                guard let b = brokers[id], b.host == link.host, b.port == link.port else {
                    retired.append(link)
                    s.links[id] = nil
                    continue
                }
            }
            // A coordinator link to a node the metadata now places elsewhere is stale. (One to a
            // node the metadata does not list yet is kept: FindCoordinator can name a broker
            // that just joined.)
            for (key, entry) in s.coordinatorLinks {
                guard let id = entry.link.nodeId, let b = brokers[id], b.host != entry.link.host || b.port != entry.link.port else { continue }
                retired.append(entry.link)
                s.coordinatorLinks[key] = nil
            }
            return retired
        }
        for l in retired { l.close() }
    }

    /// The link for broker `nodeId` (from the cached metadata).
    func link(forNode nodeId: Int32) throws -> BrokerLink {
        let broker = cache.router.broker(nodeId)
        return try state.withLock { s in
            if s.closed { throw KafkaError(.closed, "client closed") }
            if let l = s.links[nodeId] { return l }
            guard let b = broker else {
                throw KafkaError(.connection, "broker \(nodeId) is not in the cluster metadata")
            }
            let l = BrokerLink(host: b.host, port: b.port, nodeId: nodeId, options: options, requestTimeout: config.requestTimeout)
            s.links[nodeId] = l
            return l
        }
    }

    /// How many coordinator links are kept at most. One client talks to one group coordinator
    /// at a time (a consumer has one group); a few spare keep the previous coordinator usable
    /// for requests still finishing there after the group moved.
    static let maxCoordinatorLinks = 3

    /// A dedicated connection to a group coordinator (as FindCoordinator named it).
    ///
    /// Links are not kept forever: a new coordinator replaces an older link to the same node
    /// id (the node moved), and beyond `maxCoordinatorLinks` the least recently looked-up link
    /// is closed, so a coordinator that keeps moving does not accumulate connections.
    func coordinatorLink(nodeId: Int32, host: String, port: Int32) throws -> BrokerLink {
        let (link, retired) = try state.withLock { s -> (BrokerLink, [BrokerLink]) in
            if s.closed { throw KafkaError(.closed, "client closed") }
            s.coordinatorLookups &+= 1
            let key = "\(nodeId)@\(host):\(port)"
            if let l = s.coordinatorLinks[key]?.link {
                s.coordinatorLinks[key]?.lastUsed = s.coordinatorLookups
                return (l, [])
            }
            var retired: [BrokerLink] = []
            for (k, e) in s.coordinatorLinks where e.link.nodeId == nodeId {
                retired.append(e.link)
                s.coordinatorLinks[k] = nil
            }
            while s.coordinatorLinks.count >= Self.maxCoordinatorLinks, let oldest = s.coordinatorLinks.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                retired.append(oldest.value.link)
                s.coordinatorLinks[oldest.key] = nil
            }
            let l = BrokerLink(host: host, port: Int(port), nodeId: nodeId, options: options, requestTimeout: config.requestTimeout)
            s.coordinatorLinks[key] = (l, s.coordinatorLookups)
            return (l, retired)
        }
        for l in retired { l.close() }
        return link
    }

    /// Coordinator links currently kept (tests check they stay bounded).
    var coordinatorLinkCount: Int { state.withLock { $0.coordinatorLinks.count } }

    /// Links to try for a request any broker can answer: known brokers first (connected ones
    /// leading), then the bootstrap servers, starting at a rotating position.
    private func candidates() throws -> [BrokerLink] {
        let known = cache.snapshot?.0
        return try state.withLock { s in
            if s.closed { throw KafkaError(.closed, "client closed") }
            var out: [BrokerLink] = []
            if let m = known {
                for id in m.brokers.keys.sorted() {
                    if let l = s.links[id] { out.append(l) } else if let b = m.brokers[id] {
                        let l = BrokerLink(host: b.host, port: b.port, nodeId: id, options: options, requestTimeout: config.requestTimeout)
                        s.links[id] = l
                        out.append(l)
                    }
                }
            }
            let n = bootstrap.count
            let start = s.bootstrapCursor % max(n, 1)
            s.bootstrapCursor &+= 1
            for i in 0 ..< n { out.append(bootstrap[(start + i) % n]) }
            return out
        }
    }

    /// Sends a request any broker can answer to the first broker that answers; connection
    /// failures move on to the next candidate.
    func sendToAny<R: KafkaRequest>(_ request: R) async throws -> R.Response {
        try await sendToAny { _ in request }
    }

    /// `sendToAny` for a request built per negotiated version.
    func sendToAny<R: KafkaRequest>(_ make: (Int16) throws -> R) async throws -> R.Response {
        var failures: [String] = []
        for link in try candidates() {
            do {
                return try await link.send(make)
            } catch let e as KafkaError where e.kind == .connection || e.kind == .timeout {
                failures.append("\(link.address): \(e.message)")
                continue
            }
        }
        throw KafkaError(.connection, "no broker reachable (" + failures.joined(separator: "; ") + ")")
    }

    /// Sends to the controller (or any broker when the controller is unknown).
    func sendToController<R: KafkaRequest>(_ request: R) async throws -> R.Response {
        let m = try await metadata()
        if let controller = m.controllerId, m.brokers[controller] != nil {
            return try await link(forNode: controller).send(request)
        }
        return try await sendToAny(request)
    }

    /// Runs `operation` until it succeeds, fails with a non-retriable error, or
    /// `default.api.timeout.ms` runs out; retriable failures refresh metadata and back off.
    func withRetries<T: Sendable>(_ what: String, budget: Duration? = nil, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        var rounds = RetryRounds(config: config, budget: budget)
        var last: KafkaError?
        while true {
            // A cancelled task stops here (and in `rounds.next()`), not after the whole budget.
            try RetryRounds.checkCancellation()
            do {
                // Each attempt (and each refresh between them) ends by the deadline.
                return try await rounds.attempt(operation)
            } catch let e as KafkaError where e.isRetriable {
                // An attempt cut off by the deadline says so; the error worth reporting is the
                // one before it, when there was one.
                if ContinuousClock.now >= rounds.end { throw RetryRounds.timedOut(what, last: last ?? e) }
                last = e
                guard try await rounds.next() else { throw RetryRounds.timedOut(what, last: e) }
                _ = try? await rounds.attempt { [self] in try await refreshMetadata(topics: nil) }
            }
        }
    }

    /// Closes every connection; later calls fail with `.closed`.
    func close() {
        refresher.withLock { $0?.cancel(); $0 = nil }
        cache.close()
        let links: [BrokerLink] = state.withLock { s in
            s.closed = true
            defer { s.links = [:]; s.coordinatorLinks = [:] }
            return Array(s.links.values) + s.coordinatorLinks.values.map(\.link)
        }
        for l in links + bootstrap { l.close() }
        options.sasl?.tokenSource?.stop()
    }

    /// A cluster its owner dropped without `close()` still closes its connections (they are
    /// held by the event loop, not by the links, so they would otherwise stay open).
    deinit { close() }
}
