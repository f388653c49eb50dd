#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
public import KafkaProtocol

/// An in-process Kafka broker on loopback for unit and fault-injection tests.
///
/// Each accepted connection gets its own thread (blocking I/O is fine here: this is test code,
/// never on the cooperative pool). Every request goes to `handler`, which returns what to do:
/// answer with a body, answer late, send raw bytes, say nothing, or drop the connection. The
/// default handler answers ApiVersions, Metadata, CreateTopics and DeleteTopics like a small
/// one-broker cluster.
///
/// It uses our own codec, so it proves behaviour (timeouts, reconnects, pipelining), not
/// wire compatibility — that is what the Tansu and fixture tests are for.
public final class FakeBroker: Sendable {
    /// What to do with one request.
    public enum Action: Sendable {
        /// Reply with this encoded response body (the header is added).
        case respond([UInt8])
        /// Reply after a delay.
        case respondAfter(Duration, [UInt8])
        /// Send these raw bytes as the whole frame payload (after the size prefix).
        case rawPayload([UInt8])
        /// Send these bytes on the socket as they are (no framing).
        case rawBytes([UInt8])
        /// Never answer.
        case ignore
        /// Close the connection without answering.
        case disconnect
        /// Reply with this body, then read bare SASL tokens (size-prefixed frames without a
        /// request header, as after SaslHandshake v0) and hand each to the `rawTokens` handler
        /// until it says the exchange is over.
        case respondThenRawTokens([UInt8])
    }

    /// What to do with one bare SASL token.
    public enum RawTokenAction: Sendable {
        /// Answer with this bare token (a size-prefixed frame, possibly empty); `done` ends the
        /// exchange, so the next frame is a request again.
        case reply([UInt8], done: Bool)
        /// Close the connection without answering (a legacy broker's failed authentication).
        case disconnect
    }

    /// Gets each bare token and the index of the connection it arrived on.
    public typealias RawTokenHandler = @Sendable (_ token: [UInt8], _ connection: Int) -> RawTokenAction

    /// One received request.
    public struct Request: Sendable {
        public let header: RequestHeader
        /// The body bytes (after the header).
        public let body: [UInt8]
        /// Which accepted connection (0, 1, …) it arrived on.
        public let connection: Int

        /// Decodes the body as `R`.
        public func decode<R: KafkaRequest>(_ type: R.Type) throws -> R {
            try R(decoding: body, version: header.apiVersion)
        }
    }

    public typealias Handler = @Sendable (Request, FakeBroker) -> Action

    /// The port it listens on.
    public let port: Int
    /// The loopback address it listens on: `127.0.0.1`, or `::1` when created with `ipv6`.
    public let host: String
    /// Node id it reports in Metadata.
    public let nodeId: Int32
    private let listenFD: Int32
    private let handler: Handler
    private let rawTokens: RawTokenHandler?
    private let state = Mutex(State())

    private struct State {
        var stopped = false
        var clients: [Int32] = []
        var connectionCount = 0
        var received: [Request] = []
        var rawTokens: [[UInt8]] = []
        var topics: [String: Int32] = [:]
        var apiRanges: [ApiKey: ClosedRange<Int16>] = [:]
    }

    /// Starts listening on an ephemeral loopback port.
    public init(nodeId: Int32 = 1, ipv6: Bool = false, apiRanges: [ApiKey: ClosedRange<Int16>]? = nil, handler: Handler? = nil, rawTokens: RawTokenHandler? = nil) throws {
        self.nodeId = nodeId
        self.rawTokens = rawTokens
        self.host = ipv6 ? "::1" : "127.0.0.1"
        self.handler = handler ?? { req, broker in broker.defaultAction(req) }
        // CLOEXEC on accepted sockets too (see LoopbackListener): a child process that a test
        // spawns must not keep a connection we drop open.
        let (fd, port) = try LoopbackListener.open(ipv6: ipv6, backlog: 64, what: "FakeBroker")
        self.port = port
        listenFD = fd
        var ranges: [ApiKey: ClosedRange<Int16>] = [:]
        for (k, d) in ApiRegistry.all { ranges[k] = d.versions }
        if let apiRanges { ranges = apiRanges }
        state.withLock { $0.apiRanges = ranges }
        let t = Thread { [self] in self.acceptLoop() }
        t.start()
    }

    /// `host:port` (IPv6 in brackets).
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Every request received so far, in order.
    public var received: [Request] { state.withLock { $0.received } }

    /// Every bare SASL token received so far (see `Action.respondThenRawTokens`), in order.
    public var receivedRawTokens: [[UInt8]] { state.withLock { $0.rawTokens } }

    /// Number of connections accepted so far.
    public var connectionCount: Int { state.withLock { $0.connectionCount } }

    /// Number of accepted connections still open (a client closing one is seen here soon
    /// after: its serving thread reads end-of-file).
    public var openConnections: Int { state.withLock { $0.clients.count } }

    /// Topics the default handler knows (name → partitions).
    public var topics: [String: Int32] {
        get { state.withLock { $0.topics } }
    }

