import Synchronization
import KafkaProtocol
import KafkaNet

/// What a coordinator is looked up for: a consumer group or a transactional id.
struct CoordinatorKey: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Int8, Sendable {
        case group = 0
        case transaction = 1

        /// FindCoordinator's `key_type`.
        var keyType: Int8 { rawValue }
    }

    let kind: Kind
    let key: String

    static func group(_ id: String) -> CoordinatorKey { CoordinatorKey(kind: .group, key: id) }
    static func transaction(_ id: String) -> CoordinatorKey { CoordinatorKey(kind: .transaction, key: id) }

    var description: String { kind == .group ? "group \(key)" : "transactional id \(key)" }
}

/// One key's lookup outcome.
enum CoordinatorLookup: Sendable {
    /// The coordinator, as FindCoordinator named it (or as cached).
    case found(ClusterMetadata.Broker)
    /// An error retrying will not change (GROUP_AUTHORIZATION_FAILED, INVALID_REQUEST…).
    case failed(KafkaError)
    /// Worth asking again after a backoff (COORDINATOR_NOT_AVAILABLE, a lost connection…).
    case retry(KafkaError)
}

/// The coordinators of groups and transactional ids: the one place FindCoordinator is sent
/// and answered, with a cache the users invalidate.
///
/// `lookUp` answers cached keys without a request and asks for the others: one batched request
/// per key type from FindCoordinator v4 (`coordinator_keys`, KIP-699), one request per key
/// before. An entry lives until someone says it is wrong — NOT_COORDINATOR,
/// COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS answers or a lost connection
/// (`coordinatorFailed`, `invalidate`) — or a lookup with `fresh: true` replaces it (a group
/// member that lost its coordinator asks anew instead of trusting the cache).
final class CoordinatorDirectory: Sendable {
    private let cache = Mutex<[CoordinatorKey: ClusterMetadata.Broker]>([:])

    init() {}

    /// The cached coordinator of `key`, if any.
    func cached(_ key: CoordinatorKey) -> ClusterMetadata.Broker? {
        cache.withLock { $0[key] }
    }

    /// Forgets `key`'s coordinator (only if it is still `nodeId`, when given: a newer lookup
    /// that already moved it is kept).
    func invalidate(_ key: CoordinatorKey, ifAt nodeId: Int32? = nil) {
        cache.withLock { c in
            if let nodeId, c[key]?.nodeId != nodeId { return }
            c[key] = nil
        }
    }

    /// Notes an error answer from `key`'s coordinator; returns true (and forgets the
    /// coordinator) when the code says it is not, or not yet, the coordinator.
    @discardableResult
    func coordinatorFailed(_ key: CoordinatorKey, code: KafkaErrorCode) -> Bool {
        guard Self.isCoordinatorError(code) else { return false }
        invalidate(key)
        return true
    }

    /// The codes that mean "ask FindCoordinator again".
    static func isCoordinatorError(_ code: KafkaErrorCode) -> Bool {
        code == .notCoordinator || code == .coordinatorNotAvailable || code == .coordinatorLoadInProgress
    }

