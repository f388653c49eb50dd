// swift-tools-version: 6.0
// KafkaWire: a pure-Swift Apache Kafka client. No package dependencies, by design:
// only the toolchain and (in later modules) system C libraries through thin shims.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "KafkaWire",
    products: [
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .library(name: "KafkaNet", targets: ["KafkaNet"]),
        .library(name: "KafkaClient", targets: ["KafkaClient"]),
        .executable(name: "kwire", targets: ["kwire"]),
        .executable(name: "kwire-bench", targets: ["kwire-bench"]),
    ],
    targets: [
        // Bytes <-> values. No I/O, no clocks, no globals.
        .target(name: "KafkaProtocol", dependencies: ["CKafkaCompressionShims"], swiftSettings: strict),
        // zlib's init macros and zstd's buffer structs (libzstd itself is dlopen'ed at run time).
        .target(name: "CKafkaCompressionShims", linkerSettings: [.linkedLibrary("z")]),
        // Sockets, framing, correlation ids, version negotiation.
        .target(name: "CKafkaNetShims"),
        .target(name: "KafkaNet", dependencies: ["KafkaProtocol", "CKafkaNetShims"], swiftSettings: strict),
        // Metadata, admin (and later producer, consumer, groups).
        .target(name: "KafkaClient", dependencies: ["KafkaProtocol", "KafkaNet"], swiftSettings: strict),
        // The demo CLI; uses only public API.
        .executableTarget(name: "kwire", dependencies: ["KafkaClient", "KafkaProtocol", "KafkaNet"], swiftSettings: strict),
        // Benchmarks (run in release mode).
        .executableTarget(name: "kwire-bench", dependencies: ["KafkaClient", "KafkaProtocol", "KafkaNet", "KafkaTestSupport"], swiftSettings: strict),
        // The soak (scripts/soak.sh): producer + group consumer through faults and broker restarts, then an audit.
        .executableTarget(name: "kwire-soak", dependencies: ["KafkaClient", "KafkaProtocol", "KafkaTestSupport"], swiftSettings: strict),
        // Test-only helpers: in-process fake broker, fixture loading, broker discovery.
        .target(name: "KafkaTestSupport", dependencies: ["KafkaProtocol", "KafkaNet", "KafkaClient"], swiftSettings: strict),
        .testTarget(name: "KafkaProtocolTests", dependencies: ["KafkaProtocol"], swiftSettings: strict),
        .testTarget(name: "KafkaNetTests", dependencies: ["KafkaNet", "KafkaProtocol", "KafkaTestSupport"], swiftSettings: strict),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient", "KafkaNet", "KafkaProtocol", "KafkaTestSupport"], swiftSettings: strict),
        // The client API as a user sees it: depends on KafkaClient ALONE (compiles README's example,
        // checks that `import KafkaClient` does not show the lower layers' types).
        .testTarget(name: "KafkaClientAPITests", dependencies: ["KafkaClient"], swiftSettings: strict),
        // Units of the CLI itself (`@testable import kwire`); the CLI as a user runs it is in KafkaClientTests.
        .testTarget(name: "KwireTests", dependencies: ["kwire"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
