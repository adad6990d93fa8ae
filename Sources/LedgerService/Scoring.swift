import Hummingbird
import LedgerAudit
import LedgerCore

extension LedgerServer {
    /// `POST /v1/score`: `{"rows": [{"<feature>": number, …}]}` or `{"events": [<audit events>], "scoreFrom"?}`.
    ///
    /// Rows name every feature of the model (null reads as 0, as in a dataset); raw events are turned into
    /// per-(actor, hour) rows by the same code that builds training datasets, with the request's earlier events
    /// as each window's history. The answer names the model that scored every row, once.
    ///
    /// The body MUST hold exactly one of `rows` and `events`, `scoreFrom` only beside `events`, and no other
    /// member; each event MUST keep the Audit DB contract (see ``checkContract(_:index:)``). Anything else is 400
    /// naming the member.
    func score(_ request: Request) async -> Response {
        guard let model = self.model else {
            return Self.error(
                .serviceUnavailable,
                "model.unavailable",
                "no verified model serves \(configuration.target) yet"
            )
        }
        let json: JSONValue
        switch await body(of: request) {
        case .success(let value): json = value
        case .failure(let refusal): return refusal.response
        }
        let members: JSONObject
        do throws(InvalidParameter) {
            members = try json.members(allowed: ["rows", "events", "scoreFrom"], of: "the body")
            switch (members["rows"], members["events"]) {
            case (nil, nil), (_?, _?):
                throw InvalidParameter(
                    #"the body is {"rows": [...]} or {"events": [...]}: exactly one of rows and events"#
                )
            case (_?, nil) where members["scoreFrom"] != nil:
                throw InvalidParameter("scoreFrom goes only with events, not with rows")
            default: break
            }
        } catch {
            return error.response
        }
        do throws(LedgerError) {
            if let rows = members["rows"] {
                guard let rows = rows.arrayValue else { throw LedgerError(.invalidArgument, "rows must be an array") }
                let values = try rowValues(rows, model: model)
                let scores = try model.scores(values, rows: rows.count)
                metrics.scored(scores)
                return Self.json([
                    "model": model.reference, "threshold": .number(model.threshold),
                    "results": .array(
                        scores.map { ["score": .number($0), "anomalous": .bool($0 >= model.threshold)] }
                    ),
                ])
            }
            guard let events = members["events"]?.arrayValue else {
                throw LedgerError(.invalidArgument, "events must be an array")
            }
            return try scoreEvents(events, scoreFrom: members["scoreFrom"], model: model)
        } catch {
            return Self.error(.badRequest, error.code.rawValue, error.reason)
        }
    }

    /// Refuses an event that breaks a constraint of the Audit DB contract (`audit/sqlite/schema.sql`) which
    /// ``AuditEvent/init(json:index:)`` does not check: `actor_id`, `actor_role` and `action` not empty, `country`
    /// two upper-case letters, `bytes` 0 or more. The error names the index and the member, never the value.
    ///
    /// `source_ip`, `country` and `bytes` may still be null: the feature rules say what a null means.
    static func checkContract(_ event: AuditEvent, index: Int) throws(LedgerError) {
        func fail(_ reason: String) -> LedgerError {
            LedgerError(
                .invalidArgument,
                "the event at index \(index): \(reason) (the Audit DB contract, audit/README.md)"
            )
        }
        for (name, value) in [("actor_id", event.actorID), ("actor_role", event.actorRole), ("action", event.action)]
        where value.isEmpty {
            throw fail("\(name) must not be empty")
        }
        if let country = event.country,
            !(country.utf8.count == 2
                && country.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) })
        {
            throw fail("country must be two upper-case letters (ISO 3166-1 alpha-2)")
        }
        if let bytes = event.bytes, bytes < 0 { throw fail("bytes must be 0 or more") }
    }

    /// The rows' values in the model's feature order, row-major.
    func rowValues(_ rows: [JSONValue], model: ServingModel) throws(LedgerError) -> [Double] {
        guard !rows.isEmpty, rows.count <= configuration.maxRows else {
            throw LedgerError(.invalidArgument, "send 1 to \(configuration.maxRows) rows")
        }
        var values: [Double] = []
        values.reserveCapacity(rows.count * model.featureNames.count)
        for (index, row) in rows.enumerated() {
            guard let object = row.objectValue else {
                throw LedgerError(.invalidArgument, "rows[\(index)] is not an object")
            }
            if object.count != model.featureNames.count || !object.keys.allSatisfy(model.featureNames.contains) {
                let missing = model.featureNames.filter { object[$0] == nil }
                let unknown = object.keys.filter { !model.featureNames.contains($0) }.sorted()
                throw LedgerError(
                    .invalidArgument,
                    "rows[\(index)] must have exactly the model's features"
                        + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))")
                        + (unknown.isEmpty ? "" : "; unknown: \(unknown.joined(separator: ", "))")
                )
            }
            for name in model.featureNames {
                switch object[name] {
                case .null: values.append(0)
                case let value:
                    guard let number = value?.doubleValue, number.isFinite else {
                        throw LedgerError(.invalidArgument, "rows[\(index)].\(name) is not a finite number")
                    }
                    values.append(number)
                }
            }
        }
        return values
    }

    func scoreEvents(_ events: [JSONValue], scoreFrom: JSONValue?, model: ServingModel) throws(LedgerError) -> Response
    {
        guard events.count <= FeatureRows.maximumEvents else {
            throw LedgerError(.invalidArgument, "send at most \(FeatureRows.maximumEvents) events")
        }
        var from: Timestamp?
        if let scoreFrom, scoreFrom != .null {
            guard let text = scoreFrom.stringValue, let time = Timestamp(userInput: text) else {
                throw LedgerError(.invalidArgument, "scoreFrom must be a UTC time such as 2026-03-03T12:00:00Z")
            }
            from = time
        }
        let parsed = try events.enumerated().map { (index, event) throws(LedgerError) in
            let parsed = try AuditEvent(json: event, index: index)
            try Self.checkContract(parsed, index: index)
            return parsed
        }
        let rows = try DatasetBuilder.featureRows(
            of: parsed,
            scoreFrom: from,
            featureSpec: DatasetBuilder.featureSpecV1
        )
        guard rows.featureNames == model.featureNames else {
            throw LedgerError(.invalidArgument, "the model was trained on other features than spec version 1 computes")
        }
        let scores = rows.rows.isEmpty ? [] : try model.scores(rows.rows.flatMap(\.values), rows: rows.rows.count)
        metrics.scored(scores)
        return Self.json([
            "model": model.reference, "threshold": .number(model.threshold),
            "results": .array(
                zip(rows.rows, scores).map { row, score in
                    [
                        "actor": .string(row.actorID), "window": .string(row.windowStart.rfc3339),
                        "features": .object(
                            Dictionary(uniqueKeysWithValues: zip(rows.featureNames, row.values.map(JSONValue.number)))
                        ),
                        "score": .number(score), "anomalous": .bool(score >= model.threshold),
                    ]
                }
            ),
        ])
    }
}
