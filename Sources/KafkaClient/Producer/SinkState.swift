/// The pure half of one broker's sink: its requests awaiting answers and its request-size
/// window. Kept inside `ProducerMachine` (one lock for the producer's whole state); the I/O half
/// is `ProducerSink`.
///
/// Invariant: a request is in `inFlight` from the drain that built it until exactly one of
/// its outcomes (answer, failure, written-without-answer for acks=0) is fed back, so the
/// `max.in.flight.requests.per.connection` bound counts real requests and a late outcome for a
/// request no longer listed is ignored.
struct SinkState: Sendable {
    /// One request the sink sent and has not settled.
    struct Request: Sendable {
        /// The partitions it carries (one batch each).
        var partitions: [TopicPartition]
        /// The bytes of its batches (the window grows by what answered requests carried).
        var bytes: Int = 0
    }

    let broker: Int32
    private(set) var inFlight: [UInt64: Request] = [:]
    var window: RequestSizeWindow
    /// The effective `batch.size` last given to this broker's partitions (see
    /// `ProducerMachine.applyWindow`), so an unchanged window costs no pass over the queues.
    var appliedBatchLimit: Int

    init(broker: Int32, maxRequestSize: Int, batchSize: Int) {
        self.broker = broker
        window = RequestSizeWindow(maxRequestSize: maxRequestSize)
        appliedBatchLimit = batchSize
    }

    /// The effective `batch.size` for this broker's partitions: `batch.size`, or the window when
    /// smaller.
    func batchLimit(batchSize: Int) -> Int { min(batchSize, window.limit) }

    /// Whether another request may go out under `max.in.flight.requests.per.connection`.
    func hasFreeSlot(maxInFlight: Int) -> Bool { inFlight.count < maxInFlight }

    /// Records a request that is about to be sent.
    mutating func sent(_ serial: UInt64, partitions: [TopicPartition], bytes: Int = 0) {
        inFlight[serial] = Request(partitions: partitions, bytes: bytes)
    }

    /// Settles a request: returns what it carried, or nil when it was not (or no longer) in
    /// flight, so its outcome must be ignored.
    mutating func settle(_ serial: UInt64) -> Request? {
        inFlight.removeValue(forKey: serial)
    }
}
