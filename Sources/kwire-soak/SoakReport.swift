import Foundation
import KafkaTestSupport

/// The soak's audit: what the producer was told, what the log holds (read by confluent-kafka),
/// what the group consumer processed, and the RSS over time. `violations` empty = a pass.
/// What the log holds, from one reader.
struct SoakLogView {
    /// Who read it.
    let source: String
    let records: Int
    let contains: (Int) -> Bool
    let duplicated: [Int]
    let problemCount: Int
    let problems: [String]

    /// confluent-kafka's read-back.
    init(_ audit: SequencedLogAudit) {
        source = "confluent-kafka"
        records = audit.records
        contains = audit.contains
        duplicated = audit.duplicated
        problemCount = audit.problemCount
        problems = audit.problems
    }

    /// Our group consumer's view (each offset once), when the read-back could not finish.
    init(consumerOf l: SoakLedger.State, because: String) {
        source = "our group consumer, each offset once (confluent-kafka's read-back failed: \(because))"
        records = l.logRecords
        let copies = l.logCopies
        contains = { $0 >= 0 && $0 < copies.count && copies[$0] > 0 }
        duplicated = (0 ..< l.enqueued).filter { copies[$0] > 1 }
        problemCount = l.logGaps + l.logOrderProblems
        problems = problemCount == 0 ? [] : ["\(l.logGaps) offset gaps, \(l.logOrderProblems) keys out of order"]
    }
}

struct SoakReport {
    let ledger: SoakLedger.State
    let log: SoakLogView
    let faults: [SoakFault: Int]
    let rss: [(Double, Int)]
    let unsettledAfterFlush: Int
    let seconds: Double
    let seed: UInt64
    let proxy: FaultProxy.Stats

    struct Counts {
        var delivered = 0, failedSure = 0, failedUnknown = 0, unreported = 0, reportedTwice = 0
        var lost = 0, deliveredNotInLog = 0, failedSureInLog = 0, notProcessed = 0
    }

    var counts: Counts {
        var c = Counts()
        let l = ledger
        for i in 0 ..< l.enqueued {
            if l.reports[i] == 0 { c.unreported += 1 } else if l.reports[i] > 1 { c.reportedTwice += 1 }
            let inLog = log.contains(i)
            switch l.failed[i] {
            case 0 where l.reports[i] > 0:
                c.delivered += 1
                if !inLog { c.deliveredNotInLog += 1 }
            case 1:
                c.failedSure += 1
                if inLog { c.failedSureInLog += 1 }
            case 2: c.failedUnknown += 1
            default: break
            }
            if !inLog { c.lost += 1 }
            if inLog, l.processed[i] == 0 { c.notProcessed += 1 }
        }
        return c
    }

    var violations: [String] {
        let c = counts
        var v: [String] = []
        if ledger.enqueued == 0 { v.append("nothing was produced") }
        if c.unreported > 0 { v.append("\(c.unreported) messages got no delivery report") }
        if c.reportedTwice > 0 { v.append("\(c.reportedTwice) messages got more than one report") }
        if ledger.reportCount != ledger.enqueued { v.append("reports add up to \(ledger.reportCount) messages for \(ledger.enqueued) enqueued") }
        if ledger.unknownIds > 0 || ledger.idsOutOfStep > 0 { v.append("\(ledger.unknownIds) reports for unknown ids, \(ledger.idsOutOfStep) ids out of step") }
        if c.lost > 0 { v.append("\(c.lost) messages not in the log (\(c.failedSure + c.failedUnknown) reported failed; first failure: \(ledger.firstFailure ?? "-"))") }
        if c.deliveredNotInLog > 0 { v.append("\(c.deliveredNotInLog) messages reported delivered are not in the log") }
        if c.failedSureInLog > 0 { v.append("\(c.failedSureInLog) messages reported failed are in the log") }
        if !log.duplicated.isEmpty { v.append("\(log.duplicated.count) messages twice in the log, first \(log.duplicated.prefix(5))") }
        if log.problemCount > 0 { v.append("\(log.problemCount) order/offset problems in the log: \(log.problems.prefix(5))") }
        if c.notProcessed > 0 { v.append("\(c.notProcessed) messages in the log never processed by the group consumer") }
        if ledger.strangers > 0 { v.append("the consumer read \(ledger.strangers) records this soak did not write") }
        if unsettledAfterFlush > 0 { v.append("\(unsettledAfterFlush) messages unsettled 180 s after producing stopped") }
        // Memory: flat, not growing with the run. Generous: the first sample is taken before the
        // client's buffers fill, so allow the steady state plus a margin.
        if let first = rss.first?.1, let last = rss.last?.1, let peak = rss.map(\.1).max(),
           peak > max(4 * first, first + 400 << 20) {
            v.append("RSS grew from \(first >> 20) MB to a peak of \(peak >> 20) MB (end \(last >> 20) MB)")
        }
        return v
    }

    func print() {
        let c = counts
        let mb = { (b: Int) in "\(b >> 20) MB" }
        let kinds = SoakFault.allCases.map { "\($0.rawValue) \(faults[$0] ?? 0)" }.joined(separator: ", ")
        Swift.print("""
        soak: \(String(format: "%.0f", seconds)) s, seed \(seed)
          messages: \(ledger.enqueued) enqueued, \(c.delivered) delivered, \(c.failedSure) failed, \(c.failedUnknown) outcome unknown
          log (\(log.source)): \(log.records) records, duplicates \(log.duplicated.count), lost \(c.lost), order/offset problems \(log.problemCount)
          group consumer: processed every logged message: \(c.notProcessed == 0 ? "yes" : "no, \(c.notProcessed) missing"), re-reads after rebalances \(ledger.rereads)
          faults: \(faults.values.reduce(0, +)) (\(kinds)); proxy: \(proxy.connections) connections, \(proxy.cuts) cuts, \(proxy.dropped) dropped
          RSS: start \(rss.first.map { mb($0.1) } ?? "?"), end \(rss.last.map { mb($0.1) } ?? "?"), peak \(rss.map(\.1).max().map(mb) ?? "?")
        """)
        let series = rss.map { "\(Int($0.0))s=\($0.1 >> 20)" }
        Swift.print("  RSS over time (MB): " + series.joined(separator: " "))
    }
}
