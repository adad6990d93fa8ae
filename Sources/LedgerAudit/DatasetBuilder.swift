// Building the dataset from a snapshot: the window and split, the CSV, the feature profiles and the manifest.

public import LedgerCore

/// Builds the per-actor, per-hour feature dataset of `audit/features.v1.json` from an extraction snapshot.
///
/// Pure computation: the same snapshot, spec, window and fraction always give byte-identical CSV and manifest.
///
/// Values the contract requires but the snapshot holds as null are read as SQL would: a null `source_ip` or
/// `country` is never new and never part of a history, and `total_bytes` sums the non-null `bytes` (null, an
/// empty cell, when every event's `bytes` is null).
public enum DatasetBuilder {
    /// The features of spec version 1, in order.
    public static let featureNames = [
        "event_count", "distinct_actions", "distinct_resources", "failure_ratio", "denial_ratio", "off_hours_share",
        "new_ip", "new_country", "total_bytes", "admin_actions_by_non_admin",
    ]

    /// The CSV's columns: `holdout` (0 or 1), the features, then `label` (1 anomalous, 0 benign, empty unlabeled).
    public static let columns = ["holdout"] + featureNames + ["label"]

    /// The history lookback of spec version 1 in milliseconds: an extract must start this long before the first
    /// hour that becomes a dataset row.
    public static var lookbackV1: Int64 {
        // The built-in spec always parses; its tests pin that.
        ((try? FeatureSpecV1(featureSpecV1))?.lookbackDays ?? 14) * millisecondsPerDay
    }

    static let millisecondsPerHour: Int64 = 3_600_000
    static let millisecondsPerDay: Int64 = 86_400_000
    static let millisecondsPerQuarterHour: Int64 = 900_000

    /// Builds the dataset of the snapshot of the window `[from, to)`.
    ///
    /// - Parameters:
    ///   - snapshot: the extraction snapshot, JSON Lines of RFC 8785 objects ordered by `(occurred_at, id)`.
    ///   - featureSpec: the feature spec's exact bytes (``featureSpecV1``); its SHA-256 goes into the manifest.
    ///   - holdoutFraction: the share of the eligible time range, from its end, that is the holdout; 0 < x < 1.
    /// - Throws: `argument.invalid` for a window no longer than the lookback, a fraction outside (0, 1), a
    ///   spec that is not version 1, a snapshot line that is not a valid row, rows out of order or outside the
    ///   window, or a split that leaves the train or the holdout part without rows.
    public static func build(
        snapshot: [UInt8],
        from: Timestamp,
        to: Timestamp,
        featureSpec: [UInt8],
        holdoutFraction: Double = 0.2
    ) throws(LedgerError) -> BuiltDataset {
        let spec = try FeatureSpecV1(featureSpec)
        guard holdoutFraction > 0, holdoutFraction < 1 else {
            throw LedgerError(.invalidArgument, "the holdout fraction must be greater than 0 and less than 1")
        }
        let lookback = spec.lookbackDays * millisecondsPerDay
        let (start, end) = (from.millisecondsSinceEpoch, to.millisecondsSinceEpoch)
        guard end - start > lookback else {
            throw LedgerError(
                .invalidArgument,
                "the window \(from) ..< \(to) must be longer than the \(spec.lookbackDays)-day history lookback"
            )
        }
        let eligible = start + lookback
        let offset = Int64(((1 - holdoutFraction) * Double(end - eligible)).rounded(.down))
        let holdoutFrom = floorDivide(eligible + offset, millisecondsPerHour) * millisecondsPerHour

        let table = try SnapshotReader.read(snapshot, from: start, to: end, adminActions: spec.adminActions)
        let windows = computeWindows(table, eligibleFrom: eligible, spec: spec)
        let trainRows = windows.count(where: { $0.start < holdoutFrom })
        let holdoutRows = windows.count - trainRows
        guard trainRows > 0 else {
            throw LedgerError(
                .invalidArgument,
                "no window starts in the train part [\(Timestamp(millisecondsSinceEpoch: eligible)), "
                    + "\(Timestamp(millisecondsSinceEpoch: holdoutFrom))): the dataset would have no training rows"
            )
        }
        guard holdoutRows > 0 else {
            throw LedgerError(
                .invalidArgument,
                "no window starts in the holdout part [\(Timestamp(millisecondsSinceEpoch: holdoutFrom)), \(to)): "
                    + "the dataset would have no holdout rows"
            )
        }

        var csv: [UInt8] = []
        csv.reserveCapacity(windows.count * 48 + 256)
        csv.append(contentsOf: columns.joined(separator: ",").utf8)
        csv.append(0x0a)
        var counts = [[0, 0], [0, 0]]  // [train, holdout][anomalous, benign]
        for window in windows {
            let holdout = window.start >= holdoutFrom
            csv.append(holdout ? 0x31 : 0x30)
            for feature in 0..<featureNames.count {
                csv.append(0x2c)
                csv.append(contentsOf: window.value(feature).csvCell.utf8)
            }
            csv.append(0x2c)
            switch window.label {
            case 2:
                csv.append(0x31)
                counts[holdout ? 1 : 0][0] += 1
            case 1:
                csv.append(0x30)
                counts[holdout ? 1 : 0][1] += 1
            default: break
            }
            csv.append(0x0a)
        }
        let labelled = (
            train: LabelCounts(anomalous: counts[0][0], benign: counts[0][1]),
            holdout: LabelCounts(anomalous: counts[1][0], benign: counts[1][1])
        )
        let profile = featureNames.indices.map { feature in
            (name: featureNames[feature], profile: profileOf(windows.map { $0.value(feature).double }))
        }
        let split = DatasetSplit(
            holdoutFrom: Timestamp(millisecondsSinceEpoch: holdoutFrom),
            holdoutFraction: holdoutFraction
        )
        let datasetDigest = Hash256.sha256(csv)
        let specDigest = Hash256.sha256(featureSpec)
        let manifest = try manifestBytes(
            specDigest: specDigest,
            datasetDigest: datasetDigest,
            from: from,
            to: to,
            split: split,
            rows: (trainRows, holdoutRows),
            labelled: labelled,
            profile: profile
        )
        return BuiltDataset(
            csv: csv,
            manifest: manifest,
            trainRows: trainRows,
            holdoutRows: holdoutRows,
            labelled: labelled,
            profile: profile,
            split: split,
            datasetDigest: datasetDigest,
            featureSpecDigest: specDigest
        )
    }

