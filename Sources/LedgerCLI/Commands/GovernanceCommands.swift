import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerStore

/// The options every governance command shares: the version, the signing key and `--json`.
struct GovernanceOptions: ParsableArguments {
    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp(
            "Your private key file (default: the workspace's key for the role this event needs).",
            valueName: "FILE"
        )
    )
    var key: String?

    @Flag(help: "Print the appended event's {\"seq\",\"type\",...} as JSON.")
    var json = false

    /// Appends the event `draft` builds from the log's state, signed with `--key` (or the workspace's key for
    /// `role`), and prints the version's status afterwards.
    func append(
        _ type: String,
        role: Role,
        about reference: (LedgerState) throws -> ModelVersionReference,
        data: (LedgerState) throws -> [String: JSONValue]
    ) async throws {
        let workspace = try workspace.locate()
        let signer = try KeyFiles.loadPrivateKey(try key ?? workspace.keyFile(for: role))
        let ledger = try await workspace.openLedger()
        let state = await ledger.state
        let version = try reference(state)
        let draft = EventDraft(type: type, data: .object(try data(state)))
        guard let signed = try await ledger.append([draft], signedBy: signer).first else { return }
        try await reportDecision(signed, version, in: workspace, json: json)
    }
}

extension ModelVersionReference {
    init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    /// Parses `text`, or explains the form `MODEL@VERSION` takes.
    static func parse(_ text: String) throws -> ModelVersionReference {
        guard let reference = ModelVersionReference(text) else {
            throw ValidationError(
                "\"\(text)\" is not MODEL@VERSION, such as access-anomaly@3 (see `ledger registry` for the versions)"
            )
        }
        return reference
    }

    /// `{"name","version","sha256"}` for the registered version this names.
    func versionFields(in state: LedgerState) throws(LedgerError) -> [String: JSONValue] {
        guard let version = state.models.version(name, self.version) else {
            let known = state.models.versions[name]?.count ?? 0
            throw LedgerError(
                .invalidArgument,
                known == 0
                    ? "\(name) has no registered version"
                    : "\(self) is not registered: \(name) has versions 1 to \(known)"
            )
        }
        return ["name": .string(name), "version": .int(version.version), "sha256": .string(version.artifact.hex)]
    }
}

