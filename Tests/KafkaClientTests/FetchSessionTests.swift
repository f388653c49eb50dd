import Testing
@testable import KafkaClient
import KafkaProtocol

/// KIP-227 fetch session bookkeeping (`FetchSession`), without I/O.
struct FetchSessionTests {
    typealias Req = FetchSession.PartitionRequest
    static let idA = KafkaUUID(high: 1, low: 1)
    static let idB = KafkaUUID(high: 2, low: 2)
    let a0 = TopicPartition(topic: "a", partition: 0)
    let a1 = TopicPartition(topic: "a", partition: 1)
    let b0 = TopicPartition(topic: "b", partition: 0)

    func req(_ offset: Int64, id: KafkaUUID = idA, epoch: Int32 = 0, maxBytes: Int32 = 1000) -> Req {
        Req(topicId: id, fetchOffset: offset, currentLeaderEpoch: epoch, maxBytes: maxBytes)
    }

    /// Full fetch, the broker opens session 42, then incremental fetches carry only changes.
    func established(_ s: inout FetchSession, _ wanted: [(TopicPartition, Req)]) -> FetchSession.Plan {
        let p = s.plan(wanted, useTopicIds: true)
        #expect(p.isFull && p.epoch == 0 && p.sessionId == 0)
        #expect(s.handleResponse(errorCode: .noError, sessionId: 42, mentioned: wanted.map(\.0), sent: p) == .accept)
        return p
    }

    @Test func fullFetchThenIncrementalSendsOnlyChangedPartitions() {
        var s = FetchSession()
        let first = established(&s, [(a0, req(0)), (a1, req(0)), (b0, req(5, id: Self.idB))])
        #expect(first.toSend.map(\.0) == [a0, a1, b0])
        #expect(s.sessionId == 42 && s.epoch == 1)

        // a0 advanced (data arrived), a1 and b0 did not: only a0 goes out.
        let p = s.plan([(a0, req(10)), (a1, req(0)), (b0, req(5, id: Self.idB))], useTopicIds: true)
        #expect(!p.isFull && p.sessionId == 42 && p.epoch == 1)
        #expect(p.toSend.map(\.0) == [a0] && p.toSend.first?.1.fetchOffset == 10)
        #expect(p.toForget.isEmpty)
        #expect(Set(p.session.keys) == [a0, a1, b0], "implied partitions stay in the session")
        // The broker answers only what changed (b0 got data; a0, a1 omitted).
        #expect(s.handleResponse(errorCode: .noError, sessionId: 42, mentioned: [b0], sent: p) == .accept)
        #expect(s.epoch == 2)

        // Nothing changed: an empty incremental fetch (still valid: the broker may have news).
        let idle = s.plan([(a0, req(10)), (a1, req(0)), (b0, req(5, id: Self.idB))], useTopicIds: true)
        #expect(idle.toSend.isEmpty && idle.toForget.isEmpty && idle.epoch == 2)
    }

