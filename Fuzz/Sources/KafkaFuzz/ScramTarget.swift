import Dispatch
import Synchronization
@testable import KafkaNet

/// The SCRAM client's parsers of the server-first and server-final messages (what a hostile
/// broker or SASL proxy controls), through the exchange itself: start, server-first, and, when
/// that is accepted, server-final.
///
/// Input: byte 0 bit 0 picks SHA-256 or SHA-512; the rest is server-first, a 0x00 byte, then
/// server-final. The client nonce is fixed (seeds carry it). Iteration counts above 8192 are
/// skipped before the exchange sees them: they are valid up to 1,000,000 and would spend the
/// time on PBKDF2, not on parsing. Property: only a server that knows the password passes
/// server-final (the fuzzer cannot forge HMAC-SHA-2, so completion is a finding).
enum ScramTarget {
    static let nonce = "fyko+d2lbbFgONRv9qkxdawL"
    static let keys = ScramKeyCache()

    @Sendable static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let sha512 = input.byte() & 1 == 1
        let rest = input.rest()
        let split = rest.firstIndex(of: 0) ?? rest.endIndex
        let serverFirst = Array(rest[..<split])
        let serverFinal = split < rest.endIndex ? Array(rest[(split + 1)...]) : nil
        if let text = String(validating: serverFirst, as: UTF8.self), let i = ScramExchange<SHA256>.parse(text)["i"], let n = Int(i), n > 8192 { return }
        let completed: Bool
        if sha512 {
            completed = exchange(ScramExchange<SHA512>(mechanism: .scramSHA512, username: "user", password: "pencil", nonce: nonce, keys: keys), serverFirst, serverFinal)
        } else {
            completed = exchange(ScramExchange<SHA256>(mechanism: .scramSHA256, username: "user", password: "pencil", nonce: nonce, keys: keys), serverFirst, serverFinal)
        }
        if completed { finding("SCRAM exchange completed with fuzzer-made messages") }
    }

    static func exchange<H: HashFunction>(_ s: ScramExchange<H>, _ serverFirst: [UInt8], _ serverFinal: [UInt8]?) -> Bool {
        blocking {
            var s = s
            _ = try? await s.start()
            guard (try? await s.respond(to: serverFirst)) != nil else { return false }
            guard let serverFinal else { return false }
            _ = try? await s.respond(to: serverFinal)
            return s.isComplete
        }
    }

    /// Runs `body` to completion from libFuzzer's (non-async) thread.
    static func blocking(_ body: @escaping @Sendable () async -> Bool) -> Bool {
        let result = Mutex<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        Task {
            let r = await body()
            result.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }
}
