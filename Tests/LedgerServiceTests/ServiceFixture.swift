import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerSQLite
import LedgerService
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Synchronization
import Testing

/// A log on disk (SQLite, artifacts in a folder) over a small demo Audit DB, with two registered versions:
/// `access-anomaly@1` approved and deployed to production, `access-anomaly@2` registered and not yet approved.
/// Built once and copied for every test, so each test owns its log.
struct ServiceFixture {
    static let deployer = TestKeys.key("deployer")
    static let approver = TestKeys.approver

    /// Owns ``folder``: the copy is removed when the last copy of this fixture goes.
    let scratch: TemporaryFolder
    let folder: URL
    let store: SQLiteEventStore
    let artifacts: FileArtifactStore
    let genesis: Hash256

    /// Builds the template every fixture copies, once.
    actor Template {
        private var building: Task<URL, any Error>?

        func url() async throws -> URL {
            let task = building ?? Task { try await ServiceFixture.build() }
            building = task
            return try await task.value
        }
    }

    static let template = Template()

    static func build() async throws -> URL {
        let folder = URL(fileURLWithPath: try TestScratch.folder("service-template"))
        let audit = folder.appendingPathComponent("audit.db").path
        _ = try DemoAuditGenerator.write(
            to: audit,
            configuration: DemoAuditConfiguration(weeks: 6, actors: 120, driftWeek: 5)
        )
        let store = try SQLiteEventStore(path: folder.appendingPathComponent("ledger.db").path, create: true)
        let ledger = try await TestLogs.make(store: store, notes: 0)
        for (key, name, role) in [(approver, "approver", Role.approver), (deployer, "deployer", .deployer)] {
            let record = KeyRecord(publicKey: key.publicKey, name: name, roles: [role])
            try await ledger.append([EventDraft(type: "key.added", data: record.jsonValue)], signedBy: TestKeys.admin)
        }
        let artifacts = try FileArtifactStore(root: folder.appendingPathComponent("artifacts").path)
        let steps = PipelineSteps(
            ledger: ledger,
            artifacts: artifacts,
            signer: TestKeys.pipeline,
            workingDirectory: "/tmp"
        )
        let runner = PipelineRunner(
            steps: steps,
            settings: PipelineSettings(
                pipeline: "access-anomaly",
                target: "production",
                auditSource: .sqlite(path: audit),
                trainer: try IsolationForestTrainer(parameters: ["trees": 50, "samples": 256], threads: 1),
                evaluation: EvaluationSettings(replicates: 200),
                configDigest: Hash256.sha256(Array("service test".utf8)),
                codeVersion: "test"
            ),
            clock: SteppingClock()
        )
        // A lenient gate, so that the second model registers whatever its AUC against the first.
        try await ledger.append(
            [
                EventDraft(
                    type: "policy.set",
                    data: ["policy": Policy(gate: Gate(minImprovement: -1, minLowerBound: -1)).jsonValue]
                )
            ],
            signedBy: TestKeys.admin
        )
        let start = DemoAuditConfiguration().start
        for week in [4, 6] {
            let from = start + Int64(week - 1) * 7 * 86_400_000
            let window = try RunWindow(
                from: Timestamp(millisecondsSinceEpoch: from),
                to: Timestamp(millisecondsSinceEpoch: from + 7 * 86_400_000)
            )
            _ = try await runner.trigger(window, by: "manual")
            if week == 4 {
                // v1 serves before the second run, which so measures drift against it.
                try await approve(1, on: ledger)
                try await deploy(1, on: ledger)
            }
        }
        let versions = await ledger.state.models.versions["access-anomaly"] ?? []
        guard versions.count == 2 else {
            throw LedgerError(.invalidArgument, "the fixture expected two registered versions, got \(versions.count)")
        }
        return folder
    }

