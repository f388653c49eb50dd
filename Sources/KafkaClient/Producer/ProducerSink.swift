import KafkaProtocol
import KafkaNet

/// One broker's sink, the I/O half: turns a `ProduceRequestPlan` into a Produce request on that
/// broker's link and reports how it ended as the `ProducerEvent` to feed back. Which requests
/// are in flight and how large they may be is the pure half, `SinkState`, inside the machine.
struct ProducerSink: Sendable {
    let broker: Int32
    let cluster: Cluster
    let acks: ProducerConfig.Acks
    let requestTimeout: Duration
    /// `transactional.id` (Produce carries it), nil when not transactional.
    var transactionalId: String? = nil

    /// Sends `plan` and returns its outcome as an event (never throws: every failure is an event).
    func send(_ plan: ProduceRequestPlan) async -> ProducerEvent {
        var byTopic: [String: [ProduceRequest.Partition]] = [:]
        for (tp, bytes) in plan.batches { byTopic[tp.topic, default: []].append(.init(index: tp.partition, records: bytes)) }
        let request = ProduceRequest(transactionalId: transactionalId, acks: acks.wireValue, timeoutMs: requestTimeout.int32Milliseconds, topicData: byTopic.map { .init(name: $0.key, partitionData: $0.value) })
        // Until the connection has the request, nothing was written: the batches stay "not
        // in the log" and a retry is not "outcome unknown".
        var written = false
        do {
            let connection = try await cluster.link(forNode: broker).connection()
            let version = try connection.version(for: ProduceRequest.self)
            written = true
            if acks == .none {
                try await connection.sendWithoutResponse(request, version: version, timeout: requestTimeout)
                return .writtenWithoutAnswer(plan.id)
            }
            let left = max(plan.deadline - .now, .milliseconds(1))
            let response = try await connection.send(request, version: version, timeout: min(requestTimeout, left))
            return .answered(plan.id, response, now: .now)
        } catch {
            let e = error as? KafkaError ?? KafkaError(.connection, "\(error)")
            return .failed(plan.id, e, written: written, now: .now)
        }
    }
}
