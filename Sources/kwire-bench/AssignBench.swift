import KafkaClient
import KafkaProtocol

/// `kwire-bench assign`: how long the group leader's assignors take, one JSON line per scenario.
///
/// Scenarios for `members` members and `partitions` partitions spread over `topics` topics:
/// - `fresh`: nobody owns anything (the first rebalance),
/// - `join`: one member joins a settled group (the others own their share),
/// - `leave`: one member of a settled group is gone,
/// - `scale_out`: one member owned everything and all the others join at once,
/// - `uneven_*`: the same with every other member subscribed to half the topics only
///   (cooperative-sticky's general path).
/// Each is run `runs` times; the line gives the fastest and the median in milliseconds. Meant for
/// debug builds too: the leader must answer well within the rebalance timeout either way.
enum AssignBench {
    struct Options {
        var members = 100
        var partitions = 1000
        var topics = 10
        var runs = 5
    }

    static func run(_ o: Options) {
        let topicNames = (0 ..< o.topics).map { "topic-\($0)" }
        var counts: [String: Int32] = [:]
        for (i, t) in topicNames.enumerated() {
            counts[t] = Int32(o.partitions / o.topics + (i < o.partitions % o.topics ? 1 : 0))
        }
        let half = Array(topicNames.prefix(max(1, o.topics / 2)))
        for name in PartitionAssignors.names {
            guard let assignor = try? PartitionAssignors.named(name) else { continue }
            for uneven in [false, true] {
                let members = (0 ..< o.members).map { i in
                    GroupMemberSubscription(memberId: "consumer-\(i)-3f1c2a9e-5b7d-4e61-9a0b-\(i)", topics: uneven && i % 2 == 1 ? half : topicNames)
                }
                let prefix = uneven ? "uneven_" : ""
                time(assignor, "\(prefix)fresh", members, counts, o)
                guard assignor.rebalanceProtocol == .cooperative else { continue }
                // A settled group: everyone owns what a fresh run gave it.
                let fresh = assignor.assign(members: members, partitionsPerTopic: counts)
                let settled = members.map { m in
                    var m = m
                    m.ownedPartitions = fresh[m.memberId] ?? []
                    m.generationId = 1
                    return m
                }
                let joiner = GroupMemberSubscription(memberId: "consumer-new", topics: topicNames, generationId: 1)
                time(assignor, "\(prefix)join", settled + [joiner], counts, o)
                if !uneven { time(assignor, "leave", Array(settled.dropFirst()), counts, o) }
                var scaleOut = members
                scaleOut[0].ownedPartitions = counts.keys.sorted().flatMap { t in (0 ..< counts[t]!).map { TopicPartition(topic: t, partition: $0) } }
                scaleOut[0].generationId = 1
                time(assignor, "\(prefix)scale_out", scaleOut, counts, o)
            }
        }
    }

    static func time(_ assignor: any PartitionAssignor, _ scenario: String, _ members: [GroupMemberSubscription], _ counts: [String: Int32], _ o: Options) {
        let clock = ContinuousClock()
        var samples: [Double] = []
        var assigned = 0
        for _ in 0 ..< max(1, o.runs) {
            let start = clock.now
            let out = assignor.assign(members: members, partitionsPerTopic: counts)
            let elapsed = clock.now - start
            samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
            assigned = out.values.reduce(0) { $0 + $1.count }
        }
        samples.sort()
        let sizes = assignor.assign(members: members, partitionsPerTopic: counts).values.map(\.count)
        Micro.emit([
            ("measurement", .string("assign_\(assignor.name)_\(scenario)")),
            ("members", .int(Int64(members.count))),
            ("partitions", .int(Int64(counts.values.reduce(0) { $0 + Int($1) }))),
            ("assigned", .int(Int64(assigned))),
            ("min_per_member", .int(Int64(sizes.min() ?? 0))),
            ("max_per_member", .int(Int64(sizes.max() ?? 0))),
            ("fastest_ms", .double(Micro.round(samples[0], 3))),
            ("median_ms", .double(Micro.round(samples[samples.count / 2], 3))),
        ])
    }
}
