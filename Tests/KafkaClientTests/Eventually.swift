import KafkaClient

/// Waits (bounded) until `condition` holds, checking every `every`; throws `.timeout` naming
/// `what` otherwise. Generous bounds: the CI machine has two cores shared by parallel suites.
func eventually(_ what: String, timeout: Duration = .seconds(40), every: Duration = .milliseconds(100), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw KafkaError(.timeout, "timed out waiting for \(what)") }
        try await Task.sleep(for: every)
    }
}
