import Foundation
import Testing

/// `ReadmeExample.swift` holds README.md's Swift block; this keeps the two the same, so the
/// README cannot show code that no longer compiles.
@Suite struct ReadmeExampleTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The README's ```swift block, without its `import KafkaClient` line.
    static func readmeBlock() throws -> [String] {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "```swift"), "README.md has no ```swift block")
        let end = try #require(lines[(start + 1)...].firstIndex(of: "```"), "README.md's ```swift block is not closed")
        var block = Array(lines[(start + 1) ..< end])
        #expect(block.first == "import KafkaClient", "the example starts with `import KafkaClient` and nothing else")
        block.removeFirst()
        return block
    }

    /// The lines between the markers in `ReadmeExample.swift`, de-indented by four spaces.
    static func compiledBlock() throws -> [String] {
        let source = try String(contentsOf: packageRoot.appendingPathComponent("Tests/KafkaClientAPITests/ReadmeExample.swift"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    // README BEGIN"))
        let end = try #require(lines.firstIndex(of: "    // README END"))
        return lines[(start + 1) ..< end].map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : $0 }
    }

    @Test func theCompiledExampleIsTheReadmesExample() throws {
        let readme = try Self.readmeBlock()
        let compiled = try Self.compiledBlock()
        #expect(readme.count > 20)
        #expect(compiled == readme, "update Tests/KafkaClientAPITests/ReadmeExample.swift to README.md's ```swift block")
    }
}
