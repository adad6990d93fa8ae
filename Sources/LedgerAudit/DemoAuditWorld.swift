/// The fixed vocabulary of the demo Audit DB: actions, resources, places and the actors built from them.

/// Every action the demo writes.
enum DemoAction: String, CaseIterable {
    case login = "auth.login"
    case logout = "auth.logout"
    case recordRead = "record.read"
    case recordUpdate = "record.update"
    case recordCreate = "record.create"
    case orderView = "order.view"
    case reportView = "report.view"
    case reportExport = "report.export"
    case fileDownload = "file.download"
    case fileUpload = "file.upload"
    case searchQuery = "search.query"
    case ticketView = "ticket.view"
    case ticketUpdate = "ticket.update"
    case configRead = "config.read"
    case configUpdate = "config.update"
    case deployRun = "deploy.run"
    // Admin actions: the `adminActions` of audit/features.v1.json.
    case userCreate = "user.create"
    case userDelete = "user.delete"
    case roleGrant = "role.grant"
    case roleRevoke = "role.revoke"
    case policyUpdate = "policy.update"
    case keyRotate = "key.rotate"
    case auditExport = "audit.export"
    // The product feature that ships at the drift.
    case assistantQuery = "assistant.query"
    case workflowRun = "workflow.run"
    case workflowEdit = "workflow.edit"
    // Services.
    case apiCall = "api.call"
    case batchSync = "batch.sync"
    case indexUpdate = "index.update"
    case backupRun = "backup.run"
    case healthCheck = "health.check"
    case notifySend = "notify.send"

    static let adminActions: [DemoAction] = [
        .userCreate, .userDelete, .roleGrant, .roleRevoke, .policyUpdate, .keyRotate, .auditExport,
    ]

    var isAdmin: Bool { DemoAction.adminActions.contains(self) }

    /// The kind of resource the action works on.
    var resourceKind: DemoResourceKind {
        switch self {
        case .login, .logout: .app
        case .recordRead, .recordUpdate, .recordCreate: .customer
        case .orderView: .order
        case .reportView, .reportExport: .report
        case .fileDownload, .fileUpload: .file
        case .searchQuery: .search
        case .ticketView, .ticketUpdate: .ticket
        case .configRead, .configUpdate: .config
        case .deployRun: .deployment
        case .userCreate, .userDelete, .roleGrant, .roleRevoke, .policyUpdate, .keyRotate, .auditExport: .iam
        case .assistantQuery: .assistant
        case .workflowRun, .workflowEdit: .workflow
        case .apiCall, .batchSync, .indexUpdate, .backupRun, .healthCheck, .notifySend: .serviceOwned
        }
    }

    /// The typical size of a successful action, as the median and spread of a log-normal.
    var size: (median: Double, spread: Double) {
        switch self {
        case .login, .logout: (900, 0.3)
        case .recordRead: (6000, 0.7)
        case .recordUpdate: (2500, 0.6)
        case .recordCreate: (3000, 0.6)
        case .orderView: (4000, 0.6)
        case .reportView: (60_000, 0.8)
        case .reportExport: (400_000, 1.0)
        case .fileDownload: (900_000, 1.2)
        case .fileUpload: (600_000, 1.2)
        case .searchQuery: (12_000, 0.6)
        case .ticketView: (5000, 0.6)
        case .ticketUpdate: (3000, 0.6)
        case .configRead: (2000, 0.5)
        case .configUpdate: (1500, 0.5)
        case .deployRun: (20_000, 0.7)
        case .userCreate, .userDelete, .roleGrant, .roleRevoke, .policyUpdate, .keyRotate: (1500, 0.4)
        case .auditExport: (250_000, 0.8)
        case .assistantQuery: (15_000, 0.7)
        case .workflowRun: (40_000, 0.9)
        case .workflowEdit: (5000, 0.6)
        case .apiCall: (8000, 0.6)
        case .batchSync: (2_000_000, 0.5)
        case .indexUpdate: (120_000, 0.5)
        case .backupRun: (800_000_000, 0.2)
        case .healthCheck: (500, 0.2)
        case .notifySend: (2000, 0.4)
        }
    }
}

