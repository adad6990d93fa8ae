public import LedgerCore
public import LedgerStore

/// The events a registered version's provenance is read from: its lineage back to the Audit DB snapshot, the run
/// that produced it, and the humans' decisions on it.
///
/// The lineage is the chain `ledger reproduce` walks: `model.registered` → `model.evaluated` → `model.trained` →
/// `dataset.built` → `data.extracted`. ``init(version:extracted:built:trained:evaluated:registered:started:decisions:)``
/// checks every link, so a value of this type always describes one consistent lineage of `version`.
public struct VersionProvenance: Sendable, Hashable {
    public let version: ModelRules.Version
    public let extracted: Event
    public let built: Event
    public let trained: Event
    public let evaluated: Event
    public let registered: Event
    /// The `run.started` of the run that registered the version, if a pipeline run did.
    public let started: Event?
    /// The version's `model.approved` and `model.rejected` events, in log order.
    public let decisions: [Event]

    /// Ties the events together.
    ///
    /// - Throws: `argument.invalid` if an event is not of its type, or does not name the next event of the lineage
    ///   by seq and digest, or if `registered` is not `version`'s registration, or if `started` is not the start of
    ///   the run `registered` names, or if a decision is not about `version`.
    public init(
        version: ModelRules.Version,
        extracted: Event,
        built: Event,
        trained: Event,
        evaluated: Event,
        registered: Event,
        started: Event?,
        decisions: [Event]
    ) throws(LedgerError) {
        let label = "\(version.name)@\(version.version)"
        func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws(LedgerError) {
            guard condition else { throw LedgerError(.invalidArgument, "the provenance of \(label): \(reason())") }
        }
        for (event, type) in [
            (extracted, "data.extracted"), (built, "dataset.built"), (trained, "model.trained"),
            (evaluated, "model.evaluated"), (registered, "model.registered"),
        ] {
            try require(event.type == type, "seq \(event.seq) is \(event.type), not \(type)")
        }
        let artifact = version.artifact.hex
        try require(registered.seq == version.registeredAt, "it was registered at seq \(version.registeredAt)")
        try require(
            registered.data["name"]?.stringValue?.hasSameBytes(as: version.name) == true
                && registered.data["version"]?.integerValue == Int64(version.version),
            "seq \(registered.seq) registers another version"
        )
        try require(
            Self.seq(registered.data["model"]) == trained.seq
                && registered.data["model"]?["sha256"]?.stringValue
                    == artifact,
            "model.registered does not name the model.trained at seq \(trained.seq) with the artifact"
        )
        try require(
            trained.seq == version.trainedAt && trained.data["artifact"]?["sha256"]?.stringValue == artifact,
            "model.trained at seq \(trained.seq) did not record the artifact"
        )
        try require(
            Self.seq(registered.data["evaluation"]) == evaluated.seq
                && Self.seq(evaluated.data["model"]) == trained.seq,
            "model.evaluated at seq \(evaluated.seq) is not the evaluation of model.trained at seq \(trained.seq)"
        )
        try require(
            Self.seq(trained.data["dataset"]) == built.seq
                && trained.data["dataset"]?["sha256"] == built.data["dataset"]?["sha256"],
            "model.trained does not name the dataset of dataset.built at seq \(built.seq)"
        )
        try require(
            Self.seq(built.data["extract"]) == extracted.seq
                && built.data["extract"]?["snapshot"] == extracted.data["snapshot"],
            "dataset.built does not name the snapshot of data.extracted at seq \(extracted.seq)"
        )
        if let started {
            try require(
                started.type == "run.started" && started.data["run"] != nil
                    && started.data["run"] == Self.run(of: registered, trained),
                "seq \(started.seq) is not the start of the run that registered it"
            )
        }
        for decision in decisions {
            try require(
                ["model.approved", "model.rejected"].contains(decision.type)
                    && decision.data["name"]?.stringValue?.hasSameBytes(as: version.name) == true
                    && decision.data["version"]?.integerValue == Int64(version.version)
                    && decision.data["sha256"]?.stringValue == artifact,
                "seq \(decision.seq) is not a decision on it"
            )
        }
        self.version = version
        self.extracted = extracted
        self.built = built
        self.trained = trained
        self.evaluated = evaluated
        self.registered = registered
        self.started = started
        self.decisions = decisions.sorted { $0.seq < $1.seq }
    }