    /// Adds a topic to the default handler's metadata.
    public func addTopic(_ name: String, partitions: Int32) {
        state.withLock { $0.topics[name] = partitions }
    }

    /// Closes every accepted connection (the listener stays up).
    public func dropConnections() {
        // Under the lock: a serving thread removes its descriptor under the same lock before
        // closing it, so every descriptor shut down here is still ours.
        state.withLock { s in
            for fd in s.clients { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops listening and closes every connection.
    public func stop() {
        let already = state.withLock { s -> Bool in defer { s.stopped = true }; return s.stopped }
        guard !already else { return }
        // Only shut the listener down: the accept thread closes it when accept() fails, so its
        // descriptor number cannot be reused while that thread might still call accept() on it.
        shutdown(listenFD, Int32(SHUT_RDWR))
        dropConnections()
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let c = accept(listenFD, nil, nil)
            if c >= 0 { _ = fcntl(c, F_SETFD, FD_CLOEXEC) }
            if c < 0 {
                if errno == EINTR { continue }
                close(listenFD)
                return
            }
            let index: Int? = state.withLock { s in
                if s.stopped { return nil }
                s.clients.append(c)
                defer { s.connectionCount += 1 }
                return s.connectionCount
            }
            guard let index else {
                close(c)
                close(listenFD)
                return
            }
            let t = Thread { [self] in self.serve(c, index: index) }
            t.start()
        }
    }

    private func readExactly(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, n - got) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            got += r
        }
        return buf
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let r = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return }
            sent += r
        }
    }

    private func serve(_ fd: Int32, index: Int) {
        // Forget the descriptor before closing it, so that dropConnections() can never shut
        // down a reused descriptor number that now belongs to someone else.
        defer {
            state.withLock { s in s.clients.removeAll { $0 == fd } }
            // shutdown first: the peer sees the close now even if a forked child still holds
            // a copy of the descriptor for a moment (between fork and exec).
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
        func sized(_ bytes: [UInt8]) -> [UInt8] {
            var w = ByteWriter()
            w.writeInt32(Int32(bytes.count))
            w.writeBytes(bytes)
            return w.take()
        }
        var rawMode = false
        while true {
            guard let sizeBytes = readExactly(fd, 4) else { return }
            let size = Int(Int32(bitPattern: UInt32(sizeBytes[0]) << 24 | UInt32(sizeBytes[1]) << 16 | UInt32(sizeBytes[2]) << 8 | UInt32(sizeBytes[3])))
            if rawMode {
                guard size >= 0, size < 1024 * 1024, let token = size == 0 ? [] : readExactly(fd, size) else { return }
                state.withLock { $0.rawTokens.append(token) }
                switch rawTokens?(token, index) ?? .disconnect {
                case let .reply(bytes, done):
                    writeAll(fd, sized(bytes))
                    if done { rawMode = false }
                case .disconnect: return
                }
                continue
            }
            guard size >= 8, size < 64 * 1024 * 1024, let payload = readExactly(fd, size) else { return }
            var reader = ByteReader(payload)
            guard let (key, version) = try? RequestHeader.peek(reader) else { return }
            let hv: Int16 = (ApiRegistry.all[key]?.requestHeaderVersion(version)) ?? 1
            guard let header = try? RequestHeader.decode(from: &reader, headerVersion: hv) else { return }
            let request = Request(header: header, body: reader.rest(), connection: index)
            state.withLock { $0.received.append(request) }
            let action = handler(request, self)
            let responseHV = ApiRegistry.all[key]?.responseHeaderVersion(version) ?? 0
            func frame(_ body: [UInt8]) -> [UInt8] {
                var w = ByteWriter()
                let at = w.reserveInt32()
                try? ResponseHeader(correlationId: header.correlationId).encode(into: &w, headerVersion: responseHV)
                w.writeBytes(body)
                w.patchInt32(at: at, Int32(w.count - 4))
                return w.take()
            }
            switch action {
            case let .respond(body): writeAll(fd, frame(body))
            case let .respondAfter(d, body):
                Thread.sleep(forTimeInterval: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
                writeAll(fd, frame(body))
            case let .rawPayload(p): writeAll(fd, sized(p))
            case let .rawBytes(b): writeAll(fd, b)
            case .ignore: continue
            case .disconnect: return
            case let .respondThenRawTokens(body):
                writeAll(fd, frame(body))
                rawMode = true
            }
        }
    }

    // MARK: Default behaviour

    /// Encodes `response` at the request's version.
    public func body<M: KafkaMessage>(_ response: M, for request: Request) -> [UInt8] {
        (try? response.encoded(version: request.header.apiVersion)) ?? []
    }

    /// A FindCoordinator answer naming this broker as the coordinator of every key asked for
    /// (v4+: each of `coordinator_keys`; before: the one `key`). Fake group coordinators share it.
    public func coordinatorIsSelf(_ req: Request) -> Action { coordinatorIs(nodeId: nodeId, host: host, port: port, req) }

    /// A FindCoordinator answer naming the broker at `host`:`port` (node `nodeId`) as the
    /// coordinator of every key asked for: a coordinator that moved to another broker.
    public func coordinatorIs(nodeId: Int32, host: String, port: Int, _ req: Request) -> Action {
        var r = FindCoordinatorResponse()
        if req.header.apiVersion >= 4 {
            let keys = (try? req.decode(FindCoordinatorRequest.self).coordinatorKeys) ?? []
            r.coordinators = keys.map { key in
                var c = FindCoordinatorResponse.Coordinator()
                c.key = key
                c.nodeId = nodeId; c.host = host; c.port = Int32(port)
                return c
            }
        } else {
            r.nodeId = nodeId; r.host = host; r.port = Int32(port)
        }
        return .respond(body(r, for: req))
    }

    /// An OffsetCommit answer naming every partition of `commit` with `code` (0: committed).
    /// Fake group coordinators share it.
    public func offsetCommitAnswer(_ commit: OffsetCommitRequest, code: KafkaErrorCode = KafkaErrorCode(rawValue: 0), for req: Request) -> Action {
        var r = OffsetCommitResponse()
        r.topics = commit.topics.map { t in
            var out = OffsetCommitResponse.Topic()
            out.name = t.name
            out.partitions = t.partitions.map { p in
                var q = OffsetCommitResponse.Partition()
                q.partitionIndex = p.partitionIndex
                q.errorCode = code.rawValue
                return q
            }
            return out
        }
        return .respond(body(r, for: req))
    }

    /// The built-in answers: ApiVersions, Metadata, CreateTopics, DeleteTopics.
    public func defaultAction(_ req: Request) -> Action {
        switch req.header.apiKey {
        case .apiVersions:
            var r = ApiVersionsResponse()
            let ranges = state.withLock { $0.apiRanges }
            if let ours = ranges[.apiVersions], !ours.contains(req.header.apiVersion) {
                // Like Kafka: UNSUPPORTED_VERSION with a v0 body listing our ApiVersions range.
                r.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
                r.apiKeys = [.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: ours.lowerBound, maxVersion: ours.upperBound)]
                return .respond((try? r.encoded(version: 0)) ?? [])
            }
            r.apiKeys = ranges.sorted { $0.key < $1.key }.map { .init(apiKey: $0.key.rawValue, minVersion: $0.value.lowerBound, maxVersion: $0.value.upperBound) }
            return .respond(body(r, for: req))
        case .metadata:
            guard let m = try? req.decode(MetadataRequest.self) else { return .disconnect }
            var r = MetadataResponse()
            r.brokers = [.init(nodeId: nodeId, host: host, port: Int32(port))]
            r.clusterId = "fake-cluster"
            r.controllerId = nodeId
            let topics = state.withLock { $0.topics }
            let names = m.topics.map { $0.compactMap(\.name) } ?? topics.keys.sorted()
            r.topics = names.map { n in
                var t = MetadataResponse.Topic()
                t.name = n
                if let count = topics[n] {
                    t.partitions = (0 ..< count).map { i in
                        var p = MetadataResponse.Partition()
                        p.partitionIndex = i
                        p.leaderId = nodeId
                        p.leaderEpoch = 0
                        p.replicaNodes = [nodeId]
                        p.isrNodes = [nodeId]
                        return p
                    }
                } else {
                    t.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                }
                return t
            }
            return .respond(body(r, for: req))
        case .createTopics:
            guard let c = try? req.decode(CreateTopicsRequest.self) else { return .disconnect }
            var r = CreateTopicsResponse()
            r.topics = c.topics.map { t in
                var out = CreateTopicsResponse.Topic()
                out.name = t.name
                let exists = state.withLock { $0.topics[t.name] != nil }
                if exists {
                    out.errorCode = KafkaErrorCode.topicAlreadyExists.rawValue
                    out.errorMessage = "Topic '\(t.name)' already exists."
                } else if t.numPartitions == 0 || t.numPartitions < -1 {
                    out.errorCode = KafkaErrorCode.invalidPartitions.rawValue
                    out.errorMessage = "Number of partitions must be larger than 0."
                } else {
                    let n = t.numPartitions == -1 ? 1 : t.numPartitions
                    if !c.validateOnly { state.withLock { $0.topics[t.name] = n } }
                    out.numPartitions = n
                    out.replicationFactor = 1
                }
                return out
            }
            return .respond(body(r, for: req))
        case .deleteTopics:
            guard let d = try? req.decode(DeleteTopicsRequest.self) else { return .disconnect }
            let names = req.header.apiVersion >= 6 ? d.topics.compactMap(\.name) : d.topicNames
            var r = DeleteTopicsResponse()
            r.responses = names.map { n in
                var out = DeleteTopicsResponse.Result()
                out.name = n
                let existed = state.withLock { $0.topics.removeValue(forKey: n) != nil }
                if !existed { out.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue }
                return out
            }
            return .respond(body(r, for: req))
        default:
            return .disconnect
        }
    }
}

/// FakeBroker setup failure.
public struct FakeBrokerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
