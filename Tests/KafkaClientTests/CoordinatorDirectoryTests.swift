import Synchronization
import Testing
@testable import KafkaClient
import KafkaNet
import KafkaProtocol
import KafkaTestSupport

/// `CoordinatorDirectory`, the one FindCoordinator sender, against `FakeBroker`: what it asks
/// (counted from the requests the broker saw), what it caches, what makes it ask again.
@Suite struct CoordinatorDirectoryTests {
    /// A broker whose FindCoordinator answers come from `answer` (key → error code; 0 names
    /// this broker), at the versions `findCoordinator` allows.
    static func broker(findCoordinator: ClosedRange<Int16> = FindCoordinatorRequest.versions,
                       answer: @escaping @Sendable (String) -> KafkaErrorCode = { _ in .noError }) throws -> FakeBroker {
        var ranges: [ApiKey: ClosedRange<Int16>] = [:]
        for (k, d) in ApiRegistry.all { ranges[k] = d.versions }
        ranges[.findCoordinator] = findCoordinator
        return try FakeBroker(apiRanges: ranges) { req, b in
            guard req.header.apiKey == .findCoordinator, let f = try? req.decode(FindCoordinatorRequest.self) else { return b.defaultAction(req) }
            func entry(_ key: String) -> FindCoordinatorResponse.Coordinator {
                let code = answer(key)
                return code.isSuccess
                    ? .init(key: key, nodeId: b.nodeId, host: b.host, port: Int32(b.port))
                    : .init(key: key, nodeId: -1, host: "", port: -1, errorCode: code.rawValue, errorMessage: code.name)
            }
            var r = FindCoordinatorResponse()
            if req.header.apiVersion >= 4 {
                r.coordinators = f.coordinatorKeys.map(entry)
            } else {
                let e = entry(f.key)
                r.errorCode = e.errorCode; r.errorMessage = e.errorMessage
                r.nodeId = e.nodeId; r.host = e.host; r.port = e.port
            }
            return .respond(b.body(r, for: req))
        }
    }

    static func cluster(_ broker: FakeBroker) throws -> Cluster {
        var c = ClientConfig(bootstrapServers: [broker.address])
        c.requestTimeout = .seconds(5)
        return try Cluster(config: c)
    }

    static func finds(_ broker: FakeBroker) -> [(version: Int16, request: FindCoordinatorRequest)] {
        broker.received.filter { $0.header.apiKey == .findCoordinator }.compactMap { r in
            (try? r.decode(FindCoordinatorRequest.self)).map { (r.header.apiVersion, $0) }
        }
    }

    static func found(_ l: CoordinatorLookup?) -> Int32? {
        if case let .found(b)? = l { return b.nodeId }
        return nil
    }

    @Test func aCachedCoordinatorIsAnsweredWithoutARequest() async throws {
        let b = try Self.broker()
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        #expect(Self.found(try await c.coordinators(for: [.group("g")])[.group("g")]) == b.nodeId)
        #expect(Self.found(try await c.coordinators(for: [.group("g")])[.group("g")]) == b.nodeId)
        #expect(Self.finds(b).count == 1, "the second lookup sent nothing")
        #expect(c.coordinatorDirectory.cached(.group("g"))?.port == b.port)
        // A member that lost its coordinator asks anew.
        _ = try await c.coordinators(for: [.group("g")], fresh: true)
        #expect(Self.finds(b).count == 2)
    }

    // (Error-code tables are loops: parameterized KafkaErrorCode arguments do not expand.)
    @Test func aCoordinatorErrorForgetsTheEntry() async throws {
        for code in [KafkaErrorCode.notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress] {
            let b = try Self.broker()
            defer { b.stop() }
            let c = try Self.cluster(b)
            defer { c.close() }
            _ = try await c.coordinators(for: [.group("g"), .group("h")])
            #expect(c.coordinatorDirectory.coordinatorFailed(.group("g"), code: code), "\(code)")
            #expect(c.coordinatorDirectory.cached(.group("g")) == nil && c.coordinatorDirectory.cached(.group("h")) != nil, "\(code)")
            _ = try await c.coordinators(for: [.group("g"), .group("h")])
            let asked = Self.finds(b).map(\.request.coordinatorKeys)
            #expect(asked == [["g", "h"], ["g"]], "\(code): only the forgotten group is looked up again")
        }
    }

    @Test func otherErrorsKeepTheEntry() async throws {
        let b = try Self.broker()
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        _ = try await c.coordinators(for: [.group("g")])
        for code in [KafkaErrorCode.unknownMemberId, .rebalanceInProgress, .groupAuthorizationFailed, .illegalGeneration] {
            #expect(!c.coordinatorDirectory.coordinatorFailed(.group("g"), code: code))
        }
        #expect(c.coordinatorDirectory.cached(.group("g")) != nil)
    }

    /// A lost connection to the coordinator forgets it — unless a newer lookup already named
    /// another node — and the next lookup asks again.
    @Test func aLostConnectionForgetsTheCoordinatorThenItIsLookedUpAgain() async throws {
        let b = try Self.broker()
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        _ = try await c.coordinators(for: [.group("g")])
        c.coordinatorDirectory.invalidate(.group("g"), ifAt: b.nodeId + 1)
        #expect(c.coordinatorDirectory.cached(.group("g")) != nil, "moved meanwhile: kept")
        c.coordinatorDirectory.invalidate(.group("g"), ifAt: b.nodeId)
        #expect(c.coordinatorDirectory.cached(.group("g")) == nil)
        #expect(Self.found(try await c.coordinators(for: [.group("g")])[.group("g")]) == b.nodeId)
        #expect(Self.finds(b).count == 2)
    }

