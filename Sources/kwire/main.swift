// kwire: the KafkaWire demo CLI (kcat-like). Uses only the public API of the library.
import KafkaClient
import KafkaProtocol
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: kwire COMMAND [options]

Commands:
  metadata                     list brokers, controller, topics and partitions
  topic create|delete|list     administer topics
  group list|describe|delete   consumer groups: members, assignments, committed offsets, lag
  produce TOPIC                produce one message per line of standard input
  consume TOPIC                print messages (kcat-style --format)
  copy SRC DST                 exactly-once copy of a topic (consumer group + transactions)
  decode FILE…                 dissect captured protocol frames (JSON), check re-encoding

Run `kwire COMMAND --help` for a command's options. Brokers come from -b HOST:PORT or
$KAFKA_BOOTSTRAP; -X KEY=VALUE sets any client property.
"""

func runCLI() async -> Int32 {
    var argv = Array(CommandLine.arguments.dropFirst())
    // Options may precede the command (`kwire -b host:port metadata`): the command is the first
    // word that is neither an option nor the value of -b/-X.
    var index = 0
    while index < argv.count, argv[index].hasPrefix("-"), !["-h", "--help", "--version"].contains(argv[index]) {
        index += Common.valued.contains(argv[index]) ? 2 : 1
    }
    guard index < argv.count else {
        printError(usage)
        return 64
    }
    let command = argv.remove(at: index)
    do {
        switch command {
        case "metadata": try await MetadataCommand.run(argv)
        case "topic", "topics": try await TopicCommand.run(argv)
        case "group", "groups": try await GroupCommand.run(argv)
        case "decode": try DecodeCommand.run(argv)
        case "produce": try await ProduceCommand.run(argv)
        case "consume": try await ConsumeCommand.run(argv)
        case "copy": try await CopyCommand.run(argv)
        case "-h", "--help", "help": print(usage)
        case "--version", "version": print("kwire 0.1.0")
        default: throw CLIError.usage("unknown command '\(command)' (see kwire --help)")
        }
        return 0
    } catch let e as CLIError {
        if !e.message.isEmpty { printError("kwire: \(e.message)") }
        return e.code
    } catch let e as KafkaError {
        printError("kwire: \(e)")
        return e.kind == .configuration ? 64 : 1
    } catch {
        printError("kwire: \(error)")
        return 1
    }
}

exit(await runCLI())