    /// Coordinators for `keys`: cached ones at once (unless `fresh`), the rest through
    /// FindCoordinator on `connection()`'s broker.
    ///
    /// - Parameters:
    ///   - keys: What to look up (duplicates are answered once).
    ///   - fresh: Ask even for cached keys.
    ///   - requestTimeout: The timeout of each FindCoordinator request.
    ///   - connection: A connection to any live broker (called only when a request is needed).
    /// - Throws: Only when the lookup cannot be made at all (the client closed, cancellation,
    ///   no common FindCoordinator version); per-key problems are `.failed`/`.retry` entries.
    func lookUp(_ keys: [CoordinatorKey], fresh: Bool = false, requestTimeout: Duration,
                connection: () async throws -> BrokerConnection) async throws -> [CoordinatorKey: CoordinatorLookup] {
        var out: [CoordinatorKey: CoordinatorLookup] = [:]
        var ask: [CoordinatorKey] = []
        let known = cache.withLock { $0 }
        for k in keys where out[k] == nil && !ask.contains(k) {
            if !fresh, let b = known[k] { out[k] = .found(b) } else { ask.append(k) }
        }
        guard !ask.isEmpty else { return out }
        let c: BrokerConnection
        do {
            c = try await connection()
        } catch let e as KafkaError where e.isRetriable {
            for k in ask { out[k] = .retry(e) }
            return out
        }
        let version = try c.version(for: FindCoordinatorRequest.self)
        do {
            for (kind, group) in Dictionary(grouping: ask, by: \.kind).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                if kind == .transaction && version < 1 {
                    let e = KafkaError(.unsupportedVersion, "FindCoordinator v0 cannot look up transaction coordinators", context: .init(broker: c.remote, apiKey: .findCoordinator, apiVersion: version))
                    for k in group { out[k] = .failed(e) }
                    continue
                }
                if version >= 4 {
                    let r = try await c.send(FindCoordinatorRequest(keys: group.map(\.key), keyType: kind.keyType, version: version), version: version, timeout: requestTimeout)
                    // Only the per-key entries count at v4+ (the top-level fields are absent there).
                    for k in group { out[k] = classify(k, r.coordinators.first { $0.key == k.key }, broker: c.remote) }
                } else {
                    for k in group {
                        let r = try await c.send(FindCoordinatorRequest(keys: [k.key], keyType: kind.keyType, version: version), version: version, timeout: requestTimeout)
                        out[k] = classify(k, r.coordinator(for: k.key), broker: c.remote)
                    }
                }
            }
        } catch let e as KafkaError where e.isRetriable {
            for k in ask where out[k] == nil { out[k] = .retry(e) }
        }
        return out
    }

    /// One key's entry of a FindCoordinator answer; a found coordinator is cached.
    private func classify(_ key: CoordinatorKey, _ c: FindCoordinatorResponse.Coordinator?, broker: String) -> CoordinatorLookup {
        let context = KafkaError.Context(broker: broker, apiKey: .findCoordinator)
        guard let c else {
            return .retry(KafkaError(.decoding, "FindCoordinator response did not mention \(key)", context: context))
        }
        let code = KafkaErrorCode(rawValue: c.errorCode)
        guard code.isSuccess else {
            let e = KafkaError.broker(code, c.errorMessage, context: context)
            return code.isRetriable ? .retry(e) : .failed(e)
        }
        guard c.nodeId >= 0 else {
            // No error but no coordinator either: treat as "not available yet".
            return .retry(KafkaError.broker(.coordinatorNotAvailable, "FindCoordinator named no node for \(key)", context: context))
        }
        let b = ClusterMetadata.Broker(nodeId: c.nodeId, host: c.host, port: Int(c.port), rack: nil)
        cache.withLock { $0[key] = b }
        return .found(b)
    }
}

extension Cluster {
    /// Coordinators for `keys` (see `CoordinatorDirectory.lookUp`), asking any live broker.
    func coordinators(for keys: [CoordinatorKey], fresh: Bool = false) async throws -> [CoordinatorKey: CoordinatorLookup] {
        try await coordinatorDirectory.lookUp(keys, fresh: fresh, requestTimeout: config.requestTimeout) {
            try await self.anyConnection()
        }
    }

    /// One key's coordinator, in one attempt: found, or the reason as a thrown error (a broker
    /// error as `.broker(code)`; retrying is the caller's decision).
    func coordinator(for key: CoordinatorKey, fresh: Bool = false) async throws -> ClusterMetadata.Broker {
        switch try await coordinators(for: [key], fresh: fresh)[key] {
        case let .found(b)?: return b
        case let .failed(e)?, let .retry(e)?: throw e
        case nil: throw KafkaError(.decoding, "no FindCoordinator answer for \(key)", context: .init(apiKey: .findCoordinator))
        }
    }

    /// A connection to some live broker: the known brokers in node order, then (through a
    /// brokers-only metadata refresh, which tries the bootstrap servers) again.
    func anyConnection() async throws -> BrokerConnection {
        var failures: [String] = []
        for fresh in [false, true] {
            let brokers = fresh ? try await refreshMetadata(topics: []).brokers : (cache.snapshot?.0.brokers ?? [:])
            for id in brokers.keys.sorted() {
                do {
                    return try await link(forNode: id).connection()
                } catch let e as KafkaError where e.kind == .connection || e.kind == .timeout {
                    failures.append(e.message)
                }
            }
        }
        throw KafkaError(.connection, "no broker reachable (" + failures.joined(separator: "; ") + ")")
    }
}
