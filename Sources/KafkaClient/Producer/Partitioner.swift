import KafkaProtocol

/// Chooses a partition for a record that names none.
///
/// Keyed placement is deterministic: `.default` places a key on the same partition as the Java
/// client, kafka-python and librdkafka's `murmur2`/`murmur2_random`; `.consistentRandom` places it
/// as librdkafka's `consistent`/`consistent_random` does.
public enum Partitioner: Sendable {
    /// Kafka's default: `toPositive(murmur2(key)) % partitionCount` over all partitions (the Java
    /// client's `BuiltInPartitioner`/`Utils.murmur2`, so a key lands on the same partition as with
    /// Java and kafka-python). An empty key is a key. Records with a null key use the uniform
    /// sticky partitioner (KIP-480/KIP-794): one partition per topic until about `batch.size`
    /// bytes went to it, then another one chosen at random.
    case `default`
    /// librdkafka's `consistent_random`: `CRC32(key) % partitionCount` (CRC-32/IEEE, identical to
    /// librdkafka's `consistent`) for non-empty keys; a random partition for each record with a
    /// null or empty key.
    case consistentRandom
    /// Round-robin over the partitions (over the available ones when any are known), ignoring keys.
    case roundRobin
    /// A user hook: `(topic, key, partitionCount) -> partition index`. The result is used as is;
    /// the producer fails a record whose partition is outside `0 ..< partitionCount`.
    case custom(@Sendable (_ topic: String, _ key: [UInt8]?, _ partitionCount: Int32) -> Int32)
}

/// MurmurHash2 exactly as the Java client's `Utils.murmur2` (seed `0x9747b28c`), which decides
/// where the default partitioner puts a keyed record.
public enum Murmur2 {
    /// The hash of `data`, signed like Java's `int`.
    /// - Parameter data: The key bytes.
    /// - Returns: The hash.
    public static func hash(_ data: [UInt8]) -> Int32 {
        data.withUnsafeBufferPointer { hash($0) }
    }

    /// The hash of `data`, signed like Java's `int`.
    /// - Parameter data: The key bytes.
    /// - Returns: The hash.
    public static func hash(_ data: UnsafeBufferPointer<UInt8>) -> Int32 {
        let m: UInt32 = 0x5BD1_E995
        let count = data.count
        var h: UInt32 = 0x9747_B28C ^ UInt32(truncatingIfNeeded: count)
        var i = 0
        while count - i >= 4 {
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k &*= m
            k ^= k >> 24
            k &*= m
            h &*= m
            h ^= k
            i += 4
        }
        // The tail, as Java's fall-through switch on length % 4.
        let tail = count - i
        if tail == 3 { h ^= UInt32(data[i + 2]) << 16 }
        if tail >= 2 { h ^= UInt32(data[i + 1]) << 8 }
        if tail >= 1 {
            h ^= UInt32(data[i])
            h &*= m
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Java's `Utils.toPositive`: clears the sign bit (not the absolute value).
    /// - Parameter value: A hash.
    /// - Returns: `value & 0x7fffffff`.
    public static func toPositive(_ value: Int32) -> Int32 {
        value & 0x7FFF_FFFF
    }

    /// The default partitioner's partition for a non-null `key`: `toPositive(murmur2(key)) % partitionCount`.
    /// A non-positive `partitionCount` (no topic has one) yields 0 rather than trapping.
    /// - Parameters:
    ///   - key: The record's key.
    ///   - partitionCount: The topic's partition count.
    /// - Returns: The partition index.
    public static func partition(forKey key: [UInt8], partitionCount: Int32) -> Int32 {
        guard partitionCount > 0 else { return 0 }
        return toPositive(hash(key)) % partitionCount
    }
}

/// Per-producer partitioning state: the sticky partition of each topic (and how many bytes went
/// to it) and the round-robin counters. A value type without I/O or clocks; randomness comes from
/// the injected `random` function.
public struct PartitionChooser: Sendable {
    /// The configured strategy.
    public let partitioner: Partitioner
    /// How many bytes the sticky partitioner sends to one partition before it switches (≥ 1).
    public let batchSize: Int
    private let random: @Sendable () -> UInt64

    private struct Sticky {
        var partition: Int32
        var producedBytes: Int
    }
    private var sticky: [String: Sticky] = [:]
    private var roundRobinCounters: [String: UInt64] = [:]

    /// - Parameters:
    ///   - partitioner: the strategy.
    ///   - batchSize: `batch.size`: bytes produced to a sticky partition before switching
    ///     (values below 1 count as 1).
    ///   - random: uniformly distributed 64-bit values (injected for tests).
    public init(partitioner: Partitioner, batchSize: Int, random: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) }) {
        self.partitioner = partitioner
        self.batchSize = max(1, batchSize)
        self.random = random
    }