/// The kinds of resource, each with its own name space.
enum DemoResourceKind: Int, CaseIterable {
    case app, customer, order, report, file, search, ticket, config, deployment, iam, assistant, workflow
    case serviceOwned

    /// Resources of this kind per team.
    static let perTeam = 400

    /// The name of resource `number` of this kind.
    func name(_ number: Int) -> String {
        switch self {
        case .app: "app/portal"
        case .customer: "crm/customer/\(100_000 + number)"
        case .order: "shop/order/\(500_000 + number)"
        case .report: "bi/report/\(1000 + number)"
        case .file: "files/doc-\(20_000 + number)"
        case .search: "search/" + ["customers", "orders", "docs", "tickets"][number % 4]
        case .ticket: "helpdesk/ticket/\(70_000 + number)"
        case .config: "config/" + DemoWorld.systems[number % DemoWorld.systems.count]
        case .deployment: "deploy/" + DemoWorld.systems[number % DemoWorld.systems.count]
        case .iam:
            [
                "iam/role/admin", "iam/role/support-lead", "iam/user/\(3000 + number % 500)", "iam/policy/mfa",
                "iam/policy/retention", "iam/key/signing", "audit/log",
            ][number % 7]
        case .assistant: "assistant/chat"
        case .workflow: "workflow/\(900 + number)"
        case .serviceOwned: "internal/\(number)"
        }
    }
}

/// A country where actors work, travel or are impersonated from, with a fixed UTC offset (no daylight saving).
struct DemoPlace {
    let country: String
    let offsetMinutes: Int
    /// The third octet of this place's addresses in 100.64.0.0/10 (shared address space; never routable).
    let block: Int

    /// A home, mobile or hotel address in this place.
    func address(_ random: inout DemoRandom) -> String {
        "100.\(64 + block).\(random.below(256)).\(1 + random.below(254))"
    }
}

enum DemoWorld {
    /// The offices before the drift: the humans' homes.
    static let offices: [DemoPlace] = [
        DemoPlace(country: "US", offsetMinutes: -300, block: 0),
        DemoPlace(country: "US", offsetMinutes: -480, block: 0),
        DemoPlace(country: "GB", offsetMinutes: 0, block: 1),
        DemoPlace(country: "DE", offsetMinutes: 60, block: 2),
        DemoPlace(country: "IN", offsetMinutes: 330, block: 3),
        DemoPlace(country: "SG", offsetMinutes: 480, block: 4),
        DemoPlace(country: "BR", offsetMinutes: -180, block: 5),
    ]

    /// The office that opens at the drift. Its country appears nowhere before the drift.
    static let newOffice = DemoPlace(country: "JP", offsetMinutes: 540, block: 6)

    /// Countries with no office: holiday and business-trip destinations, and where attackers appear from.
    static let elsewhere: [DemoPlace] = [
        ("FR", 60), ("ES", 60), ("IT", 60), ("NL", 60), ("SE", 60), ("PL", 60), ("CZ", 60), ("PT", 0), ("IE", 0),
        ("CA", -300), ("MX", -360), ("AR", -180), ("CL", -240), ("CO", -300), ("PE", -300), ("AU", 600),
        ("NZ", 720), ("ZA", 120), ("KE", 180), ("EG", 120), ("AE", 240), ("TR", 180), ("TH", 420), ("VN", 420),
        ("ID", 420), ("PH", 480), ("KR", 540), ("MA", 60), ("NG", 60), ("UA", 120), ("RO", 120),
    ].enumerated().map { DemoPlace(country: $0.element.0, offsetMinutes: $0.element.1, block: 7 + $0.offset) }

    /// The internal systems whose configuration engineers read and change.
    static let systems = ["billing", "crm", "shop", "search", "warehouse", "notifications", "gateway", "auth"]

    /// The analysts who label events.
    static let analysts = (1...6).map { "analyst-\($0 < 10 ? "0" : "")\($0)@example.com" }

