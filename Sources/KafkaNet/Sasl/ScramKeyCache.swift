import Dispatch
import Synchronization

/// SCRAM's salted password (PBKDF2 over the password with the broker's salt and iteration
/// count, the expensive part of SCRAM) for one client: derived once and reused by every
/// connection and re-authentication that is offered the same salt and count — the broker
/// stores one salt per user and mechanism, so in practice that is all of them.
///
/// The derivation runs on a Dispatch queue, not on Swift's cooperative pool: thousands of
/// HMAC rounds take milliseconds in a release build but far longer in a debug build or on a
/// slow machine, and would hold up every other task meanwhile (KIP-368 re-authentication
/// timers included).
package final class ScramKeyCache: Sendable {
    private struct Key: Hashable {
        let digestSize: Int
        let password: [UInt8]
        let salt: [UInt8]
        let iterations: Int
    }

    /// Bounded: a client talks to one cluster, so a handful of entries at most.
    private static var capacity: Int { 8 }
    private static let queue = DispatchQueue(label: "kafkawire.scram", attributes: .concurrent)
    private let entries = Mutex<[Key: [UInt8]]>([:])

    package init() {}

    /// Salted passwords held (for tests).
    var count: Int { entries.withLock { $0.count } }

    func saltedPassword<H: HashFunction>(_ hash: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) async -> [UInt8] {
        let key = Key(digestSize: H.digestSize, password: password, salt: salt, iterations: iterations)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let derived = await Self.derive(H.self, password: password, salt: salt, iterations: iterations)
        entries.withLock { e in
            if e.count >= Self.capacity { e.removeAll() }
            e[key] = derived
        }
        return derived
    }

    /// PBKDF2 off the cooperative pool.
    static func derive<H: HashFunction>(_ hash: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) async -> [UInt8] {
        await withCheckedContinuation { (c: CheckedContinuation<[UInt8], Never>) in
            queue.async { c.resume(returning: PBKDF2<H>.deriveKey(password: password, salt: salt, iterations: iterations)) }
        }
    }
}
