public import KafkaProtocol
import Synchronization

/// A connection that has negotiated API versions with its broker and sends typed requests.
///
/// On connect it sends ApiVersions (at our highest version; if the broker answers
/// UNSUPPORTED_VERSION, again at the highest version the broker listed for ApiVersions) and
/// from then on picks, for each request, the highest version both sides speak.
public final class BrokerConnection: Sendable {
    /// The underlying framed connection.
    public let connection: Connection
    /// What the broker said it supports.
    public let apiVersions: ApiVersionsResponse
    /// The ApiVersions version that was used to learn them.
    public let apiVersionsVersion: Int16
    /// Client id sent in every request header.
    public let clientId: String?
    /// Upper bounds on versions, for tests and for pinning (`api.version.max.<Name>`-like).
    public let versionCaps: [ApiKey: Int16]
    private let brokerRanges: [Int16: ClosedRange<Int16>]

    /// `host:port`.
    public var remote: String { connection.remote }

    /// Connects to `host:port`, negotiates versions (ApiVersions) and, when configured,
    /// authenticates with SASL.
    /// - Parameters:
    ///   - host: The broker's host name or IP address.
    ///   - port: The broker's port.
    ///   - options: Connect timeout, frame limit, client id, version caps, TLS and SASL.
    ///   - requestTimeout: How long to wait for each answer during the set-up.
    ///   - loop: The I/O loop to register with; nil for the process-wide `EventLoop.shared()`.
    /// - Returns: A connection ready for requests.
    /// - Throws: `KafkaError`: `.connection` or `.timeout` when the broker cannot be reached,
    ///   `.unsupportedVersion` when no ApiVersions version is common, `.authentication` when
    ///   TLS or SASL fail, `.cancelled` when the task is cancelled.
    public static func connect(
        host: String, port: Int, options: ConnectionOptions = ConnectionOptions(),
        requestTimeout: Duration = .seconds(30), loop: EventLoop? = nil
    ) async throws -> BrokerConnection {
        let clientId = options.clientId, versionCaps = options.versionCaps
        let connection = try await Connection.connect(host: host, port: port, options: options, loop: loop)
        do {
            let (response, version) = try await negotiate(connection, clientId: clientId, timeout: requestTimeout, cap: versionCaps[.apiVersions])
            let c = BrokerConnection(connection: connection, apiVersions: response, apiVersionsVersion: version, clientId: clientId, versionCaps: versionCaps)
            if let sasl = options.sasl {
                let lifetime = try await SaslAuthenticator.authenticate(c, sasl, timeout: requestTimeout)
                if let lifetime { c.scheduleReauthentication(after: lifetime, sasl, timeout: requestTimeout) }
            }
            return c
        } catch {
            connection.close()
            throw error
        }
    }

    init(connection: Connection, apiVersions: ApiVersionsResponse, apiVersionsVersion: Int16, clientId: String?, versionCaps: [ApiKey: Int16]) {
        self.connection = connection
        self.apiVersions = apiVersions
        self.apiVersionsVersion = apiVersionsVersion
        self.clientId = clientId
        self.versionCaps = versionCaps
        var ranges: [Int16: ClosedRange<Int16>] = [:]
        for e in apiVersions.apiKeys where e.minVersion <= e.maxVersion { ranges[e.apiKey] = e.minVersion ... e.maxVersion }
        brokerRanges = ranges
    }

