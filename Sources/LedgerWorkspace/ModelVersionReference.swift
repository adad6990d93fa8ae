public import LedgerCore

/// `MODEL@VERSION`, such as `access-anomaly@3`: a registered model's name and a version number from 1.
public struct ModelVersionReference: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    /// Parses `MODEL@VERSION`; nil unless the name is letters, digits, `.`, `_` and `-` and the version is 1 or more.
    public init?(_ text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, ModelRules.isValidName(String(parts[0])), let version = Int(parts[1]), version >= 1
        else { return nil }
        self.name = String(parts[0])
        self.version = version
    }

    public var description: String { "\(name)@\(version)" }

    /// The registered version this names in `state`, or `argument.invalid` saying which versions exist.
    public func registered(in state: LedgerState) throws(LedgerError) -> ModelRules.Version {
        guard let version = state.models.version(name, self.version) else {
            let known = state.models.versions[name]?.count ?? 0
            throw LedgerError(
                .invalidArgument,
                known == 0
                    ? "\(name) has no registered version"
                    : "\(self) is not registered: \(name) has versions 1 to \(known)"
            )
        }
        return version
    }
}
