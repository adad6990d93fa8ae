public import ArgumentParser
public import LedgerArtifacts
import LedgerCore
public import LedgerPipeline
public import LedgerWorkspace

// Typed command-line values: a command declares `@Argument var version: ModelVersionReference` and gets a parsed
// value, or ArgumentParser's error naming the argument and its form. `--source` stays a string checked in
// `validate()` (``AuditSourceOption/validate(_:)``): ArgumentParser's own error would echo the value, and a
// PostgreSQL URL may hold a password.

extension ModelVersionReference: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension ArtifactDigest: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension RunWindow: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }

    /// `--window`'s transform: a window, or the error that says what form it takes. A window holds no secret, so
    /// ArgumentParser may echo it.
    static func argument(_ text: String) throws -> RunWindow {
        guard let window = RunWindow(parsing: text) else {
            throw ValidationError("--window must be FROM..TO with FROM before TO, such as 2026-03-02..2026-03-09")
        }
        return window
    }
}

/// `--key FILE`: the private key that signs, by default the workspace's key for the role the event needs.
struct SigningKeyOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Your private key file (default: the workspace's key for the role this event needs).",
            valueName: "FILE"
        )
    )
    var key: String?
}

/// `--reason TEXT`, required: why, recorded in the log.
struct ReasonOption: ParsableArguments {
    @Option(
        help: ArgumentHelp("Why: what you checked. Recorded in the log (1 to 4,096 characters).", valueName: "TEXT")
    )
    var reason: String

    func validate() throws { try ReasonOption.check(reason) }

    static func check(_ reason: String?) throws {
        if let reason, reason.isEmpty || reason.unicodeScalars.count > 4096 {
            throw ValidationError("--reason must be 1 to 4096 characters")
        }
    }
}

/// `--reason TEXT`, optional.
struct OptionalReasonOption: ParsableArguments {
    @Option(help: ArgumentHelp("Why. Recorded in the log (1 to 4,096 characters).", valueName: "TEXT"))
    var reason: String?

    func validate() throws { try ReasonOption.check(reason) }
}

/// `--target NAME`: a deployment target, by default the workspace's model target.
struct TargetOption: ParsableArguments {
    @Option(help: ArgumentHelp("The target (default: the workspace's model target).", valueName: "NAME"))
    var target: String?

    func validate() throws {
        if let target, !ModelRules.isValidName(target) {
            throw ValidationError("--target is letters, digits, '.', '_' and '-', starting with a letter or digit")
        }
    }

    func resolve(in workspace: Workspace) -> String { target ?? workspace.model.target }
}

extension ModelVersionReference {
    /// Parses `text`, or explains the form `MODEL@VERSION` takes: for arguments that take either a model or a
    /// version (`ledger registry [MODEL[@VERSION]]`).
    static func parse(_ text: String) throws -> ModelVersionReference {
        guard let reference = ModelVersionReference(text) else {
            throw ValidationError(
                "\"\(text)\" is not MODEL@VERSION, such as access-anomaly@3 (see `ledger registry` for the versions)"
            )
        }
        return reference
    }
}