    /// The ApiVersions exchange. The response header is always v0 and, on
    /// UNSUPPORTED_VERSION, the body is v0 too (KIP-511) — handled here and nowhere else.
    static func negotiate(_ connection: Connection, clientId: String?, timeout: Duration, cap: Int16?) async throws -> (ApiVersionsResponse, Int16) {
        var version = min(ApiVersionsRequest.versions.upperBound, cap ?? Int16.max)
        for _ in 0 ..< 2 {
            let request = ApiVersionsRequest(clientSoftwareName: "kafkawire", clientSoftwareVersion: KafkaWireVersion.string)
            let payload = try await rawSend(connection, request, version: version, clientId: clientId, timeout: timeout)
            var reader = ByteReader(payload)
            _ = try ResponseHeader.decode(from: &reader, headerVersion: 0)
            // The error code is the first field in every version, so peek it before choosing how
            // to decode the rest.
            var peek = reader
            let code = KafkaErrorCode(rawValue: try peek.readInt16("error_code"))
            if code == .unsupportedVersion {
                let v0 = try decodeBody(ApiVersionsResponse.self, &reader, version: 0, remote: connection.remote)
                guard let range = v0.range(for: .apiVersions) else {
                    throw KafkaError(.unsupportedVersion, "broker rejected ApiVersions v\(version) and listed no version of it", context: .init(broker: connection.remote, apiKey: .apiVersions))
                }
                let next = min(range.upperBound, ApiVersionsRequest.versions.upperBound)
                guard next < version, next >= ApiVersionsRequest.versions.lowerBound else {
                    throw KafkaError(.unsupportedVersion, "no common ApiVersions version (broker \(range))", context: .init(broker: connection.remote, apiKey: .apiVersions))
                }
                version = next
                continue
            }
            let response = try decodeBody(ApiVersionsResponse.self, &reader, version: version, remote: connection.remote)
            guard code.isSuccess else {
                throw KafkaError.broker(code, context: .init(broker: connection.remote, apiKey: .apiVersions, apiVersion: version))
            }
            return (response, version)
        }
        throw KafkaError(.unsupportedVersion, "ApiVersions negotiation did not converge", context: .init(broker: connection.remote, apiKey: .apiVersions))
    }

    /// Highest version of `R` that both we and the broker speak (and within any cap).
    /// - Parameter type: The request type.
    /// - Returns: The version to send `R` at.
    /// - Throws: `KafkaError(.unsupportedVersion)` when the broker lacks the API or no version is common.
    public func version<R: KafkaRequest>(for type: R.Type) throws -> Int16 {
        try Self.selectVersion(ours: R.versions, broker: brokerRanges[R.apiKey.rawValue], cap: versionCaps[R.apiKey], apiKey: R.apiKey, remote: remote)
    }

    /// Highest version of `R` that both sides speak, at most `cap`.
    /// - Parameters:
    ///   - type: The request type.
    ///   - cap: The highest version the caller can use (e.g. to keep a field's old layout).
    /// - Returns: The version to send `R` at.
    /// - Throws: `KafkaError(.unsupportedVersion)` when no version up to `cap` is common.
    public func version<R: KafkaRequest>(for type: R.Type, cap: Int16) throws -> Int16 {
        try Self.selectVersion(ours: R.versions, broker: brokerRanges[R.apiKey.rawValue], cap: min(cap, versionCaps[R.apiKey] ?? Int16.max), apiKey: R.apiKey, remote: remote)
    }

    /// Pure version selection: highest common version, or a clear error when there is none.
    /// - Parameters:
    ///   - ours: The versions we speak.
    ///   - broker: The versions the broker advertised; nil when it lacks the API.
    ///   - cap: An upper bound on the result, if any.
    ///   - apiKey: The API, for the error message.
    ///   - remote: The broker's `host:port`, for the error context.
    /// - Returns: The highest version in all ranges and at most `cap`.
    /// - Throws: `KafkaError(.unsupportedVersion)` naming both ranges when none is common.
    public static func selectVersion(ours: ClosedRange<Int16>, broker: ClosedRange<Int16>?, cap: Int16?, apiKey: ApiKey, remote: String) throws -> Int16 {
        guard let broker else {
            throw KafkaError(.unsupportedVersion, "broker does not support \(apiKey.name) (we speak \(ours.lowerBound)...\(ours.upperBound))", context: .init(broker: remote, apiKey: apiKey))
        }
        let high = min(ours.upperBound, broker.upperBound, cap ?? Int16.max)
        let low = max(ours.lowerBound, broker.lowerBound)
        guard high >= low else {
            throw KafkaError(.unsupportedVersion, "no common version of \(apiKey.name): broker \(broker.lowerBound)...\(broker.upperBound), we \(ours.lowerBound)...\(ours.upperBound)\(cap.map { " capped at \($0)" } ?? "")", context: .init(broker: remote, apiKey: apiKey))
        }
        return high
    }

    /// The broker's advertised range for `key`, if any.
    /// - Parameter key: The API.
    /// - Returns: The versions from the broker's ApiVersions answer; nil when it lacks the API.
    public func brokerRange(for key: ApiKey) -> ClosedRange<Int16>? { brokerRanges[key.rawValue] }

