// swift-tools-version:6.1
import PackageDescription

// clasp-load: many CLASP clients over WebSocket or TCP, or MQTT clients against mosquitto, each
// plain or over TLS, with HdrHistogram latencies (docs/benchmarks.md, "Scenarios A–E"). A
// package of its own so that neither the appliance binary nor the package-benchmark build
// carries it.
//   swift build -c release            # then .build/release/clasp-load --help
// A path dependency's identity is its directory name, which depends on the checkout
// (`clasp-gateway`, a worktree, a CI clone…), so derive it instead of hard-coding it.
let rootPackageIdentity = Context.packageDirectory.split(separator: "/").dropLast(2).last.map(String.init) ?? "clasp-gateway"

let package = Package(
    name: "clasp-load",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .executableTarget(
            name: "clasp-load",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
                // The tool shares the cores with the broker it measures: every cycle it spends
                // per delivery is one the broker cannot have. Its state is confined to event
                // loops (no overlapping access to check), so the runtime exclusivity checks,
                // ≈ 10 % of its CPU in a fan-out profile, are dropped.
                .unsafeFlags(["-enforce-exclusivity=unchecked"]),
            ]
        ),
    ]
)
