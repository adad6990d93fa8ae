import Hummingbird
import LedgerCore

/// A parameter or body member a route refuses: answered `400 argument.invalid` with a message that names it.
struct InvalidParameter: Error {
    let message: String

    init(_ message: String) { self.message = message }

    var response: Response { LedgerServer.error(.badRequest, "argument.invalid", message) }

    /// A name a client sent, shown safely: at most 40 characters (the JSON encoding escapes the rest).
    static func shown(_ name: some StringProtocol) -> String {
        name.count > 40 ? "\"\(name.prefix(40))…\"" : "\"\(name)\""
    }
}

/// A request's query parameters, checked against the names its route takes.
///
/// Every route refuses, with 400 naming the parameter: a name it does not take, a name given twice, and a value
/// not of the parameter's form. Integers are plain decimal digits in their one spelling (a leading `-` only where a
/// negative value is allowed), never `+1`, `1.5`, `0x10`, `1e3`, `007`, `-0` or a value beyond the range.
struct QueryParameters {
    private let values: [String: String]

    /// Reads `request`'s query, refusing any name not in `allowed`.
    init(_ request: Request, allowed: [String]) throws(InvalidParameter) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard Self.isOne(of: allowed, name) else {
                let takes =
                    allowed.isEmpty
                    ? "this route takes no query parameters" : "this route takes \(allowed.joined(separator: ", "))"
                throw InvalidParameter("unknown query parameter \(InvalidParameter.shown(name)); \(takes)")
            }
            guard values[name] == nil else { throw InvalidParameter("\(name) is given more than once") }
            values[name] = String(value)
        }
        self.values = values
    }

    /// Whether `name` is one of `names`, compared as UTF-8 bytes: never by Unicode equivalence, under which the
    /// Kelvin sign (U+212A) equals "K".
    static func isOne(of names: [String], _ name: String) -> Bool {
        names.contains { $0.utf8.elementsEqual(name.utf8) }
    }

    /// The text of `name`, nil when absent.
    func string(_ name: String) -> String? { values[name] }

    /// The integer value of `name` within `range`, nil when absent.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws(InvalidParameter) -> Int64? {
        guard let text = values[name] else { return nil }
        guard let value = Self.decimal(text), range.contains(value) else {
            throw InvalidParameter(Self.describe(name, range))
        }
        return value
    }

    /// The integer value of `name` within `range`; absent is an error.
    func required(_ name: String, in range: ClosedRange<Int64>) throws(InvalidParameter) -> Int64 {
        guard let value = try integer(name, in: range) else { throw InvalidParameter("\(name) is required") }
        return value
    }

    /// What a valid value of `name` is, for its error message.
    static func describe(_ name: String, _ range: ClosedRange<Int64>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (0, .max): "\(name) is not a valid non-negative integer"
        case (1, .max): "\(name) is not a valid integer of at least 1"
        case (let low, .max): "\(name) is not a valid integer of at least \(low)"
        case (let low, let high): "\(name) is not a valid integer from \(low) to \(high)"
        }
    }

    /// `text` as an integer if it is an optional `-` and 1 to 19 ASCII digits that fit an `Int64`, with no leading
    /// zero (but `0` itself) and no `-0`: each value has one spelling, as in the log's canonical JSON.
    static func decimal(_ text: String) -> Int64? {
        let utf8 = Array(text.utf8)
        let negative = utf8.first == UInt8(ascii: "-")
        let digits = negative ? utf8.dropFirst() : utf8[...]
        guard (1...19).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
            digits.first != UInt8(ascii: "0") || (digits.count == 1 && !negative)
        else { return nil }
        return Int64(text)
    }
}

extension JSONValue {
    /// The members of an object body, or the refusal: not an object, or a member not in `allowed` (named).
    func members(allowed: [String], of what: String) throws(InvalidParameter) -> JSONObject {
        guard let object = objectValue else { throw InvalidParameter("\(what) must be a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !QueryParameters.isOne(of: allowed, $0) }) {
            throw InvalidParameter(
                "\(what) has an unknown member \(InvalidParameter.shown(unknown)); it takes "
                    + allowed.joined(separator: ", ")
            )
        }
        return object
    }
}
