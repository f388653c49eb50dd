// kwire-bench: KafkaWire's benchmarks. Build and run in release mode:
//   swift build -c release --product kwire-bench && .build/release/kwire-bench micro
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: kwire-bench micro [--only NAME[,NAME…]] [--min-ms N]
       kwire-bench produce -b HOST:PORT [--messages N] [--size S] [--acks A] [--compression C]
                           [--linger-ms L] [--batch-size B] [--topic T] [-X key=value]…
                           [--transactional-id ID [--transaction-size N]]
       kwire-bench consume -b HOST:PORT [--topic T] [--messages N] [--size S] [-X key=value]…
       kwire-bench assign [--members N] [--partitions P] [--topics T] [--runs R]

  micro    hot-path micro-benchmarks (CRC32C, record batch encode/decode, codecs);
           one JSON line per measurement on stdout
  produce  with --transactional-id: the same workload idempotent, then in transactions of N
           messages (default 10000) with commits; one JSON line each
  consume  without --topic: fill a fresh topic with N messages, then read them back;
           with --topic: read N messages of that existing topic from the beginning
  --only   run only measurements whose name starts with one of the given prefixes
           (crc32c, batch_encode, batch_decode, codec, codec_lz4, …)
  --min-ms minimum measuring time per measurement (default 700)
  assign   time the group assignors (range, roundrobin, cooperative-sticky) on a group of
           N members (default 100) over P partitions (default 1000) in T topics (default 10):
           first rebalance, a member joining or leaving, uneven subscriptions; no broker
"""

var args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else {
    print(usage)
    exit(64)
}
args.removeFirst()
switch command {
case "micro":
    var o = Micro.Options()
    var i = 0
    while i < args.count {
        switch args[i] {
        case "--only" where i + 1 < args.count:
            o.only = Set(args[i + 1].split(separator: ",").map(String.init))
            i += 2
        case "--min-ms" where i + 1 < args.count:
            guard let ms = Int(args[i + 1]), ms > 0 else { print("kwire-bench: --min-ms needs a positive number"); exit(64) }
            o.minDuration = .milliseconds(ms)
            i += 2
        default:
            print("kwire-bench: unknown argument \(args[i])\n\(usage)")
            exit(64)
        }
    }
    do { try Micro.run(o) } catch {
        print("kwire-bench: \(error)")
        exit(1)
    }
case "produce":
    var o = ProduceBench.Options()
    var i = 0
    func value(_ name: String) -> String {
        guard i + 1 < args.count else { print("kwire-bench: \(name) needs a value"); exit(64) }
        defer { i += 2 }
        return args[i + 1]
    }
    func number(_ name: String) -> Int {
        let v = value(name)
        guard let n = Int(v), n > 0 else { print("kwire-bench: \(name) needs a positive number"); exit(64) }
        return n
    }
    while i < args.count {
        switch args[i] {
        case "-b", "--bootstrap": o.bootstrap = value("-b")
        case "--messages": o.messages = number("--messages")
        case "--size": o.size = number("--size")
        case "--topic": o.topic = value("--topic")
        case "--acks": o.properties["acks"] = value("--acks")
        case "--compression": o.properties["compression.type"] = value("--compression")
        case "--linger-ms": o.properties["linger.ms"] = value("--linger-ms")
        case "--batch-size": o.properties["batch.size"] = value("--batch-size")
        case "--transactional-id": o.transactionalId = value("--transactional-id")
        case "--transaction-size": o.transactionSize = number("--transaction-size")
        case "-X":
            let kv = value("-X")
            guard let eq = kv.firstIndex(of: "=") else { print("kwire-bench: -X needs key=value"); exit(64) }
            o.properties[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        default:
            print("kwire-bench: unknown argument \(args[i])\n\(usage)")
            exit(64)
        }
    }
    if o.bootstrap.isEmpty, let env = getenv("KAFKA_BOOTSTRAP") { o.bootstrap = String(decoding: UnsafeRawBufferPointer(start: env, count: strlen(env)), as: UTF8.self) }
    guard !o.bootstrap.isEmpty else { print("kwire-bench: produce needs -b HOST:PORT or KAFKA_BOOTSTRAP"); exit(64) }
    if o.properties["acks"] != nil && o.properties["acks"] != "all" && o.properties["acks"] != "-1" && o.properties["enable.idempotence"] == nil {
        o.properties["enable.idempotence"] = "false"
    }
    do { try await ProduceBench.run(o) } catch {
        print("kwire-bench: \(error)")
        exit(1)
    }
case "consume":
    var o = ConsumeBench.Options()
    var i = 0
    while i + 1 < args.count {
        switch args[i] {
        case "-b", "--bootstrap": o.bootstrap = args[i + 1]
        case "--topic": o.topic = args[i + 1]
        case "--messages": o.messages = Int(args[i + 1]) ?? -1
        case "--size": o.size = Int(args[i + 1]) ?? -1
        case "-X":
            let kv = args[i + 1]
            guard let eq = kv.firstIndex(of: "=") else { print("kwire-bench: -X needs key=value"); exit(64) }
            o.properties[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        default:
            print("kwire-bench: unknown argument \(args[i])\n\(usage)")
            exit(64)
        }
        i += 2
    }
    if i < args.count { print("kwire-bench: \(args[i]) needs a value"); exit(64) }
    if o.bootstrap.isEmpty, let env = getenv("KAFKA_BOOTSTRAP") { o.bootstrap = String(decoding: UnsafeRawBufferPointer(start: env, count: strlen(env)), as: UTF8.self) }
    guard !o.bootstrap.isEmpty else { print("kwire-bench: consume needs -b HOST:PORT or KAFKA_BOOTSTRAP"); exit(64) }
    guard o.messages > 0, o.size > 0 else { print("kwire-bench: --messages and --size need positive numbers"); exit(64) }
    do { try await ConsumeBench.run(o) } catch {
        print("kwire-bench: \(error)")
        exit(1)
    }
case "assign":
    var o = AssignBench.Options()
    var i = 0
    while i < args.count {
        guard i + 1 < args.count, let n = Int(args[i + 1]), n > 0 else {
            print("kwire-bench: \(args[i]) needs a positive number\n\(usage)")
            exit(64)
        }
        switch args[i] {
        case "--members": o.members = n
        case "--partitions": o.partitions = n
        case "--topics": o.topics = n
        case "--runs": o.runs = n
        default:
            print("kwire-bench: unknown argument \(args[i])\n\(usage)")
            exit(64)
        }
        i += 2
    }
    AssignBench.run(o)
case "-h", "--help":
    print(usage)
default:
    print("kwire-bench: unknown command \(command)\n\(usage)")
    exit(64)
}