    /// A fresh copy of the template: its own log and artifacts.
    static func make() async throws -> ServiceFixture {
        let template = try await template.url()
        let scratch = try TemporaryFolder("service")
        let folder = scratch.url.appendingPathComponent("fixture")
        try FileManager.default.copyItem(at: template, to: folder)
        let store = try SQLiteEventStore(path: folder.appendingPathComponent("ledger.db").path)
        return ServiceFixture(
            scratch: scratch,
            folder: folder,
            store: store,
            artifacts: try FileArtifactStore(root: folder.appendingPathComponent("artifacts").path),
            genesis: MerkleTree.leafHash(try #require(try await store.entries(in: 0..<1).first?.leaf))
        )
    }

    /// The fields naming `access-anomaly@version` and its artifact.
    static func fields(_ version: Int, on ledger: Ledger) async throws -> [String: JSONValue] {
        let artifact = try #require(await ledger.state.models.version("access-anomaly", version)?.artifact)
        return ["name": "access-anomaly", "version": .int(version), "sha256": .string(artifact.hex)]
    }

    static func approve(_ version: Int, on ledger: Ledger) async throws {
        let data = try await fields(version, on: ledger).merging(["reason": "reviewed"]) { $1 }
        try await ledger.append([EventDraft(type: "model.approved", data: .object(data))], signedBy: approver)
    }

    static func deploy(_ version: Int, on ledger: Ledger) async throws {
        let data = try await fields(version, on: ledger).merging(["target": "production"]) { $1 }
        try await ledger.append([EventDraft(type: "model.deployed", data: .object(data))], signedBy: deployer)
    }

    /// Where the artifact of `access-anomaly@version` lies in the fixture's folder store.
    func artifactPath(of version: Int, on ledger: Ledger) async throws -> String {
        let hex = try #require(await ledger.state.models.version("access-anomaly", version)?.artifact.hex)
        return folder.appendingPathComponent("artifacts/sha256/\(hex.prefix(2))/\(hex)").path
    }

    /// A ledger over this fixture's log, as another process (a deployer's CLI) would open it.
    func writer() async throws -> Ledger {
        try await Ledger.open(
            store: store,
            clock: SteppingClock(start: Timestamp(millisecondsSinceEpoch: 1_900_000_000_000))
        )
    }

    /// A server over this fixture, polling every 100 ms, logging into `logs`.
    func server(logs: LogLines = LogLines()) async throws -> LedgerServer {
        try await LedgerServer.start(
            store: store,
            artifacts: artifacts,
            trustedGenesis: genesis,
            logKey: TestKeys.log,
            configuration: ServiceConfiguration(target: "production", pollInterval: .milliseconds(100)),
            clock: SteppingClock(start: Timestamp(millisecondsSinceEpoch: 1_900_000_000_000)),
            log: { logs.append($0) }
        )
    }
}

/// The structured log records a server wrote.
final class LogLines: Sendable {
    private let lines = Mutex<[[String: JSONValue]]>([])

    func append(_ line: [String: JSONValue]) { lines.withLock { $0.append(line) } }

    var all: [[String: JSONValue]] { lines.withLock { $0 } }
}

extension TestResponse {
    /// The body as JSON.
    var json: JSONValue? { try? CanonicalJSON.parse(Array(body.readableBytesView)) }
}

/// A JSON request body.
func body(_ value: JSONValue) -> ByteBuffer {
    ByteBuffer(bytes: (try? CanonicalJSON.encode(value)) ?? [])
}

/// One feature row with plausible values.
func row(events: Double = 5, bytes: Double = 2000, newIP: Double = 0) -> JSONValue {
    [
        "event_count": .number(events), "distinct_actions": 2, "distinct_resources": 3, "failure_ratio": 0,
        "denial_ratio": 0, "off_hours_share": 0, "new_ip": .number(newIP), "new_country": 0,
        "total_bytes": .number(bytes), "admin_actions_by_non_admin": 0,
    ]
}
