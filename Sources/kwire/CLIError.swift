/// A command-line failure: printed as one line on stderr, then exit with `code`.
struct CLIError: Error {
    var message: String
    var code: Int32

    /// Bad arguments (exit 64, EX_USAGE).
    static func usage(_ m: String) -> CLIError { CLIError(message: m, code: 64) }
    /// Anything else (exit 1).
    static func failure(_ m: String) -> CLIError { CLIError(message: m, code: 1) }
}
