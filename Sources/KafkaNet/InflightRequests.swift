import KafkaProtocol

/// The requests written to one connection and not yet answered, and the rules that match a
/// response to one of them. Pure: no sockets, no clock (instants are passed in), no locks —
/// `Connection` keeps one behind its lock and unit tests drive it directly.
///
/// Kafka answers a connection's requests in the order they were sent, so this is a FIFO: a
/// response must carry the correlation id of the oldest request still waiting, and anything
/// else means the stream is corrupt. Two exceptions, both handled here and nowhere else:
/// - requests sent without expecting an answer (Produce with acks=0) are remembered briefly,
///   because some brokers (Tansu) answer them anyway; such an answer is dropped;
/// - a bare SASL token (after SaslHandshake v0) is answered by a frame without a header, which
///   belongs to the oldest request by position.
///
/// `Waiter` is whatever resumes the caller (a continuation in `Connection`, a plain value in
/// tests). A waiter that gave up (cancellation, timeout) leaves its entry in place with no
/// waiter, so that its response, when it comes, is still matched and then dropped.
struct InflightRequests<Waiter> {
    /// One request awaiting its response.
struct Entry {
let correlationId: Int32
var waiter: Waiter?
let deadline: ContinuousClock.Instant
        /// Identifies the request to `abandon` (correlation ids wrap; tokens do not).
let token: UInt64
let apiKey: ApiKey
let apiVersion: Int16
        /// A bare SASL token exchange: matched by position, not by correlation id.
let raw: Bool
        /// Where the request's frame ends in the connection's outbound byte stream (bytes
        /// queued since it opened, this frame included): it was completely written once that
        /// many bytes were. 0: not tracked.
        var endsAt: UInt64 = 0
    }

    /// What a response frame is.
enum Match {
        /// The answer to this entry (its waiter may be nil: it gave up).
        case answer(Entry)
        /// An answer to a request sent without expecting one: drop it.
        case unsolicited
        /// Not the oldest request's correlation id: the stream is corrupt.
        case mismatch(got: Int32, expected: Int32?)
        /// Too short to hold a correlation id.
        case short
    }

    private var entries: [Entry] = []
    private var head = 0
    private var nextId: Int32 = 1
    /// Correlation ids of recent requests sent without expecting an answer. Bounded.
    private var unanswered: [Int32] = []
    private static var unansweredLimit: Int { 256 }

init() {}

    /// Requests waiting for a response (including abandoned ones whose answer is still due).
var count: Int { entries.count - head }

var isEmpty: Bool { count == 0 }

    /// The next correlation id: 1, 2, … Int32.max, then 1 again (never 0 or negative).
mutating func assignCorrelationId() -> Int32 {
        let id = nextId
        nextId = id == Int32.max ? 1 : id + 1
        return id
    }

    /// Makes `id` the next correlation id (tests: the wrap at Int32.max).
    mutating func skipCorrelationIds(to id: Int32) { nextId = max(1, id) }

    /// Records a request written to the socket that expects an answer.
mutating func append(correlationId: Int32, waiter: Waiter, deadline: ContinuousClock.Instant, token: UInt64, apiKey: ApiKey, apiVersion: Int16, raw: Bool = false, endsAt: UInt64 = 0) {
        entries.append(Entry(correlationId: correlationId, waiter: waiter, deadline: deadline, token: token, apiKey: apiKey, apiVersion: apiVersion, raw: raw, endsAt: endsAt))
    }

    /// Records a request that expects no answer (acks=0).
mutating func noteUnanswered(_ correlationId: Int32) {
        if unanswered.count >= Self.unansweredLimit { unanswered.removeFirst(Self.unansweredLimit / 2) }
        unanswered.append(correlationId)
    }

    /// Matches a response frame (its payload after the size prefix) and, for an answer, removes
    /// the entry.
mutating func match(_ frame: [UInt8]) -> Match {
        if head < entries.count, entries[head].raw { return .answer(popOldest()) }
        guard frame.count >= 4 else { return .short }
        let id = Int32(bitPattern: UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3]))
        if let i = unanswered.firstIndex(of: id) {
            unanswered.remove(at: i)
            return .unsolicited
        }
        guard head < entries.count, entries[head].correlationId == id else {
            return .mismatch(got: id, expected: head < entries.count ? entries[head].correlationId : nil)
        }
        return .answer(popOldest())
    }

    /// Takes the waiter of the request `token` (it gave up); its entry stays until answered.
mutating func abandon(token: UInt64) -> Waiter? {
        guard let i = entries[head...].firstIndex(where: { $0.token == token }) else { return nil }
        defer { entries[i].waiter = nil }
        return entries[i].waiter
    }

    /// The oldest request still waiting (with a waiter) whose deadline has passed.
func firstExpired(now: ContinuousClock.Instant) -> Entry? {
        for e in entries[head...] where e.waiter != nil && now >= e.deadline { return e }
        return nil
    }

    /// Removes every entry (the connection closed) and returns them, oldest first.
mutating func removeAll() -> [Entry] {
        let out = Array(entries[head...])
        entries = []
        head = 0
        unanswered = []
        return out
    }

    private mutating func popOldest() -> Entry {
        let e = entries[head]
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 {
            entries.removeFirst(head)
            head = 0
        }
        return e
    }
}

extension InflightRequests: Sendable where Waiter: Sendable {}
extension InflightRequests.Entry: Sendable where Waiter: Sendable {}
extension InflightRequests.Match: Sendable where Waiter: Sendable {}
