import KafkaProtocol

/// A table of Kafka-style string properties (`linger.ms=5`) mapped onto a typed config struct.
///
/// Each configuration type (`ClientConfig`, and later producer/consumer configs) declares one
/// table; string properties and typed Swift properties therefore always agree. An unknown key or
/// a value that does not parse is a `.configuration` error naming the key.
public struct ConfigProperty<Config>: Sendable {
    /// The Kafka property name, e.g. `request.timeout.ms`.
    public let key: String
    /// One line of documentation, including the default.
    public let doc: String
    let apply: @Sendable (inout Config, String) throws -> Void

    init(_ key: String, _ doc: String, _ apply: @escaping @Sendable (inout Config, String) throws -> Void) {
        self.key = key
        self.doc = doc
        self.apply = apply
    }
}

/// Parsing helpers shared by the property tables; each throws a `.configuration` error that
/// names the key and what was expected.
enum ConfigParse {
    static func bad(_ key: String, _ value: String, _ expected: String) -> KafkaError {
        KafkaError(.configuration, "invalid value '\(value)' for \(key): expected \(expected)")
    }

    static func int(_ key: String, _ value: String, min: Int = Int.min, max: Int = Int.max) throws -> Int {
        guard let v = Int(value.trimmingSpaces), v >= min, v <= max else {
            throw bad(key, value, "an integer in \(min == Int.min ? "…" : String(min))...\(max == Int.max ? "…" : String(max))")
        }
        return v
    }

    static func milliseconds(_ key: String, _ value: String, min: Int = 0, max: Int = Int(Int32.max)) throws -> Duration {
        .milliseconds(try int(key, value, min: min, max: max))
    }

    static func bool(_ key: String, _ value: String) throws -> Bool {
        switch value.trimmingSpaces.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw bad(key, value, "true or false")
        }
    }

    static func choice(_ key: String, _ value: String, _ options: [String]) throws -> String {
        let v = value.trimmingSpaces.lowercased()
        guard options.contains(v) else { throw bad(key, value, "one of " + options.joined(separator: ", ")) }
        return v
    }

    /// Suggestion for a mistyped key: the known key with the smallest edit distance, if close.
    static func suggestion(for key: String, among keys: [String]) -> String? {
        var best: (String, Int)?
        for k in keys {
            let d = editDistance(key, k)
            if d <= max(2, key.count / 4), d < (best?.1 ?? Int.max) { best = (k, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var prev = Array(0 ... b.count)
        for i in 1 ... a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1 ... max(b.count, 1) where j <= b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}

/// A configuration type settable from Kafka property names.
public protocol PropertyConfigurable: Sendable {
    /// Every property this configuration accepts.
    static var properties: [ConfigProperty<Self>] { get }
}

extension PropertyConfigurable {
    /// Sets one property by its Kafka name. Unknown keys and bad values throw `.configuration`.
    /// - Parameters:
    ///   - key: A property name, e.g. `linger.ms`.
    ///   - value: Its value as text.
    /// - Throws: `KafkaError(.configuration)` naming the key (with a suggestion for a misspelt one) or the bad value.
    public mutating func set(_ key: String, _ value: String) throws {
        let k = key.trimmingSpaces
        guard let p = Self.properties.first(where: { $0.key == k }) else {
            let hint = ConfigParse.suggestion(for: k, among: Self.properties.map(\.key)).map { " (did you mean \($0)?)" } ?? ""
            throw KafkaError(.configuration, "unknown configuration property '\(k)'\(hint)")
        }
        try p.apply(&self, value)
    }

    /// Sets every property in `properties`.
    /// - Parameter properties: Property names and values.
    /// - Throws: `KafkaError(.configuration)` for the first unknown key or bad value.
    public mutating func set(_ properties: [String: String]) throws {
        for (k, v) in properties.sorted(by: { $0.key < $1.key }) { try set(k, v) }
    }

    /// The Kafka property names this configuration accepts.
    public static var propertyNames: [String] { properties.map(\.key) }
}
