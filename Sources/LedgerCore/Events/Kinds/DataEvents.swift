/// `data.extracted`: a window of the Audit DB was read into a snapshot artifact.
public struct DataExtracted: EventData {
    public static let type = EventType.dataExtracted

    /// What the extract did with rows that break the audit contract.
    public enum QuarantinePolicy: String, EventDataEnumeration {
        case refuse
        case quarantine
    }

    /// `{"kind"}`: the kind of database read.
    public struct Source: Codable, Sendable, Hashable {
        /// The database engine.
        public enum Kind: String, EventDataEnumeration {
            case sqlite
            case postgres
        }

        public var kind: Kind

        public init(kind: Kind) {
            self.kind = kind
        }
    }

    /// Rows set aside, by reason; a reason with no rows is absent.
    public struct Quarantined: Codable, Sendable, Hashable {
        public var nullRequired: Int?
        public var unknownOutcome: Int?
        public var timeOutsideWindow: Int?
        public var timeInFuture: Int?
        public var invalidUTF8: Int?

        public init(
            nullRequired: Int? = nil,
            unknownOutcome: Int? = nil,
            timeOutsideWindow: Int? = nil,
            timeInFuture: Int? = nil,
            invalidUTF8: Int? = nil
        ) {
            self.nullRequired = nullRequired
            self.unknownOutcome = unknownOutcome
            self.timeOutsideWindow = timeOutsideWindow
            self.timeInFuture = timeInFuture
            self.invalidUTF8 = invalidUTF8
        }
    }

    public var source: Source
    public var queryDigest: Hash256
    public var window: TimeWindow
    public var rows: Int
    public var snapshot: ContentDigest
    public var policy: QuarantinePolicy
    public var quarantined: Quarantined
    /// The pipeline run this step belongs to, if it ran in one.
    public var run: String?

    public init(
        source: Source,
        queryDigest: Hash256,
        window: TimeWindow,
        rows: Int,
        snapshot: ContentDigest,
        policy: QuarantinePolicy,
        quarantined: Quarantined,
        run: String? = nil
    ) {
        self.source = source
        self.queryDigest = queryDigest
        self.window = window
        self.rows = rows
        self.snapshot = snapshot
        self.policy = policy
        self.quarantined = quarantined
        self.run = run
    }
}

/// `dataset.built`: a feature dataset and its manifest were built from a `data.extracted` snapshot.
public struct DatasetBuilt: EventData {
    public static let type = EventType.datasetBuilt

    /// The `data.extracted` event and the snapshot it recorded.
    public struct Extract: Codable, Sendable, Hashable {
        public var seq: UInt64
        public var snapshot: ContentDigest

        public init(seq: UInt64, snapshot: ContentDigest) {
            self.seq = seq
            self.snapshot = snapshot
        }
    }

    /// The feature specification's version and digest.
    public struct FeatureSpec: Codable, Sendable, Hashable {
        public var version: Int
        public var sha256: Hash256

        public init(version: Int, sha256: Hash256) {
            self.version = version
            self.sha256 = sha256
        }
    }

    /// Rows from `holdoutFrom` on form the holdout.
    public struct Split: Codable, Sendable, Hashable {
        public var holdoutFrom: Timestamp
        public var holdoutPercent: Int

        public init(holdoutFrom: Timestamp, holdoutPercent: Int) {
            self.holdoutFrom = holdoutFrom
            self.holdoutPercent = holdoutPercent
        }
    }

    /// Rows in each part.
    public struct Rows: Codable, Sendable, Hashable {
        public var train: Int
        public var holdout: Int

        public init(train: Int, holdout: Int) {
            self.train = train
            self.holdout = holdout
        }
    }

    /// Labelled rows of one part.
    public struct Counts: Codable, Sendable, Hashable {
        public var anomalous: Int
        public var benign: Int

        public init(anomalous: Int, benign: Int) {
            self.anomalous = anomalous
            self.benign = benign
        }
    }

    /// Labelled rows of each part.
    public struct Labelled: Codable, Sendable, Hashable {
        public var train: Counts
        public var holdout: Counts

        public init(train: Counts, holdout: Counts) {
            self.train = train
            self.holdout = holdout
        }
    }

    public var extract: Extract
    public var featureSpec: FeatureSpec
    public var dataset: ContentDigest
    public var manifest: ContentDigest
    public var split: Split
    public var rows: Rows
    public var labelled: Labelled
    /// The pipeline run this step belongs to, if it ran in one.
    public var run: String?

    public init(
        extract: Extract,
        featureSpec: FeatureSpec,
        dataset: ContentDigest,
        manifest: ContentDigest,
        split: Split,
        rows: Rows,
        labelled: Labelled,
        run: String? = nil
    ) {
        self.extract = extract
        self.featureSpec = featureSpec
        self.dataset = dataset
        self.manifest = manifest
        self.split = split
        self.rows = rows
        self.labelled = labelled
        self.run = run
    }
}
