import Foundation
public import LedgerCore

/// How a dataset's windows are split by time: windows starting at or after ``holdoutFrom`` are the holdout.
public struct DatasetSplit: Sendable, Hashable {
    /// The first instant of the holdout, a whole UTC hour.
    public let holdoutFrom: Timestamp
    /// The fraction of the eligible time range (not of the rows) given to the holdout.
    public let holdoutFraction: Double
}

/// One feature's distribution over every row of a dataset.
///
/// Quantiles are nearest-rank: over the `n` non-null values sorted ascending, the quantile `p` is the value
/// of rank `max(1, ⌈p × n⌉)` (counted from 1). `min`, `max`, `mean` and the quantiles are `nil` only when every
/// value is null.
public struct FeatureProfile: Sendable, Hashable {
    public let min: Double?
    public let max: Double?
    /// The sum of the non-null values in row order, divided by their count.
    public let mean: Double?
    public let p05: Double?
    public let p25: Double?
    public let p50: Double?
    public let p75: Double?
    public let p95: Double?
    /// Rows whose value is null (an empty CSV cell).
    public let nulls: Int
}

/// Labelled windows of one part of a dataset.
public struct LabelCounts: Sendable, Hashable {
    public let anomalous: Int
    public let benign: Int

    public init(anomalous: Int, benign: Int) {
        self.anomalous = anomalous
        self.benign = benign
    }
}

/// What ``DatasetBuilder/build(snapshot:from:to:featureSpec:holdoutFraction:)`` produced.
public struct BuiltDataset: Sendable {
    /// The dataset: CSV with a header row, `\n` line endings and a trailing newline.
    public let csv: [UInt8]
    /// The manifest: RFC 8785 canonical JSON.
    public let manifest: [UInt8]
    public let trainRows: Int
    public let holdoutRows: Int
    public let labelled: (train: LabelCounts, holdout: LabelCounts)
    /// One profile per feature, in the spec's order, over all rows.
    public let profile: [(name: String, profile: FeatureProfile)]
    public let split: DatasetSplit
    /// SHA-256 of ``csv``.
    public let datasetDigest: Hash256
    /// SHA-256 of the feature spec's bytes.
    public let featureSpecDigest: Hash256
}

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

// MARK: - The feature spec

/// The parameters of `audit/features.v1.json` that the builder reads; the definitions themselves are code.
struct FeatureSpecV1 {
    let lookbackDays: Int64
    let minimumEvents: Int
    let adminActions: [[UInt8]]

    init(_ bytes: [UInt8]) throws(LedgerError) {
        func fail(_ reason: String) -> LedgerError {
            LedgerError(.invalidArgument, "the feature spec is not modelledger.audit.features version 1: \(reason)")
        }
        let spec: JSONValue
        do { spec = try CanonicalJSON.parse(bytes) } catch { throw fail("\(error)") }
        guard spec["name"]?.stringValue == "modelledger.audit.features" else { throw fail("another name") }
        guard spec["version"]?.integerValue == 1 else { throw fail("another version") }
        guard spec["window"]?["key"]?.stringValue == "actor_id", spec["window"]?["length"]?.stringValue == "PT1H"
        else { throw fail("another window") }
        let names = spec["features"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }
        guard names == DatasetBuilder.featureNames else { throw fail("other features") }
        guard let lookback = spec["history"]?["lookbackDays"]?.integerValue, lookback >= 1, lookback <= 3660,
            let minimum = spec["history"]?["minimumEvents"]?.integerValue, minimum >= 0, minimum <= 1_000_000
        else { throw fail("another history") }
        guard let actions = spec["adminActions"]?.arrayValue?.compactMap(\.stringValue),
            actions.count == spec["adminActions"]?.arrayValue?.count
        else { throw fail("adminActions is not a list of strings") }
        lookbackDays = lookback
        minimumEvents = Int(minimum)
        adminActions = actions.map { Array($0.utf8) }
    }
}

// MARK: - Windows and features

/// One feature's value in a row.
enum FeatureValue {
    case integer(Int64)
    case ratio(Double)
    case null

