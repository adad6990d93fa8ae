import Hummingbird
import LedgerAudit
import LedgerCore

extension LedgerServer {
    /// `POST /v1/score`: `{"rows": [{"<feature>": number, …}]}` or `{"events": [<audit events>], "scoreFrom"?}`.
    ///
    /// Rows name every feature of the model (null reads as 0, as in a dataset); raw events are turned into
    /// per-(actor, hour) rows by the same code that builds training datasets, with the request's earlier events
    /// as each window's history. The answer names the model that scored every row, once.
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
        do {
            if let rows = json["rows"]?.arrayValue {
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
            if let events = json["events"]?.arrayValue {
                return try scoreEvents(events, scoreFrom: json["scoreFrom"], model: model)
            }
            return Self.error(.badRequest, "argument.invalid", "the body is {\"rows\": [...]} or {\"events\": [...]}")
        } catch {
            return Self.error(.badRequest, error.code.rawValue, error.reason)
        }
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
            try AuditEvent(json: event, index: index)
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
