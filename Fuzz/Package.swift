// swift-tools-version: 6.0
// libFuzzer targets for KafkaWire: a package of its own, so that building the main package
// never needs the fuzzer. Build and run with `scripts/fuzz.sh` (one executable, the target
// picked by KWIRE_FUZZ_TARGET; see Sources/KafkaFuzz/FuzzEntry.swift):
//
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
//
// `-enable-testing` lets the harness `@testable import` the library modules, so it drives the
// internal codecs (snappy raw/xerial, SCRAM, consumer-protocol payloads) without copying code.
import PackageDescription

let package = Package(
    name: "KafkaWireFuzz",
    dependencies: [.package(name: "KafkaWire", path: "..")],
    targets: [
        // libFuzzer's driver entry point, declared for Swift.
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "KafkaFuzz",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "KafkaProtocol", package: "KafkaWire"),
                .product(name: "KafkaNet", package: "KafkaWire"),
                .product(name: "KafkaClient", package: "KafkaWire"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
