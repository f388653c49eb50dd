extension Duration {
    /// This duration as a Kafka `*_ms` Int32 field (timeouts, session and rebalance timeouts,
    /// max wait): the one conversion every request builder uses.
    ///
    /// Saturating, never trapping: negative durations give 0 and durations beyond
    /// `Int32.max` ms give `Int32.max`. A partial millisecond rounds *up*, so a positive
    /// duration never becomes 0 — in Kafka a 0 timeout means "do not wait at all"
    /// (Produce with acks=-1 would fail with REQUEST_TIMED_OUT at once), which is never what a
    /// positive setting like `request.timeout.ms=0.5` asked for; 1.5 ms becomes 2 ms for the
    /// same reason (a timeout is never shortened).
    var int32Milliseconds: Int32 {
        let c = components
        if c.seconds < 0 || (c.seconds == 0 && c.attoseconds <= 0) { return 0 }
        // attoseconds is in (-1e18, 1e18) with the sign of the duration; here it is >= 0.
        let attosPerMs: Int64 = 1_000_000_000_000_000
        let (wholeMs, partial) = c.attoseconds.quotientAndRemainder(dividingBy: attosPerMs)
        let limit = Int64(Int32.max)
        guard c.seconds <= limit / 1000 else { return Int32.max }
        let ms = c.seconds * 1000 + wholeMs + (partial > 0 ? 1 : 0)
        return Int32(clamping: ms)
    }
}
