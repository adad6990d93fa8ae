import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerWorkspace

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Sign and append an event, append an envelope signed elsewhere, or append a batch.",
        discussion: """
            The event is checked against the log's rules (type, schema, key status and role, the type's own governance rules) before anything is written; a refused event changes nothing.

            --batch FILE reads JSON Lines of {"type", "data", "subject"?}. Each line is appended and made durable on its own (a crash keeps the lines already appended), or with --atomic all of them in one transaction or none.

            Examples:
              ledger append --type note.added --key keys/admin.key \\
                --data '{"text":"retrained after incident 42"}'
              ledger append --type note.added --data @note.json --key me.key \\
                --subject "model=sha256:$(sha256sum model.bin | cut -c1-64)"
              ledger append --envelope approval.dsse.json
              ledger append --batch notes.jsonl --atomic --key me.key
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The event type, such as note.added.", valueName: "TYPE"))
    var type: String?

    @Option(
        help: ArgumentHelp(
            "The event data: JSON text, or @FILE (@- for standard input), at most 8 MiB.",
            valueName: "JSON|@FILE"
        )
    )
    var data: String?

    @Option(help: ArgumentHelp("An artifact the event is about (repeatable).", valueName: "NAME=sha256:HEX"))
    var subject: [String] = []

    @Option(help: ArgumentHelp("The private key file that signs the event.", valueName: "FILE"))
    var key: String?

    @Option(help: ArgumentHelp("Append a DSSE envelope that was signed elsewhere.", valueName: "FILE"))
    var envelope: String?

    @Option(help: ArgumentHelp("Append every event of a JSON Lines file.", valueName: "FILE"))
    var batch: String?

    @Flag(help: "With --batch: append all lines in one transaction, or none.")
    var atomic = false

    @Flag(help: "Print the appended entries as JSON.")
    var json = false

    func validate() throws {
        let modes = [type != nil || data != nil, envelope != nil, batch != nil].filter { $0 }.count
        guard modes == 1 else {
            throw ValidationError("give either --type and --data, or --envelope FILE, or --batch FILE")
        }
        if envelope == nil {
            guard key != nil else { throw ValidationError("--key FILE is required to sign") }
        } else if key != nil || !subject.isEmpty {
            throw ValidationError("--envelope is already signed: --key and --subject do not apply")
        }
        if batch == nil, envelope == nil {
            guard type != nil, data != nil else { throw ValidationError("--type and --data go together") }
        }
        if atomic, batch == nil { throw ValidationError("--atomic applies to --batch only") }
        if batch != nil, !subject.isEmpty { throw ValidationError("with --batch, give subjects in each line") }
        for item in subject { _ = try Self.parseSubject(item) }
    }

    func run() async throws {
        let ledger = try await workspace.open().ledger
        if let envelope {
            let parsed = try Envelope(jsonBytes: try Files.read(envelope, .envelope))
            printAppended([try await ledger.append(envelope: parsed)], json: json)
            return
        }
        guard let key else { return }
        let signer = try KeyFiles.loadPrivateKey(key)
        if let batch {
            let drafts = try Self.readBatch(batch)
            if atomic {
                do {
                    printAppended(try await ledger.append(drafts, signedBy: signer), json: json)
                } catch {
                    throw LedgerError(error.code, "\(batch): \(error.reason); nothing was appended")
                }
            } else {
                var appended: [SignedEvent] = []
                for (index, draft) in drafts.enumerated() {
                    do {
                        let signed = try await ledger.append([draft], signedBy: signer)
                        appended += signed
                        // Each line is durable as soon as it is printed, so a failure later leaves a record.
                        if !json { printAppended(signed, json: false) }
                    } catch {
                        if json { printAppended(appended, json: true) }
                        throw LedgerError(
                            error.code,
                            "\(batch) event \(index + 1): \(error.reason) (the \(index) events before it were appended)"
                        )
                    }
                }
                if json { printAppended(appended, json: true) }
            }
            return
        }
        guard let type, let data else { return }
        let draft = EventDraft(type: type, subject: try subject.map(Self.parseSubject), data: try Self.parseData(data))
        printAppended(try await ledger.append([draft], signedBy: signer), json: json)
    }

    /// The event data of `--data`: JSON text, or `@FILE` (`@-` for standard input), read through
    /// ``Files/read(_:_:)`` so that it never holds more than ``Files/Input/eventData``'s limit.
    static func parseData(_ argument: String) throws(LedgerError) -> JSONValue {
        let bytes: [UInt8]
        if argument.hasPrefix("@") {
            bytes = try Files.read(String(argument.dropFirst()), .eventData)
        } else {
            bytes = Array(argument.utf8)
            guard bytes.count <= Files.Input.eventData.limit else {
                throw LedgerError(.invalidArgument, "--data is larger than \(Files.Input.eventData.limitDescription)")
            }
        }
        do {
            return try CanonicalJSON.parse(bytes)
        } catch {
            throw LedgerError(.malformed, "--data is not valid JSON: \(error)")
        }
    }

    static func parseSubject(_ argument: String) throws(ValidationError) -> Subject {
        let parts = argument.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("sha256:"),
            let hash = Hash256(hex: String(parts[1].dropFirst("sha256:".count)))
        else {
            throw ValidationError("--subject must look like NAME=sha256:<64 hex>, got \"\(argument.prefix(80))\"")
        }
        return Subject(name: String(parts[0]), sha256: hash)
    }

    /// Reads a batch file into drafts, all of them before any is appended: a bad line anywhere appends nothing.
    ///
    /// Lines are split on the byte `\n` (LF). A line ending with CR (a CRLF file) and a line that is not valid UTF-8
    /// are refused, naming the line, as `--data` refuses such bytes: nothing is decoded lossily into the log.
    /// Lines of only spaces and tabs are skipped.
    static func readBatch(_ path: String) throws(LedgerError) -> [EventDraft] {
        let bytes = try Files.read(path, .batch)
        var drafts: [EventDraft] = []
        for (index, line) in bytes.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            let lineNumber = index + 1
            if line.last == 0x0d {
                throw LedgerError(
                    .malformed,
                    "\(path):\(lineNumber): line \(lineNumber) ends with CR; use LF line endings"
                )
            }
            if let offset = Files.firstInvalidUTF8(in: line) {
                throw LedgerError(
                    .malformed,
                    "\(path):\(lineNumber): not valid UTF-8: a bad byte at offset \(offset) of the line"
                )
            }
            let json: JSONValue
            do {
                json = try CanonicalJSON.parse(Array(line))
            } catch {
                throw LedgerError(.malformed, "\(path):\(lineNumber): not valid JSON: \(error)")
            }
            guard let type = json["type"]?.stringValue, let data = json["data"] else {
                throw LedgerError(.malformed, "\(path):\(lineNumber): each line needs \"type\" and \"data\"")
            }
            var subjects: [Subject] = []
            if let subject = json["subject"], subject.arrayValue == nil {
                throw LedgerError(.malformed, "\(path):\(lineNumber): \"subject\" must be an array")
            }
            for item in json["subject"]?.arrayValue ?? [] {
                guard let name = item["name"]?.stringValue, let hex = item["digest"]?["sha256"]?.stringValue,
                    let hash = Hash256(hex: hex)
                else {
                    throw LedgerError(
                        .malformed,
                        "\(path):\(lineNumber): a subject is {\"name\", \"digest\": {\"sha256\"}}"
                    )
                }
                subjects.append(Subject(name: name, sha256: hash))
            }
            drafts.append(EventDraft(type: type, subject: subjects, data: data))
        }
        guard !drafts.isEmpty else { throw LedgerError(.invalidArgument, "\(path) holds no events") }
        return drafts
    }
}
