import Synchronization
public import KafkaClient
public import KafkaProtocol

/// Tests: every message a producer accepted, checked against the outcomes it reported — each
/// `enqueue`d id exactly one delivery report, each `send` exactly one result, nothing reported
/// that was never accepted.
///
/// Use: pass `record` as the producer's `onDelivery`, call `accepted` with each id `enqueue`
/// returned (a report may arrive before that call: both orders count), and route `send` through
/// `send(_:on:)`. Then `waitForOutcomes` and `audit`. Per-id state is kept in flat arrays indexed
/// by the id (ids are dense from 1), so millions of messages cost a few bytes each.
public final class DeliveryLedger: Sendable {
    /// One message's reported fate.
    public enum Outcome: Sendable, Equatable {
        /// Acknowledged at `offset` of `partition` (offset nil: unknown, e.g. a duplicate resend).
        case delivered(partition: Int32, offset: Int64?)
        /// Reported failed with this kind of error.
        case failed(KafkaError.Kind)
    }

    /// What the ledger found: counts and the ids that break "exactly one outcome each".
    public struct Audit: Sendable, CustomStringConvertible {
        /// Ids `enqueue` returned (`accepted`) plus `send` calls made.
        public var accepted = 0
        /// Messages (enqueued or sent) reported delivered.
        public var delivered = 0
        /// Messages (enqueued or sent) reported failed.
        public var failed = 0
        /// Failures by error kind (its description), for the report.
        public var failuresByKind: [String: Int] = [:]
        /// Accepted ids without any report.
        public var missing: [MessageID] = []
        /// Ids reported more than once (by however many reports).
        public var duplicated: [MessageID] = []
        /// Ids reported that `accepted` never named.
        public var unknown: [MessageID] = []
        /// `send` calls that have not returned.
        public var sendsUnresolved = 0

        /// Every accepted message has exactly one outcome and nothing else was reported.
        public var isExact: Bool { missing.isEmpty && duplicated.isEmpty && unknown.isEmpty && sendsUnresolved == 0 }

        /// What breaks exactness, one line each (empty when exact).
        public var problems: [String] {
            var p: [String] = []
            if !missing.isEmpty { p.append("\(missing.count) messages without an outcome, first \(missing.prefix(5).map(\.description))") }
            if !duplicated.isEmpty { p.append("\(duplicated.count) messages reported more than once, first \(duplicated.prefix(5).map(\.description))") }
            if !unknown.isEmpty { p.append("\(unknown.count) reported ids never accepted, first \(unknown.prefix(5).map(\.description))") }
            if sendsUnresolved > 0 { p.append("\(sendsUnresolved) send calls without a result") }
            return p
        }

        public var description: String {
            let kinds = failuresByKind.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            return "\(accepted) accepted, \(delivered) delivered, \(failed) failed\(kinds.isEmpty ? "" : " (\(kinds))")"
                + (isExact ? ", each exactly once" : "; " + problems.joined(separator: "; "))
        }
    }

    private struct State {
        /// Indexed by `MessageID.rawValue`: accepted flag, report count, last outcome.
        var acceptedFlags: [Bool] = []
        var reportCounts: [UInt8] = []
        var outcomes: [Outcome?] = []
        /// Ids too large for the arrays (no producer hands those out; kept, not trusted).
        var strayAccepted: Set<MessageID> = []
        var strayReports: [MessageID: Int] = [:]
        var acceptedCount = 0
        var reportedMessages = 0
        var sendsStarted = 0
        var sendResults: [Result<RecordMetadata, KafkaError>] = []

        mutating func grow(to index: Int) {
            guard index >= acceptedFlags.count else { return }
            let n = max(index + 1, acceptedFlags.count * 2, 1024)
            acceptedFlags += [Bool](repeating: false, count: n - acceptedFlags.count)
            reportCounts += [UInt8](repeating: 0, count: n - reportCounts.count)
            outcomes += [Outcome?](repeating: nil, count: n - outcomes.count)
        }
    }

    /// Ids beyond this are not given array slots (a broken report must not allocate gigabytes).
    private static let maxDenseId: UInt64 = 1 << 28

    private let state = Mutex(State())

    /// An empty ledger.
    public init() {}

    /// `enqueue` returned `id`: the producer now owes it exactly one delivery report.
    /// - Parameter id: The id `enqueue` returned.
    public func accepted(_ id: MessageID) {
        state.withLock { s in
            s.acceptedCount += 1
            guard id.rawValue <= Self.maxDenseId else { s.strayAccepted.insert(id); return }
            let i = Int(id.rawValue)
            s.grow(to: i)
            s.acceptedFlags[i] = true
        }
    }