    /// Reads the provenance of each of `versions` from `store`, in the same order. `versions` come from the
    /// ``LedgerState`` of the same log (`state.models`), so their decisions are the ones up to that state's head.
    public static func read(
        _ versions: [ModelRules.Version],
        from store: any EventStore
    ) async throws(LedgerError) -> [VersionProvenance] {
        let log = LogReader(store: store)
        var runs: IdentifierDictionary<Event> = [:]  // run ids are told apart by their bytes
        if !versions.isEmpty {
            for started in try await store.events(ofTypes: ["run.started"]) {
                let event = started.event
                if let run = event.data["run"]?.stringValue { runs[run] = event }
            }
        }
        var provenances: [VersionProvenance] = []
        provenances.reserveCapacity(versions.count)
        for version in versions {
            let registered = try await log.event(at: version.registeredAt, ofType: "model.registered")
            let trained = try await log.event(at: version.trainedAt, ofType: "model.trained")
            let evaluated = try await log.event(at: seq(registered.data["evaluation"]), ofType: "model.evaluated")
            let built = try await log.event(at: seq(trained.data["dataset"]), ofType: "dataset.built")
            let extracted = try await log.event(at: seq(built.data["extract"]), ofType: "data.extracted")
            var decisions: [Event] = []
            for decision in version.approvals {
                decisions.append(try await log.event(at: decision.seq, ofType: "model.approved"))
            }
            for decision in version.rejections {
                decisions.append(try await log.event(at: decision.seq, ofType: "model.rejected"))
            }
            provenances.append(
                try VersionProvenance(
                    version: version,
                    extracted: extracted,
                    built: built,
                    trained: trained,
                    evaluated: evaluated,
                    registered: registered,
                    started: run(of: registered, trained)?.stringValue.flatMap { runs[$0] },
                    decisions: decisions
                )
            )
        }
        return provenances
    }

    /// The seq of a `{"seq", ...}` reference; `UInt64.max`, which no event has, if there is none.
    private static func seq(_ reference: JSONValue?) -> UInt64 {
        reference?["seq"]?.integerValue.flatMap { UInt64(exactly: $0) } ?? .max
    }

    private static func run(of registered: Event, _ trained: Event) -> JSONValue? {
        registered.data["run"] ?? trained.data["run"]
    }
}

/// in-toto attestations of registered versions: an in-toto Statement v1 whose subject is the model artifact and
/// whose predicate is SLSA Provenance v1, signed in a DSSE envelope.
///
/// The statement says, from the log alone:
/// - `subject`: `MODEL@VERSION` with the artifact's SHA-256, the digest the registry and `ledger serve` use;
/// - `buildDefinition.externalParameters`: what the workspace's configuration chose: the model, the data window and
///   source kind, the data quality policy, the feature spec, the holdout share, the algorithm, its parameters and
///   seed, the alert budget, the governance policy's digest, and, for a pipeline run, its trigger and config digest;
/// - `buildDefinition.internalParameters`: what the ledger fixed: the log, the extraction query's digest, the
///   feature columns, the holdout split, and the seq of every event the statement was read from;
/// - `buildDefinition.resolvedDependencies`: the `dataset` (the `dataset.built` digest), the `snapshot` it was
///   built from (the `data.extracted` digest), the `trainer` as `model.trained` identifies it, and, for an
///   external trainer, each `trainer file` with the digest recorded when it ran;
/// - `runDetails`: the builder (`https://modelledger.dev/ledger@<version>`, the ledger version the run recorded),
///   the run id as `invocationId`, when the run (or, outside a run, the extraction) started and when the version
///   was registered, and as byproducts the `evaluation` (metrics, champion, verdict, reasons) and every `approval`
///   and `rejection` (the signing keyid, reason, seq and time).
///
/// The statement is the RFC 8785 canonical JSON of that object: the bytes the DSSE signature covers.
public enum Attestation {
    /// The DSSE payload type of an in-toto statement.
    public static let payloadType = "application/vnd.in-toto+json"
    /// The statement's `_type`.
    public static let statementType = "https://in-toto.io/Statement/v1"
    /// The statement's `predicateType`.
    public static let predicateType = "https://slsa.dev/provenance/v1"
    /// The predicate's `buildDefinition.buildType`: the pipeline's extract, build, train, evaluate and register.
    public static let buildType = "https://modelledger.dev/pipeline/train/v1"