    var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .ratio(let value): value
        case .null: nil
        }
    }

    /// The value's cell in the dataset CSV: an integer in decimal, a ratio in ``DatasetBuilder/formatRatio(_:)``'s
    /// form, and nothing for null. Building and serving both read features through this text, so they agree.
    var csvCell: String {
        switch self {
        case .integer(let value): String(value)
        case .ratio(let value): DatasetBuilder.formatRatio(value)
        case .null: ""
        }
    }
}

/// One (actor, hour) window: the counts its features derive from.
struct WindowRow {
    var start: Int64
    var actor: Int32
    var events: Int32
    var distinctActions: Int32
    var distinctResources: Int32
    var failures: Int32
    var denials: Int32
    var offHours: Int32
    var newIP: Bool
    var newCountry: Bool
    var totalBytes: Int64
    var hasBytes: Bool
    var adminByNonAdmin: Int32
    /// 0 unlabeled, 1 benign, 2 anomalous.
    var label: UInt8

    func value(_ feature: Int) -> FeatureValue {
        let count = Double(events)
        switch feature {
        case 0: return .integer(Int64(events))
        case 1: return .integer(Int64(distinctActions))
        case 2: return .integer(Int64(distinctResources))
        case 3: return .ratio(Double(failures) / count)
        case 4: return .ratio(Double(denials) / count)
        case 5: return .ratio(Double(offHours) / count)
        case 6: return .integer(newIP ? 1 : 0)
        case 7: return .integer(newCountry ? 1 : 0)
        case 8: return hasBytes ? .integer(totalBytes) : .null
        default: return .integer(Int64(adminByNonAdmin))
        }
    }
}

extension DatasetBuilder {
    /// Every eligible window, in the spec's row order: by start, then by actor id as UTF-8 bytes.
    static func computeWindows(_ table: SnapshotTable, eligibleFrom eligible: Int64, spec: FeatureSpecV1) -> [WindowRow]
    {
        let rowCount = table.times.count
        let actorCount = table.actors.count
        // Each actor's events in time order: a stable counting sort of the time-ordered rows by actor.
        var firstOfActor = [Int](repeating: 0, count: actorCount + 1)
        for actor in table.actor { firstOfActor[Int(actor) + 1] += 1 }
        for index in 0..<actorCount { firstOfActor[index + 1] += firstOfActor[index] }
        var order = [Int32](repeating: 0, count: rowCount)
        var fill = firstOfActor
        for row in 0..<rowCount {
            let actor = Int(table.actor[row])
            order[fill[actor]] = Int32(row)
            fill[actor] += 1
        }

        let lookback = spec.lookbackDays * millisecondsPerDay
        var ipCounts = [Int32](repeating: 0, count: table.ips.count)
        var countryCounts = [Int32](repeating: 0, count: table.countries.count)
        var quarters = [Int32](repeating: 0, count: 96)
        var actionStamp = [Int32](repeating: -1, count: table.actions.count)
        var resourceStamp = [Int32](repeating: -1, count: table.resources.count)
        var stamp: Int32 = 0
        var windows: [WindowRow] = []

        func quarter(_ time: Int64) -> Int {
            Int((time - floorDivide(time, millisecondsPerDay) * millisecondsPerDay) / millisecondsPerQuarterHour)
        }
        func history(_ row: Int, _ delta: Int32) {
            let ip = table.ip[row]
            if ip >= 0 { ipCounts[Int(ip)] += delta }
            let country = table.country[row]
            if country >= 0 { countryCounts[Int(country)] += delta }
            quarters[quarter(table.times[row])] += delta
        }

        for actor in 0..<actorCount {
            let events = order[firstOfActor[actor]..<firstOfActor[actor + 1]]
            var oldest = events.startIndex  // the first event still in the history
            var added = events.startIndex  // events before this one have been added to the history
            var index = events.startIndex
            while index < events.endIndex {
                let windowStart =
                    floorDivide(table.times[Int(events[index])], millisecondsPerHour)
                    * millisecondsPerHour
                var next = index
                while next < events.endIndex, table.times[Int(events[next])] < windowStart + millisecondsPerHour {
                    next += 1
                }
                defer { index = next }
                guard windowStart >= eligible else { continue }
                while added < index {
                    history(Int(events[added]), 1)
                    added += 1
                }
                while oldest < added, table.times[Int(events[oldest])] < windowStart - lookback {
                    history(Int(events[oldest]), -1)
                    oldest += 1
                }
                let historySize = added - oldest
                let judgeOffHours = historySize >= spec.minimumEvents
                var window = WindowRow(
                    start: windowStart,
                    actor: Int32(actor),
                    events: Int32(next - index),
                    distinctActions: 0,
                    distinctResources: 0,
                    failures: 0,
                    denials: 0,
                    offHours: 0,
                    newIP: false,
                    newCountry: false,
                    totalBytes: 0,
                    hasBytes: false,
                    adminByNonAdmin: 0,
                    label: 0
                )
                for position in index..<next {
                    let row = Int(events[position])
                    let action = Int(table.action[row])
                    if actionStamp[action] != stamp {
                        actionStamp[action] = stamp
                        window.distinctActions += 1
                    }
                    let resource = Int(table.resource[row])
                    if resourceStamp[resource] != stamp {
                        resourceStamp[resource] = stamp
                        window.distinctResources += 1
                    }
                    let flags = table.flags[row]
                    switch flags & SnapshotTable.outcomeMask {
                    case SnapshotTable.failure: window.failures += 1
                    case SnapshotTable.denied: window.denials += 1
                    default: break
                    }
                    if judgeOffHours, 192 * Int(quarters[quarter(table.times[row])]) < historySize {
                        window.offHours += 1
                    }
                    let ip = table.ip[row]
                    if ip >= 0, ipCounts[Int(ip)] == 0 { window.newIP = true }
                    let country = table.country[row]
                    if country >= 0, countryCounts[Int(country)] == 0 { window.newCountry = true }
                    if flags & SnapshotTable.bytesNull == 0 {
                        window.hasBytes = true
                        window.totalBytes &+= table.bytes[row]
                    }
                    if flags & SnapshotTable.adminByNonAdmin != 0 { window.adminByNonAdmin += 1 }
                    window.label = Swift.max(window.label, (flags & SnapshotTable.labelMask) >> 2)
                }
                stamp += 1
                windows.append(window)
            }
            // Empty the shared history counters for the next actor.
            while oldest < added {
                history(Int(events[oldest]), -1)
                oldest += 1
            }
        }

        let rank = table.actors.byteOrderRanks()
        windows.sort { lhs, rhs in
            lhs.start != rhs.start ? lhs.start < rhs.start : rank[Int(lhs.actor)] < rank[Int(rhs.actor)]
        }
        return windows
    }
}

