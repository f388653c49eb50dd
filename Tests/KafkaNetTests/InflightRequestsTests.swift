import Testing
@testable import KafkaNet
import KafkaProtocol

/// The in-flight table alone: correlation ids, matching, abandonment, deadlines — no sockets.
@Suite struct InflightRequestsTests {
    typealias Table = InflightRequests<String>
    let t0 = ContinuousClock.now

    func frame(_ id: Int32, _ body: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: id.bigEndian, Array.init) + body
    }

    mutating func add(_ t: inout Table, _ waiter: String, token: UInt64, in d: Duration = .seconds(1), raw: Bool = false) -> Int32 {
        let id = raw ? 0 : t.assignCorrelationId()
        t.append(correlationId: id, waiter: waiter, deadline: t0 + d, token: token, apiKey: .metadata, apiVersion: 1, raw: raw)
        return id
    }

    @Test mutating func answersMatchTheOldestRequestInOrder() {
        var t = Table()
        let a = add(&t, "a", token: 1), b = add(&t, "b", token: 2)
        #expect(a == 1 && b == 2 && t.count == 2)
        guard case let .answer(e) = t.match(frame(a)) else { Issue.record("no answer"); return }
        #expect(e.waiter == "a")
        guard case let .mismatch(got, expected) = t.match(frame(7)) else { Issue.record("expected a mismatch"); return }
        #expect(got == 7 && expected == b)
        guard case .short = t.match([0, 1]) else { Issue.record("expected short"); return }
        guard case let .answer(e2) = t.match(frame(b)) else { Issue.record("no answer"); return }
        #expect(e2.waiter == "b" && t.isEmpty)
        guard case let .mismatch(_, none) = t.match(frame(3)) else { Issue.record("expected a mismatch"); return }
        #expect(none == nil)
    }

    @Test func correlationIdsWrapToOneNeverZeroOrNegative() {
        var t = Table()
        var ids: [Int32] = []
        // Walk close to the end quickly by assigning; check the wrap explicitly.
        for _ in 0 ..< 3 { ids.append(t.assignCorrelationId()) }
        #expect(ids == [1, 2, 3])
        var w = Table()
        w.skipCorrelationIds(to: Int32.max)
        #expect(w.assignCorrelationId() == Int32.max)
        #expect(w.assignCorrelationId() == 1)
    }

    @Test func answersToRequestsThatExpectedNoneAreDropped() {
        var t = Table()
        let silent = t.assignCorrelationId()
        t.noteUnanswered(silent)
        let a = t.assignCorrelationId()
        t.append(correlationId: a, waiter: "a", deadline: t0, token: 1, apiKey: .produce, apiVersion: 9)
        guard case .unsolicited = t.match(frame(silent)) else { Issue.record("expected unsolicited"); return }
        guard case let .answer(e) = t.match(frame(a)) else { Issue.record("no answer"); return }
        #expect(e.waiter == "a")
        // Remembered once only.
        guard case .mismatch = t.match(frame(silent)) else { Issue.record("expected a mismatch the second time"); return }
    }

    @Test mutating func aRawSaslTokenIsAnsweredByPosition() {
        var t = Table()
        _ = add(&t, "token", token: 1, raw: true)
        guard case let .answer(e) = t.match([]) else { Issue.record("no answer"); return }
        #expect(e.waiter == "token" && e.raw)
    }

    @Test mutating func anAbandonedRequestKeepsItsPlaceAndItsAnswerIsDropped() {
        var t = Table()
        let a = add(&t, "a", token: 10), b = add(&t, "b", token: 11)
        #expect(t.abandon(token: 10) == "a")
        #expect(t.abandon(token: 10) == nil)
        #expect(t.abandon(token: 99) == nil)
        #expect(t.count == 2)
        // The stream still carries a's answer first: it matches (with no waiter), then b's.
        guard case let .answer(e) = t.match(frame(a)) else { Issue.record("no answer"); return }
        #expect(e.waiter == nil)
        guard case let .answer(e2) = t.match(frame(b)) else { Issue.record("no answer"); return }
        #expect(e2.waiter == "b")
    }

    @Test mutating func theFirstExpiredRequestWithAWaiterIsReported() {
        var t = Table()
        _ = add(&t, "a", token: 1, in: .milliseconds(100))
        _ = add(&t, "b", token: 2, in: .milliseconds(50))
        #expect(t.firstExpired(now: t0) == nil)
        #expect(t.firstExpired(now: t0 + .milliseconds(60))?.waiter == "b")
        #expect(t.firstExpired(now: t0 + .milliseconds(200))?.waiter == "a")
        _ = t.abandon(token: 1)
        #expect(t.firstExpired(now: t0 + .milliseconds(200))?.waiter == "b")
        let all = t.removeAll()
        #expect(all.map(\.token) == [1, 2] && t.isEmpty)
    }

    @Test mutating func longRunsCompactWithoutLosingOrder() {
        var t = Table()
        for i in 0 ..< 5000 {
            let id = add(&t, "w\(i)", token: UInt64(i))
            if i % 2 == 1 {
                // Answer the older of the two outstanding.
                guard case let .answer(e) = t.match(frame(id - 1)) else { Issue.record("lost order at \(i)"); return }
                #expect(e.waiter == "w\(i - 1)")
                guard case .answer = t.match(frame(id)) else { Issue.record("lost order at \(i)"); return }
            }
        }
        #expect(t.isEmpty)
    }
}
