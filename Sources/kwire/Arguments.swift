/// A small, dependency-free argument parser: options may come anywhere after the command words;
/// `--name value`, `--name=value`, `-b value` and repeated options (`-X a=1 -X b=2`) work.
struct Arguments {
    private(set) var positional: [String] = []
    private var options: [String: [String]] = [:]
    private var flags: Set<String> = []

    /// `valued` lists the options that take a value (long and short spellings).
    init(_ argv: [String], valued: Set<String>, flags known: Set<String>) throws {
        var i = 0
        var onlyPositional = false
        while i < argv.count {
            let a = argv[i]
            i += 1
            if onlyPositional || !a.hasPrefix("-") || a == "-" {
                positional.append(a)
                continue
            }
            if a == "--" { onlyPositional = true; continue }
            var name = a
            var inline: String?
            if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                name = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            if valued.contains(name) {
                if let inline {
                    options[name, default: []].append(inline)
                } else {
                    guard i < argv.count else { throw CLIError.usage("option \(name) needs a value") }
                    options[name, default: []].append(argv[i])
                    i += 1
                }
            } else if known.contains(name) {
                guard inline == nil else { throw CLIError.usage("option \(name) takes no value") }
                flags.insert(name)
            } else {
                throw CLIError.usage("unknown option \(name) (see --help)")
            }
        }
    }

    func flag(_ names: String...) -> Bool { names.contains { flags.contains($0) } }

    func values(_ names: String...) -> [String] { names.flatMap { options[$0] ?? [] } }

    func value(_ names: String...) throws -> String? {
        let all = names.flatMap { options[$0] ?? [] }
        guard all.count <= 1 else { throw CLIError.usage("option \(names[0]) given more than once") }
        return all.first
    }

    func int(_ names: String...) throws -> Int? {
        let all = names.flatMap { options[$0] ?? [] }
        guard all.count <= 1 else { throw CLIError.usage("option \(names[0]) given more than once") }
        guard let s = all.first else { return nil }
        guard let v = Int(s) else { throw CLIError.usage("option \(names[0]) needs a whole number, got '\(s)'") }
        return v
    }
}