    /// A ratio in the ECMAScript shortest round-trip form (RFC 8785), which does not depend on the locale.
    static func formatRatio(_ value: Double) -> String {
        do { return try CanonicalJSON.formatNumber(value) } catch { return "" }  // ratios are always finite
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// The profile of one feature's values in row order; nil values are nulls.
    static func profileOf(_ values: [Double?]) -> FeatureProfile {
        let present = values.compactMap(\.self)
        let nulls = values.count - present.count
        guard !present.isEmpty else {
            return FeatureProfile(
                min: nil,
                max: nil,
                mean: nil,
                p05: nil,
                p25: nil,
                p50: nil,
                p75: nil,
                p95: nil,
                nulls: nulls
            )
        }
        let sorted = present.sorted()
        var sum = 0.0
        for value in present { sum += value }
        func quantile(_ percent: Int) -> Double {
            // Nearest rank ⌈p × n⌉ in exact integer arithmetic, at least 1.
            let rank = Swift.max(1, (percent * sorted.count + 99) / 100)
            return sorted[rank - 1]
        }
        return FeatureProfile(
            min: sorted.first,
            max: sorted.last,
            mean: sum / Double(sorted.count),
            p05: quantile(5),
            p25: quantile(25),
            p50: quantile(50),
            p75: quantile(75),
            p95: quantile(95),
            nulls: nulls
        )
    }

    static func manifestBytes(
        specDigest: Hash256,
        datasetDigest: Hash256,
        from: Timestamp,
        to: Timestamp,
        split: DatasetSplit,
        rows: (train: Int, holdout: Int),
        labelled: (train: LabelCounts, holdout: LabelCounts),
        profile: [(name: String, profile: FeatureProfile)]
    ) throws(LedgerError) -> [UInt8] {
        func number(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
        func counts(_ counts: LabelCounts) -> JSONValue {
            ["anomalous": .number(Double(counts.anomalous)), "benign": .number(Double(counts.benign))]
        }
        var profiles: [String: JSONValue] = [:]
        for (name, feature) in profile {
            profiles[name] = [
                "min": number(feature.min), "max": number(feature.max), "mean": number(feature.mean),
                "p05": number(feature.p05), "p25": number(feature.p25), "p50": number(feature.p50),
                "p75": number(feature.p75), "p95": number(feature.p95), "nulls": .number(Double(feature.nulls)),
            ]
        }
        let manifest: JSONValue = [
            "version": 1,
            "featureSpec": ["version": 1, "sha256": .string(specDigest.hex)],
            "window": ["from": .string(from.rfc3339), "to": .string(to.rfc3339)],
            "split": [
                "holdoutFrom": .string(split.holdoutFrom.rfc3339), "holdoutFraction": .number(split.holdoutFraction),
            ],
            "columns": .array(columns.map { .string($0) }),
            "rows": ["train": .number(Double(rows.train)), "holdout": .number(Double(rows.holdout))],
            "labelled": ["train": counts(labelled.train), "holdout": counts(labelled.holdout)],
            "profile": .object(profiles),
            "dataset": ["sha256": .string(datasetDigest.hex)],
        ]
        do {
            return try CanonicalJSON.encode(manifest)
        } catch {
            throw LedgerError(.invalidArgument, "the manifest cannot be encoded: \(error)")
        }
    }
}
