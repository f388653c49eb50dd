extension Duration {
    /// This duration in (fractional) milliseconds, for delay arithmetic (backoff, the
    /// re-authentication schedule). Wire `*_ms` fields use KafkaClient's saturating
    /// `int32Milliseconds` instead.
    var doubleMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
