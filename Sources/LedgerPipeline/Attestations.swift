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
    /// The typed data of the lineage's events, decoded by the initializer.
    let lineage: Lineage

    /// The typed data of a ``VersionProvenance``'s events.
    struct Lineage: Sendable, Hashable {
        var extracted: DataExtracted
        var built: DatasetBuilt
        var trained: ModelTrained
        var evaluated: ModelEvaluated
        var registered: ModelRegistered
        var started: RunStarted?
        /// The reason of each decision, in the order of ``VersionProvenance/decisions``.
        var reasons: [String]
    }

    /// Ties the events together.
    ///
    /// - Throws: `argument.invalid` if an event is not of its type, or does not name the next event of the lineage
    ///   by seq and digest, or if `registered` is not `version`'s registration, or if `started` is not the start of
    ///   the run `registered` names, or if a decision is not about `version`; `event.schema` if an event's data does
    ///   not have its kind's shape.
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
            (extracted, EventType.dataExtracted), (built, .datasetBuilt), (trained, .modelTrained),
            (evaluated, .modelEvaluated), (registered, .modelRegistered),
        ] {
            try require(event.is(type), "seq \(event.seq) is \(event.type), not \(type)")
        }
        let extractedData = try extracted.decode(DataExtracted.self)
        let builtData = try built.decode(DatasetBuilt.self)
        let trainedData = try trained.decode(ModelTrained.self)
        let evaluatedData = try evaluated.decode(ModelEvaluated.self)
        let registeredData = try registered.decode(ModelRegistered.self)
        let artifact = version.artifact
        try require(registered.seq == version.registeredAt, "it was registered at seq \(version.registeredAt)")
        try require(
            registeredData.name.hasSameBytes(as: version.name) && registeredData.version == version.version,
            "seq \(registered.seq) registers another version"
        )
        try require(
            registeredData.model.seq == trained.seq && registeredData.model.sha256 == artifact,
            "model.registered does not name the model.trained at seq \(trained.seq) with the artifact"
        )
        try require(
            trained.seq == version.trainedAt && trainedData.artifact.sha256 == artifact,
            "model.trained at seq \(trained.seq) did not record the artifact"
        )
        try require(
            registeredData.evaluation.seq == evaluated.seq && evaluatedData.model.seq == trained.seq,
            "model.evaluated at seq \(evaluated.seq) is not the evaluation of model.trained at seq \(trained.seq)"
        )
        try require(
            trainedData.dataset.seq == built.seq && trainedData.dataset.sha256 == builtData.dataset.sha256,
            "model.trained does not name the dataset of dataset.built at seq \(built.seq)"
        )
        try require(
            builtData.extract.seq == extracted.seq && builtData.extract.snapshot == extractedData.snapshot,
            "dataset.built does not name the snapshot of data.extracted at seq \(extracted.seq)"
        )
        var startedData: RunStarted?
        if let started {
            let run = Self.run(of: registeredData, trainedData)
            var data: RunStarted?
            if started.is(.runStarted) { data = try started.decode(RunStarted.self) }
            try require(
                data.map { data in run.map { data.run.hasSameBytes(as: $0) } ?? false } ?? false,
                "seq \(started.seq) is not the start of the run that registered it"
            )
            startedData = data
        }
        var decided: [(event: Event, reason: String)] = []
        for decision in decisions {
            let data: ModelApproved?
            if decision.is(.modelApproved) {
                data = try decision.decode(ModelApproved.self)
            } else if decision.is(.modelRejected) {
                let rejected = try decision.decode(ModelRejected.self)
                data = ModelApproved(
                    name: rejected.name,
                    version: rejected.version,
                    sha256: rejected.sha256,
                    reason: rejected.reason
                )
            } else {
                data = nil
            }
            try require(
                data.map {
                    $0.name.hasSameBytes(as: version.name) && $0.version == version.version && $0.sha256 == artifact
                } ?? false,
                "seq \(decision.seq) is not a decision on it"
            )
            decided.append((decision, data?.reason ?? ""))
        }
        decided.sort { $0.event.seq < $1.event.seq }
        self.version = version
        self.extracted = extracted
        self.built = built
        self.trained = trained
        self.evaluated = evaluated
        self.registered = registered
        self.started = started
        self.decisions = decided.map(\.event)
        self.lineage = Lineage(
            extracted: extractedData,
            built: builtData,
            trained: trainedData,
            evaluated: evaluatedData,
            registered: registeredData,
            started: startedData,
            reasons: decided.map(\.reason)
        )
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
            for started in try await store.events(ofTypes: [EventType.runStarted.rawValue]) {
                let event = started.event
                runs[try event.decode(RunStarted.self).run] = event
            }
        }
        var provenances: [VersionProvenance] = []
        provenances.reserveCapacity(versions.count)
        for version in versions {
            let (registered, registeredData) = try await log.event(at: version.registeredAt, of: ModelRegistered.self)
            let (trained, trainedData) = try await log.event(at: version.trainedAt, of: ModelTrained.self)
            let evaluated = try await log.event(at: registeredData.evaluation.seq, ofType: .modelEvaluated)
            let (built, builtData) = try await log.event(at: trainedData.dataset.seq, of: DatasetBuilt.self)
            let extracted = try await log.event(at: builtData.extract.seq, ofType: .dataExtracted)
            var decisions: [Event] = []
            for decision in version.approvals {
                decisions.append(try await log.event(at: decision.seq, ofType: .modelApproved))
            }
            for decision in version.rejections {
                decisions.append(try await log.event(at: decision.seq, ofType: .modelRejected))
            }
            provenances.append(
                try VersionProvenance(
                    version: version,
                    extracted: extracted,
                    built: built,
                    trained: trained,
                    evaluated: evaluated,
                    registered: registered,
                    started: run(of: registeredData, trainedData).flatMap { runs[$0] },
                    decisions: decisions
                )
            )
        }
        return provenances
    }

    private static func run(of registered: ModelRegistered, _ trained: ModelTrained) -> String? {
        registered.run ?? trained.run
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

    /// `value` as JSON: the same value the event's data held for it, which decoded from JSON and so encodes again.
    private static func json(_ value: some Encodable) -> JSONValue {
        (try? JSONValueEncoding.encode(value)) ?? .null
    }

    private static func externalParameters(of provenance: VersionProvenance) -> JSONValue {
        let lineage = provenance.lineage
        var members: [String: JSONValue] = [
            "model": .string(provenance.version.name),
            "window": json(lineage.extracted.window),
            "source": json(lineage.extracted.source),
            "quality": json(lineage.extracted.policy),
            "featureSpec": json(lineage.built.featureSpec),
            "holdoutPercent": json(lineage.built.split.holdoutPercent),
            "algorithm": .string(lineage.trained.algorithm),
            "parameters": lineage.trained.parameters,
            "seed": json(lineage.trained.seed),
            "alertBudget": ["fraction": json(lineage.evaluated.alertBudget.fraction)],
            "policy": json(lineage.evaluated.policy),
        ]
        if let started = lineage.started {
            members["trigger"] = json(started.trigger)
            members["config"] = json(started.config)
        }
        return .object(members)
    }

    private static func internalParameters(of provenance: VersionProvenance) -> JSONValue {
        var events: [String: JSONValue] = [
            EventType.dataExtracted.rawValue: .int(provenance.extracted.seq),
            EventType.datasetBuilt.rawValue: .int(provenance.built.seq),
            EventType.modelTrained.rawValue: .int(provenance.trained.seq),
            EventType.modelEvaluated.rawValue: .int(provenance.evaluated.seq),
            EventType.modelRegistered.rawValue: .int(provenance.registered.seq),
        ]
        if let started = provenance.started { events[EventType.runStarted.rawValue] = .int(started.seq) }
        let lineage = provenance.lineage
        return [
            "log": .string(provenance.registered.log),
            "extractionQuery": ["sha256": json(lineage.extracted.queryDigest)],
            "features": json(lineage.trained.features),
            "holdoutFrom": json(lineage.built.split.holdoutFrom),
            "events": .object(events),
        ]
    }

    private static func resolvedDependencies(of provenance: VersionProvenance) -> [JSONValue] {
        let lineage = provenance.lineage
        let built = lineage.built
        let extracted = lineage.extracted
        let trained = lineage.trained
        var dependencies: [JSONValue] = [
            [
                "name": "dataset",
                "digest": ["sha256": json(built.dataset.sha256)],
                "annotations": [
                    "seq": .int(provenance.built.seq), "rows": json(built.rows),
                    "labelled": json(built.labelled), "manifest": json(built.manifest),
                ],
            ],
            [
                "name": "snapshot",
                "digest": ["sha256": json(extracted.snapshot.sha256)],
                "annotations": ["seq": .int(provenance.extracted.seq), "rows": json(extracted.rows)],
            ],
        ]
        var annotations: [String: JSONValue] = [
            "seq": .int(provenance.trained.seq), "algorithm": .string(trained.algorithm),
            "version": .string(trained.trainer.version),
        ]
        annotations["command"] = trained.trainer.command.map { json($0) }
        annotations["environment"] = trained.trainer.environment
        dependencies.append([
            "name": "trainer", "uri": eventURI(provenance.trained), "annotations": .object(annotations),
        ])
        for file in trained.trainer.files ?? [] {
            dependencies.append([
                "name": "trainer file", "digest": ["sha256": json(file.sha256)],
                "annotations": ["path": .string(file.path)],
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
        let lineage = provenance.lineage
        let started = provenance.started
        let recordedVersion = lineage.started?.code.version
        var runMeta: [String: JSONValue] = [
            "startedOn": .string((started ?? provenance.extracted).time.rfc3339),
            "finishedOn": .string(provenance.registered.time.rfc3339),
        ]
        if let run = lineage.started?.run { runMeta["invocationId"] = .string(run) }
        let evaluated = provenance.evaluated
        let evaluation = lineage.evaluated
        var annotations: [String: JSONValue] = [
            "seq": .int(evaluated.seq), "time": .string(evaluated.time.rfc3339),
            "verdict": json(evaluation.verdict), "reasons": json(evaluation.reasons),
            "candidate": json(evaluation.candidate), "holdout": json(evaluation.holdout),
            "alertBudget": json(evaluation.alertBudget), "policy": json(evaluation.policy),
        ]
        annotations["champion"] = evaluation.champion.map { json($0) }
        annotations["difference"] = evaluation.difference.map { json($0) }
        let byproducts: [JSONValue] =
            [["name": "evaluation", "uri": eventURI(evaluated), "annotations": .object(annotations)]]
            + zip(provenance.decisions, lineage.reasons).map { decision, reason in
                [
                    "name": .string(decision.is(.modelApproved) ? "approval" : "rejection"),
                    "uri": eventURI(decision),
                    "annotations": [
                        "keyid": .string(decision.actor), "reason": .string(reason),
                        "seq": .int(decision.seq), "time": .string(decision.time.rfc3339),
                    ],
                ]
            }
        return [
            "builder": ["id": .string(builderID(version: recordedVersion ?? builderVersion))],
            "metadata": .object(runMeta),
            "byproducts": .array(byproducts),
        ]
    }
}