    static let firstNames = [
        "alex", "amara", "ana", "arjun", "ben", "carlos", "chen", "chloe", "daniel", "diego", "elena", "emma",
        "fatima", "felix", "grace", "hana", "hugo", "ines", "ivan", "james", "jin", "julia", "kai", "laura",
        "leo", "lucia", "maya", "mateo", "mei", "nadia", "noah", "olga", "omar", "priya", "rafael", "rosa",
        "sam", "sara", "sofia", "tariq", "tom", "uma", "victor", "wei", "yara", "yusuf", "zoe", "zara",
    ]
    static let lastNames = [
        "adams", "ali", "bauer", "brown", "costa", "das", "diaz", "evans", "fischer", "garcia", "gupta", "hall",
        "ito", "jones", "khan", "kim", "kowalski", "lee", "lopez", "martin", "meyer", "moreau", "nair", "nguyen",
        "novak", "okafor", "oliveira", "patel", "perez", "petrov", "reddy", "rossi", "sato", "schmidt", "silva",
        "singh", "smith", "tan", "taylor", "torres", "wagner", "wang", "weber", "wilson", "wong", "yilmaz",
        "young", "zhang",
    ]
}

/// An actor's habitual actions: a weighted choice.
struct DemoHabits {
    let actions: [DemoAction]
    let cumulative: [Double]

    init(_ weighted: [(DemoAction, Double)]) {
        let kept = weighted.filter { $0.1 > 0 }
        actions = kept.map(\.0)
        var running = 0.0
        cumulative = kept.map {
            running += $0.1
            return running
        }
    }

    func draw(_ random: inout DemoRandom) -> DemoAction { actions[random.index(cumulative: cumulative)] }
}

/// A human role and the actions it uses, before any per-person habit.
enum DemoRole: String, CaseIterable {
    case admin, engineer, analyst, support, sales

    /// The share of humans in each role.
    static let shares: [(DemoRole, Double)] = [
        (.admin, 0.06), (.engineer, 0.34), (.analyst, 0.22), (.support, 0.24), (.sales, 0.14),
    ]

    var baseWeights: [(DemoAction, Double)] {
        switch self {
        case .admin:
            [
                (.userCreate, 2), (.userDelete, 1), (.roleGrant, 2), (.roleRevoke, 1), (.policyUpdate, 1),
                (.keyRotate, 0.5), (.auditExport, 1), (.recordRead, 4), (.configRead, 6), (.configUpdate, 3),
                (.searchQuery, 4), (.ticketView, 4), (.reportView, 2),
            ]
        case .engineer:
            [
                (.recordRead, 10), (.searchQuery, 8), (.configRead, 8), (.configUpdate, 3), (.deployRun, 3),
                (.fileDownload, 4), (.fileUpload, 3), (.ticketView, 6), (.ticketUpdate, 3), (.reportView, 2),
                (.orderView, 2),
            ]
        case .analyst:
            [
                (.reportView, 12), (.reportExport, 4), (.searchQuery, 10), (.recordRead, 10), (.orderView, 6),
                (.fileDownload, 5),
            ]
        case .support:
            [
                (.ticketView, 14), (.ticketUpdate, 10), (.recordRead, 12), (.recordUpdate, 4), (.searchQuery, 8),
                (.orderView, 5),
            ]
        case .sales:
            [
                (.recordRead, 10), (.recordUpdate, 6), (.recordCreate, 4), (.orderView, 8), (.reportView, 5),
                (.searchQuery, 5), (.fileDownload, 2),
            ]
        }
    }

    /// The new product feature's share of this role's actions after the drift.
    var featureShare: Double {
        switch self {
        case .admin: 0.05
        case .engineer: 0.30
        case .analyst: 0.40
        case .support: 0.35
        case .sales: 0.25
        }
    }
}

/// A business trip or holiday: a few days in another place, on a hotel address.
struct DemoTrip {
    let firstDay: Int
    let lastDay: Int
    let place: DemoPlace
    let address: String
}

