// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) resource paths: `tile/<L>/<N>[.p/<W>]` for hash tiles and
// `tile/entries/<N>[.p/<W>]` for entry bundles.

/// The path of one tile or entry bundle, relative to a log's prefix.
public struct TilePath: Sendable, Hashable, CustomStringConvertible {
    /// A hash tile's level (0...63), or nil for an entry bundle.
    public var level: Int?
    /// The tile's index within its level.
    public var index: UInt64
    /// The width of a partial tile (1...255), or nil for a full tile of 256.
    public var partialWidth: Int?

    /// The hashes (or entries) a full tile holds.
    public static let fullWidth = 256

    /// A hash tile at `level` (0...63).
    public static func hashes(level: Int, index: UInt64, width: Int = fullWidth) -> TilePath {
        precondition((0...63).contains(level) && (1...fullWidth).contains(width))
        return TilePath(level: level, index: index, partialWidth: width == fullWidth ? nil : width)
    }

    /// An entry bundle.
    public static func entries(index: UInt64, width: Int = fullWidth) -> TilePath {
        precondition((1...fullWidth).contains(width))
        return TilePath(level: nil, index: index, partialWidth: width == fullWidth ? nil : width)
    }

    /// The number of hashes or entries in the tile.
    public var width: Int { partialWidth ?? Self.fullWidth }

    /// `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, with N in zero-padded 3-digit elements of which all
    /// but the last begin with `x` (1234067 is `x001/x234/067`).
    public var description: String {
        var path = "tile/" + (level.map(String.init) ?? "entries") + "/" + Self.encode(index)
        if let partialWidth {
            path += ".p/\(partialWidth)"
        }
        return path
    }

    /// Parses a path that `description` produces, and only those: no leading zeros in L or W, 3-digit elements, `x`
    /// on all but the last, W in 1...255, L in 0...63.
    public init?(_ path: String) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == "tile" else { return nil }
        if parts[1] == "entries" {
            level = nil
        } else {
            guard let value = Self.decimal(parts[1]), value <= 63 else { return nil }
            level = Int(value)
        }
        parts.removeFirst(2)
        partialWidth = nil
        if parts.count >= 2, parts[parts.count - 2].hasSuffix(".p") {
            guard let width = Self.decimal(parts[parts.count - 1]), (1...255).contains(width) else { return nil }
            partialWidth = Int(width)
            parts.removeLast()
            parts[parts.count - 1].removeLast(2)
        }
        var value: UInt64 = 0
        for (position, element) in parts.enumerated() {
            let isLast = position == parts.count - 1
            var digits = Substring(element)
            if !isLast {
                guard digits.first == "x" else { return nil }
                digits = digits.dropFirst()
            }
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let group = UInt64(digits)
            else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 1000)
            let (sum, overflow2) = times.addingReportingOverflow(group)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        // The shortest encoding only: no leading "x000" element.
        guard Self.encode(value).split(separator: "/").count == parts.count else { return nil }
        index = value
    }

    private init(level: Int?, index: UInt64, partialWidth: Int?) {
        self.level = level
        self.index = index
        self.partialWidth = partialWidth
    }

    private static func encode(_ index: UInt64) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { $0.offset == groups.count - 1 ? $0.element : "x" + $0.element }
            .joined(separator: "/")
    }

    /// ASCII decimal without leading zeros.
    private static func decimal(_ text: String) -> UInt64? {
        guard let first = text.first, first != "0" || text.count == 1, text.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        return UInt64(text)
    }
}
