// Aggregating a snapshot's rows into (actor, hour) windows, and the feature values of a window.

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
