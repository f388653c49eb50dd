import KafkaProtocol

/// Messages whose topic has no metadata yet, held (and counted against `buffer.memory`) until
/// it arrives or `delivery.timeout.ms` passes. Pure; time is passed in.
struct MetadataWaitList: Sendable {
    /// One message waiting for its topic's metadata.
    struct Entry: Sendable {
        var record: ProducerRecord
        var timestamp: Int64
        var completion: Completion
        var size: Int
        var since: ContinuousClock.Instant
    }

    private(set) var byTopic: [String: [Entry]] = [:]
    /// Bytes held, as estimated for `buffer.memory`.
    private(set) var bytes = 0

    var isEmpty: Bool { byTopic.isEmpty }
    var count: Int { byTopic.values.reduce(0) { $0 + $1.count } }

    /// When the oldest message times out (nil when none waits).
    func nextDeadline(timeout: Duration) -> ContinuousClock.Instant? {
        byTopic.values.lazy.flatMap { $0 }.map(\.since).min().map { $0 + timeout }
    }

    mutating func add(_ e: Entry) {
        byTopic[e.record.topic, default: []].append(e)
        bytes += e.size
    }

    /// Takes the messages of `topic` (its metadata arrived).
    mutating func take(_ topic: String) -> [Entry] {
        guard let list = byTopic.removeValue(forKey: topic) else { return [] }
        for e in list { bytes -= e.size }
        return list
    }

    /// The topics that have waiting messages.
    var topics: [String] { Array(byTopic.keys) }

    /// Takes every message that waited `timeout` or longer by `now`.
    mutating func expire(now: ContinuousClock.Instant, timeout: Duration) -> [Entry] {
        var out: [Entry] = []
        for (topic, list) in byTopic where list.contains(where: { now - $0.since >= timeout }) {
            let young = list.filter { now - $0.since < timeout }
            out += list.filter { now - $0.since >= timeout }
            byTopic[topic] = young.isEmpty ? nil : young
        }
        for e in out { bytes -= e.size }
        return out
    }

    /// Takes everything.
    mutating func takeAll() -> [Entry] {
        let all = byTopic.values.flatMap { $0 }
        byTopic = [:]
        bytes = 0
        return all
    }
}