// MARK: - Reading the snapshot

/// The snapshot's rows as compact columns; strings are interned to ids (-1 for null).
struct SnapshotTable {
    static let outcomeMask: UInt8 = 0b11
    static let failure: UInt8 = 1
    static let denied: UInt8 = 2
    /// Bits 2-3: 0 unlabeled, 1 benign, 2 anomalous.
    static let labelMask: UInt8 = 0b1100
    static let adminByNonAdmin: UInt8 = 0b1_0000
    static let bytesNull: UInt8 = 0b10_0000

    var times: [Int64] = []
    var actor: [Int32] = []
    var action: [Int32] = []
    var resource: [Int32] = []
    var ip: [Int32] = []
    var country: [Int32] = []
    var bytes: [Int64] = []
    var flags: [UInt8] = []

    var actors = ByteInterner()
    var actions = ByteInterner()
    var resources = ByteInterner()
    var ips = ByteInterner()
    var countries = ByteInterner()
    var roles = ByteInterner()
    /// Per action id: whether it is one of the spec's admin actions.
    var isAdminAction: [Bool] = []
    /// Per role id: whether it is `admin`.
    var isAdminRole: [Bool] = []
}

/// Interns byte strings to dense ids by exact bytes, without allocating per lookup.
struct ByteInterner {
    private(set) var storage: [UInt8] = []
    private(set) var ends: [Int] = []
    private var hashes: [UInt64] = []
    private var slots = [Int32](repeating: -1, count: 64)

    var count: Int { ends.count }

