/// The placement engine of the cooperative-sticky assignor: a balanced assignment that keeps as
/// many currently owned partitions where they are as balance allows.
///
/// Everything is indexed: topics (sorted, only those with partitions and a subscriber) get
/// consecutive partition ids, members are in `AssignorOrder.memberLess` order, and every decision
/// walks arrays in index order, so the result depends only on the input, never on hashing.
///
/// Two paths, as in Java's `AbstractStickyAssignor`:
/// - every member subscribes to the same topics (`constrained`): each member may keep up to its
///   quota (`floor` or `ceil` of partitions / members) of what it owns, the rest is dealt out
///   round-robin to the members below quota. Exactly balanced (counts differ by at most one).
/// - uneven subscriptions (`general`): every member keeps all it owns and may still read; free
///   partitions go, topic with the fewest subscribers first, to the least loaded subscriber; then
///   partitions move along shortest "can take it" chains from a member to one with at least two
///   fewer partitions until no such chain exists. No such chain means the sum of squared loads is
///   minimal (the optimality condition of a convex transportation problem), i.e. as balanced as
///   the subscriptions allow — Java's heuristic only tries direct moves and can stop earlier.
struct StickyBalancer {
    /// The members, sorted.
    let members: [GroupMemberSubscription]
    /// Topic names by topic index (sorted by `AssignorOrder.less`).
    let topicNames: [String]
    /// Partition id of partition 0 of each topic; a topic's ids are consecutive.
    let topicBase: [Int]
    /// The topic index of each partition id.
    let topicOf: [Int]
    /// Topic indices each member subscribes to (ascending).
    let subscriptions: [[Int]]
    /// Member indices subscribed to each topic (ascending).
    let subscribers: [[Int]]
    /// Per member: topic index -> position in `subscriptions[m]`.
    let subscriptionPosition: [[Int: Int]]
    /// Per partition id: whether any member says it owns it (whatever that member's subscription
    /// or generation).
    let isClaimed: [Bool]
    /// Per partition id: the member that keeps it if balance allows (-1: none). A member keeps a
    /// claimed partition of a topic it still subscribes to; of several claimants the one with the
    /// highest generation wins; a tie for the highest generation invalidates every claim.
    let previousOwner: [Int]

    var partitionCount: Int { topicOf.count }

    init(members unsorted: [GroupMemberSubscription], partitionsPerTopic: [String: Int32], generation: (GroupMemberSubscription) -> Int32) {
        let members = AssignorOrder.sortedMembers(unsorted)
        self.members = members
        var live = Set<String>()
        for m in members { for t in m.topics where (partitionsPerTopic[t] ?? 0) > 0 { live.insert(t) } }
        topicNames = live.sorted(by: AssignorOrder.less)
        var topicIndex: [String: Int] = [:]
        var base: [Int] = []
        var topicOf: [Int] = []
        for (t, name) in topicNames.enumerated() {
            topicIndex[name] = t
            base.append(topicOf.count)
            topicOf.append(contentsOf: repeatElement(t, count: Int(partitionsPerTopic[name] ?? 0)))
        }
        topicBase = base
        self.topicOf = topicOf
        let subscriptions = members.map { m in Set(m.topics.compactMap { topicIndex[$0] }).sorted() }
        self.subscriptions = subscriptions
        var subscribers = [[Int]](repeating: [], count: topicNames.count)
        for (m, subs) in subscriptions.enumerated() { for t in subs { subscribers[t].append(m) } }
        self.subscribers = subscribers
        let positions = subscriptions.map { subs in
            Dictionary(uniqueKeysWithValues: subs.enumerated().map { ($1, $0) })
        }
        subscriptionPosition = positions

        func partitionId(_ tp: TopicPartition) -> Int? {
            guard let t = topicIndex[tp.topic], tp.partition >= 0 else { return nil }
            let p = Int(tp.partition)
            return p < (t + 1 < base.count ? base[t + 1] : topicOf.count) - base[t] ? base[t] + p : nil
        }

        var lastClaimant = [Int](repeating: -1, count: topicOf.count)  // skips repeats in one member's list
        var isClaimed = [Bool](repeating: false, count: topicOf.count)
        var winner = [Int](repeating: -1, count: topicOf.count)
        var winnerGeneration = [Int32](repeating: 0, count: topicOf.count)
        var tied = [Bool](repeating: false, count: topicOf.count)
        for (m, member) in members.enumerated() {
            let g = generation(member)
            for tp in member.ownedPartitions {
                guard let pid = partitionId(tp), lastClaimant[pid] != m else { continue }
                lastClaimant[pid] = m
                isClaimed[pid] = true
                // A partition of a topic the member dropped is revoked, never kept.
                guard positions[m][topicOf[pid]] != nil else { continue }
                if winner[pid] < 0 || g > winnerGeneration[pid] {
                    winner[pid] = m
                    winnerGeneration[pid] = g
                    tied[pid] = false
                } else if g == winnerGeneration[pid] {
                    tied[pid] = true
                }
            }
        }
        self.isClaimed = isClaimed
        previousOwner = zip(winner, tied).map { $1 ? -1 : $0 }
    }