    /// FindCoordinator v4+ carries several keys: one request per key type, not per key.
    @Test func groupsAreBatchedIntoOneRequestFromV4() async throws {
        let b = try Self.broker()
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        let keys: [CoordinatorKey] = [.group("a"), .group("b"), .group("c"), .group("a"), .transaction("tx")]
        let out = try await c.coordinators(for: keys)
        #expect(Set(keys).allSatisfy { Self.found(out[$0]) == b.nodeId })
        let sent = Self.finds(b)
        #expect(sent.count == 2 && sent.allSatisfy { $0.version >= 4 })
        #expect(sent.map(\.request.keyType) == [0, 1])
        #expect(sent.map(\.request.coordinatorKeys) == [["a", "b", "c"], ["tx"]], "duplicates asked once")
    }

    /// Before v4 a request names one key: one request per key, the top-level answer read.
    @Test func beforeV4EachKeyIsOneRequest() async throws {
        let b = try Self.broker(findCoordinator: 0 ... 3)
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        let out = try await c.coordinators(for: [.group("a"), .group("b")])
        #expect(Self.found(out[.group("a")]) == b.nodeId && Self.found(out[.group("b")]) == b.nodeId)
        let sent = Self.finds(b)
        #expect(sent.map(\.version) == [3, 3])
        #expect(sent.map(\.request.key) == ["a", "b"])
    }

    /// v0 has no key type: a transaction coordinator cannot be asked for (typed, not sent).
    @Test func v0CannotLookUpTransactionCoordinators() async throws {
        let b = try Self.broker(findCoordinator: 0 ... 0)
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        let out = try await c.coordinators(for: [.transaction("tx"), .group("g")])
        guard case let .failed(e)? = out[.transaction("tx")] else { Issue.record("expected failed, got \(String(describing: out[.transaction("tx")]))"); return }
        #expect(e.kind == .unsupportedVersion)
        #expect(Self.found(out[.group("g")]) == b.nodeId)
        #expect(Self.finds(b).map(\.request.key) == ["g"])
    }

    /// A retriable answer is `.retry` and not cached, so asking again (as every caller does
    /// after a backoff) sends again and finds the coordinator once it is there.
    @Test func retriableErrorsAreAskedAgain() async throws {
        let remaining = Atomic<Int>(2)
        let b = try Self.broker { _ in remaining.subtract(1, ordering: .relaxed).newValue >= 0 ? .coordinatorNotAvailable : .noError }
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        for _ in 0 ..< 2 {
            guard case let .retry(e)? = try await c.coordinators(for: [.group("g")])[.group("g")] else { Issue.record("expected retry"); return }
            #expect(e.code == .coordinatorNotAvailable)
            #expect(c.coordinatorDirectory.cached(.group("g")) == nil)
        }
        #expect(Self.found(try await c.coordinators(for: [.group("g")])[.group("g")]) == b.nodeId)
        #expect(Self.finds(b).count == 3)
    }

    /// A lost connection during the lookup is `.retry` for every key asked.
    @Test func aConnectionLostDuringTheLookupIsRetry() async throws {
        let drop = Atomic<Bool>(true)
        var ranges: [ApiKey: ClosedRange<Int16>] = [:]
        for (k, d) in ApiRegistry.all { ranges[k] = d.versions }
        let b = try FakeBroker(apiRanges: ranges) { req, b in
            guard req.header.apiKey == .findCoordinator else { return b.defaultAction(req) }
            return drop.exchange(false, ordering: .relaxed) ? .disconnect : b.coordinatorIsSelf(req)
        }
        defer { b.stop() }
        let c = try Self.cluster(b)
        defer { c.close() }
        let out = try await c.coordinators(for: [.group("a"), .group("b")])
        for k in [CoordinatorKey.group("a"), .group("b")] {
            guard case .retry? = out[k] else { Issue.record("\(k): expected retry, got \(String(describing: out[k]))"); continue }
        }
        let again = try await c.coordinators(for: [.group("a"), .group("b")])
        #expect(Self.found(again[.group("a")]) == b.nodeId && Self.found(again[.group("b")]) == b.nodeId)
    }

    /// GROUP_AUTHORIZATION_FAILED (and other non-retriable codes) surface typed, per key, and
    /// are not cached; the other keys of the batch are found.
    @Test func nonRetriableErrorsSurfaceTyped() async throws {
        for code in [KafkaErrorCode.groupAuthorizationFailed, .invalidRequest, .transactionalIdAuthorizationFailed] {
            let b = try Self.broker { $0 == "denied" ? code : .noError }
            defer { b.stop() }
            let c = try Self.cluster(b)
            defer { c.close() }
            let out = try await c.coordinators(for: [.group("denied"), .group("ok")])
            guard case let .failed(e)? = out[.group("denied")] else { Issue.record("\(code): expected failed, got \(String(describing: out[.group("denied")]))"); continue }
            #expect(e.kind == .broker(code))
            #expect(Self.found(out[.group("ok")]) == b.nodeId)
            #expect(c.coordinatorDirectory.cached(.group("denied")) == nil)
            await #expect(throws: KafkaError.self) { try await c.coordinator(for: .group("denied")) }
            #expect(Self.finds(b).count == 2, "\(code): asked again (not cached), once per lookup")
        }
    }
}
