/// `kwire produce`'s transaction options: `--transactional-id ID [--transaction-size N] [--abort]`.
struct ProduceTransactionOptions: Equatable {
    /// The producer's `transactional.id`.
    var transactionalId: String
    /// Lines per transaction; nil: the whole input is one transaction.
    var size: Int?
    /// End every transaction with an abort instead of a commit (to test readers).
    var abort: Bool

    static let valued: Set<String> = ["--transactional-id", "--transaction-size"]
    static let flags: Set<String> = ["--abort"]

    static let help = """
      --transactional-id ID        produce in transactions (transactional.id ID): a commit every
                                   --transaction-size N lines (default: one for all input) and at EOF
      --abort                      end each transaction with an abort instead, after its records
                                   were written (for testing readers)
    """

    /// The options `args` give; nil without `--transactional-id`.
    /// - Throws: `CLIError.usage` for `--transaction-size`/`--abort` without an id, an empty id,
    ///   or a size below 1.
    static func parse(_ args: Arguments) throws -> ProduceTransactionOptions? {
        let size = try args.int("--transaction-size")
        guard let id = try args.value("--transactional-id") else {
            if size != nil || args.flag("--abort") { throw CLIError.usage("--transaction-size and --abort need --transactional-id") }
            return nil
        }
        guard !id.isEmpty else { throw CLIError.usage("--transactional-id must not be empty") }
        if let size, size < 1 { throw CLIError.usage("--transaction-size must be at least 1, got \(size)") }
        return ProduceTransactionOptions(transactionalId: id, size: size, abort: args.flag("--abort"))
    }
}

/// `kwire copy`'s options.
struct CopyOptions: Equatable {
    /// What `--transform` does to each value.
    enum Transform: String, Equatable {
        /// The value as it is.
        case none
        /// ASCII letters upper-cased (other bytes, UTF-8 sequences included, unchanged).
        case upper

        /// `value` transformed.
        func apply(_ value: ArraySlice<UInt8>?) -> [UInt8]? {
            guard let value else { return nil }
            switch self {
            case .none: return Array(value)
            case .upper: return value.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }
            }
        }
    }

    var source: String
    var destination: String
    var group: String
    var transactionalId: String
    var transform: Transform
    var exitAtEnd: Bool
    /// Input records per transaction at most.
    var transactionSize: Int
    /// A transaction commits at the latest this long after it began.
    var transactionTime: Duration

    static let valued: Set<String> = ["--group", "--transactional-id", "--transform", "--transaction-size", "--transaction-ms"]
    static let flags: Set<String> = ["--exit-at-end"]

    /// - Throws: `CLIError.usage` naming what is missing or malformed.
    static func parse(_ args: Arguments) throws -> CopyOptions {
        guard args.positional.count == 2 else { throw CLIError.usage("copy takes SRC and DST topics") }
        guard args.positional[0] != args.positional[1] else { throw CLIError.usage("copy: SRC and DST must differ") }
        guard let group = try args.value("--group"), !group.isEmpty else { throw CLIError.usage("copy needs --group G") }
        guard let id = try args.value("--transactional-id"), !id.isEmpty else { throw CLIError.usage("copy needs --transactional-id T") }
        let t = try args.value("--transform") ?? "none"
        guard let transform = Transform(rawValue: t) else { throw CLIError.usage("--transform takes upper or none, got '\(t)'") }
        let size = try args.int("--transaction-size") ?? 10_000
        guard size >= 1 else { throw CLIError.usage("--transaction-size must be at least 1, got \(size)") }
        let ms = try args.int("--transaction-ms") ?? 100
        guard ms >= 1 else { throw CLIError.usage("--transaction-ms must be at least 1, got \(ms)") }
        return CopyOptions(source: args.positional[0], destination: args.positional[1], group: group, transactionalId: id, transform: transform,
                           exitAtEnd: args.flag("--exit-at-end"), transactionSize: size, transactionTime: .milliseconds(ms))
    }
}