    /// Sends `request` at the negotiated version (or `version` if given) and decodes the answer.
    /// While a KIP-368 re-authentication runs, the request waits for it to finish.
    /// - Parameters:
    ///   - request: The request.
    ///   - version: The version to use; nil for the highest common one.
    ///   - timeout: How long to wait for the answer.
    /// - Returns: The decoded response.
    /// - Throws: `KafkaError`: `.timeout`, `.connection`, `.encoding` (a field the version cannot
    ///   carry), `.decoding`, `.unsupportedVersion`, or `.cancelled`.
    public func send<R: KafkaRequest>(_ request: R, version: Int16? = nil, timeout: Duration) async throws -> R.Response {
        await passReauthenticationGate()
        return try await sendNow(request, version: version, timeout: timeout)
    }

    /// `send` without waiting for a re-authentication: for the SASL exchange itself.
    func sendNow<R: KafkaRequest>(_ request: R, version: Int16? = nil, timeout: Duration) async throws -> R.Response {
        let v = try version ?? self.version(for: R.self)
        let payload = try await Self.rawSend(connection, request, version: v, clientId: clientId, timeout: timeout)
        var reader = ByteReader(payload)
        do {
            _ = try ResponseHeader.decode(from: &reader, headerVersion: HeaderVersions.response(R.self, version: v))
        } catch let e as ProtocolDecodingError {
            throw KafkaError(.decoding, "\(R.Response.messageName) header: \(e)", context: .init(broker: remote, apiKey: R.apiKey, apiVersion: v), underlying: e)
        }
        return try Self.decodeBody(R.Response.self, &reader, version: v, remote: remote)
    }

    /// Sends a request that gets no response (Produce with acks=0).
    /// - Parameters:
    ///   - request: The request.
    ///   - version: The version to encode it at.
    ///   - timeout: How long to wait for the frame to be queued.
    /// - Throws: `KafkaError`: `.encoding`, `.connection`, `.timeout` or `.cancelled`.
    public func sendWithoutResponse<R: KafkaRequest>(_ request: R, version: Int16, timeout: Duration) async throws {
        await passReauthenticationGate()
        _ = try await Self.rawSend(connection, request, version: version, clientId: clientId, timeout: timeout, expectResponse: false)
    }

    /// True while the underlying connection is open.
    public var isOpen: Bool { connection.isOpen }

    /// Closes the connection; requests in flight fail with a retriable error.
    public func close() {
        reauthentication.withLock { $0?.cancel(); $0 = nil }
        connection.close()
    }

    private let reauthentication = Mutex<Task<Void, Never>?>(nil)

    /// Closed while a re-authentication runs. A broker re-authenticating a connection accepts
    /// nothing but SaslHandshake and SaslAuthenticate (Kafka fails anything else with an illegal
    /// SASL state and closes the connection), so requests issued meanwhile wait here, as the Java
    /// client's channel is not ready during re-authentication. Requests already in flight are
    /// answered first: the broker handles a connection's requests in order.
    private let gate = Mutex(Gate())

    private struct Gate {
        var reauthenticating = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private func passReauthenticationGate() async {
        // Fast path: one uncontended lock per request, no continuation.
        guard gate.withLock({ $0.reauthenticating }) else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let wait = gate.withLock { g -> Bool in
                if g.reauthenticating { g.waiters.append(c) }
                return g.reauthenticating
            }
            if !wait { c.resume() }
        }
    }

    private func setReauthenticating(_ on: Bool) {
        let waiters = gate.withLock { g -> [CheckedContinuation<Void, Never>] in
            g.reauthenticating = on
            defer { g.waiters = [] }
            return on ? [] : g.waiters
        }
        for w in waiters { w.resume() }
    }

    /// Re-authentication never starts sooner than this after the last one: a broker granting a
    /// 1 ms session would otherwise get an endless loop of SASL exchanges.
    static let minimumReauthenticationDelay: Duration = .milliseconds(500)

