import Synchronization

/// How far the `records` iterator has got inside the chunk it holds, without taking the
/// consumer's lock per record: two relaxed atomic stores per record.
///
/// `delivered` is the offset after the record most recently handed out; `processed` the offset
/// after the record before it (asking for the next record means the previous one is done).
/// `epoch` changes when the held chunk becomes stale (seek, reassignment, revocation); the
/// iterator then drops the rest of it. Exact for one iterator at a time; with several
/// concurrent iterators a chunk counts as delivered when it is taken.
final class ReaderProgress: Sendable {
    let delivered = Atomic<Int64>(-1)
    let processed = Atomic<Int64>(-1)
    let epoch = Atomic<UInt64>(0)

    /// A new chunk is held: no record of it handed out yet. Returns the epoch to check against.
    func begin() -> UInt64 {
        delivered.store(-1, ordering: .relaxed)
        processed.store(-1, ordering: .relaxed)
        return epoch.load(ordering: .relaxed)
    }

    /// The held chunk is stale.
    func invalidate() {
        epoch.add(1, ordering: .relaxed)
        delivered.store(-1, ordering: .relaxed)
        processed.store(-1, ordering: .relaxed)
    }
}