    @Test func changedLeaderEpochOrMaxBytesIsResent() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0)), (a1, req(0))])
        let p = s.plan([(a0, req(0, epoch: 3)), (a1, req(0, maxBytes: 500))], useTopicIds: true)
        #expect(p.toSend.map(\.0) == [a0, a1])
        #expect(p.toSend[0].1.currentLeaderEpoch == 3 && p.toSend[1].1.maxBytes == 500)
    }

    @Test func removedPartitionsAreForgottenAndNewOnesAdded() throws {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0)), (a1, req(0)), (b0, req(0, id: Self.idB))])
        // a1 paused (or moved to another leader), b0 unassigned, a2 added.
        let a2 = TopicPartition(topic: "a", partition: 2)
        let p = s.plan([(a0, req(0)), (a2, req(7))], useTopicIds: true)
        #expect(p.toSend.map(\.0) == [a2])
        #expect(p.toForget.map(\.0) == [a1, b0])
        #expect(p.toForget.map(\.1) == [Self.idA, Self.idB])
        #expect(Set(p.session.keys) == [a0, a2])
        // On the wire (v13+): forgotten topics by id, grouped per topic.
        let r = p.request(base: FetchRequest(), useTopicIds: true)
        #expect(r.sessionId == 42 && r.sessionEpoch == 1)
        #expect(r.topics.count == 1 && r.topics[0].topicId == Self.idA && r.topics[0].topic == "")
        #expect(r.topics[0].partitions.map(\.partition) == [2] && r.topics[0].partitions[0].fetchOffset == 7)
        #expect(r.forgottenTopicsData.map(\.topicId) == [Self.idA, Self.idB])
        #expect(r.forgottenTopicsData.map(\.partitions) == [[1], [0]])
        // The request encodes at v17 (ids) and decodes back to the same thing.
        let bytes = try r.encoded(version: 17)
        #expect(try FetchRequest(decoding: bytes, version: 17) == r)
    }

    @Test func byNameBelowVersion13() throws {
        var s = FetchSession()
        let p = s.plan([(a0, req(3)), (b0, req(4, id: Self.idB))], useTopicIds: false)
        #expect(p.toSend.allSatisfy { $0.1.topicId == .zero }, "ids are not used on the wire at v12")
        let r = p.request(base: FetchRequest(), useTopicIds: false)
        #expect(r.topics.map(\.topic) == ["a", "b"] && r.topics.allSatisfy { $0.topicId == .zero })
        #expect(s.handleResponse(errorCode: .noError, sessionId: 7, mentioned: [a0, b0], sent: p) == .accept)
        let next = s.plan([(a0, req(3))], useTopicIds: false)
        let r2 = next.request(base: FetchRequest(), useTopicIds: false)
        #expect(r2.forgottenTopicsData.map(\.topic) == ["b"] && r2.forgottenTopicsData[0].partitions == [0])
        #expect(try FetchRequest(decoding: try r2.encoded(version: 12), version: 12) == r2)
    }

    @Test func switchingBetweenNamesAndIdsStartsANewSession() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0))])
        let p = s.plan([(a0, req(0))], useTopicIds: false)
        #expect(p.isFull && p.sessionId == 42 && p.epoch == 0, "epoch 0 with the old id: close it, open a new one")
        #expect(p.toSend.map(\.0) == [a0])
    }

    @Test func recreatedTopicIsReplaced() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0))])
        let newId = KafkaUUID(high: 9, low: 9)
        let p = s.plan([(a0, req(0, id: newId))], useTopicIds: true)
        #expect(p.toForget.map(\.1) == [Self.idA], "the old topic id's partition is forgotten")
        #expect(p.toSend.map(\.1.topicId) == [newId], "and the new one sent")
    }

    @Test func sessionIdZeroMeansFullFetchesEveryTime() {
        // Tansu (and a broker whose session cache is full) answers session id 0.
        var s = FetchSession()
        for offset in [Int64(0), 10, 20] {
            let p = s.plan([(a0, req(offset)), (a1, req(0))], useTopicIds: true)
            #expect(p.isFull && p.sessionId == 0 && p.epoch == 0)
            #expect(p.toSend.map(\.0) == [a0, a1], "every partition, every time")
            #expect(s.handleResponse(errorCode: .noError, sessionId: 0, mentioned: [a0, a1], sent: p) == .accept)
        }
    }

    @Test func sessionIdNotFoundStartsOverWithoutAnId() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0))])
        let p = s.plan([(a0, req(5))], useTopicIds: true)
        #expect(!p.isFull)
        #expect(s.handleResponse(errorCode: .fetchSessionIdNotFound, sessionId: 0, mentioned: [], sent: p) != .accept)
        let next = s.plan([(a0, req(5))], useTopicIds: true)
        #expect(next.isFull && next.sessionId == 0 && next.epoch == 0)
        #expect(next.toSend.map(\.0) == [a0])
    }

    @Test func invalidEpochClosesTheSessionAndOpensANewOne() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0)), (a1, req(0))])
        let p = s.plan([(a0, req(5)), (a1, req(0))], useTopicIds: true)
        #expect(s.handleResponse(errorCode: .invalidFetchSessionEpoch, sessionId: 0, mentioned: [], sent: p) != .accept)
        let next = s.plan([(a0, req(5)), (a1, req(0))], useTopicIds: true)
        #expect(next.isFull && next.sessionId == 42 && next.epoch == 0)
        #expect(next.toSend.map(\.0) == [a0, a1], "a full fetch lists every partition again")
        // The broker opens session 43 in its place.
        #expect(s.handleResponse(errorCode: .noError, sessionId: 43, mentioned: [a0, a1], sent: next) == .accept)
        #expect(s.sessionId == 43 && s.epoch == 1)
    }

    @Test func sendErrorMakesTheNextFetchFull() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0))])
        _ = s.plan([(a0, req(3))], useTopicIds: true)
        s.handleSendError()
        let p = s.plan([(a0, req(3))], useTopicIds: true)
        #expect(p.isFull && p.sessionId == 42 && p.epoch == 0)
    }

    @Test func responsesThatDoNotMatchTheSessionAreRejected() {
        var s = FetchSession()
        let full = s.plan([(a0, req(0)), (a1, req(0))], useTopicIds: true)
        // A full response must cover every partition asked.
        #expect(s.handleResponse(errorCode: .noError, sessionId: 42, mentioned: [a0], sent: full) != .accept)
        #expect(s.isFull && s.sessionId == 0)
        _ = established(&s, [(a0, req(0)), (a1, req(0))])
        let inc = s.plan([(a0, req(1)), (a1, req(0))], useTopicIds: true)
        // An incremental response may not name partitions outside the session.
        #expect(s.handleResponse(errorCode: .noError, sessionId: 42, mentioned: [b0], sent: inc) != .accept)
        #expect(s.isFull && s.sessionId == 42)
    }

    @Test func brokerClosingTheSessionIsAcceptedAndTheNextFetchIsFull() {
        var s = FetchSession()
        _ = established(&s, [(a0, req(0))])
        let p = s.plan([(a0, req(1))], useTopicIds: true)
        #expect(s.handleResponse(errorCode: .noError, sessionId: 0, mentioned: [a0], sent: p) == .accept)
        let next = s.plan([(a0, req(2))], useTopicIds: true)
        #expect(next.isFull && next.sessionId == 0)
    }

    @Test func sessionlessBelowVersion7() {
        var s = FetchSession()
        let p = s.plan([(a0, req(0))], useTopicIds: false, sessionsSupported: false)
        #expect(p.isFull && p.epoch == -1 && p.sessionId == 0)
        #expect(s.handleResponse(errorCode: .noError, sessionId: 0, mentioned: [a0], sent: p) == .accept)
        #expect(s.isFull && s.sessionId == 0)
    }

    /// A response naming a partition twice would have its records delivered twice: rejected
    /// in every mode (full, incremental, sessionless); so is, sessionless, one not asked for.
    @Test func aPartitionNamedTwiceIsRejected() {
        var s = FetchSession()
        let full = s.plan([(a0, req(0)), (a1, req(0))], useTopicIds: true)
        #expect(s.handleResponse(errorCode: .noError, sessionId: 42, mentioned: [a0, a1, a0], sent: full) != .accept)
        #expect(s.isFull)
        _ = established(&s, [(a0, req(0)), (a1, req(0))])
        let inc = s.plan([(a0, req(1)), (a1, req(0))], useTopicIds: true)
        #expect(s.handleResponse(errorCode: .noError, sessionId: 42, mentioned: [a0, a0], sent: inc) != .accept)
        #expect(s.isFull && s.sessionId == 42, "the next fetch is full and replaces the session")

        var old = FetchSession()
        let p = old.plan([(a0, req(0))], useTopicIds: false, sessionsSupported: false)
        #expect(old.handleResponse(errorCode: .noError, sessionId: 0, mentioned: [a0, a0], sent: p) != .accept)
        #expect(old.handleResponse(errorCode: .noError, sessionId: 0, mentioned: [a0, b0], sent: p) != .accept)
        #expect(old.handleResponse(errorCode: .noError, sessionId: 0, mentioned: [a0], sent: p) == .accept)
    }
}
