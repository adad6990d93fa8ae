import Foundation
public import LedgerCore
public import LedgerML

/// An external trainer: any program that follows the trainer contract `modelledger.trainer/v1`.
///
/// The ledger runs `command… REQUEST` in the workspace folder, where `REQUEST` is the path of a JSON file:
///
/// - `{"contract":"modelledger.trainer/v1","mode":"train","dataset":PATH,"parameters":{…},"seed":N,"model":PATH}`:
///   train on the dataset CSV's rows whose `holdout` is 0 and write the model, in any format, to `model`.
/// - `{"contract":"modelledger.trainer/v1","mode":"score","model":PATH,"rows":PATH,"scores":PATH}`: read the model,
///   score each row of the CSV `rows` (a header of feature names, then numbers), and write `scores`: one decimal
///   number per line, in row order, higher meaning more anomalous.
///
/// The program exits 0 on success; anything else, or a missing or malformed output, is `trainer.failed` with the
/// end of its standard error. It runs with only `PATH`, `LANG=C.UTF-8` and the configured environment, which
/// `model.trained` records together with the command and the SHA-256 of every file the command names, so
/// `ledger reproduce` can tell when the program changed. The program MUST be deterministic given the seed.
public struct CommandTrainer: Trainer {
    public static let contract = "modelledger.trainer/v1"

    public let command: [String]
    public let parameters: JSONValue
    public let environment: [String: String]
    /// The folder the command runs in and relative paths resolve from (the workspace).
    public let workingDirectory: String

    public init(command: [String], parameters: JSONValue, environment: [String: String], workingDirectory: String) {
        self.command = command
        self.parameters = parameters
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// A trainer for `command`, `parameters` and `environment` after checking that the `model.trained` event that
    /// records them stays within the bounds of a new event (``EventCatalog/maximumTrainerArguments`` and the limits
    /// beside it), so that a configuration the log cannot hold is refused before a run starts, not at its train step.
    ///
    /// - Throws: `invalid.argument` naming the setting and the limit it exceeds: more than 8 command arguments, an
    ///   argument over 256 characters or with a control character, more than 8 environment variables (`PATH` and
    ///   `LANG` count), a variable name that is not 1 to 64 letters, digits, `.`, `_` or `-`, a value over 256
    ///   characters (a long `PATH` can be replaced in `environment`), or parameters that are not an object of at
    ///   most 16 numbers, booleans or strings of at most 64 characters.
    public static func checked(
        command: [String],
        parameters: JSONValue,
        environment: [String: String],
        workingDirectory: String
    ) throws(LedgerError) -> CommandTrainer {
        let trainer = CommandTrainer(
            command: command,
            parameters: parameters,
            environment: environment,
            workingDirectory: workingDirectory
        )
        try trainer.checkRecordable()
        return trainer
    }

    /// Throws `invalid.argument` if `model.trained` could not record this trainer (see ``checked(command:parameters:environment:workingDirectory:)``).
    func checkRecordable() throws(LedgerError) {
        func fail(_ reason: String) -> LedgerError {
            LedgerError(.invalidArgument, "the command trainer's \(reason), the most a model.trained event records")
        }
        func hasControlCharacter(_ text: String) -> Bool { text.utf8.contains { $0 < 0x20 } }
        func isToken(_ name: String) -> Bool {
            !name.isEmpty && name.utf8.count <= EventCatalog.maximumParameterNameLength
                && name.utf8.allSatisfy { byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                        || byte == 0x2e || byte == 0x5f || byte == 0x2d
                }
        }
        let argumentLimit = EventCatalog.maximumTrainerArgumentLength
        guard command.count <= EventCatalog.maximumTrainerArguments else {
            throw fail("command has \(command.count) arguments, more than \(EventCatalog.maximumTrainerArguments)")
        }
        for (index, argument) in command.enumerated()
        where argument.unicodeScalars.count > argumentLimit || hasControlCharacter(argument) {
            throw fail(
                "command argument \(index + 1) has \(argument.unicodeScalars.count) characters or a control character; "
                    + "the limit is \(argumentLimit) characters without control characters"
            )
        }
        let variables = processEnvironment
        guard variables.count <= EventCatalog.maximumTrainerEnvironmentVariables else {
            throw fail(
                "environment has \(variables.count) variables with PATH and LANG, more than "
                    + "\(EventCatalog.maximumTrainerEnvironmentVariables)"
            )
        }
        let valueLimit = EventCatalog.maximumTrainerEnvironmentValueLength
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            guard isToken(name) else {
                throw fail(
                    "environment variable name \"\(name.prefix(80))\" is not 1 to "
                        + "\(EventCatalog.maximumParameterNameLength) letters, digits, '.', '_' or '-'"
                )
            }
            guard value.unicodeScalars.count <= valueLimit, !hasControlCharacter(value) else {
                throw fail(
                    "environment variable \(name) has \(value.unicodeScalars.count) characters or a control character; "
                        + "the limit is \(valueLimit) characters without control characters"
                        + (name == "PATH" ? " (set a shorter PATH in the model's environment setting)" : "")
                )
            }
        }
        guard let members = parameters.objectValue, members.count <= EventCatalog.maximumParameters else {
            throw fail("parameters are not an object of at most \(EventCatalog.maximumParameters) members")
        }
        let stringLimit = EventCatalog.maximumParameterStringLength
        for (name, value) in members {
            guard isToken(name) else {
                throw fail(
                    "parameter name \"\(name.prefix(80))\" is not 1 to \(EventCatalog.maximumParameterNameLength) "
                        + "letters, digits, '.', '_' or '-'"
                )
            }
            switch value {
            case .bool: continue
            case .number(let number) where number.isFinite: continue
            case .string(let text) where text.unicodeScalars.count <= stringLimit && !hasControlCharacter(text):
                continue
            default:
                throw fail(
                    "parameter \(name) is not a number, a boolean or a string of at most \(stringLimit) characters "
                        + "without control characters"
                )
            }
        }
    }

