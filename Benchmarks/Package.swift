// swift-tools-version:6.1
import PackageDescription

// Codec, clock-sync, state, signal, transport and UDP benchmarks. A separate package so the root `swift build` never builds them.
// Run: swift package --allow-writing-to-package-directory benchmark
// A path dependency's identity is its directory name, which depends on the checkout
// (`clasp-gateway`, a worktree, a CI clone…), so derive it instead of hard-coding it.
let rootPackageIdentity = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "clasp-gateway"

// Throughput is measured without package-benchmark's malloc interposer, whose hook on every
// malloc/free costs ≈ 10 ns per operation here and is not part of the codec. For allocation
// counts build with it, in a build folder of its own (switching in one folder leaves stale
// modules behind):
//   CLASP_BENCH_COUNT_MALLOCS=1 swift package --scratch-path .build-mallocs \
//       --allow-writing-to-package-directory benchmark
let countMallocs = Context.environment["CLASP_BENCH_COUNT_MALLOCS"] != nil

let package = Package(
    name: "clasp-gateway-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: countMallocs ? ["MallocInterposer"] : []),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "CodecBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)] + (countMallocs ? [.define("COUNT_MALLOCS")] : []),
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // An in-process router and WebSocket server on loopback, and `CLASPClient`s syncing
        // their clocks with it (docs/benchmarks.md, "Clock sync").
        .executableTarget(
            name: "ClockSyncBenchmarks",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "Router", package: rootPackageIdentity),
                .product(name: "Transports", package: rootPackageIdentity),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "ClockSyncBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // The state issue's stress scenarios against an in-process gateway (router, WebSocket
        // server and SQLite store, wired as in `GatewayServer`): late joiners, scheduled
        // bundles, back-pressure, 10,000 addresses (docs/benchmarks.md, "State").
        .executableTarget(
            name: "StateBenchmarks",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "Router", package: rootPackageIdentity),
                .product(name: "Transports", package: rootPackageIdentity),
                .product(name: "Store", package: rootPackageIdentity),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "StateBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Single hop and 1→1 throughput per transport (WebSocket, TCP, WSS, TCP+TLS) against an
        // in-process router over loopback (docs/benchmarks.md, "Transports").
        .executableTarget(
            name: "TransportBenchmarks",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "Router", package: rootPackageIdentity),
                .product(name: "Transports", package: rootPackageIdentity),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "TransportBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Gestures, timelines and streams on a `RouterCore` in memory with a manual clock
        // (docs/benchmarks.md, "Signals").
        .executableTarget(
            name: "SignalBenchmarks",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "Router", package: rootPackageIdentity),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "SignalBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // CLASP over UDP: single hop and 1→1 throughput against an in-process router and
        // `UDPServer` (docs/benchmarks.md, "Transports — UDP").
        .executableTarget(
            name: "UDPBenchmarks",
            dependencies: [
                .product(name: "CLASP", package: rootPackageIdentity),
                .product(name: "Router", package: rootPackageIdentity),
                .product(name: "Transports", package: rootPackageIdentity),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "UDPBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // A plain loop for profiling with perf (`swift build -c release --product CodecProfile`).
        // Not under a directory named `Benchmarks`, so the benchmark plugin does not run it.
        .executableTarget(
            name: "CodecProfile",
            dependencies: [.product(name: "CLASP", package: rootPackageIdentity)],
            path: "Tools/CodecProfile",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