    func bytes(_ id: Int) -> ArraySlice<UInt8> {
        storage[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
    }

    /// The id of `key` and whether it is new.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int32, isNew: Bool) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash, equals(Int(id), key) { return (id, false) }
            slot = (slot + 1) & mask
        }
        let id = Int32(ends.count)
        storage.append(contentsOf: key)
        ends.append(storage.count)
        hashes.append(hash)
        slots[slot] = id
        if ends.count * 2 > slots.count { grow() }
        return (id, true)
    }

    private func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = id == 0 ? 0 : ends[id - 1]
        guard ends[id] - start == key.count else { return false }
        return storage.withUnsafeBufferPointer { stored in
            guard let base = stored.baseAddress, let other = key.baseAddress else { return true }
            return memcmp(base + start, other, key.count) == 0
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for id in hashes.indices {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id)
        }
    }

    /// For each id, its rank when the strings are sorted as bytes (UTF-8 order is code point order).
    func byteOrderRanks() -> [Int] {
        let sorted = (0..<count).sorted { bytes($0).lexicographicallyPrecedes(bytes($1)) }
        var rank = [Int](repeating: 0, count: count)
        for (position, id) in sorted.enumerated() { rank[id] = position }
        return rank
    }
}

/// Reads the snapshot line by line into a ``SnapshotTable``.
///
/// Lines without escapes are read by a hand-written scanner; any other line goes through the
/// canonical JSON parser, which also gives the error for a line that is not JSON.
enum SnapshotReader {
    /// The snapshot's keys in RFC 8785 order, which is the order every line has them in.
    static let keys = [
        "action", "actor_id", "actor_role", "bytes", "country", "id", "label", "occurred_at", "outcome", "resource",
        "session_id", "source_ip",
    ]
    static let keyBytes = keys.map { Array($0.utf8) }
    static let (action, actorID, actorRole, bytes, country, id, label, occurredAt) = (0, 1, 2, 3, 4, 5, 6, 7)
    static let (outcome, resource, sessionID, sourceIP) = (8, 9, 10, 11)
    static let numeric: Set<Int> = [bytes, id]
    static let required: Set<Int> = [action, actorID, actorRole, id, occurredAt, outcome, resource]

    /// One parsed line: for each key, where its string value is (`start` into the buffer), or a kind.
    struct Fields {
        static let missing = 0
        static let string = 1
        static let null = 2
        static let number = 3
        var kind = [Int](repeating: 0, count: 12)
        var start = [Int](repeating: 0, count: 12)
        var count = [Int](repeating: 0, count: 12)
        var number = [Int64](repeating: 0, count: 12)

        mutating func reset() {
            for index in 0..<12 { kind[index] = Self.missing }
        }
    }

    static func read(
        _ snapshot: [UInt8],
        from: Int64,
        to: Int64,
        adminActions: [[UInt8]]
    ) throws(LedgerError) -> SnapshotTable {
        var table = SnapshotTable()
        let estimate = snapshot.count / 280 + 16
        table.times.reserveCapacity(estimate)
        table.actor.reserveCapacity(estimate)
        table.action.reserveCapacity(estimate)
        table.resource.reserveCapacity(estimate)
        table.ip.reserveCapacity(estimate)
        table.country.reserveCapacity(estimate)
        table.bytes.reserveCapacity(estimate)
        table.flags.reserveCapacity(estimate)
        var fields = Fields()
        var scratch: [UInt8] = []
        var previous = Int64.min
        let result: Result<Void, LedgerError> = snapshot.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            var lineNumber = 0
            let end = buffer.count
            while lineStart < end {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < end, buffer[lineEnd] != 0x0a { lineEnd += 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                do throws(LedgerError) {
                    fields.reset()
                    if scan(line, into: &fields) {
                        try add(
                            line,
                            fields,
                            into: &table,
                            from: from,
                            to: to,
                            previous: &previous,
                            admin: adminActions
                        )
                    } else {
                        try decode(line, into: &fields, scratch: &scratch)
                        let added: Result<Void, LedgerError> = scratch.withUnsafeBufferPointer { decoded in
                            do throws(LedgerError) {
                                try add(
                                    decoded,
                                    fields,
                                    into: &table,
                                    from: from,
                                    to: to,
                                    previous: &previous,
                                    admin: adminActions
                                )
                                return .success(())
                            } catch {
                                return .failure(error)
                            }
                        }
                        try added.get()
                    }
                } catch {
                    return .failure(LedgerError(.invalidArgument, "snapshot line \(lineNumber): \(error.reason)"))
                }
            }
            return .success(())
        }
        try result.get()
        guard !table.times.isEmpty else { throw LedgerError(.invalidArgument, "the snapshot holds no rows") }
        return table
    }

