public import KafkaProtocol
import KafkaNet

/// Administers topics and describes the cluster.
///
/// ```swift
/// let admin = try KafkaAdminClient(config: ClientConfig(bootstrapServers: ["localhost:9092"]))
/// try await admin.createTopic(NewTopic(name: "events", partitions: 3))
/// print(try await admin.listTopics().map(\.name))
/// await admin.close()
/// ```
/// Broker errors arrive as `KafkaError` with `.broker(code)`, e.g. `.topicAlreadyExists`.
/// Retriable failures (no controller, connection loss) are retried with backoff until
/// `default.api.timeout.ms`.
public final class KafkaAdminClient: Sendable {
    let cluster: Cluster

    /// Creates a client. Nothing is connected until the first call.
    /// - Parameter config: The settings (checked with `validate()`).
    /// - Throws: `KafkaError(.configuration)` for invalid settings.
    public init(config: ClientConfig) throws {
        cluster = try Cluster(config: config)
        cluster.startPeriodicRefresh()
    }

    /// Creates a client from Kafka property names (`bootstrap.servers`, …).
    /// - Parameter properties: Client properties by their Kafka names.
    /// - Throws: `KafkaError(.configuration)` for an unknown property or a bad value.
    public convenience init(properties: [String: String]) throws {
        try self.init(config: ClientConfig(properties: properties))
    }

