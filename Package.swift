// swift-tools-version: 6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "ModelLedger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ledger", targets: ["ledger"]),
        .library(name: "LedgerCore", targets: ["LedgerCore"]),
        .library(name: "LedgerStore", targets: ["LedgerStore"]),
        .library(name: "LedgerSQLite", targets: ["LedgerSQLite"]),
        .library(name: "LedgerArtifacts", targets: ["LedgerArtifacts"]),
        // For the fuzz targets in Fuzz/, a package of their own.
        .library(name: "LedgerML", targets: ["LedgerML"]),
        .library(name: "LedgerAudit", targets: ["LedgerAudit"]),
        .library(name: "LedgerPipeline", targets: ["LedgerPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        // The HTTP service (`ledger serve`). Its default traits pull in swift-configuration, which we do not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Already in the graph through Hummingbird: named only to read the port the server bound and to quiet
        // Hummingbird's own log lines, so that the service's JSON lines are its log.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.14.0"),
        // The shared backends: PostgreSQL for the log, the projections and the Audit DB; an HTTP client for
        // S3-compatible object storage (SigV4 is ours, on swift-crypto's HMAC).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Already in the graph through PostgresNIO: named for `sslmode=require` and `verify-full`.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
    ],
    targets: [
        // Event model, canonical JSON, DSSE, keys, Merkle proofs, checkpoints, authority and the verifier.
        // No I/O and no database: swift-crypto only.
        .target(
            name: "LedgerCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The EventStore protocol, the in-memory store and the append path that enforces authority.
        .target(name: "LedgerStore", dependencies: ["LedgerCore"], swiftSettings: strictSettings),
        // The content-addressed artifact store: the protocol, the in-memory store and the file store.
        .target(
            name: "LedgerArtifacts",
            dependencies: ["LedgerCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The embedded default backend: GRDB over the system libsqlite3.
        .target(
            name: "LedgerSQLite",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerProjections", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // A PostgreSQL connection, for the log and the Audit DB alike: the URL (parsing and redaction), TLS, the
        // connector and the mapping of PostgreSQL's errors. No store and no projections.
        .target(
            name: "LedgerPostgresConnection",
            dependencies: [
                "LedgerCore", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        // The shared backend: the log and the projections in PostgreSQL (PostgresNIO).
        .target(
            name: "LedgerPostgres",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerProjections", "LedgerPostgresConnection",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Artifacts in S3-compatible object storage: SigV4, multipart upload, retries (AsyncHTTPClient).
        .target(
            name: "LedgerS3",
            dependencies: [
                "LedgerCore", "LedgerArtifacts", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The Audit DB side: the contract's extraction (SQLite via GRDB, PostgreSQL via PostgresNIO) and the demo
        // generator.
        .target(
            name: "LedgerAudit",
            dependencies: [
                "LedgerCore", "LedgerPostgresConnection", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The read side: registry, deployments, runs, lineage and drift as pure folds over the log.
        .target(name: "LedgerProjections", dependencies: ["LedgerCore", "LedgerStore"], swiftSettings: strictSettings),
        // Isolation Forest, metrics and the bootstrap: pure Swift, no I/O and no dependencies.
        .target(name: "LedgerML", swiftSettings: strictSettings),
        // The pipeline's steps (train, evaluate, register), the trainers and `reproduce`.
        .target(
            name: "LedgerPipeline",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerArtifacts", "LedgerAudit", "LedgerML",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // `ledger serve`: the anomaly-detection service and the ledger's HTTP API (Hummingbird).
        .target(
            name: "LedgerService",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerArtifacts", "LedgerAudit", "LedgerML", "LedgerPipeline",
                "LedgerProjections", "LedgerTransparency", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
                // The connection limits: a handler before and one after the HTTP/1.1 decoder.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // C2SP transparency: the log as tlog-tiles, the witness (tlog-witness), quorum policies (tlog-policy),
        // tlog-proof files and the monitor. Formats and logic over the core and the store; no HTTP server.
        .target(
            name: "LedgerTransparency",
            dependencies: ["LedgerCore", "LedgerStore"],
            swiftSettings: strictSettings
        ),
        // The application layer between the adapters and the two shells (the CLI and the service): the workspace and
        // its settings, each store opened once per process, and the use cases (approve, deploy, rollback, run,
        // reproduce, report, verify, quickstart...) with typed results. No argument parsing and no printing.
        .target(
            name: "LedgerWorkspace",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerSQLite", "LedgerArtifacts", "LedgerAudit", "LedgerML",
                "LedgerPipeline", "LedgerProjections", "LedgerPostgres", "LedgerPostgresConnection", "LedgerS3",
                "LedgerTransparency",
                // The witness client and the monitor's HTTP tile source; already built for LedgerS3.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The `ledger` command tree, as a library so tests can drive it: parses arguments, calls the application
        // layer and prints its results.
        .target(
            name: "LedgerCLI",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerSQLite", "LedgerArtifacts", "LedgerAudit", "LedgerML",
                "LedgerPipeline", "LedgerProjections", "LedgerService", "LedgerBench", "LedgerPostgres",
                "LedgerPostgresConnection", "LedgerS3", "LedgerWorkspace", "LedgerTransparency",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "ledger", dependencies: ["LedgerCLI"], swiftSettings: strictSettings),
        // The bodies of `ledger bench` (append, verify, model, projections, writers), for the CLI and the benchmarks:
        // each returns its figures as JSON. It links the simulator, never the test services.
        .target(
            name: "LedgerBench",
            dependencies: [
                "LedgerCore", "LedgerStore", "LedgerSQLite", "LedgerPostgres", "LedgerProjections", "LedgerML",
                "LedgerSimulation", "LedgerWorkspace", "LedgerPostgresConnection",
            ],
            swiftSettings: strictSettings
        ),
        // The test build's `ledger`: the same command tree with the faults of `LEDGER_FAULTS` installed in every
        // pipeline run, for the crash and retry tests. No product names it, so `ledger` never reads LEDGER_FAULTS.
        .executableTarget(
            name: "ledger-faults",
            dependencies: ["LedgerCLI", "LedgerWorkspace", "LedgerPipeline", "LedgerCore"],
            path: "Tests/Support/ledger-faults",
            swiftSettings: strictSettings
        ),
        // Random valid governance histories, for `ledger bench projections` and the property tests: the simulator,
        // its seeded generator, stepping clock and derived keys. No test services.
        .target(name: "LedgerSimulation", dependencies: ["LedgerCore", "LedgerStore"], swiftSettings: strictSettings),
        // Deterministic keys, small logs, forgeries, the conformance suites and the test servers' settings; it
        // re-exports LedgerSimulation. No product target links it.
        .target(
            name: "LedgerTesting",
            dependencies: ["LedgerCore", "LedgerStore", "LedgerArtifacts", "LedgerProjections", "LedgerSimulation"],
            path: "Tests/Support/LedgerTesting",
            swiftSettings: strictSettings
        ),
        // What only the tests use: the scratch folder and raw SQL on a PostgreSQL log.
        .target(
            name: "LedgerTestSupport",
            dependencies: [
                "LedgerCore", "LedgerPostgresConnection", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support/LedgerTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerCoreTests",
            dependencies: ["LedgerCore", "LedgerTesting"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerStoreTests",
            dependencies: ["LedgerStore", "LedgerTesting", "LedgerTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerTransparencyTests",
            dependencies: ["LedgerTransparency", "LedgerTesting", "LedgerTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerArtifactsTests",
            dependencies: ["LedgerArtifacts", "LedgerTesting", "LedgerTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerAuditTests",
            dependencies: [
                "LedgerAudit", "LedgerTesting", "LedgerTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "LedgerMLTests", dependencies: ["LedgerML", "LedgerTesting"], swiftSettings: strictSettings),
        .testTarget(
            name: "LedgerPipelineTests",
            dependencies: ["LedgerPipeline", "LedgerAudit", "LedgerTesting", "LedgerTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerProjectionsTests",
            dependencies: ["LedgerProjections", "LedgerSQLite", "LedgerTesting", "LedgerTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerSQLiteTests",
            dependencies: [
                "LedgerSQLite", "LedgerProjections", "LedgerTesting", "LedgerTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerPostgresTests",
            dependencies: [
                "LedgerPostgres", "LedgerTesting", "LedgerTestSupport", "LedgerProjections", "LedgerStore",
                "LedgerCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerS3Tests",
            dependencies: [
                "LedgerS3", "LedgerArtifacts", "LedgerTesting", "LedgerCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerServiceTests",
            dependencies: [
                "LedgerService", "LedgerTesting", "LedgerTestSupport", "LedgerAudit", "LedgerSQLite", "LedgerPipeline",
                "LedgerArtifacts", "LedgerTransparency",
                "LedgerStore", "LedgerCore", "LedgerProjections", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerCLITests",
            dependencies: [
                "LedgerCLI", "LedgerTesting", "LedgerTestSupport", "LedgerAudit", "LedgerArtifacts", "LedgerS3",
                "LedgerPostgres", "LedgerWorkspace", "LedgerBench", "LedgerProjections", "LedgerStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
    ]
)
