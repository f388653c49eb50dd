import Testing
import KafkaClient
import KafkaTestSupport

/// The shared fold the group suites judge ownership by.
@Suite struct RebalanceEventsTests {
    @Test func assignedAddsRevokedAndLostRemoveInOrder() {
        let p = (0 ..< 4).map { TopicPartition(topic: "t", partition: Int32($0)) }
        #expect(RebalanceEvents.owned(after: []).isEmpty)
        #expect(RebalanceEvents.owned(after: [.assigned([p[0], p[1]]), .revoked([p[1]]), .assigned([p[2]])]) == [p[0], p[2]])
        #expect(RebalanceEvents.owned(after: [.assigned([p[0], p[3]]), .lost([p[0], p[3]])]).isEmpty)
        #expect(RebalanceEvents.owned(after: [.revoked([p[0]]), .assigned([p[0]])]) == [p[0]], "order matters")
    }
}
