import KafkaProtocol

/// SCRAM-SHA-256 / SCRAM-SHA-512 client (RFC 5802, RFC 7677), as Kafka uses it (KIP-84):
/// no channel binding, at least 4096 iterations, and the server's signature is verified — a
/// server that does not know the password cannot pass as one that does.
struct ScramExchange<H: HashFunction>: SaslExchange {
    /// Kafka's minimum iteration count.
    static var minIterations: Int { 4096 }

    let mechanism: SaslMechanism
    let username: String
    let password: String
    let clientNonce: String
    /// Shared by the connections of one client; nil derives afresh each time.
    let keys: ScramKeyCache?
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8]?
    private(set) var isComplete = false

    init(mechanism: SaslMechanism, username: String, password: String, nonce: String? = nil, keys: ScramKeyCache? = nil) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        clientNonce = nonce ?? Self.randomNonce()
        self.keys = keys
    }

    static func randomNonce() -> String {
        var g = SystemRandomNumberGenerator()
        return Base64.encode((0 ..< 24).map { _ in UInt8.random(in: 0 ... 255, using: &g) })
    }

    /// RFC 5802 saslname: `=` → `=3D`, `,` → `=2C`.
    static func saslName(_ s: String) -> String {
        s.replacingAll("=", with: "=3D").replacingAll(",", with: "=2C")
    }

    func fail(_ why: String) -> KafkaError {
        KafkaError(.authentication, "SASL \(mechanism.rawValue) authentication failed: \(why)")
    }

    mutating func start() async throws -> [UInt8] {
        clientFirstBare = "n=\(Self.saslName(username)),r=\(clientNonce)"
        return Array(("n,," + clientFirstBare).utf8)
    }

    mutating func respond(to challenge: [UInt8]) async throws -> [UInt8]? {
        guard let text = String(validating: challenge, as: UTF8.self) else { throw fail("server message is not UTF-8") }
        let fields = Self.parse(text)
        if let expected = expectedServerSignature {
            // server-final-message
            if let e = fields["e"] { throw fail("server error: \(e)") }
            guard let v = fields["v"], let signature = Base64.decode(v) else { throw fail("server final message has no signature") }
            // Constant time: how many leading bytes matched must not show in how long the check took.
            guard constantTimeEquals(signature, expected) else { throw fail("the server's signature is wrong (it does not know the password)") }
            isComplete = true
            return nil
        }
        // server-first-message
        if let e = fields["e"] { throw fail("server error: \(e)") }
        guard let nonce = fields["r"], let saltText = fields["s"], let iterText = fields["i"] else {
            throw fail("malformed server first message")
        }
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else { throw fail("server nonce does not extend ours") }
        guard let salt = Base64.decode(saltText) else { throw fail("server salt is not base64") }
        guard let iterations = Int(iterText), iterations >= Self.minIterations, iterations <= 1_000_000 else {
            throw fail("iteration count \(iterText) outside \(Self.minIterations)...1000000")
        }
        let salted: [UInt8]
        if let keys {
            salted = await keys.saltedPassword(H.self, password: Array(password.utf8), salt: salt, iterations: iterations)
        } else {
            salted = await ScramKeyCache.derive(H.self, password: Array(password.utf8), salt: salt, iterations: iterations)
        }
        let clientKey = HMAC<H>.authenticate(Array("Client Key".utf8), key: salted)
        let storedKey = H.hash(clientKey)
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(text),\(withoutProof)".utf8)
        let clientSignature = HMAC<H>.authenticate(authMessage, key: storedKey)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = HMAC<H>.authenticate(Array("Server Key".utf8), key: salted)
        expectedServerSignature = HMAC<H>.authenticate(authMessage, key: serverKey)
        return Array("\(withoutProof),p=\(Base64.encode(proof))".utf8)
    }

    /// `a=1,b=2` → ["a": "1", "b": "2"] (values may contain `=`).
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            guard part.count >= 2, part.dropFirst().first == "=" else { continue }
            out[String(part.prefix(1))] = String(part.dropFirst(2))
        }
        return out
    }
}

/// True when `a` and `b` hold the same bytes, in a time that depends only on their lengths
/// (every byte pair is compared; no early exit), so comparing a secret leaks nothing through
/// timing but its length, which is public here (the hash's output size).
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0 ..< a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