    /// The current metadata (refreshing it when older than `metadata.max.age.ms`).
    /// - Returns: The cluster's brokers, controller and topics.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func metadata() async throws -> ClusterMetadata {
        try await cluster.metadata()
    }

    /// Fetches fresh metadata from the cluster (all topics when `topics` is nil).
    /// - Parameter topics: The topics to ask about; nil for every topic.
    /// - Returns: The fresh snapshot.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func refreshMetadata(topics: [String]? = nil) async throws -> ClusterMetadata {
        try await cluster.refreshMetadata(topics: topics)
    }

    /// Creates topics; one result per topic, in order. Throws only when the request itself
    /// could not be made (no broker reachable, bad arguments).
    /// - Parameters:
    ///   - topics: The topics to create.
    ///   - validateOnly: Only check that they could be created.
    ///   - timeout: How long the controller may take; nil for `request.timeout.ms`.
    /// - Returns: One result per topic, in order (`.broker(.topicAlreadyExists)`, …).
    /// - Throws: `KafkaError` when the request could not be made (no controller reachable in time, bad arguments, `.cancelled` when the task is cancelled).
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false, timeout: Duration? = nil) async throws -> [Result<CreatedTopic, KafkaError>] {
        guard !topics.isEmpty else { return [] }
        var request = CreateTopicsRequest()
        request.validateOnly = validateOnly
        request.timeoutMs = (timeout ?? cluster.config.requestTimeout).int32Milliseconds
        for t in topics {
            guard !t.name.isEmpty else { throw KafkaError(.configuration, "topic name is empty") }
            if !t.replicaAssignment.isEmpty && (t.partitions != nil || t.replicationFactor != nil) {
                throw KafkaError(.configuration, "topic \(t.name): give either a replica assignment or partitions/replication factor, not both")
            }
            if let p = t.partitions, p < 1 { throw KafkaError(.configuration, "topic \(t.name): partitions must be at least 1, got \(p)") }
            if let r = t.replicationFactor, r < 1 { throw KafkaError(.configuration, "topic \(t.name): replication factor must be at least 1, got \(r)") }
            var topic = CreateTopicsRequest.Topic(
                name: t.name, numPartitions: t.partitions ?? -1, replicationFactor: t.replicationFactor ?? -1,
                configs: t.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
            )
            topic.assignments = t.replicaAssignment.sorted { $0.key < $1.key }.map { .init(partitionIndex: $0.key, brokerIds: $0.value) }
            request.topics.append(topic)
        }
        let response = try await cluster.withRetries("CreateTopics") { [self, request] () async throws -> CreateTopicsResponse in
            let r = try await cluster.sendToController(request)
            // NOT_CONTROLLER for every topic: the controller moved; retry against the new one.
            if let first = r.topics.first, KafkaErrorCode(rawValue: first.errorCode) == .notController,
               r.topics.allSatisfy({ $0.errorCode == first.errorCode }) {
                throw KafkaError.broker(.notController, context: .init(apiKey: .createTopics))
            }
            return r
        }
        let byName = Dictionary(response.topics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let results: [Result<CreatedTopic, KafkaError>] = topics.map { t in
            guard let r = byName[t.name] else {
                return .failure(KafkaError(.decoding, "the broker's CreateTopics response did not mention topic \(t.name)", context: .init(topic: t.name)))
            }
            let code = KafkaErrorCode(rawValue: r.errorCode)
            guard code.isSuccess else {
                return .failure(KafkaError.broker(code, r.errorMessage, context: .init(apiKey: .createTopics, topic: t.name)))
            }
            // The wire's "did not say" (zero id, -1 counts) becomes nil here.
            return .success(CreatedTopic(name: t.name, topicId: r.topicId == .zero ? nil : r.topicId,
                                         partitions: r.numPartitions >= 0 ? r.numPartitions : nil,
                                         replicationFactor: r.replicationFactor >= 0 ? r.replicationFactor : nil))
        }
        if !validateOnly, results.contains(where: { if case .success = $0 { return true } else { return false } }) {
            _ = try? await cluster.refreshMetadata(topics: nil)
        }
        return results
    }

    /// Creates one topic, throwing its error (e.g. `.topicAlreadyExists`).
    /// - Parameters:
    ///   - topic: The topic to create.
    ///   - validateOnly: Only check that it could be created.
    /// - Returns: What the broker reported about it.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    @discardableResult
    public func createTopic(_ topic: NewTopic, validateOnly: Bool = false) async throws -> CreatedTopic {
        try await createTopics([topic], validateOnly: validateOnly)[0].get()
    }

    /// Deletes topics by name; one result per topic, in order.
    /// - Parameters:
    ///   - names: The topics to delete.
    ///   - timeout: How long the controller may take; nil for `request.timeout.ms`.
    /// - Returns: One result per topic, in order.
    /// - Throws: `KafkaError` when the request could not be made (no controller reachable in time, `.cancelled` when the task is cancelled).
    public func deleteTopics(_ names: [String], timeout: Duration? = nil) async throws -> [Result<Void, KafkaError>] {
        guard !names.isEmpty else { return [] }
        let timeoutMs = (timeout ?? cluster.config.requestTimeout).int32Milliseconds
        let response = try await cluster.withRetries("DeleteTopics") { [self] () async throws -> DeleteTopicsResponse in
            let m = try await cluster.metadata()
            let link: BrokerLink? = try m.controllerId.flatMap { m.brokers[$0] != nil ? try cluster.link(forNode: $0) : nil }
            // The request's layout depends on the version (names vs. topic states), so build it
            // once the version is known.
            if let link {
                let c = try await link.connection()
                let v = try c.version(for: DeleteTopicsRequest.self)
                return try await c.send(DeleteTopicsRequest(names: names, timeoutMs: timeoutMs, version: v), version: v, timeout: cluster.config.requestTimeout)
            }
            return try await cluster.sendToAny(DeleteTopicsRequest(names: names, timeoutMs: timeoutMs, version: 5))
        }
        let byName = Dictionary(response.responses.compactMap { r in r.name.map { ($0, r) } }, uniquingKeysWith: { a, _ in a })
        let results: [Result<Void, KafkaError>] = names.map { n in
            guard let r = byName[n] else {
                return .failure(KafkaError(.decoding, "the broker's DeleteTopics response did not mention topic \(n)", context: .init(topic: n)))
            }
            let code = KafkaErrorCode(rawValue: r.errorCode)
            return code.isSuccess ? .success(()) : .failure(KafkaError.broker(code, r.errorMessage, context: .init(apiKey: .deleteTopics, topic: n)))
        }
        _ = try? await cluster.refreshMetadata(topics: nil)
        return results
    }

    /// Deletes one topic, throwing its error (e.g. `.unknownTopicOrPartition`).
    /// - Parameter name: The topic to delete.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func deleteTopic(_ name: String) async throws {
        try await deleteTopics([name])[0].get()
    }

    /// Every topic in the cluster, sorted by name (internal topics only when asked).
    /// - Parameter includeInternal: Include Kafka's own topics.
    /// - Returns: The topics, sorted by name.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func listTopics(includeInternal: Bool = false) async throws -> [TopicListing] {
        let m = try await cluster.withRetries("Metadata") { [self] in try await cluster.refreshMetadata(topics: nil) }
        return m.topics.values
            .filter { includeInternal || !$0.isInternal }
            .map { TopicListing(name: $0.name, topicId: $0.topicId, isInternal: $0.isInternal, partitionCount: $0.partitions.count) }
            .sorted { $0.name < $1.name }
    }

    /// Describes named topics (partitions, leaders, replicas); unknown topics throw
    /// `.unknownTopicOrPartition`. Does not create topics.
    /// - Parameter names: The topics.
    /// - Returns: Their metadata.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func describeTopics(_ names: [String]) async throws -> [ClusterMetadata.Topic] {
        let m = try await cluster.withRetries("Metadata") { [self] in try await cluster.refreshAnswer(topics: names, allowAutoCreate: false).fresh }
        return try names.map { n in
            guard let t = m.topics[n] else { throw KafkaError.broker(.unknownTopicOrPartition, context: .init(topic: n)) }
            if let e = t.error { throw KafkaError.broker(e, context: .init(topic: n)) }
            return t
        }
    }

    /// Cluster id, controller and brokers.
    /// - Returns: The cluster id, controller and brokers.
    /// - Throws: `KafkaError`: a broker error, `.timeout` once `default.api.timeout.ms` is spent on retries, `.closed` after `close()`, or `.cancelled` when the task is cancelled.
    public func describeCluster() async throws -> ClusterDescription {
        let m = try await cluster.withRetries("Metadata") { [self] in try await cluster.refreshMetadata(topics: nil) }
        return ClusterDescription(
            clusterId: m.clusterId,
            controller: m.controllerId.flatMap { m.brokers[$0] },
            brokers: m.brokers.values.sorted { $0.nodeId < $1.nodeId }
        )
    }

    /// Closes every connection. Later calls fail with `.closed`.
    public func close() async {
        cluster.close()
    }
}
