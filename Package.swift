// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way: CLASP <- Router <- Transports <- Gateway; Router <- Store;
// CLASP <- Bridges <- Gateway; HAL (devices, no CLASP) <- Bridges; Transports, Bridges <- Web <- Gateway.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "clasp-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clasp-gateway", targets: ["Gateway"]),
        .library(name: "CLASP", targets: ["CLASP"]),
        .library(name: "Router", targets: ["Router"]),
        .library(name: "Transports", targets: ["Transports"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Discovery", targets: ["Discovery"]),
        .library(name: "Bridges", targets: ["Bridges"]),
        .library(name: "Web", targets: ["Web"]),
        .library(name: "HAL", targets: ["HAL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Only to make the self-signed certificate and compute fingerprints (NIOSSL cannot).
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        // Also scrypt for the admin password (_CryptoExtras) and SHA-256 for its tokens.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .target(name: "CLASP", swiftSettings: strict),
        .target(name: "Router", dependencies: ["CLASP"], swiftSettings: strict),
        // SQLite from the system, not a Swift wrapper package: GRDB would pull full Foundation
        // (ICU) into the appliance binary for a handful of statements.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "Store", dependencies: ["CLASP", "Router", "CSQLite"], swiftSettings: strict),
        .target(
            name: "Transports",
            dependencies: [
                "CLASP", "Router",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Discovery",
            dependencies: [
                "CLASP", "Router",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Serial ports and DMX interfaces, knowing nothing of CLASP. libserialport only lists
        // ports (it cannot open ptys); termios opens them; libftdi1 drives Open DMX adapters.
        .systemLibrary(name: "CLibSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "CFTDI", pkgConfig: "libftdi1", providers: [.apt(["libftdi1-dev"])]),
        .target(name: "CSerial"),
        .target(name: "HAL", dependencies: ["CLibSerialPort", "CFTDI", "CSerial"], swiftSettings: strict),
        // Bridges see the router only as a session (`RouterLink`); the Gateway wires them.
        .target(
            name: "Bridges",
            dependencies: [
                "CLASP", "HAL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Admin page, REST API, health and metrics over NIOHTTP1; no business logic of its own
        // (the gateway implements `AdminBackend`).
        .target(
            name: "Web",
            dependencies: [
                "CLASP", "Router", "Transports", "Bridges",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Gateway",
            dependencies: [
                "CLASP", "Router", "Transports", "Store", "Discovery", "Bridges", "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "CLASP", "Router", "Transports", "Bridges", "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "CLASPTests", dependencies: ["CLASP"], swiftSettings: strict),
        .testTarget(name: "HALTests", dependencies: ["HAL", "CSerial"], swiftSettings: strict),
        .testTarget(
            name: "BridgesTests",
            dependencies: ["Bridges", "CLASP", "HAL", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(name: "RouterTests", dependencies: ["CLASP", "Router"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["CLASP", "Router", "Store", "CSQLite"], swiftSettings: strict),
        .testTarget(
            name: "TransportsTests",
            dependencies: [
                "CLASP", "Router", "Transports",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
