import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerProjections
import LedgerService
import LedgerStore
import Testing

/// docs/openapi.json against the real router: the same routes, and every documented call answering with a
/// documented status and a body that matches the documented schema.
@Suite("OpenAPI document")
struct OpenAPITests {
    static func document() throws -> JSONValue {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json").path
        return try CanonicalJSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// A path with every parameter written as `{}`: `/v1/runs/**`, `/v1/runs/{id}` and `/v1/runs/:id` all match.
    static func shape(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") || part.hasPrefix("{") || part == "**" || part == "*" ? "{}" : String(part)
        }.joined(separator: "/")
    }

    @Test("the document has exactly the router's routes")
    func sameRoutes() async throws {
        let fixture = try await ServiceFixture.make()
        let server = try await fixture.server()
        let routes = Set(server.router().routes.map { "\($0.method.rawValue) \(Self.shape("\($0.path)"))" })
        let paths = try #require(try Self.document()["paths"]?.objectValue)
        let documented = Set(
            paths.flatMap { path, operations in
                (operations.objectValue ?? [:]).keys.map { "\($0.uppercased()) \(Self.shape(path))" }
            }
        )
        #expect(
            routes == documented,
            "only in the router: \(routes.subtracting(documented)); only documented: \(documented.subtracting(routes))"
        )
    }

    @Test("every documented call answers with a documented status and a body that matches its schema")
    func answersMatch() async throws {
        let fixture = try await ServiceFixture.make()
        let server = try await fixture.server()
        let document = try Self.document()
        let schemas = document["components"]?["schemas"]?.objectValue ?? [:]
        let run = try #require(server.projections.runs.keys.sorted().first)
        let writer = try await fixture.writer()
        let approval = try await ServiceFixture.fields(2, on: writer).merging(["reason": "offline"]) { $1 }
        let envelope = try #require(
            try await writer.sign(
                [EventDraft(type: "model.approved", data: .object(approval))],
                signedBy: ServiceFixture.approver
            )
            .first?.envelope
        )
        let app = Application(router: server.router())
        try await app.test(.router) { client in
            for (path, operations) in (document["paths"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                for (method, operation) in operations.objectValue ?? [:] {
                    var uri = path.replacingOccurrences(of: "{id}", with: run)
                    var query: [String] = []
                    for parameter in operation["parameters"]?.arrayValue ?? [] {
                        guard let name = parameter["name"]?.stringValue, let example = parameter["example"] else {
                            continue
                        }
                        let text = example.stringValue ?? example.integerValue.map { String($0) } ?? ""
                        if parameter["in"] == "path" {
                            uri = uri.replacingOccurrences(of: "{\(name)}", with: text)
                        } else {
                            query.append("\(name)=\(text)")
                        }
                    }
                    if !query.isEmpty { uri += "?" + query.joined(separator: "&") }
                    var body: ByteBuffer?
                    if path == "/v1/events", method == "post" {
                        body = ByteBuffer(bytes: envelope.canonicalBytes())
                    } else if let example = operation["requestBody"]?["content"]?["application/json"]?["example"] {
                        body = ByteBuffer(bytes: try CanonicalJSON.encode(example))
                    }
                    try await client.execute(
                        uri: uri,
                        method: HTTPRequest.Method(rawValue: method.uppercased()) ?? .get,
                        body: body
                    ) {
                        response in
                        let status = String(response.status.code)
                        let documented = try #require(
                            operation["responses"]?[status],
                            "\(method) \(uri) answered \(status), undocumented"
                        )
                        if let schema = documented["content"]?["application/json"]?["schema"] {
                            let json = try #require(response.json, "\(method) \(uri): not JSON")
                            let problems = SchemaCheck(schemas: schemas).problems(json, schema, at: "$")
                            #expect(problems.isEmpty, "\(method) \(uri) \(status): \(problems.prefix(5))")
                        }
                        #expect(
                            !status.hasPrefix("5") || path == "/readyz",
                            "\(method) \(uri) failed: \(response.json ?? .null)"
                        )
                    }
                }
            }
        }
    }
}

