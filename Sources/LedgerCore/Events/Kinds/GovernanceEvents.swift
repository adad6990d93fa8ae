/// `model.approved`: an approver approved a registered version.
public struct ModelApproved: EventData {
    public static let type = EventType.modelApproved

    public var name: String
    public var version: Int
    public var sha256: Hash256
    public var reason: String

    public init(
        name: String,
        version: Int,
        sha256: Hash256,
        reason: String
    ) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.reason = reason
    }
}

/// `model.rejected`: an approver vetoed a registered version.
public struct ModelRejected: EventData {
    public static let type = EventType.modelRejected

    public var name: String
    public var version: Int
    public var sha256: Hash256
    public var reason: String

    public init(
        name: String,
        version: Int,
        sha256: Hash256,
        reason: String
    ) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.reason = reason
    }
}

/// `model.deployed`: a sufficiently approved version now serves a target.
public struct ModelDeployed: EventData {
    public static let type = EventType.modelDeployed

    public var name: String
    public var version: Int
    public var sha256: Hash256
    public var target: String

    public init(
        name: String,
        version: Int,
        sha256: Hash256,
        target: String
    ) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.target = target
    }
}

/// `model.rolledBack`: a target went back from its current version to one it served before.
public struct ModelRolledBack: EventData {
    public static let type = EventType.modelRolledBack

    /// A version of the model, bound to its artifact's bytes.
    public struct Version: Codable, Sendable, Hashable {
        public var version: Int
        public var sha256: Hash256

        public init(version: Int, sha256: Hash256) {
            self.version = version
            self.sha256 = sha256
        }
    }

    public var name: String
    public var target: String
    public var from: Version
    public var to: Version
    public var reason: String?

    public init(
        name: String,
        target: String,
        from: Version,
        to: Version,
        reason: String? = nil
    ) {
        self.name = name
        self.target = target
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// `model.retired`: a version that serves no target was withdrawn for good.
public struct ModelRetired: EventData {
    public static let type = EventType.modelRetired

    public var name: String
    public var version: Int
    public var sha256: Hash256
    public var reason: String?

    public init(
        name: String,
        version: Int,
        sha256: Hash256,
        reason: String? = nil
    ) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.reason = reason
    }
}