    func topicPartition(_ pid: Int) -> TopicPartition {
        let t = topicOf[pid]
        return TopicPartition(topic: topicNames[t], partition: Int32(pid - topicBase[t]))
    }

    /// The balanced, sticky owner of every partition id (-1 only for a partition nobody can take,
    /// which cannot happen: every topic indexed has a subscriber).
    func owners() -> [Int] {
        guard partitionCount > 0, !members.isEmpty else { return [Int](repeating: -1, count: partitionCount) }
        if subscriptions.allSatisfy({ $0 == subscriptions[0] }) { return constrained() }
        var general = GeneralPlacement(self)
        general.placeFree()
        general.balance()
        return general.owner
    }

    /// All members subscribe to the same topics: quotas, then round-robin (Java's
    /// `ConstrainedAssignmentBuilder`, without racks).
    private func constrained() -> [Int] {
        let memberCount = members.count
        let minQuota = partitionCount / memberCount
        let maxQuota = (partitionCount + memberCount - 1) / memberCount
        let expectedOverMin = partitionCount % memberCount
        var overMin = 0
        var owner = [Int](repeating: -1, count: partitionCount)
        var load = [Int](repeating: 0, count: memberCount)

        var ownedBy = [[Int]](repeating: [], count: memberCount)
        for pid in 0 ..< partitionCount where previousOwner[pid] >= 0 { ownedBy[previousOwner[pid]].append(pid) }
        var underMin: [Int] = []
        var atMin: [Int] = []  // may still take one more while overMin < expectedOverMin
        for m in 0 ..< memberCount {
            // Java keeps the lowest partition numbers first, across topics.
            let owned = ownedBy[m].sorted { a, b in
                let pa = a - topicBase[topicOf[a]], pb = b - topicBase[topicOf[b]]
                return pa != pb ? pa < pb : topicOf[a] < topicOf[b]
            }
            let keep: Int
            if owned.count < minQuota {
                keep = owned.count
                underMin.append(m)
            } else if owned.count >= maxQuota && overMin < expectedOverMin {
                keep = maxQuota
                overMin += 1
            } else {
                keep = minQuota
                if overMin < expectedOverMin { atMin.append(m) }
            }
            for pid in owned.prefix(keep) { owner[pid] = m }
            load[m] = keep
        }

        var free = (0 ..< partitionCount).filter { owner[$0] < 0 }[...]
        // Deal to the members below minQuota in turn; each one reaching it may later take one more.
        while !underMin.isEmpty, !free.isEmpty {
            var stillUnder: [Int] = []
            for m in underMin {
                guard let pid = free.popFirst() else { stillUnder.append(m); continue }
                owner[pid] = m
                load[m] += 1
                if load[m] < minQuota { stillUnder.append(m) } else { atMin.append(m) }
            }
            underMin = stillUnder
        }
        var next = atMin[...]
        while let pid = free.popFirst() {
            // The quotas add up to the partition count, so a member at minQuota is always left
            // here; the fallback only keeps a bug from dropping a partition.
            let m = next.popFirst() ?? (0 ..< memberCount).min { load[$0] < load[$1] } ?? 0
            owner[pid] = m
            load[m] += 1
        }
        return owner
    }
}

/// The uneven-subscription path of `StickyBalancer`: keep, place free partitions, then move
/// partitions along augmenting chains until balanced.
private struct GeneralPlacement {
    let base: StickyBalancer
    var owner: [Int]
    var load: [Int]
    /// held[m][k]: the partition ids member m holds of topic `subscriptions[m][k]`.
    var held: [[[Int]]]
    // Breadth-first search scratch, reused between searches (stamps avoid clearing).
    var memberStamp: [Int]
    var topicStamp: [Int]
    var stamp = 0
    var parentMember: [Int]
    var parentTopic: [Int]
    var discovered: [Int] = []

    init(_ base: StickyBalancer) {
        self.base = base
        let memberCount = base.members.count
        owner = base.previousOwner
        load = [Int](repeating: 0, count: memberCount)
        held = base.subscriptions.map { [[Int]](repeating: [], count: $0.count) }
        memberStamp = [Int](repeating: 0, count: memberCount)
        topicStamp = [Int](repeating: 0, count: base.topicNames.count)
        parentMember = [Int](repeating: -1, count: memberCount)
        parentTopic = [Int](repeating: -1, count: memberCount)
        for pid in 0 ..< owner.count where owner[pid] >= 0 { give(pid, to: owner[pid]) }
    }

    private mutating func give(_ pid: Int, to m: Int) {
        let k = base.subscriptionPosition[m][base.topicOf[pid]]!  // only subscribers ever receive
        held[m][k].append(pid)
        owner[pid] = m
        load[m] += 1
    }