extension OpenAPITests {
    @Test("every operation documents its 400, and every request body object refuses members it does not name")
    func strictDocument() throws {
        let document = try Self.document()
        for (path, operations) in document["paths"]?.objectValue?.sorted(by: { $0.key < $1.key }) ?? [] {
            for (method, operation) in operations.objectValue?.sorted(by: { $0.key < $1.key }) ?? [] {
                #expect(operation["responses"]?["400"] != nil, "\(method) \(path) documents no 400")
            }
        }
        let schemas = try #require(document["components"]?["schemas"])
        var objects = (schemas["ScoreRequest"]?["oneOf"]?.arrayValue ?? []).map { ("ScoreRequest", $0) }
        objects += [("AuditEvent", schemas["AuditEvent"]), ("Envelope", schemas["Envelope"])].compactMap {
            name,
            schema in
            schema.map { (name, $0) }
        }
        objects.append(("Envelope.signatures[]", schemas["Envelope"]?["properties"]?["signatures"]?["items"] ?? .null))
        #expect(objects.count == 5)
        for (name, schema) in objects {
            #expect(schema["additionalProperties"] == .bool(false), "\(name) allows unknown members")
        }
        let example = try #require(
            document["paths"]?["/v1/score"]?["post"]?["requestBody"]?["content"]?["application/json"]?["example"]
        )
        let check = SchemaCheck(schemas: schemas.objectValue ?? JSONObject())
        #expect(check.problems(example, ["$ref": "#/components/schemas/ScoreRequest"], at: "$").isEmpty)
    }

    @Test(
        "what the document refuses, the server refuses: unknown parameters and members, and integers out of form or range"
    )
    func refusesWhatTheDocumentRefuses() async throws {
        let fixture = try await ServiceFixture.make()
        let server = try await fixture.server()
        let document = try Self.document()
        let run = try #require(server.projections.runs.keys.sorted().first)
        // Each hostile call: method, uri, body, and the name the 400's message must hold.
        var calls: [(HTTPRequest.Method, String, ByteBuffer?, String)] = []
        for (path, operations) in (document["paths"]?.objectValue ?? JSONObject()).sorted(by: { $0.key < $1.key }) {
            for (method, operation) in (operations.objectValue ?? JSONObject()).sorted(by: { $0.key < $1.key }) {
                let verb = HTTPRequest.Method(rawValue: method.uppercased()) ?? .get
                let parameters = operation["parameters"]?.arrayValue ?? []
                /// The operation's uri with every example, `name` set to `value` (nil: its example).
                func uri(_ name: String? = nil, _ value: String? = nil) -> String {
                    var uri = path.replacingOccurrences(of: "{id}", with: run)
                    var query: [String] = []
                    for parameter in parameters {
                        guard let parameterName = parameter["name"]?.stringValue else { continue }
                        let example = parameter["example"]
                        var text = example?.stringValue ?? example?.integerValue.map { String($0) }
                        if parameterName == name { text = value }
                        guard let text else { continue }
                        if parameter["in"] == "path" {
                            uri = uri.replacingOccurrences(of: "{\(parameterName)}", with: text)
                        } else {
                            query.append("\(parameterName)=\(text)")
                        }
                    }
                    return query.isEmpty ? uri : uri + "?" + query.joined(separator: "&")
                }
                let base = uri()
                calls.append((verb, base + (base.contains("?") ? "&" : "?") + "zz_unknown=1", nil, "zz_unknown"))
                for parameter in parameters where parameter["schema"]?["type"] == "integer" {
                    let name = try #require(parameter["name"]?.stringValue)
                    var values = ["abc", "1.5", "%2B1", "0x10", "1e3", "", "99999999999999999999"]
                    if let minimum = parameter["schema"]?["minimum"]?.integerValue {
                        values.append(String(minimum - 1))
                    }
                    if let maximum = parameter["schema"]?["maximum"]?.integerValue {
                        values.append(maximum == .max ? "9223372036854775808" : String(maximum + 1))
                    }
                    // An empty path segment is another route: only a query parameter can be sent empty.
                    for value in values where !value.isEmpty || parameter["in"] == "query" {
                        calls.append((verb, uri(name, value), nil, name))
                    }
                }
                if let example = operation["requestBody"]?["content"]?["application/json"]?["example"],
                    case .object(var members) = example
                {
                    members["zz_unknown"] = 1
                    calls.append(
                        (verb, base, ByteBuffer(bytes: try CanonicalJSON.encode(.object(members))), "zz_unknown")
                    )
                }
            }
        }
        #expect(calls.count > 60)
        let hostile = calls
        let app = Application(router: server.router())
        try await app.test(.router) { client in
            for (method, uri, body, name) in hostile {
                try await client.execute(uri: uri, method: method, body: body) { response in
                    let message = response.json?["error"]?["message"]?.stringValue ?? ""
                    #expect(response.status == .badRequest, "\(method) \(uri): \(response.status) \(message)")
                    #expect(message.contains(name), "\(method) \(uri): \(message)")
                }
            }
        }
    }
}