    /// When to re-authenticate a session of `lifetime`: 85–95 % (`factor`) of it as the Java
    /// client does, but leaving at least 2 s (or half the lifetime) for the exchange itself —
    /// SCRAM's key derivation on a busy machine can take a noticeable part of a short session —
    /// and never sooner than `minimumReauthenticationDelay`. Pure.
    static func reauthenticationDelay(lifetime: Duration, factor: Double) -> Duration {
        let lifetimeMs = lifetime.doubleMilliseconds
        let waitMs = max(lifetimeMs * 0.5, min(lifetimeMs * factor, lifetimeMs - 2000))
        // Clamped before conversion: a hostile lifetime (Int64.max ms) must not trap.
        return max(.milliseconds(Int64(min(waitMs, 1e15))), minimumReauthenticationDelay)
    }

    /// KIP-368: the broker closes a connection whose SASL session outlives the lifetime it
    /// granted, so authenticate again (in-band, between ordinary requests) at 85–95 % of it,
    /// keeping at least 2 s (or half the lifetime) in hand.
    func scheduleReauthentication(after lifetime: Duration, _ sasl: SaslConfiguration, timeout: Duration) {
        let task = Task { [weak self] in
            var lifetime = lifetime
            while !Task.isCancelled {
                let wait = Self.reauthenticationDelay(lifetime: lifetime, factor: Double.random(in: 0.85 ... 0.95))
                try? await Task.sleep(for: wait)
                guard !Task.isCancelled, let self, self.isOpen else { return }
                self.setReauthenticating(true)
                // Open the gate however this ends: on failure the connection is closed, so the
                // waiting requests fail at once instead of hanging.
                defer { self.setReauthenticating(false) }
                do {
                    guard let next = try await SaslAuthenticator.authenticate(self, sasl, timeout: timeout) else { return }
                    lifetime = next
                } catch {
                    self.connection.close(KafkaError(.authentication, "SASL re-authentication failed: \(error)", context: .init(broker: self.remote)))
                    return
                }
            }
        }
        reauthentication.withLock { $0 = task }
    }

    // MARK: Framing helpers

    /// Encodes `request` as a complete frame with a placeholder correlation id.
    /// - Parameters:
    ///   - request: The request body.
    ///   - version: The version to encode header and body at.
    ///   - clientId: The header's client id.
    ///   - correlationId: The header's correlation id (the connection overwrites it).
    /// - Returns: Size prefix, request header and body.
    /// - Throws: `ProtocolEncodingError` when a field cannot be carried at `version`.
    public static func frame<R: KafkaRequest>(_ request: R, version: Int16, clientId: String?, correlationId: Int32 = 0) throws -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        let sizeAt = w.reserveInt32()
        let header = RequestHeader(apiKey: R.apiKey, apiVersion: version, correlationId: correlationId, clientId: clientId)
        try header.encode(into: &w, headerVersion: HeaderVersions.request(R.self, version: version))
        try request.encode(into: &w, version: version)
        w.patchInt32(at: sizeAt, Int32(truncatingIfNeeded: w.count - 4))
        return w.take()
    }

    static func rawSend<R: KafkaRequest>(_ connection: Connection, _ request: R, version: Int16, clientId: String?, timeout: Duration, expectResponse: Bool = true) async throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            guard R.versions.contains(version) else {
                throw ProtocolEncodingError(field: R.messageName, reason: .unsupportedVersion(version))
            }
            bytes = try frame(request, version: version, clientId: clientId)
        } catch {
            throw KafkaError(.encoding, "cannot encode \(R.messageName) v\(version): \(error)", context: .init(broker: connection.remote, apiKey: R.apiKey, apiVersion: version), underlying: error)
        }
        return try await connection.send(frame: bytes, apiKey: R.apiKey, apiVersion: version, expectResponse: expectResponse, timeout: timeout)
    }

    static func decodeBody<M: KafkaMessage>(_ type: M.Type, _ reader: inout ByteReader, version: Int16, remote: String) throws -> M {
        do {
            return try M(decodingAll: &reader, version: version)
        } catch let e as ProtocolDecodingError {
            throw KafkaError(.decoding, "\(e)", context: .init(broker: remote, apiKey: M.apiKey, apiVersion: version), underlying: e)
        }
    }
}

/// This library's version, sent as the client software version (KIP-511).
public enum KafkaWireVersion {
    /// The version as `major.minor.patch`.
    public static let string = "0.1.0"
}