    /// Free partitions, topics with the fewest subscribers first (they have the fewest places to
    /// go), each to its least loaded subscriber.
    mutating func placeFree() {
        let free = (0 ..< owner.count).filter { owner[$0] < 0 }.sorted { a, b in
            let ta = base.topicOf[a], tb = base.topicOf[b]
            let ca = base.subscribers[ta].count, cb = base.subscribers[tb].count
            return ca != cb ? ca < cb : a < b  // ids already order by (topic, partition)
        }
        for pid in free {
            let candidates = base.subscribers[base.topicOf[pid]]
            guard var best = candidates.first else { continue }
            for m in candidates.dropFirst() where load[m] < load[best] { best = m }
            give(pid, to: best)
        }
    }

    /// Moves partitions until no member can pass one, directly or along a chain, to a member with
    /// at least two fewer. Always from the most loaded member that can shed one, to the least
    /// loaded it can reach, so that no member is drained below its share and refilled from
    /// elsewhere (each extra move would be a needless revocation). Each move lowers the sum of
    /// squared loads by at least 2, so this ends.
    mutating func balance() {
        // Members subscribed to nothing reachable never give or receive.
        let active = load.indices.filter { !base.subscriptions[$0].isEmpty }
        guard !active.isEmpty else { return }
        while true {
            var floor = Int.max, top = active[0]
            for m in active {
                floor = min(floor, load[m])
                if load[m] > load[top] { top = m }
            }
            if load[top] < floor + 2 { return }  // within one everywhere: balanced
            if relieve(top) { continue }
            // The most loaded member cannot shed one (nobody who could take its partitions has
            // two fewer); try the others, most loaded first.
            var moved = false
            let order = active.sorted { load[$0] != load[$1] ? load[$0] > load[$1] : $0 < $1 }
            for source in order where source != top {
                if load[source] < floor + 2 { break }
                if relieve(source) {
                    moved = true
                    break
                }
            }
            if !moved { return }
        }
    }

    /// One step from `source`: every member the search reached at the lowest load (at least two
    /// below the source) gets one partition along its chain, in search order, while the chain
    /// still holds and the source stays two above it — the moves one-at-a-time steps would make,
    /// with one search instead of one per move (a member joining a big group, or many joining at
    /// once, stays near linear). Returns false when no member can take one from `source`.
    private mutating func relieve(_ source: Int) -> Bool {
        guard let first = search(from: source) else { return false }
        let level = load[first]
        var moved = false
        for y in discovered where load[y] == level && y != source {
            guard load[source] >= level + 2 else { break }
            if chainHolds(to: y, from: source) {
                shift(from: source, to: y)
                moved = true
            }
        }
        if !moved { shift(from: source, to: first) }  // `first`'s chain is fresh from the search
        return true
    }

    /// Whether every link of the recorded chain from `source` to `target` still has a partition of
    /// its topic to pass on (earlier moves of the same step may have used them up).
    private func chainHolds(to target: Int, from source: Int) -> Bool {
        var y = target
        while y != source {
            let x = parentMember[y]
            guard let k = base.subscriptionPosition[x][parentTopic[y]], !held[x][k].isEmpty else { return false }
            y = x
        }
        return true
    }

    /// Breadth-first over "member → topic it holds → members subscribed to that topic". Returns
    /// the reachable member with the smallest load if that is at least two below the source's
    /// (the nearest such member on ties), recording the chain in `parentMember`/`parentTopic` and
    /// the members reached, in order, in `discovered`.
    private mutating func search(from source: Int) -> Int? {
        discovered.removeAll(keepingCapacity: true)
        guard load[source] >= 2 else { return nil }
        stamp += 1
        memberStamp[source] = stamp
        discovered.append(source)
        var head = 0
        var best: Int?
        while head < discovered.count {
            let x = discovered[head]
            head += 1
            let topics = base.subscriptions[x]
            for k in 0 ..< topics.count {
                let t = topics[k]
                guard topicStamp[t] != stamp, !held[x][k].isEmpty else { continue }
                // Expanding a topic once is enough: its subscribers are all reached the first time.
                topicStamp[t] = stamp
                for y in base.subscribers[t] where memberStamp[y] != stamp {
                    memberStamp[y] = stamp
                    parentMember[y] = x
                    parentTopic[y] = t
                    discovered.append(y)
                    if load[y] <= load[source] - 2, best.map({ load[y] < load[$0] }) ?? true { best = y }
                }
            }
        }
        return best
    }

    /// Passes one partition along each link of the chain ending at `target`: the source loses
    /// one, the target gains one, members in between are unchanged.
    private mutating func shift(from source: Int, to target: Int) {
        var y = target
        while y != source {
            let x = parentMember[y], t = parentTopic[y]
            let k = base.subscriptionPosition[x][t]!
            guard !held[x][k].isEmpty else { return }  // cannot happen: chains are checked first
            // Prefer a partition x did not own before this rebalance: moving it revokes nothing.
            var i = held[x][k].count - 1
            var j = i
            while j >= 0 {
                if base.previousOwner[held[x][k][j]] != x {
                    i = j
                    break
                }
                j -= 1
            }
            let pid = held[x][k].remove(at: i)
            load[x] -= 1
            give(pid, to: y)
            y = x
        }
    }
}