    /// The builder id of the ledger version `version`.
    public static func builderID(version: String) -> String { "https://modelledger.dev/ledger@\(version)" }

    /// The file name of a version's attestation: `MODEL@VERSION.intoto.json`. Model names are letters, digits, `.`,
    /// `_` and `-` (``ModelRules/isValidName(_:)``), so the name is a safe file name.
    public static func fileName(of version: ModelRules.Version) -> String {
        "\(version.name)@\(version.version).intoto.json"
    }

    /// The statement of `provenance`, as a JSON value.
    ///
    /// - Parameter builderVersion: the ledger version named in the builder id when the version was not registered
    ///   by a pipeline run; a run's own `run.started` records the version that ran it, which takes precedence.
    public static func statement(of provenance: VersionProvenance, builderVersion: String) -> JSONValue {
        let version = provenance.version
        let subject: JSONValue = [
            "name": .string("\(version.name)@\(version.version)"), "digest": ["sha256": .string(version.artifact.hex)],
        ]
        let predicate: JSONValue = [
            "buildDefinition": [
                "buildType": .string(buildType),
                "externalParameters": externalParameters(of: provenance),
                "internalParameters": internalParameters(of: provenance),
                "resolvedDependencies": .array(resolvedDependencies(of: provenance)),
            ],
            "runDetails": runDetails(of: provenance, builderVersion: builderVersion),
        ]
        return [
            "_type": .string(statementType), "subject": [subject], "predicateType": .string(predicateType),
            "predicate": predicate,
        ]
    }

    /// The RFC 8785 canonical bytes of ``statement(of:builderVersion:)``: the DSSE payload.
    ///
    /// - Throws: `event.malformed` if the events hold a number that JSON cannot carry, which events that passed the
    ///   append path never do.
    public static func payload(of provenance: VersionProvenance, builderVersion: String) throws(LedgerError) -> [UInt8]
    {
        do {
            return try CanonicalJSON.encode(statement(of: provenance, builderVersion: builderVersion))
        } catch {
            throw LedgerError(.malformed, "the attestation statement cannot be canonicalized: \(error.reason)")
        }
    }

    /// The DSSE envelope of the statement, signed with `key` over the PAE; its keyid is `key`'s ``KeyID``.
    public static func envelope(
        of provenance: VersionProvenance,
        builderVersion: String,
        signedBy key: SigningKey
    ) throws(LedgerError) -> Envelope {
        try Envelope.signing(
            try payload(of: provenance, builderVersion: builderVersion),
            payloadType: payloadType,
            with: key
        )
    }

    private static func externalParameters(of provenance: VersionProvenance) -> JSONValue {
        let extracted = provenance.extracted.data
        let built = provenance.built.data
        let trained = provenance.trained.data
        let evaluated = provenance.evaluated.data
        var members: [String: JSONValue] = [
            "model": .string(provenance.version.name),
            "window": extracted["window"] ?? .null,
            "source": extracted["source"] ?? .null,
            "quality": extracted["policy"] ?? .null,
            "featureSpec": built["featureSpec"] ?? .null,
            "holdoutPercent": built["split"]?["holdoutPercent"] ?? .null,
            "algorithm": trained["algorithm"] ?? .null,
            "parameters": trained["parameters"] ?? .null,
            "seed": trained["seed"] ?? .null,
            "alertBudget": ["fraction": evaluated["alertBudget"]?["fraction"] ?? .null],
            "policy": evaluated["policy"] ?? .null,
        ]
        if let started = provenance.started?.data {
            members["trigger"] = started["trigger"]
            members["config"] = started["config"]
        }
        return .object(members)
    }

