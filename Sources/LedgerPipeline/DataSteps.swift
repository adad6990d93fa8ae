public import LedgerArtifacts
public import LedgerAudit
public import LedgerCore
import LedgerStore

extension PipelineSteps {
    /// What ``extract(source:from:to:policy:now:run:)`` recorded.
    public struct Extracted: Sendable {
        public let seq: UInt64
        /// The `data.extracted` event as stored.
        public let event: Event
        public let snapshot: ArtifactDigest
        public let rows: Int
        public let quarantined: [DataQualityIssue: Int]
    }

    /// Runs the Audit DB contract's query over `[from, to)` of the Audit DB at `source` (SQLite or PostgreSQL), stores
    /// the rows as a snapshot artifact, and appends `data.extracted` (the source's kind, `sqlite` or `postgres`, the
    /// query digest, window, row count, snapshot digest and quarantine counts: never personal data, and never the
    /// source's path or URL, which may hold a password).
    ///
    /// `now` is the instant rows are judged "in the future" by. Nothing is appended if the extraction fails, and a
    /// half-written snapshot is removed.
    public func extract(
        source: AuditSourceLocation,
        from: Timestamp,
        to: Timestamp,
        policy: DataQualityPolicy,
        now: Timestamp,
        run: String? = nil
    ) async throws(LedgerError) -> Extracted {
        let writer = try await artifacts.makeWriter()
        let extraction: AuditExtraction
        let snapshot: ArtifactDigest
        do {
            extraction = try await AuditExtractor.extract(
                source: source,
                from: from,
                to: to,
                now: now,
                policy: policy,
                sink: { chunk in try writer.write(Array(chunk)) }
            )
            snapshot = try writer.commit()
        } catch let error as LedgerError {
            writer.abandon()
            throw error
        } catch {
            writer.abandon()
            throw LedgerError(.extractSource, "the extraction failed: \(error)")
        }
        var quarantined: [String: JSONValue] = [:]
        for (issue, count) in extraction.quarantined { quarantined[issue.rawValue] = .int(count) }
        var data: [String: JSONValue] = [
            "source": ["kind": .string(source.kind)], "queryDigest": .string(extraction.queryDigest.hex),
            "window": ["from": .string(from.rfc3339), "to": .string(to.rfc3339)], "rows": .int(extraction.rows),
            "snapshot": ["sha256": .string(snapshot.sha256.hex)], "policy": .string(policy.rawValue),
            "quarantined": .object(quarantined),
        ]
        if let run { data["run"] = .string(run) }
        let event = try await appendOne(
            EventDraft(
                type: "data.extracted",
                subject: [Subject(name: "snapshot", sha256: snapshot.sha256)],
                data: .object(data)
            )
        )
        return Extracted(
            seq: event.seq,
            event: event,
            snapshot: snapshot,
            rows: extraction.rows,
            quarantined: extraction.quarantined
        )
    }

    /// What ``buildDataset(from:holdoutPercent:run:)`` recorded.
    public struct Built: Sendable {
        public let seq: UInt64
        /// The `dataset.built` event as stored.
        public let event: Event
        public let dataset: ArtifactDigest
        public let manifest: ArtifactDigest
        public let result: BuiltDataset
    }

    /// Computes the feature dataset of the snapshot that the `data.extracted` event `extract` recorded (spec
    /// version 1, the last `holdoutPercent` percent of the time range as the holdout), stores the dataset and its
    /// manifest, and appends `dataset.built`. The same snapshot and percent always give byte-identical artifacts.
    public func buildDataset(
        from extract: RecordedExtract,
        holdoutPercent: Int,
        run: String? = nil
    ) async throws(LedgerError) -> Built {
        guard (1...99).contains(holdoutPercent) else {
            throw LedgerError(.invalidArgument, "the holdout is 1 to 99 percent of the time range")
        }
        let snapshot = try await artifacts.get(ArtifactDigest(sha256: extract.snapshot))
        let built = try DatasetBuilder.build(
            snapshot: snapshot,
            from: extract.from,
            to: extract.to,
            featureSpec: DatasetBuilder.featureSpecV1,
            holdoutFraction: Double(holdoutPercent) / 100
        )
        let dataset = try await artifacts.put(built.csv)
        let manifest = try await artifacts.put(built.manifest)
        func counts(_ counts: LabelCounts) -> JSONValue {
            ["anomalous": .int(counts.anomalous), "benign": .int(counts.benign)]
        }
        var data: [String: JSONValue] = [
            "extract": ["seq": .int(extract.seq), "snapshot": ["sha256": .string(extract.snapshot.hex)]],
            "featureSpec": ["version": 1, "sha256": .string(built.featureSpecDigest.hex)],
            "dataset": ["sha256": .string(dataset.sha256.hex)],
            "manifest": ["sha256": .string(manifest.sha256.hex)],
            "split": ["holdoutFrom": .string(built.split.holdoutFrom.rfc3339), "holdoutPercent": .int(holdoutPercent)],
            "rows": ["train": .int(built.trainRows), "holdout": .int(built.holdoutRows)],
            "labelled": ["train": counts(built.labelled.train), "holdout": counts(built.labelled.holdout)],
        ]
        if let run { data["run"] = .string(run) }
        let event = try await appendOne(
            EventDraft(
                type: "dataset.built",
                subject: [
                    Subject(name: "dataset", sha256: dataset.sha256),
                    Subject(name: "manifest", sha256: manifest.sha256),
                ],
                data: .object(data)
            )
        )
        return Built(seq: event.seq, event: event, dataset: dataset, manifest: manifest, result: built)
    }
}