    /// The partition for a record of `size` bytes to `topic` with `partitionCount` partitions (and the
    /// subset `available` that currently have a leader, used for null keys when non-empty).
    ///
    /// Keyed records are hashed over all `partitionCount` partitions, whether or not they have a
    /// leader, as the Java client does, so that a key always maps to the same partition.
    /// Entries of `available` outside `0 ..< partitionCount` are ignored. A non-positive
    /// `partitionCount` (no topic has one; the producer never asks) yields 0 rather than trapping.
    /// - Parameters:
    ///   - topic: The record's topic.
    ///   - key: Its key; nil for a null key.
    ///   - size: Its size in bytes (the sticky partitioner counts them).
    ///   - partitionCount: The topic's partition count.
    ///   - available: The partitions that have a leader now.
    /// - Returns: The partition index.
    public mutating func partition(topic: String, key: [UInt8]?, size: Int, partitionCount: Int32, available: [Int32]) -> Int32 {
        guard partitionCount > 0 else { return 0 }
        switch partitioner {
        case .default:
            if let key { return Murmur2.partition(forKey: key, partitionCount: partitionCount) }
            return stickyPartition(topic: topic, size: size, partitionCount: partitionCount, available: available)
        case .consistentRandom:
            if let key, !key.isEmpty {
                return Int32(CRC32.checksum(key) % UInt32(partitionCount))
            }
            return pick(from: Self.usable(available, partitionCount), partitionCount: partitionCount, avoiding: nil)
        case .roundRobin:
            let counter = roundRobinCounters[topic, default: 0]
            roundRobinCounters[topic] = counter &+ 1
            let pool = Self.usable(available, partitionCount)
            if pool.isEmpty { return Int32(counter % UInt64(partitionCount)) }
            return pool[Int(counter % UInt64(pool.count))]
        case .custom(let hook):
            return hook(topic, key, partitionCount)
        }
    }

    /// Called when a batch for `topic`/`partition` was sealed (sent/full): if that is the topic's
    /// sticky partition, the next null-key record goes to another one. Stale calls (the sticky
    /// partition already moved on) change nothing.
    /// - Parameters:
    ///   - topic: The batch's topic.
    ///   - partition: The batch's partition.
    public mutating func batchCompleted(topic: String, partition: Int32) {
        guard case .default = partitioner, var state = sticky[topic], state.partition == partition else { return }
        state.producedBytes = max(state.producedBytes, batchSize)
        sticky[topic] = state
    }

    // MARK: - Sticky (KIP-794 uniform sticky, without the adaptive load statistics)

    private mutating func stickyPartition(topic: String, size: Int, partitionCount: Int32, available: [Int32]) -> Int32 {
        let pool = Self.usable(available, partitionCount)
        var state: Sticky
        if let current = sticky[topic], current.producedBytes < batchSize,
           current.partition < partitionCount, pool.isEmpty || pool.contains(current.partition) {
            state = current
        } else {
            // First record, enough bytes went to the current partition, or it lost its leader
            // (or the topic shrank): move to another partition.
            let next = pick(from: pool, partitionCount: partitionCount, avoiding: sticky[topic]?.partition)
            state = Sticky(partition: next, producedBytes: 0)
        }
        let (sum, overflow) = state.producedBytes.addingReportingOverflow(max(0, size))
        state.producedBytes = overflow ? .max : sum
        sticky[topic] = state
        return state.partition
    }

    // MARK: - Helpers

    /// A random partition from `pool` (or from all partitions when `pool` is empty), other than
    /// `avoiding` whenever there is another candidate.
    private func pick(from pool: [Int32], partitionCount: Int32, avoiding: Int32?) -> Int32 {
        if pool.isEmpty {
            let n = UInt64(partitionCount)
            guard let avoiding, avoiding >= 0, avoiding < partitionCount, n > 1 else {
                return Int32(random() % n)
            }
            // Uniform over the other n - 1 partitions.
            let r = Int32(random() % (n - 1))
            return r >= avoiding ? r + 1 : r
        }
        var candidates = pool
        if let avoiding {
            let others = pool.filter { $0 != avoiding }
            if !others.isEmpty { candidates = others }
        }
        return candidates[Int(random() % UInt64(candidates.count))]
    }

    /// The entries of `available` that are valid partitions (`available` itself in the usual case).
    private static func usable(_ available: [Int32], _ partitionCount: Int32) -> [Int32] {
        if available.allSatisfy({ $0 >= 0 && $0 < partitionCount }) { return available }
        return available.filter { $0 >= 0 && $0 < partitionCount }
    }
}