    /// The fast path: a flat object of strings, nulls and integers without escapes, keys in canonical order.
    /// Returns false for anything else, which then goes to ``decode(_:into:scratch:)``.
    static func scan(_ line: UnsafeBufferPointer<UInt8>, into fields: inout Fields) -> Bool {
        let end = line.count
        var position = 0
        guard end > 2, line[0] == 0x7b else { return false }  // {
        position = 1
        var expected = 0
        while true {
            guard position < end, line[position] == 0x22 else { return false }
            position += 1
            let keyStart = position
            while position < end, line[position] != 0x22 {
                if line[position] == 0x5c { return false }
                position += 1
            }
            guard position < end, expected < keyBytes.count else { return false }
            let key = UnsafeBufferPointer(rebasing: line[keyStart..<position])
            guard key.elementsEqual(keyBytes[expected]) else { return false }
            position += 1
            guard position < end, line[position] == 0x3a else { return false }  // :
            position += 1
            guard position < end else { return false }
            let first = line[position]
            if first == 0x22 {
                position += 1
                let valueStart = position
                while position < end, line[position] != 0x22 {
                    if line[position] == 0x5c || line[position] < 0x20 { return false }
                    position += 1
                }
                guard position < end else { return false }
                fields.kind[expected] = Fields.string
                fields.start[expected] = valueStart
                fields.count[expected] = position - valueStart
                position += 1
            } else if first == 0x6e {  // null
                guard position + 4 <= end, line[position + 1] == 0x75, line[position + 2] == 0x6c,
                    line[position + 3] == 0x6c
                else { return false }
                fields.kind[expected] = Fields.null
                position += 4
            } else if first == 0x2d || (first >= 0x30 && first <= 0x39) {
                let negative = first == 0x2d
                if negative { position += 1 }
                var value: Int64 = 0
                var digits = 0
                while position < end, line[position] >= 0x30, line[position] <= 0x39 {
                    value = value * 10 + Int64(line[position] - 0x30)
                    digits += 1
                    position += 1
                }
                guard digits > 0, digits <= 15 else { return false }
                fields.kind[expected] = Fields.number
                fields.number[expected] = negative ? -value : value
            } else {
                return false
            }
            expected += 1
            guard position < end else { return false }
            if line[position] == 0x2c {  // ,
                position += 1
                continue
            }
            return line[position] == 0x7d && position + 1 == end && expected == keyBytes.count  // }
        }
    }

    /// The slow path: parses the line as JSON and copies its unescaped strings into `scratch`.
    static func decode(
        _ line: UnsafeBufferPointer<UInt8>,
        into fields: inout Fields,
        scratch: inout [UInt8]
    ) throws(LedgerError) {
        let value: JSONValue
        do { value = try CanonicalJSON.parse(line) } catch {
            throw LedgerError(.invalidArgument, "not a JSON object: \(error.reason)")
        }
        guard let object = value.objectValue else { throw LedgerError(.invalidArgument, "not a JSON object") }
        if let unknown = object.keys.filter({ !keys.contains($0) }).sorted().first {
            throw LedgerError(.invalidArgument, "unexpected member \"\(unknown)\"")
        }
        scratch.removeAll(keepingCapacity: true)
        fields.reset()
        for (index, key) in keys.enumerated() {
            switch object[key] {
            case .none: fields.kind[index] = Fields.missing
            case .null?: fields.kind[index] = Fields.null
            case .string(let text)?:
                fields.kind[index] = Fields.string
                fields.start[index] = scratch.count
                scratch.append(contentsOf: text.utf8)
                fields.count[index] = scratch.count - fields.start[index]
            case .some(let other):
                guard let integer = other.integerValue else {
                    throw LedgerError(.invalidArgument, "\(key) must be a string, an integer or null")
                }
                fields.kind[index] = Fields.number
                fields.number[index] = integer
            }
        }
    }