    /// A delivery report (pass this as the producer's `onDelivery`).
    /// - Parameter report: The report, for one batch's messages.
    public func record(_ report: DeliveryReport) {
        state.withLock { s in
            for (k, id) in report.messageIds.enumerated() {
                s.reportedMessages += 1
                let outcome: Outcome = switch report.result {
                case let .success(base): .delivered(partition: report.topicPartition.partition, offset: base.map { $0 + Int64(k) })
                case let .failure(e): .failed(e.kind)
                }
                guard id.rawValue <= Self.maxDenseId else { s.strayReports[id, default: 0] += 1; continue }
                let i = Int(id.rawValue)
                s.grow(to: i)
                s.reportCounts[i] = s.reportCounts[i] == .max ? .max : s.reportCounts[i] + 1
                s.outcomes[i] = outcome
            }
        }
    }

    /// Sends `record` through `producer`, counting the call and its one result.
    /// - Parameters:
    ///   - record: The record to send.
    ///   - producer: The producer to send it with.
    /// - Returns: What `send` returned.
    /// - Throws: What `send` threw.
    @discardableResult
    public func send(_ record: ProducerRecord, on producer: KafkaProducer) async throws -> RecordMetadata {
        state.withLock { $0.sendsStarted += 1 }
        do {
            let m = try await producer.send(record)
            state.withLock { $0.sendResults.append(.success(m)) }
            return m
        } catch {
            let e = error as? KafkaError ?? KafkaError(.connection, "\(error)")
            state.withLock { $0.sendResults.append(.failure(e)) }
            throw error
        }
    }

    /// Outcomes so far: reported messages plus `send` results (a message reported twice counts
    /// twice).
    public var outcomes: Int { state.withLock { $0.reportedMessages + $0.sendResults.count } }

    /// Messages accepted so far (`accepted` calls plus `send` calls).
    public var acceptedCount: Int { state.withLock { $0.acceptedCount + $0.sendsStarted } }

    /// The last reported outcome of `id` (nil: none yet).
    /// - Parameter id: An id `enqueue` returned.
    public func outcome(of id: MessageID) -> Outcome? {
        state.withLock { s in
            guard id.rawValue <= Self.maxDenseId, Int(id.rawValue) < s.outcomes.count else { return nil }
            return s.outcomes[Int(id.rawValue)]
        }
    }

    /// The results of the `send` calls that returned, in the order they returned.
    public var sendResults: [Result<RecordMetadata, KafkaError>] { state.withLock { $0.sendResults } }

    /// Waits (checking every 10 ms) until there are as many outcomes as accepted messages.
    /// - Parameter timeout: How long to wait at most.
    /// - Returns: Whether the counts met in time (they may still be the wrong ids: see `audit`).
    public func waitForOutcomes(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while outcomes < acceptedCount {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Checks every accepted message against its reports.
    public func audit() -> Audit {
        state.withLock { s in
            var a = Audit()
            a.accepted = s.acceptedCount + s.sendsStarted
            a.sendsUnresolved = s.sendsStarted - s.sendResults.count
            func tally(_ o: Outcome) {
                switch o {
                case .delivered: a.delivered += 1
                case let .failed(kind):
                    a.failed += 1
                    a.failuresByKind["\(kind)", default: 0] += 1
                }
            }
            for i in s.acceptedFlags.indices {
                let id = MessageID(UInt64(i))
                let n = s.reportCounts[i]
                if s.acceptedFlags[i] && n == 0 { a.missing.append(id) }
                if n > 1 { a.duplicated.append(id) }
                if n > 0 && !s.acceptedFlags[i] { a.unknown.append(id) }
                if n > 0, let o = s.outcomes[i] { tally(o) }
            }
            for id in s.strayAccepted.union(s.strayReports.keys).sorted() {
                let accepted = s.strayAccepted.contains(id), reports = s.strayReports[id] ?? 0
                if accepted && reports == 0 { a.missing.append(id) }
                if reports > 1 { a.duplicated.append(id) }
                if !accepted && reports > 0 { a.unknown.append(id) }
            }
            for r in s.sendResults {
                switch r {
                case let .success(m): tally(.delivered(partition: m.partition, offset: m.offset))
                case let .failure(e): tally(.failed(e.kind))
                }
            }
            return a
        }
    }
}
