/// How many bytes of batches one Produce request to one broker may carry: the request-size
/// window of a `SinkState`. Today it stays at `max.request.size`; the adaptive policy of issue 12
/// (an AIMD window that shrinks when a connection dies mid-request and grows back on answers)
/// changes only the two event methods below, not its callers.
///
/// A drain always takes at least one batch, whatever the limit, so a window smaller than a
/// sealed batch slows the broker's traffic but never stalls it.
struct RequestSizeWindow: Sendable, Equatable {
    /// `max.request.size`: the window never grows past it.
    let ceiling: Int
    /// The bytes the next request may carry.
    private(set) var limit: Int

    /// A window at `maxRequestSize`.
    init(maxRequestSize: Int) {
        ceiling = maxRequestSize
        limit = maxRequestSize
    }

    /// The broker answered a request (whatever the per-partition codes): the link carried it.
    mutating func requestAnswered() {}

    /// A request died with its connection (or timed out unanswered).
    mutating func connectionLost() {}
}