    private static func internalParameters(of provenance: VersionProvenance) -> JSONValue {
        var events: [String: JSONValue] = [
            "data.extracted": .int(provenance.extracted.seq), "dataset.built": .int(provenance.built.seq),
            "model.trained": .int(provenance.trained.seq), "model.evaluated": .int(provenance.evaluated.seq),
            "model.registered": .int(provenance.registered.seq),
        ]
        if let started = provenance.started { events["run.started"] = .int(started.seq) }
        return [
            "log": .string(provenance.registered.log),
            "extractionQuery": ["sha256": provenance.extracted.data["queryDigest"] ?? .null],
            "features": provenance.trained.data["features"] ?? .null,
            "holdoutFrom": provenance.built.data["split"]?["holdoutFrom"] ?? .null,
            "events": .object(events),
        ]
    }

    private static func resolvedDependencies(of provenance: VersionProvenance) -> [JSONValue] {
        let built = provenance.built
        let extracted = provenance.extracted
        let trained = provenance.trained
        var dependencies: [JSONValue] = [
            [
                "name": "dataset",
                "digest": ["sha256": built.data["dataset"]?["sha256"] ?? .null],
                "annotations": [
                    "seq": .int(built.seq), "rows": built.data["rows"] ?? .null,
                    "labelled": built.data["labelled"] ?? .null, "manifest": built.data["manifest"] ?? .null,
                ],
            ],
            [
                "name": "snapshot",
                "digest": ["sha256": extracted.data["snapshot"]?["sha256"] ?? .null],
                "annotations": ["seq": .int(extracted.seq), "rows": extracted.data["rows"] ?? .null],
            ],
        ]
        let trainer = trained.data["trainer"]
        var annotations: [String: JSONValue] = [
            "seq": .int(trained.seq), "algorithm": trained.data["algorithm"] ?? .null,
            "version": trainer?["version"] ?? .null,
        ]
        annotations["command"] = trainer?["command"]
        annotations["environment"] = trainer?["environment"]
        dependencies.append(["name": "trainer", "uri": eventURI(trained), "annotations": .object(annotations)])
        for file in trainer?["files"]?.arrayValue ?? [] {
            dependencies.append([
                "name": "trainer file", "digest": ["sha256": file["sha256"] ?? .null],
                "annotations": ["path": file["path"] ?? .null],
            ])
        }
        return dependencies
    }

    /// `modelledger:<log id>#seq=<n>`: the signed event a descriptor stands for, so that every in-toto resource
    /// descriptor has a `uri` or a `digest`, as Statement v1 requires.
    static func eventURI(_ event: Event) -> JSONValue {
        .string("modelledger:\(event.log)#seq=\(event.seq)")
    }

    private static func runDetails(of provenance: VersionProvenance, builderVersion: String) -> JSONValue {
        let started = provenance.started
        let recordedVersion = started?.data["code"]?["version"]?.stringValue
        var metadata: [String: JSONValue] = [
            "startedOn": .string((started ?? provenance.extracted).time.rfc3339),
            "finishedOn": .string(provenance.registered.time.rfc3339),
        ]
        if let run = started?.data["run"] { metadata["invocationId"] = run }
        let evaluated = provenance.evaluated
        var evaluation: [String: JSONValue] = [
            "seq": .int(evaluated.seq), "time": .string(evaluated.time.rfc3339),
            "verdict": evaluated.data["verdict"] ?? .null, "reasons": evaluated.data["reasons"] ?? .null,
            "candidate": evaluated.data["candidate"] ?? .null, "holdout": evaluated.data["holdout"] ?? .null,
            "alertBudget": evaluated.data["alertBudget"] ?? .null, "policy": evaluated.data["policy"] ?? .null,
        ]
        evaluation["champion"] = evaluated.data["champion"]
        evaluation["difference"] = evaluated.data["difference"]
        let byproducts: [JSONValue] =
            [["name": "evaluation", "uri": eventURI(evaluated), "annotations": .object(evaluation)]]
            + provenance.decisions.map { decision in
                [
                    "name": .string(decision.type == "model.approved" ? "approval" : "rejection"),
                    "uri": eventURI(decision),
                    "annotations": [
                        "keyid": .string(decision.actor), "reason": decision.data["reason"] ?? .null,
                        "seq": .int(decision.seq), "time": .string(decision.time.rfc3339),
                    ],
                ]
            }
        return [
            "builder": ["id": .string(builderID(version: recordedVersion ?? builderVersion))],
            "metadata": .object(metadata),
            "byproducts": .array(byproducts),
        ]
    }
}
