// swift-tools-version:6.0
// hotfolder: turns files dropped into an inbox into Seedance videos.
// SPDX-License-Identifier: GPL-2.0-or-later

import PackageDescription

let package = Package(
    name: "hotfolder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hotfolder", targets: ["hotfolder"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // SHA-256 of inputs and images at memory speed (the hand-written one in HotFolderCore runs ~120 MB/s).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Unpacking ZIP exports dropped into the inbox (Figma, Canva), one entry at a time.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // The dashboard's /metrics: counters, gauges and histograms in the Prometheus text format.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // PostgreSQL for several nodes on one inbox (issue 12): PostgresStateStore and the tests' private cluster.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libinotifytools 3.22 from Debian (GPL-2). There is no .pc file, so no pkgConfig.
        .systemLibrary(
            name: "CInotifyTools",
            path: "Sources/CInotifyTools",
            providers: [.apt(["libinotifytools0-dev"])]
        ),
        // Pure rules: drop protocol, settings, validation, readiness, job state machine, cost.
        .target(
            name: "HotFolderCore",
            dependencies: [
                .product(name: "Yams", package: "Yams")
            ]
        ),
        // Adapters: inotify watcher, file system, SQLite store, Seedance HTTP clients, outbox writer.
        .target(
            name: "HotFolderIO",
            dependencies: [
                "HotFolderCore",
                "CInotifyTools",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                // PostgresStateStore: several nodes on one inbox (issue 12).
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // A local server speaking the Seedance gateway and Ark protocols, for tests, benchmarks and the demo.
        .target(
            name: "SeedanceEmulator",
            dependencies: [
                "HotFolderCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
            ]
        ),
        // The service wired together: configuration, pipeline, lifecycle.
        .target(
            name: "HotFolderApp",
            dependencies: [
                "HotFolderCore",
                "HotFolderIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                // The dashboard, JSON API and metrics served by `hotfolder run`.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "hotfolder",
            dependencies: [
                "HotFolderApp",
                "HotFolderCore",
                "HotFolderIO",
                "SeedanceEmulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HotFolderCoreTests", dependencies: ["HotFolderCore"]),
        .testTarget(
            name: "HotFolderIOTests",
            dependencies: [
                "HotFolderIO", "HotFolderCore", "SeedanceEmulator",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                // PostgresClusterTests talk to a private PostgreSQL cluster (groundwork for issue 12).
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SeedanceEmulatorTests",
            dependencies: [
                "SeedanceEmulator", "HotFolderCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "HotFolderAppTests",
            dependencies: [
                "HotFolderApp", "HotFolderIO", "HotFolderCore", "SeedanceEmulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // A webhook receiver on loopback for the notification tests.
                .product(name: "Hummingbird", package: "hummingbird"),
                // Real ZIP exports built in the tests.
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
