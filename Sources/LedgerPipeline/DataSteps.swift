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
        guard let kind = DataExtracted.Source.Kind(rawValue: source.kind) else {
            throw LedgerError(.invalidArgument, "the Audit DB source kind \(source.kind) cannot be recorded")
        }
        let counts = extraction.quarantined
        let recordedPolicy: DataExtracted.QuarantinePolicy =
            switch policy {
            case .refuse: .refuse
            case .quarantine: .quarantine
            }
        let data = DataExtracted(
            source: .init(kind: kind),
            queryDigest: extraction.queryDigest,
            window: TimeWindow(from: from, to: to),
            rows: extraction.rows,
            snapshot: ContentDigest(sha256: snapshot.sha256),
            policy: recordedPolicy,
            quarantined: .init(
                nullRequired: counts[.nullRequired],
                unknownOutcome: counts[.unknownOutcome],
                timeOutsideWindow: counts[.timeOutsideWindow],
                timeInFuture: counts[.timeInFuture],
                invalidUTF8: counts[.invalidUTF8]
            ),
            run: run
        )
        let event = try await appendOne(
            try EventDraft(data, subject: [Subject(name: "snapshot", sha256: snapshot.sha256)])
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
        func counts(_ counts: LabelCounts) -> DatasetBuilt.Counts {
            DatasetBuilt.Counts(anomalous: counts.anomalous, benign: counts.benign)
        }
        let data = DatasetBuilt(
            extract: .init(seq: extract.seq, snapshot: ContentDigest(sha256: extract.snapshot)),
            featureSpec: .init(version: 1, sha256: built.featureSpecDigest),
            dataset: ContentDigest(sha256: dataset.sha256),
            manifest: ContentDigest(sha256: manifest.sha256),
            split: .init(holdoutFrom: built.split.holdoutFrom, holdoutPercent: holdoutPercent),
            rows: .init(train: built.trainRows, holdout: built.holdoutRows),
            labelled: .init(train: counts(built.labelled.train), holdout: counts(built.labelled.holdout)),
            run: run
        )
        let event = try await appendOne(
            try EventDraft(
                data,
                subject: [
                    Subject(name: "dataset", sha256: dataset.sha256),
                    Subject(name: "manifest", sha256: manifest.sha256),
                ]
            )
        )
        return Built(seq: event.seq, event: event, dataset: dataset, manifest: manifest, result: built)
    }
}