    /// Validates one parsed row and appends it to the table.
    static func add(
        _ buffer: UnsafeBufferPointer<UInt8>,
        _ fields: Fields,
        into table: inout SnapshotTable,
        from: Int64,
        to: Int64,
        previous: inout Int64,
        admin adminActions: [[UInt8]]
    ) throws(LedgerError) {
        for index in 0..<keys.count {
            let kind = fields.kind[index]
            if kind == Fields.missing { throw LedgerError(.invalidArgument, "missing member \"\(keys[index])\"") }
            if kind == Fields.null, required.contains(index) {
                throw LedgerError(.invalidArgument, "\(keys[index]) is null")
            }
            if kind == Fields.number, !numeric.contains(index) {
                throw LedgerError(.invalidArgument, "\(keys[index]) must be a string")
            }
            if kind == Fields.string, numeric.contains(index) {
                throw LedgerError(.invalidArgument, "\(keys[index]) must be an integer")
            }
        }
        func text(_ index: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: buffer[fields.start[index]..<fields.start[index] + fields.count[index]])
        }
        guard let time = parseTime(text(occurredAt)) else {
            throw LedgerError(.invalidArgument, "occurred_at is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        }
        guard time >= from, time < to else { throw LedgerError(.invalidArgument, "occurred_at is outside the window") }
        guard time >= previous else { throw LedgerError(.invalidArgument, "the rows are not in occurred_at order") }
        previous = time

        var flags: UInt8
        let outcomeText = text(outcome)
        if outcomeText.elementsEqual("success".utf8) {
            flags = 0
        } else if outcomeText.elementsEqual("failure".utf8) {
            flags = SnapshotTable.failure
        } else if outcomeText.elementsEqual("denied".utf8) {
            flags = SnapshotTable.denied
        } else {
            throw LedgerError(.invalidArgument, "outcome is not success, failure or denied")
        }
        if fields.kind[label] == Fields.string {
            let labelText = text(label)
            if labelText.elementsEqual("anomalous".utf8) {
                flags |= 2 << 2
            } else if labelText.elementsEqual("benign".utf8) {
                flags |= 1 << 2
            } else {
                throw LedgerError(.invalidArgument, "label is not anomalous, benign or null")
            }
        }
        let actionID = table.actions.intern(text(action))
        if actionID.isNew { table.isAdminAction.append(adminActions.contains { $0.elementsEqual(text(action)) }) }
        let roleID = table.roles.intern(text(actorRole))
        if roleID.isNew { table.isAdminRole.append(text(actorRole).elementsEqual("admin".utf8)) }
        if table.isAdminAction[Int(actionID.id)], !table.isAdminRole[Int(roleID.id)] {
            flags |= SnapshotTable.adminByNonAdmin
        }
        if fields.kind[bytes] == Fields.number {
            table.bytes.append(fields.number[bytes])
        } else {
            table.bytes.append(0)
            flags |= SnapshotTable.bytesNull
        }
        table.times.append(time)
        table.actor.append(table.actors.intern(text(actorID)).id)
        table.action.append(actionID.id)
        table.resource.append(table.resources.intern(text(resource)).id)
        table.ip.append(fields.kind[sourceIP] == Fields.string ? table.ips.intern(text(sourceIP)).id : -1)
        table.country.append(fields.kind[country] == Fields.string ? table.countries.intern(text(country)).id : -1)
        table.flags.append(flags)
    }

    /// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ`, or nil for any other text or an impossible date.
    static func parseTime(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard text.count == 24, text[4] == 0x2d, text[7] == 0x2d, text[10] == 0x54, text[13] == 0x3a,
            text[16] == 0x3a, text[19] == 0x2e, text[23] == 0x5a
        else { return nil }
        var valid = true
        func number(_ offset: Int, _ width: Int) -> Int64 {
            var value: Int64 = 0
            for position in offset..<offset + width {
                let digit = text[position] &- 0x30
                if digit > 9 { valid = false }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2))
        let (hour, minute, second, millisecond) = (number(11, 2), number(14, 2), number(17, 2), number(20, 3))
        guard valid, (1...12).contains(month), day >= 1, hour < 24, minute < 60, second < 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays: Int64 =
            switch month {
            case 2: leap ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        guard day <= monthDays else { return nil }
        // Howard Hinnant's days_from_civil (years 0000 to 9999, so no negative eras).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear >= 0 ? shiftedYear / 400 : (shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond
    }
}
