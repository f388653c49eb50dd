#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import KafkaClient
import KafkaTestSupport

/// `flush()` returns only after every delivery report ran (commit 3f38612). Two leaders: broker
/// 1's batch completes first and its report is slow; broker 2's answer arrives while that
/// report still runs and leaves the machine idle. Before the fix flush woke on that idleness
/// and returned with broker 1's report unfinished.
@Suite struct ProducerFlushRaceTests {
    @Test(.timeLimit(.minutes(1)))
    func flushWaitsForASlowReportOfAnotherBroker() async throws {
        let cluster = FakeCluster()
        let one = try cluster.startBroker(nodeId: 1)
        let two = try cluster.startBroker(nodeId: 2)
        defer { one.stop(); two.stop() }
        cluster.createTopic("t", partitions: 2, leader: 1)
        cluster.moveLeader("t", 1, to: 2)
        // Broker 2 answers while broker 1's report is still running.
        cluster.delayProduceAnswers(broker: 2, by: .milliseconds(200))
        let finished = Atomic<Int>(0)
        let p = try KafkaProducer(properties: ["bootstrap.servers": one.address, "linger.ms": "0", "request.timeout.ms": "5000"]) { report in
            // A slow application callback. It blocks its thread on purpose: the callback is
            // synchronous, and this is the slowness flush must wait for.
            if report.topicPartition.partition == 0 { usleep(800_000) }
            finished.add(1, ordering: .sequentiallyConsistent)
        }
        // Leaders known first, so both batches go out in one drain.
        _ = try await p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "warm-0"))
        _ = try await p.send(ProducerRecord(topic: "t", partition: 1, key: nil, value: "warm-1"))
        _ = try p.enqueue(ProducerRecord(topic: "t", partition: 0, key: nil, value: "a"))
        _ = try p.enqueue(ProducerRecord(topic: "t", partition: 1, key: nil, value: "b"))
        try await p.flush()
        #expect(finished.load(ordering: .sequentiallyConsistent) == 2, "flush returned before every delivery report ran")
        #expect(cluster.endOffset("t", 0) == 2 && cluster.endOffset("t", 1) == 2)
        await p.close()
    }
}
