// kwire-soak: the soak behind scripts/soak.sh. A producer and a group consumer of ours, with
// default settings, through a FaultProxy in front of the restart rig's broker
// (scripts/restart_rig.sh), with mixed faults — cuts mid-request and mid-response, delays,
// blackholes, dropped connections, broker restarts — for the given minutes; then an exact audit
// of the delivery reports, the log (read back by confluent-kafka) and what the consumer
// processed, and the RSS over time. Exits 1 on any violation, 2 on bad usage or a rig failure.
//
//   kwire-soak --minutes M [--rate MSG_PER_S] [--fault-every S] [--seed N] [--dir STATE_DIR]
import Foundation

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: kwire-soak --minutes M [--rate MSG_PER_S (3000)] [--fault-every S (12)] [--seed N] [--dir STATE_DIR]\n".utf8))
    exit(2)
}

var options: [String: String] = [:]
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    guard a.hasPrefix("--"), let v = args.popFirst() else { usage() }
    options[String(a.dropFirst(2))] = v
}
let known: Set<String> = ["minutes", "rate", "fault-every", "seed", "dir"]
guard Set(options.keys).isSubset(of: known), let minutes = options["minutes"].flatMap(Double.init), minutes > 0 else { usage() }
let rate = options["rate"].map { Int($0) ?? -1 } ?? 3000
let faultEvery = options["fault-every"].map { Double($0) ?? -1 } ?? 12
guard rate > 0, faultEvery > 0 else { usage() }
let seed = options["seed"].map { UInt64($0) ?? 0 } ?? UInt64.random(in: 1 ... 1_000_000)
// Sources/kwire-soak/main.swift → the repository root.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let dir = options["dir"] ?? root + "/.broker/soak"

let run = SoakRun(minutes: minutes, rate: rate, faultEvery: .milliseconds(Int64(faultEvery * 1000)), seed: seed, stateDir: dir, repoRoot: root)
print("soak: \(minutes) min at \(rate) msg/s, a fault every \(faultEvery) s, seed \(seed), rig state in \(dir)")
do {
    let report = try await run.run()
    report.print()
    let violations = report.violations
    if violations.isEmpty {
        print("soak: PASS")
        exit(0)
    }
    for v in violations { print("soak: VIOLATION: \(v)") }
    exit(1)
} catch {
    print("soak: could not run: \(error)")
    exit(2)
}
