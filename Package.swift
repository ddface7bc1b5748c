// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "shelf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shelf", targets: ["shelf"]),
        .executable(name: "shelf-sim", targets: ["shelf-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "ShelfCurl",
            dependencies: [
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfLedger",
            dependencies: [
                "ShelfCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfPostgres",
            dependencies: [
                "ShelfCore",
                "ShelfLedger",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "ShelfRules", dependencies: ["ShelfCore"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "rules-parse-bench",
            dependencies: ["ShelfRules"],
            path: "Benchmarks/RulesParse",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfConnectors",
            dependencies: ["ShelfCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfChannels",
            dependencies: [
                "ShelfCore",
                "ShelfLedger",
                "ShelfConnectors",
                "ShelfCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfAutomation",
            dependencies: [
                "ShelfChannels",
                "ShelfCore",
                "ShelfCurl",
                "ShelfLedger",
                "ShelfRules",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfSimulator",
            dependencies: [
                "ShelfConnectors",
                "ShelfCore",
                "ShelfCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shelf-sim",
            dependencies: [
                "ShelfSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfServer",
            dependencies: [
                "ShelfAutomation",
                "ShelfCore",
                "ShelfLedger",
                "ShelfPostgres",
                "ShelfChannels",
                "ShelfConnectors",
                "ShelfRules",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/shelf.yaml"), .copy("Resources/console")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shelf",
            dependencies: [
                "ShelfCore",
                "ShelfLedger",
                "ShelfPostgres",
                "ShelfChannels",
                "ShelfRules",
                "ShelfServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shelf-bench-bare",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/BareHummingbird",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shelf-bench-ledger",
            dependencies: [
                "ShelfCore", "ShelfLedger", "ShelfPostgres", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/LedgerBench",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShelfTestSupport",
            dependencies: [
                "ShelfLedger",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/ShelfTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShelfCurlTests",
            dependencies: [
                "ShelfCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShelfChannelsTests",
            dependencies: ["ShelfChannels", "ShelfConnectors", "ShelfCore", "ShelfCurl", "ShelfLedger", "ShelfTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ShelfConnectorsTests", dependencies: ["ShelfConnectors", "ShelfCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ShelfSimulatorTests",
            dependencies: [
                "ShelfSimulator",
                "ShelfConnectors",
                "ShelfCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ShelfRulesTests", dependencies: ["ShelfCore", "ShelfRules"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ShelfCoreTests", dependencies: ["ShelfCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShelfLedgerTests",
            dependencies: [
                "ShelfCore", "ShelfLedger", "ShelfPostgres", "ShelfTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShelfServerTests",
            dependencies: [
                "ShelfCore", "ShelfLedger", "ShelfServer", "ShelfChannels", "ShelfConnectors", "ShelfSimulator", "ShelfCurl", "ShelfRules",
                "ShelfPostgres", "ShelfTestSupport", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                "ShelfAutomation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
