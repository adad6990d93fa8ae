public import LedgerCore

/// One `drift.measured`: the reference and current datasets, per-feature statistics, the anomaly-score drift when
/// a champion scored both, and the verdict.
///
/// This is the drift history's row. The pipeline fills it: each scheduled run measures the new window against the
/// deployed model's training set.
public struct DriftRecord: Sendable, Hashable {
    /// PSI, the KS statistic and its p-value, and the Wasserstein-1 distance of one distribution.
    public struct Statistics: Sendable, Hashable {
        public var psi: Double
        public var ks: Double
        public var ksPValue: Double
        public var wasserstein: Double

        init(psi: Double, ks: Double, ksPValue: Double, wasserstein: Double) {
            self.psi = psi
            self.ks = ks
            self.ksPValue = ksPValue
            self.wasserstein = wasserstein
        }

        init(json: JSONValue?, what: String) throws(LedgerError) {
            let row = try RowReader(json, what)
            let ks = try RowReader(json?["ks"], what)
            self.init(
                psi: try row.double("psi"),
                ks: try ks.double("statistic"),
                ksPValue: try ks.double("pValue"),
                wasserstein: try row.double("wasserstein")
            )
        }

        var members: [String: JSONValue] {
            [
                "psi": .number(psi), "ks": ["statistic": .number(ks), "pValue": .number(ksPValue)],
                "wasserstein": .number(wasserstein),
            ]
        }
    }

    public var measured: EventStamp
    public var run: String?
    public var referenceSeq: UInt64
    public var currentSeq: UInt64
    public var verdict: String
    /// Per feature, in the event's order.
    public var features: [(name: String, statistics: Statistics)]
    /// The drift of the champion's anomaly scores, and the champion (`name@version`).
    public var scores: Statistics?
    public var scoresModel: String?

    public var jsonValue: JSONValue {
        .compact([
            "measured": measured.jsonValue, "run": run.map(JSONValue.string),
            "reference": ["dataset": .int(referenceSeq)], "current": ["dataset": .int(currentSeq)],
            "verdict": .string(verdict),
            "features": .array(
                features.map { feature in
                    .object(feature.statistics.members.merging(["name": .string(feature.name)]) { $1 })
                }
            ),
            "scores": scores.map { scores in
                .object(scores.members.merging(["model": .string(scoresModel ?? "")]) { $1 })
            },
        ])
    }

    /// The row of a `drift.measured` event.
    init(measured: EventStamp, _ data: DriftMeasured) {
        func statistics(_ psi: Double, _ ks: KolmogorovSmirnov, _ wasserstein: Double) -> Statistics {
            Statistics(psi: psi, ks: ks.statistic, ksPValue: ks.pValue, wasserstein: wasserstein)
        }
        self.measured = measured
        run = data.run
        referenceSeq = data.reference.dataset.seq
        currentSeq = data.current.dataset.seq
        verdict = data.verdict.rawValue
        features = data.features.map { ($0.name, statistics($0.psi, $0.ks, $0.wasserstein)) }
        if let scores = data.scores {
            self.scores = statistics(scores.psi, scores.ks, scores.wasserstein)
            scoresModel = "\(scores.model.name)@\(scores.model.version)"
        }
    }

    /// Reads a `drift.measured` event's data (`json` from the event) or a stored row (`stored`).
    init(measured: EventStamp, data json: JSONValue, stored: Bool) throws(LedgerError) {
        let row = try RowReader(json, "drift")
        self.measured = measured
        run = row.optionalString("run")
        // An event names each dataset as {"seq","sha256"}; a row keeps the seq.
        func datasetSeq(_ side: String) throws(LedgerError) -> UInt64 {
            let value = stored ? json[side]?["dataset"] : json[side]?["dataset"]?["seq"]
            guard let seq = value?.integerValue, seq >= 0 else { throw RowReader.corrupt("drift", "lacks \(side)") }
            return UInt64(seq)
        }
        referenceSeq = try datasetSeq("reference")
        currentSeq = try datasetSeq("current")
        verdict = try row.string("verdict")
        features = try row.array("features").map { (value) throws(LedgerError) in
            (try RowReader(value, "drift feature").string("name"), try Statistics(json: value, what: "drift feature"))
        }
        if let scores = json["scores"] {
            self.scores = try Statistics(json: scores, what: "drift scores")
            let model = scores["model"]
            scoresModel =
                stored
                ? model?.stringValue
                : "\(model?["name"]?.stringValue ?? "")@\(model?["version"]?.integerValue ?? 0)"
        }
    }

    public static func == (lhs: DriftRecord, rhs: DriftRecord) -> Bool {
        lhs.jsonValue == rhs.jsonValue
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(measured) }
}
