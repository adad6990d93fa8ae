/// Hex digests are written as 64 lowercase hex characters; any other spelling is refused.
extension Hash256: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard Hex.isLowercase(text, byteCount: 32), let hash = Hash256(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected 64 lowercase hex characters"
            )
        }
        self = hash
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Times are written in the ledger's one spelling, `YYYY-MM-DDTHH:MM:SS.mmmZ`; any other spelling is refused.
extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = Timestamp(rfc3339: text), time.rfc3339.hasSameBytes(as: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected an RFC 3339 UTC time such as 2026-03-03T09:00:00.000Z"
            )
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

/// `{"sha256"}`: the digest of an artifact's bytes.
public struct ContentDigest: Codable, Sendable, Hashable {
    public var sha256: Hash256
    public init(sha256: Hash256) { self.sha256 = sha256 }
}

/// `{"seq","sha256"}`: an earlier event and the artifact it recorded.
public struct RecordedArtifact: Codable, Sendable, Hashable {
    public var seq: UInt64
    public var sha256: Hash256
    public init(seq: UInt64, sha256: Hash256) {
        self.seq = seq
        self.sha256 = sha256
    }
}

/// `{"name","version","sha256"}`: one registered version, bound to its artifact's bytes.
public struct VersionReference: Codable, Sendable, Hashable {
    public var name: String
    public var version: Int
    public var sha256: Hash256
    public init(name: String, version: Int, sha256: Hash256) {
        self.name = name
        self.version = version
        self.sha256 = sha256
    }
}

/// `{"from","to"}`: a window of audit time.
public struct TimeWindow: Codable, Sendable, Hashable {
    public var from: Timestamp
    public var to: Timestamp
    public init(from: Timestamp, to: Timestamp) {
        self.from = from
        self.to = to
    }
}

/// The holdout metrics of one model.
public struct HoldoutMetrics: Codable, Sendable, Hashable {
    public var aucRoc: Double
    public var averagePrecision: Double
    public var precisionAtK: Double
    public var recallAtBudget: Double
    public init(aucRoc: Double, averagePrecision: Double, precisionAtK: Double, recallAtBudget: Double) {
        self.aucRoc = aucRoc
        self.averagePrecision = averagePrecision
        self.precisionAtK = precisionAtK
        self.recallAtBudget = recallAtBudget
    }
}

/// `{"requiredApprovals","gate"?}` as an event records it; ``Policy`` fills in the gate's defaults.
public struct PolicyData: Codable, Sendable, Hashable {
    /// The gate's members as recorded; an absent one takes ``Gate``'s default.
    public struct GateData: Codable, Sendable, Hashable {
        public var minAucRoc: Double?
        public var minImprovement: Double?
        public var minLowerBound: Double?
        public var firstModelMinAucRoc: Double?
        public init(
            minAucRoc: Double? = nil,
            minImprovement: Double? = nil,
            minLowerBound: Double? = nil,
            firstModelMinAucRoc: Double? = nil
        ) {
            self.minAucRoc = minAucRoc
            self.minImprovement = minImprovement
            self.minLowerBound = minLowerBound
            self.firstModelMinAucRoc = firstModelMinAucRoc
        }
    }

    public var requiredApprovals: Int
    public var gate: GateData?
    public init(requiredApprovals: Int, gate: GateData? = nil) {
        self.requiredApprovals = requiredApprovals
        self.gate = gate
    }
}

/// `{"class","code","message"}`: why a pipeline step failed.
public struct StepError: Codable, Sendable, Hashable {
    public enum Class: String, EventDataEnumeration {
        case transient, permanent
    }

    public var errorClass: Class
    public var code: String
    public var message: String

    public init(errorClass: Class, code: String, message: String) {
        self.errorClass = errorClass
        self.code = code
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case errorClass = "class"
        case code, message
    }
}

/// The two-sample Kolmogorov–Smirnov statistic and its p-value.
public struct KolmogorovSmirnov: Codable, Sendable, Hashable {
    public var statistic: Double
    public var pValue: Double
    public init(statistic: Double, pValue: Double) {
        self.statistic = statistic
        self.pValue = pValue
    }
}
