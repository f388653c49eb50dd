/// How many bytes of batches one Produce request to one broker may carry, and how large new
/// batches for that broker's partitions may grow: the request-size window of a `SinkState`, an
/// AIMD rule (as TCP's congestion window) fed by how requests end.
///
/// - A request that dies with its connection, or times out unanswered, after it was written
///   halves the window (down to `floor`): the link did not carry that much. Requests that were
///   already in flight when it shrank are the same loss (a cut kills every request on the
///   connection), so their failures do not shrink it again.
/// - Each answer (whatever its per-partition codes: the link carried the request) grows it by
///   `step`, back up to `ceiling` (`max.request.size`).
///
/// It bounds two things: the bytes of a drain (which still always takes one batch, so a window
/// smaller than a sealed batch slows the broker's traffic but never stalls it) and the
/// effective `batch.size` of batches filled from now on. It never changes a batch that is
/// already sealed with a sequence number or may have been written: the accumulator only
/// re-splits batches that never left the producer (see `ProducerBatch.splitForWindow`, called at drain by `RecordAccumulator`).
///
/// Why these numbers: the link (cuts after 200–600 KB of client bytes per connection)
/// makes every 1 MB request fail; halving reaches one ~150 KB batch per request within three
/// losses, and growing by 1/16 of the ceiling per answer (64 KiB at the default) regains the full
/// window in 16 answers — milliseconds on a healthy link, so a single glitch costs little.
struct RequestSizeWindow: Sendable, Equatable {
    /// `max.request.size`: the window never grows past it.
    let ceiling: Int
    /// The window never shrinks below this (16 KiB, or the ceiling when smaller): below it,
    /// request overhead dominates and a batch is sent alone anyway.
    let floor: Int
    /// Bytes one answer adds back.
    let step: Int
    /// The bytes the next request may carry.
    private(set) var limit: Int
    /// Requests with serials up to this one were already sent when the window last shrank.
    private var shrunkAfter: UInt64 = 0

    /// A window at `maxRequestSize`.
    init(maxRequestSize: Int) {
        ceiling = max(1, maxRequestSize)
        floor = min(ceiling, 16 * 1024)
        step = max(ceiling / 16, 1024)
        limit = ceiling
    }

    /// Whether the window is below its ceiling (batches for its broker are kept smaller).
    var isReduced: Bool { limit < ceiling }

    /// The broker answered a request (whatever the per-partition codes): the link carried it.
    mutating func requestAnswered() {
        limit = min(ceiling, limit + step)
    }

    /// Request `serial` died with its connection (or timed out unanswered) after it was
    /// written; `lastSent` is the newest serial sent so far. Shrinks once per loss event.
    mutating func connectionLost(serial: UInt64, lastSent: UInt64) {
        guard serial > shrunkAfter else { return }
        shrunkAfter = max(lastSent, serial)
        limit = max(floor, limit / 2)
    }
}