    /// The environment the program sees: `PATH` and `LANG` from here, then the configured variables.
    var processEnvironment: [String: String] {
        var values = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]
        values["LANG"] = "C.UTF-8"
        values.merge(environment) { _, configured in configured }
        return values
    }

    public func identity() throws(LedgerError) -> TrainerIdentity {
        var identity = TrainerIdentity(algorithm: "command", version: Self.contract)
        identity.command = command
        identity.environment = processEnvironment
        for (index, argument) in command.enumerated() {
            guard let path = index == 0 ? executablePath(argument) : existingFile(argument) else {
                if index == 0 {
                    throw LedgerError(.trainerFailed, "the trainer program \(argument) is not found on PATH")
                }
                continue
            }
            let bytes: [UInt8]
            do {
                bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw LedgerError(.trainerFailed, "cannot read the trainer file \(path): \(error.localizedDescription)")
            }
            guard path.unicodeScalars.count <= EventCatalog.maximumTrainerArgumentLength,
                !path.utf8.contains(where: { $0 < 0x20 })
            else {
                throw LedgerError(
                    .trainerFailed,
                    "the trainer file \(path.prefix(80))… resolves to a path over "
                        + "\(EventCatalog.maximumTrainerArgumentLength) characters, the most a model.trained event records"
                )
            }
            identity.files.append(TrainerIdentity.FileDigest(path: path, sha256: Hash256.sha256(bytes)))
        }
        return identity
    }

    public func train(_ data: TrainingData, datasetCSV: [UInt8], seed: UInt64) throws(LedgerError) -> [UInt8] {
        try withScratchFolder { folder throws(LedgerError) in
            let dataset = folder + "/dataset.csv"
            let model = folder + "/model"
            try write(datasetCSV, to: dataset)
            try run(
                [
                    "contract": .string(Self.contract), "mode": "train", "dataset": .string(dataset),
                    "parameters": parameters, "seed": .int(seed), "model": .string(model),
                ],
                in: folder
            )
            return try read(model, what: "the model")
        }
    }

    public func scores(model: [UInt8], rows: FeatureMatrix) throws(LedgerError) -> [Double] {
        try withScratchFolder { folder throws(LedgerError) in
            let modelPath = folder + "/model"
            let rowsPath = folder + "/rows.csv"
            let scoresPath = folder + "/scores.txt"
            try write(model, to: modelPath)
            try write(Self.csv(rows), to: rowsPath)
            try run(
                [
                    "contract": .string(Self.contract), "mode": "score", "model": .string(modelPath),
                    "rows": .string(rowsPath), "scores": .string(scoresPath),
                ],
                in: folder
            )
            let text = String(decoding: try read(scoresPath, what: "the scores"), as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
            guard lines.count == rows.rows else {
                throw LedgerError(.trainerFailed, "the trainer wrote \(lines.count) scores for \(rows.rows) rows")
            }
            var scores: [Double] = []
            scores.reserveCapacity(lines.count)
            for (index, line) in lines.enumerated() {
                guard let score = Double(line.trimmingCharacters(in: .whitespaces)), score.isFinite else {
                    throw LedgerError(.trainerFailed, "score line \(index + 1) is not a finite number")
                }
                scores.append(score)
            }
            return scores
        }
    }

    /// `rows` as CSV: the feature names, then one line per row in the shortest round-trip form.
    static func csv(_ rows: FeatureMatrix) -> [UInt8] {
        var text = rows.featureNames.joined(separator: ",") + "\n"
        text.reserveCapacity(rows.rows * rows.columns * 8)
        for row in 0..<rows.rows {
            for column in 0..<rows.columns {
                if column > 0 { text += "," }
                text += "\(rows.values[row * rows.columns + column])"
            }
            text += "\n"
        }
        return Array(text.utf8)
    }

    private func run(_ request: JSONValue, in folder: String) throws(LedgerError) {
        let requestPath = folder + "/request.json"
        try write((try? CanonicalJSON.encode(request)) ?? [], to: requestPath)
        guard let program = command.first.flatMap(executablePath) else {
            throw LedgerError(.trainerFailed, "the trainer program \(command.first ?? "") is not found on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(command.dropFirst()) + [requestPath]
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.environment = processEnvironment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LedgerError(.trainerFailed, "cannot start \(program): \(error.localizedDescription)")
        }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let tail = String(decoding: stderr.suffix(2000), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            let how =
                process.terminationReason == .exit
                ? "exited with status \(process.terminationStatus)"
                : "was killed by signal \(process.terminationStatus)"
            throw LedgerError(
                .trainerCrashed,
                "the trainer \(command.joined(separator: " ")) \(how)\(tail.isEmpty ? "" : ":\n\(tail)")"
            )
        }
    }

    private func executablePath(_ name: String) -> String? {
        if name.contains("/") { return existingFile(name) }
        for folder in (processEnvironment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
            }
        }
        return nil
    }

    private func existingFile(_ argument: String) -> String? {
        let path = argument.hasPrefix("/") ? argument : workingDirectory + "/" + argument
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
            return nil
        }
        return URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    private func withScratchFolder<T>(_ body: (String) throws(LedgerError) -> T) throws(LedgerError) -> T {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-trainer-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.trainerFailed, "cannot create a scratch folder: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try body(folder)
    }

    private func write(_ bytes: [UInt8], to path: String) throws(LedgerError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw LedgerError(.trainerFailed, "cannot write \(path)")
        }
    }

    private func read(_ path: String, what: String) throws(LedgerError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LedgerError(.trainerFailed, "the trainer exited 0 but wrote no \(what) file")
        }
        return Array(data)
    }
}