/// A person with an office, a time zone, working hours and habits.
struct DemoHuman {
    let id: String
    let role: DemoRole
    let home: DemoPlace
    /// The first generation day (counted from the configuration's start) the person is active.
    let firstDay: Int
    /// Local minute of the day work usually starts.
    let workStart: Int
    /// Minutes of a usual working day.
    let workLength: Int
    /// Mean events per working hour, before the drift.
    let hourlyRate: Double
    let weekendChance: Double
    let homeChance: Double
    let officeAddress: String
    let homeAddress: String
    let habits: DemoHabits
    let driftHabits: DemoHabits
    /// Habitual resource numbers for each resource kind, most used first.
    let resources: [[Int]]
    let team: Int
    let trips: [DemoTrip]

    /// Cumulative Zipf weights (1, 1/2, 1/3, ...) for habit lists of each length up to 16.
    static let zipf: [[Double]] = (0...16).map { length in
        var running = 0.0
        return (0..<length).map {
            running += 1 / Double($0 + 1)
            return running
        }
    }

    func trip(on day: Int) -> DemoTrip? { trips.first { $0.firstDay <= day && day <= $0.lastDay } }
}

/// A machine account that runs around the clock on a fixed period.
struct DemoService {
    let id: String
    let periodMinutes: Int
    let phaseSeconds: Int
    let habits: DemoHabits
    let resources: [String]
    let bytesMedian: Double
    let address: String
    let place: DemoPlace
    /// Where the new product feature sends extra calls through this service after the drift, if it does.
    let featureResource: String?
}

/// A kind of service, from which the demo's services are made.
struct DemoServiceTemplate {
    let name: String
    let periods: [Int]
    let actions: [(DemoAction, Double)]
    let resources: [String]
    let bytesMedian: Double
    let featureResource: String?

    static let all: [DemoServiceTemplate] = [
        DemoServiceTemplate(
            name: "api-gateway",
            periods: [10, 15],
            actions: [(.apiCall, 1)],
            resources: ["api/v1/orders", "api/v1/customers", "api/v1/search"],
            bytesMedian: 8000,
            featureResource: "api/v2/assistant"
        ),
        DemoServiceTemplate(
            name: "billing-sync",
            periods: [15, 30],
            actions: [(.recordRead, 3), (.recordUpdate, 1), (.batchSync, 1)],
            resources: ["db/billing", "db/customers", "db/invoices"],
            bytesMedian: 24_000,
            featureResource: nil
        ),
        DemoServiceTemplate(
            name: "search-indexer",
            periods: [20, 30],
            actions: [(.indexUpdate, 3), (.recordRead, 1)],
            resources: ["index/customers", "index/orders", "index/docs"],
            bytesMedian: 120_000,
            featureResource: nil
        ),
        DemoServiceTemplate(
            name: "backup",
            periods: [240, 360],
            actions: [(.backupRun, 1)],
            resources: ["backup/crm", "backup/shop", "backup/files"],
            bytesMedian: 800_000_000,
            featureResource: nil
        ),
        DemoServiceTemplate(
            name: "etl",
            periods: [60, 120],
            actions: [(.batchSync, 2), (.reportExport, 1)],
            resources: ["warehouse/daily", "db/orders"],
            bytesMedian: 5_000_000,
            featureResource: nil
        ),
        DemoServiceTemplate(
            name: "notifier",
            periods: [10, 20],
            actions: [(.notifySend, 1)],
            resources: ["queue/notifications", "queue/email"],
            bytesMedian: 2000,
            featureResource: "queue/assistant-digests"
        ),
        DemoServiceTemplate(
            name: "monitoring",
            periods: [10, 15],
            actions: [(.healthCheck, 1)],
            resources: ["health/api", "health/db", "health/queue"],
            bytesMedian: 500,
            featureResource: nil
        ),
        DemoServiceTemplate(
            name: "crm-sync",
            periods: [15, 30],
            actions: [(.recordRead, 2), (.recordUpdate, 1)],
            resources: ["db/customers", "crm/export"],
            bytesMedian: 30_000,
            featureResource: nil
        ),
    ]
}
