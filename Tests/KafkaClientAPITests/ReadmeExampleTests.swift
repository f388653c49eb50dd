import Foundation
import Testing

/// `ReadmeExample.swift` holds README.md's Swift block; this keeps the two the same, so the
/// README cannot show code that no longer compiles.
@Suite struct ReadmeExampleTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The README's `n`th ```swift block (0: the first), without its `import KafkaClient` line.
    static func readmeBlock(_ n: Int = 0) throws -> [String] {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let starts = lines.indices.filter { lines[$0] == "```swift" }
        try #require(starts.count > n, "README.md has \(starts.count) ```swift blocks")
        let start = starts[n]
        let end = try #require(lines[(start + 1)...].firstIndex(of: "```"), "README.md's ```swift block is not closed")
        var block = Array(lines[(start + 1) ..< end])
        #expect(block.first == "import KafkaClient", "the example starts with `import KafkaClient` and nothing else")
        block.removeFirst()
        return block
    }

    /// The lines between the markers in `ReadmeExample.swift`, de-indented by four spaces.
    static func compiledBlock(_ marker: String = "README") throws -> [String] {
        let source = try String(contentsOf: packageRoot.appendingPathComponent("Tests/KafkaClientAPITests/ReadmeExample.swift"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    // \(marker) BEGIN"))
        let end = try #require(lines.firstIndex(of: "    // \(marker) END"))
        return lines[(start + 1) ..< end].map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : $0 }
    }

    @Test func theCompiledExampleIsTheReadmesExample() throws {
        let readme = try Self.readmeBlock()
        let compiled = try Self.compiledBlock()
        #expect(readme.count > 20)
        #expect(compiled == readme, "update Tests/KafkaClientAPITests/ReadmeExample.swift to README.md's ```swift block")
    }

    @Test func theCompiledTransactionsExampleIsTheReadmesSecondBlock() throws {
        let readme = try Self.readmeBlock(1)
        let compiled = try Self.compiledBlock("README TRANSACTIONS")
        #expect(readme.count > 10)
        #expect(compiled == readme, "update readmeTransactionsExample in ReadmeExample.swift to README.md's second ```swift block")
    }
}