/// Prints the outcome of a governance command: the appended seq and the version's status afterwards.
func reportDecision(
    _ signed: SignedEvent,
    _ reference: ModelVersionReference,
    in workspace: Workspace,
    json: Bool
)
    async throws
{
    let projections = try await workspace.projections()
    let entry = projections.registry[VersionKey(reference.name, reference.version)]
    let console = Console.current
    if json {
        var object: [String: JSONValue] = [
            "seq": .int(signed.event.seq), "type": .string(signed.event.type),
            "version": .string(reference.description),
        ]
        if let entry {
            object["status"] = .string(entry.status.rawValue)
            object["approvals"] = .int(entry.approvals.count)
            object["requiredApprovals"] = .int(projections.requiredApprovals)
            object["serving"] = .array(entry.serving.map(JSONValue.string))
        }
        console.json(.object(object))
        return
    }
    console.out("appended seq \(signed.event.seq) \(signed.event.type): \(reference)")
    if let entry {
        let serving = entry.serving.isEmpty ? "" : ", serving \(entry.serving.joined(separator: ", "))"
        console.out(
            "\(reference) is \(entry.status.rawValue): \(entry.approvals.count) of \(projections.requiredApprovals) "
                + "approvals\(serving)"
        )
    }
}

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a registered version for deployment (model.approved, signed by an approver).",
        discussion: """
            The approval names the version's artifact digest, so it can never be moved to other bytes. The rules, checked before anything is written and again by `ledger verify`: the version is registered (so it passed the gate) and not retired or rejected; the key that signed its model.trained may not approve it (separation of duties); and each key decides on a version once. A deploy needs the policy's requiredApprovals distinct approvals.

            With --offline the approval is signed but not appended: the envelope goes to --out, for `ledger append --envelope FILE` or the service's POST /v1/events. It carries the log's next seq and the last entry's hash, so it must be appended before any other event; if the log moves on first, sign again.

            Examples:
              ledger approve access-anomaly@3 --key ~/keys/alice.key --reason "reviewed the holdout metrics"
              ledger approve access-anomaly@3 --key ~/keys/alice.key --reason "ok" --offline --out approval.dsse.json
            """
    )

    @Argument(help: ArgumentHelp("The version to approve.", valueName: "MODEL@VERSION"))
    var version: String

    @Option(help: ArgumentHelp("Why: what you checked. Recorded in the log.", valueName: "TEXT"))
    var reason: String

    @Flag(help: "Sign the approval without appending it; write the envelope to --out.")
    var offline = false

    @Option(help: ArgumentHelp("With --offline: where to write the DSSE envelope.", valueName: "FILE"))
    var out: String?

    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        _ = try ModelVersionReference.parse(version)
        guard !reason.isEmpty, reason.unicodeScalars.count <= 4096 else {
            throw ValidationError("--reason must be 1 to 4096 characters")
        }
        guard offline == (out != nil) else { throw ValidationError("--offline and --out FILE go together") }
    }

    func run() async throws {
        let reference = try ModelVersionReference.parse(version)
        if offline, let out {
            try await signOffline(reference, to: out)
            return
        }
        try await options.append(
            "model.approved",
            role: .approver,
            about: { _ in reference },
            data: { state in
                try reference.versionFields(in: state).merging(["reason": .string(reason)]) { $1 }
            }
        )
    }

    private func signOffline(_ reference: ModelVersionReference, to path: String) async throws {
        let workspace = try options.workspace.locate()
        let signer = try KeyFiles.loadPrivateKey(try options.key ?? workspace.keyFile(for: .approver))
        let ledger = try await workspace.openLedger()
        var data = try reference.versionFields(in: await ledger.state)
        data["reason"] = .string(reason)
        guard
            let signed = try await ledger.sign(
                [EventDraft(type: "model.approved", data: .object(data))],
                signedBy: signer
            ).first
        else { return }
        try Files.writeNew(signed.leaf + [0x0a], to: path, mode: 0o644)
        if options.json {
            Console.current.json([
                "seq": .int(signed.event.seq), "type": "model.approved", "version": .string(reference.description),
                "envelope": .string(path), "prev": .string(signed.event.prev.hex),
            ])
            return
        }
        Console.current.out("signed model.approved for \(reference) as seq \(signed.event.seq); wrote \(path)")
        Console.current.out("append it before any other event: ledger append --envelope \(path)")
    }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Veto a registered version (model.rejected, signed by an approver).",
        discussion: """
            A rejection is a veto: the version can no longer be approved, deployed or rolled back to. A version that serves a target keeps serving until a deployer replaces it. Each key decides on a version once.

            Example:
              ledger reject access-anomaly@4 --key ~/keys/bob.key --reason "precision@k fell on the fraud segment"
            """
    )

    @Argument(help: ArgumentHelp("The version to reject.", valueName: "MODEL@VERSION"))
    var version: String

    @Option(help: ArgumentHelp("Why. Recorded in the log.", valueName: "TEXT"))
    var reason: String

    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        _ = try ModelVersionReference.parse(version)
        guard !reason.isEmpty, reason.unicodeScalars.count <= 4096 else {
            throw ValidationError("--reason must be 1 to 4096 characters")
        }
    }

    func run() async throws {
        let reference = try ModelVersionReference.parse(version)
        try await options.append(
            "model.rejected",
            role: .approver,
            about: { _ in reference },
            data: { state in
                try reference.versionFields(in: state).merging(["reason": .string(reason)]) { $1 }
            }
        )
    }
}

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Make an approved version serve a target (model.deployed, signed by a deployer).",
        discussion: """
            The version must have the policy's requiredApprovals distinct approvals, and must not be retired or rejected. `ledger serve --target NAME` loads what the target's latest deployment or rollback names.

            Example:
              ledger deploy access-anomaly@3 --target production --key ~/keys/dana.key
            """
    )

    @Argument(help: ArgumentHelp("The version to deploy.", valueName: "MODEL@VERSION"))
    var version: String

    @Option(help: ArgumentHelp("The target (default: the workspace's model target).", valueName: "NAME"))
    var target: String?

    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        _ = try ModelVersionReference.parse(version)
        if let target, !ModelRules.isValidName(target) {
            throw ValidationError("--target is letters, digits, '.', '_' and '-', starting with a letter or digit")
        }
    }

    func run() async throws {
        let reference = try ModelVersionReference.parse(version)
        let target = try target ?? options.workspace.locate().model.target
        try await options.append(
            "model.deployed",
            role: .deployer,
            about: { _ in reference },
            data: { state in
                try reference.versionFields(in: state).merging(["target": .string(target)]) { $1 }
            }
        )
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put a target back on a version that served it before (model.rolledBack, signed by a deployer).",
        discussion: """
            Without --to, the target goes back to the version that served it before the current one (skipping any retired or rejected since). Only a version that was approved and deployed to this target before may be rolled back to.

            Example:
              ledger rollback access-anomaly --target production --key ~/keys/dana.key --reason "alert volume doubled"
              ledger rollback access-anomaly --target production --to 2
            """
    )

    @Argument(help: ArgumentHelp("The model whose deployment to roll back.", valueName: "MODEL"))
    var model: String

    @Option(help: ArgumentHelp("The target (default: the workspace's model target).", valueName: "NAME"))
    var target: String?

    @Option(help: ArgumentHelp("The version to go back to (default: the previous one).", valueName: "VERSION"))
    var to: Int?

    @Option(help: ArgumentHelp("Why. Recorded in the log.", valueName: "TEXT"))
    var reason: String?

    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        guard ModelRules.isValidName(model) else {
            throw ValidationError("MODEL is letters, digits, '.', '_' and '-', such as access-anomaly")
        }
        if let to, to < 1 { throw ValidationError("--to must be a version number, 1 or more") }
        if let reason, reason.isEmpty || reason.unicodeScalars.count > 4096 {
            throw ValidationError("--reason must be 1 to 4096 characters")
        }
    }

    func run() async throws {
        let workspace = try options.workspace.locate()
        let target = target ?? workspace.model.target
        // The default destination comes from the deployment history, which the projections keep.
        let history = try await workspace.projections().deployments[target] ?? []
        var destination: ModelVersionReference?
        try await options.append("model.rolledBack", role: .deployer) { state in
            guard let current = state.models.targets[target]?.current, current.name == model else {
                throw LedgerError(.invalidArgument, "no version of \(model) serves \(target)")
            }
            let number = try to ?? previousVersion(before: current, on: target, history: history, state: state)
            destination = ModelVersionReference(name: model, version: number)
            return ModelVersionReference(name: model, version: number)
        } data: { state in
            guard let current = state.models.targets[target]?.current,
                let from = state.models.version(model, current.version), let destination
            else { throw LedgerError(.invalidArgument, "no version of \(model) serves \(target)") }
            var data: [String: JSONValue] = [
                "name": .string(model), "target": .string(target),
                "from": ["version": .int(from.version), "sha256": .string(from.artifact.hex)],
                "to": [
                    "version": .int(destination.version),
                    "sha256": try destination.versionFields(in: state)["sha256"] ?? .null,
                ],
            ]
            if let reason { data["reason"] = .string(reason) }
            return data
        }
    }

    /// The version that served `target` before `current`, skipping any retired or rejected since.
    private func previousVersion(
        before current: ModelRules.Serving,
        on target: String,
        history: [DeploymentRecord],
        state: LedgerState
    ) throws -> Int {
        for record in history.reversed() where record.name == model && record.version != current.version {
            if let version = state.models.version(model, record.version), version.retiredAt == nil,
                version.rejections.isEmpty
            {
                return record.version
            }
        }
        throw LedgerError(
            .invalidArgument,
            "\(model)@\(current.version) is the only deployable version that has served \(target); nothing to roll back to"
        )
    }
}

struct RetireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Withdraw a version for good (model.retired, signed by a deployer).",
        discussion: """
            A retired version can never be deployed or rolled back to again. A version that serves a target cannot be retired: deploy or roll back to another version first.

            Example:
              ledger retire access-anomaly@1 --key ~/keys/dana.key --reason "superseded by @3"
            """
    )

    @Argument(help: ArgumentHelp("The version to retire.", valueName: "MODEL@VERSION"))
    var version: String

    @Option(help: ArgumentHelp("Why. Recorded in the log.", valueName: "TEXT"))
    var reason: String?

    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        _ = try ModelVersionReference.parse(version)
        if let reason, reason.isEmpty || reason.unicodeScalars.count > 4096 {
            throw ValidationError("--reason must be 1 to 4096 characters")
        }
    }

    func run() async throws {
        let reference = try ModelVersionReference.parse(version)
        try await options.append(
            "model.retired",
            role: .deployer,
            about: { _ in reference },
            data: { state in
                try reference.versionFields(in: state).merging(reason.map { ["reason": .string($0)] } ?? [:]) { $1 }
            }
        )
    }
}
