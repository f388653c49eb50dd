// kwire-bench: KafkaWire's benchmarks. Build and run in release mode:
//   swift build -c release --product kwire-bench && .build/release/kwire-bench micro
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: kwire-bench micro [--only NAME[,NAME…]] [--min-ms N]

  micro    hot-path micro-benchmarks (CRC32C, record batch encode/decode, codecs);
           one JSON line per measurement on stdout
  --only   run only measurements whose name starts with one of the given prefixes
           (crc32c, batch_encode, batch_decode, codec, codec_lz4, …)
  --min-ms minimum measuring time per measurement (default 700)
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
case "-h", "--help":
    print(usage)
default:
    print("kwire-bench: unknown command \(command)\n\(usage)")
    exit(64)
}
