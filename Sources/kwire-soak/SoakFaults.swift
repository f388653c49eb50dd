import KafkaTestSupport

/// The faults the soak mixes, each a few seconds long, through the `FaultProxy` between the
/// clients and the broker or on the broker itself (the restart rig).
enum SoakFault: String, CaseIterable, Sendable {
    /// Connections abort after 200–600 KB of client→broker bytes (mid-request), for 10 s.
    case cut
    /// Connections abort after 1–20 KB of broker→client bytes (mid-response), for 5 s.
    case responseCut = "response-cut"
    /// Every broker→client chunk is held 50–400 ms, for 10 s.
    case delay
    /// Nothing is forwarded for 4 s (a partition; connections stay open).
    case blackhole
    /// Every open connection is aborted once.
    case drop
    /// The broker restarts gracefully after a drain (`RestartRig.drainedRestart`: Tansu loses
    /// acknowledged writes that arrive while it shuts down, and the soak audits the client).
    case restart

    /// How long the fault lasts before the proxy is clear again.
    var duration: Duration {
        switch self {
        case .cut, .delay: .seconds(10)
        case .responseCut: .seconds(5)
        case .blackhole: .seconds(4)
        case .drop, .restart: .zero
        }
    }
}

/// The order of faults: every kind once per round, each round shuffled by a seeded generator
/// (the seed is printed, so a failing soak can be replayed in the same order).
struct SoakFaultSchedule {
    private var rng: SplitMix64
    private var round: [SoakFault] = []

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func next() -> SoakFault {
        if round.isEmpty { round = SoakFault.allCases.shuffled(using: &rng) }
        return round.removeLast()
    }
}


extension SoakFault {
    /// Applies the fault, waits its duration, and clears it.
    func inject(proxy: FaultProxy, rig: RestartRig) async throws {
        switch self {
        case .cut: proxy.faults = .init(cutAfterClientBytes: 200_000 ... 600_000)
        case .responseCut: proxy.faults = .init(cutAfterBrokerBytes: 1_000 ... 20_000)
        case .delay: proxy.faults = .init(responseDelay: .milliseconds(50) ... .milliseconds(400))
        case .blackhole: proxy.pause(.blackhole)
        case .drop: proxy.dropAll()
        case .restart: try await rig.drainedRestart(through: proxy)
        }
        try await Task.sleep(for: duration)
        proxy.faults = .none
        proxy.resume()
    }
}
