// swift-tools-version: 6.2
import PackageDescription

// libFuzzer targets for the ledger's decoders that face untrusted bytes. A package of its own, so that the `ledger`
// binary never changes for it: `Scripts/fuzz` builds it with the sanitizers (`-sanitize=fuzzer,address`) and
// `-enable-testing`, and CI never builds it. docs/fuzzing.md says how to run it.

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

/// One executable per decoder; `FuzzTarget` in LedgerFuzzTargets lists them and says what each one checks.
let targetNames = [
    "json", "envelope", "event", "ledger-leaf", "export", "checkpoint-note", "proof", "model-artifact", "csv",
    "scoring-request", "cron",
]

let package = Package(
    name: "LedgerFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "ModelLedger", path: "..")],
    targets: [
        // libFuzzer's `LLVMFuzzerRunDriver`, declared for Swift.
        .target(name: "FuzzDriver"),
        .target(
            name: "LedgerFuzzTargets",
            dependencies: [
                "FuzzDriver", .product(name: "LedgerCore", package: "ModelLedger"),
                .product(name: "LedgerML", package: "ModelLedger"),
                .product(name: "LedgerAudit", package: "ModelLedger"),
                .product(name: "LedgerPipeline", package: "ModelLedger"),
            ],
            swiftSettings: strictSettings
        ),
    ]
        + targetNames.map { name in
            .executableTarget(name: "fuzz-\(name)", dependencies: ["LedgerFuzzTargets"], swiftSettings: strictSettings)
        }
        // Writes the small model artifacts that seed the model-artifact corpus (`Scripts/fuzz seed`).
        + [
            .executableTarget(
                name: "fuzz-seeds",
                dependencies: [.product(name: "LedgerML", package: "ModelLedger")],
                swiftSettings: strictSettings
            )
        ]
)