/// The subset of JSON Schema docs/openapi.json uses: `$ref`, `oneOf`, `type` (one or a list), `enum`, `const`,
/// `required`, `properties`, `additionalProperties` (a schema, or false), `items`, `minItems`, `pattern`,
/// `minimum`, `maximum`, `minLength`.
struct SchemaCheck {
    let schemas: JSONObject

    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String) -> [String] {
        if let reference = schema["$ref"]?.stringValue {
            let name = String(reference.split(separator: "/").last ?? "")
            guard let target = schemas[name] else { return ["\(path): unknown $ref \(reference)"] }
            return problems(value, target, at: path)
        }
        if let options = schema["oneOf"]?.arrayValue {
            let matching = options.filter { problems(value, $0, at: path).isEmpty }
            return matching.count == 1 ? [] : ["\(path): matches \(matching.count) of oneOf's \(options.count)"]
        }
        var found: [String] = []
        if let types = schema["type"].map({ $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue ?? ""] }),
            !types.contains(where: { Self.matches(value, type: $0) })
        {
            return ["\(path): not \(types.joined(separator: " or "))"]
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) { found.append("\(path): not in enum") }
        if let constant = schema["const"], constant != value { found.append("\(path): not \(constant)") }
        if let pattern = schema["pattern"]?.stringValue, let text = value.stringValue,
            text.range(of: pattern, options: .regularExpression) == nil
        {
            found.append("\(path): does not match \(pattern)")
        }
        if let number = value.doubleValue {
            if let minimum = schema["minimum"]?.doubleValue, number < minimum { found.append("\(path): below minimum") }
            if let maximum = schema["maximum"]?.doubleValue, number > maximum { found.append("\(path): above maximum") }
        }
        if let minimum = schema["minLength"]?.integerValue, let text = value.stringValue, text.count < minimum {
            found.append("\(path): too short")
        }
        if let object = value.objectValue {
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
                found.append("\(path): missing \(name)")
            }
            let properties = schema["properties"]?.objectValue ?? [:]
            for (name, member) in object {
                if let property = properties[name] {
                    found += problems(member, property, at: "\(path).\(name)")
                } else if let extra = schema["additionalProperties"], extra.objectValue != nil {
                    found += problems(member, extra, at: "\(path).\(name)")
                } else if schema["additionalProperties"] == .bool(false) {
                    found.append("\(path): unknown member \(name)")
                }
            }
        }
        if let array = value.arrayValue {
            if let minimum = schema["minItems"]?.integerValue, array.count < minimum {
                found.append("\(path): too few")
            }
            if let items = schema["items"] {
                for (index, item) in array.enumerated() { found += problems(item, items, at: "\(path)[\(index)]") }
            }
        }
        return found
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch type {
        case "object": value.objectValue != nil
        case "array": value.arrayValue != nil
        case "string": value.stringValue != nil
        case "integer": value.integerValue != nil
        case "number": value.doubleValue != nil
        case "boolean": value == .bool(true) || value == .bool(false)
        case "null": value == .null
        default: false
        }
    }
}
