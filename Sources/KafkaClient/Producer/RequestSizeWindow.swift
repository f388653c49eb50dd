/// How many bytes of batches one Produce request to one broker may carry, and how large new
/// batches for that broker's partitions may grow: the request-size window of a `SinkState`, an
/// AIMD rule (as TCP's congestion window) fed by how requests end.
///
/// - A request that dies with its connection, or times out unanswered, after it was written
///   halves the window (down to `floor`): the link did not carry that much. Requests that were
///   already in flight when it shrank are the same loss (a cut kills every request on the
///   connection), so their failures do not shrink it again.
/// - Answers grow it by `step` for each window's worth of bytes they carried (whatever their
///   per-partition codes: the link carried the request), back up to `ceiling`
///   (`max.request.size`) — TCP's congestion avoidance, where the window grows by one segment per
///   window of data acknowledged. Growth per *answer* would let a stream of small requests on a
///   link that dies every 300–500 KB push the window past what any connection carries.
/// - It starts at `step` (1/16 of the ceiling), not at the ceiling. A request that is written
///   (into the kernel's buffers, so "may be in the log") and then lost with its connection must
///   be resent whole, forever the same size: if the first requests were 1 MB on a link that
///   carries 300–500 KB per connection, their batches could never get through. Starting small,
///   the window finds the link's size from below; on a healthy link full requests take it to the
///   ceiling in 15 answers, milliseconds.
///
/// It bounds two things: the bytes of a drain (which still always takes one batch, so a window
/// smaller than a sealed batch slows the broker's traffic but never stalls it) and the
/// effective `batch.size` of batches filled from now on. It never changes a batch that may have
/// been written: the accumulator re-splits only `sealed` batches, which are certainly not in the
/// log (see `ProducerBatch.splitForWindow`, called at drain by `RecordAccumulator`).
///
/// Why these numbers: the link (cuts after 200–600 KB of client bytes per connection)
/// makes every 1 MB request fail; halving reaches one ~150 KB batch per request within three
/// losses, and growing by 1/16 of the ceiling per window's worth of answered bytes (64 KiB at the
/// default) regains the full window within a few megabytes carried — milliseconds on a healthy
/// link, so a single glitch costs little.
struct RequestSizeWindow: Sendable, Equatable {
    /// `max.request.size`: the window never grows past it.
    let ceiling: Int
    /// The window never shrinks below this (16 KiB, or the ceiling when smaller): below it,
    /// request overhead dominates and a batch is sent alone anyway.
    let floor: Int
    /// Bytes a window's worth of answered bytes adds back (1/16 of the ceiling, at least 1 KiB).
    let step: Int
    /// The bytes the next request may carry.
    private(set) var limit: Int
    /// Answered bytes not yet turned into growth (less than one window).
    private var credit = 0
    /// Requests with serials up to this one were already sent when the window last shrank.
    private var shrunkAfter: UInt64 = 0

    /// A window for `maxRequestSize`, starting at one `step` (see above).
    init(maxRequestSize: Int) {
        ceiling = max(1, maxRequestSize)
        floor = min(ceiling, 16 * 1024)
        step = max(ceiling / 16, 1024)
        limit = min(ceiling, max(floor, step))
    }

    /// Whether the window is below its ceiling (batches for its broker are kept smaller).
    var isReduced: Bool { limit < ceiling }

    /// The broker answered a request of `bytes` (whatever the per-partition codes: the link
    /// carried it): one `step` more per window's worth of answered bytes.
    mutating func requestAnswered(bytes: Int) {
        guard limit < ceiling else { return }
        credit += max(bytes, 0)
        while credit >= limit && limit < ceiling {
            credit -= limit
            limit = min(ceiling, limit + step)
        }
        if limit == ceiling { credit = 0 }
    }

    /// Request `serial` died with its connection (or timed out unanswered) after it was
    /// written; `lastSent` is the newest serial sent so far. Shrinks once per loss event.
    mutating func connectionLost(serial: UInt64, lastSent: UInt64) {
        guard serial > shrunkAfter else { return }
        shrunkAfter = max(lastSent, serial)
        limit = max(floor, limit / 2)
        credit = 0
    }
}
