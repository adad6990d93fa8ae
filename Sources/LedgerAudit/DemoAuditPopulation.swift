/// The demo's actors, built from the configuration alone.
struct DemoPopulation {
    let humans: [DemoHuman]
    let services: [DemoService]

    /// Random streams: actor `i` draws its traits from stream `traitStream + i`, and its days from `dayStream + i`.
    static let traitStream: UInt64 = 1 << 32
    static let dayStream: UInt64 = 2 << 32

    /// Teams share resources; about 25 people to a team.
    static func teamCount(humans: Int) -> Int { max(1, humans / 25) }

    init(configuration: DemoAuditConfiguration) {
        let serviceCount = max(1, configuration.actors / 5)
        let humanCount = configuration.actors - serviceCount
        let days = configuration.weeks * 7
        let driftDay = (configuration.driftWeek - 1) * 7
        // With drift in range, about one human in ten joins with the new office on the drift's first day.
        let joiners = driftDay < days ? max(1, humanCount / 10) : 0
        let teams = Self.teamCount(humans: humanCount)

        var usedIDs = Set<String>()
        var humans: [DemoHuman] = []
        humans.reserveCapacity(humanCount)
        for index in 0..<humanCount {
            var random = DemoRandom(seed: configuration.seed, stream: Self.traitStream + UInt64(index))
            let joins = index >= humanCount - joiners
            var role = Self.role(&random)
            // At least one admin, and joiners are never admins.
            if index == 0 { role = .admin } else if joins, role == .admin { role = .support }
            let officeIndex = joins ? DemoWorld.offices.count : random.below(DemoWorld.offices.count)
            let home = joins ? DemoWorld.newOffice : DemoWorld.offices[officeIndex]
            let name = "\(random.element(of: DemoWorld.firstNames)).\(random.element(of: DemoWorld.lastNames))"
            var id = "\(name)@example.com"
            var duplicate = 1
            while usedIDs.contains(id) {
                duplicate += 1
                id = "\(name)\(duplicate)@example.com"
            }
            usedIDs.insert(id)

            var weights = role.baseWeights.map { action, weight in
                (action, random.chance(0.15) ? 0 : weight * random.real(in: 0.4...1.6))
            }
            if weights.filter({ $0.1 > 0 }).count < 3 { weights = role.baseWeights }
            // Team leads hold a little delegated admin (onboarding a colleague, granting a team role), so that an
            // admin action by a non-admin is suspicious but not damning on its own.
            if role != .admin, random.chance(0.08) {
                weights += [(.userCreate, 0.3), (.roleGrant, 0.3), (.roleRevoke, 0.15)]
            }
            let habits = DemoHabits(weights)
            let total = weights.reduce(0) { $0 + $1.1 }
            let feature = role.featureShare * total / (1 - role.featureShare)
            let driftWeights =
                weights.map { action, weight in (action, action == .searchQuery ? weight * 0.4 : weight) }
                + [(.assistantQuery, feature * 0.6), (.workflowRun, feature * 0.3), (.workflowEdit, feature * 0.1)]

            let team = random.below(teams)
            var resources: [[Int]] = []
            for _ in DemoResourceKind.allCases {
                let count = random.integer(in: 4...12)
                resources.append(
                    (0..<count).map { _ in team * DemoResourceKind.perTeam + random.below(DemoResourceKind.perTeam) }
                )
            }
            // Joiners start on the first local day that begins at or after the drift instant.
            let firstDay = joins ? driftDay + (DemoWorld.newOffice.offsetMinutes > 0 ? 1 : 0) : 0
            var trips: [DemoTrip] = []
            for week in 0..<configuration.weeks where week * 7 >= firstDay && random.chance(0.012) {
                let firstTripDay = week * 7 + random.integer(in: 0...2)
                let lastTripDay = firstTripDay + random.integer(in: 1...4)
                var destinations = DemoWorld.offices.filter { $0.country != home.country }
                if firstTripDay > driftDay, home.country != DemoWorld.newOffice.country {
                    destinations.append(DemoWorld.newOffice)
                }
                let place =
                    random.chance(0.5) ? random.element(of: destinations) : random.element(of: DemoWorld.elsewhere)
                trips.append(
                    DemoTrip(
                        firstDay: firstTripDay,
                        lastDay: lastTripDay,
                        place: place,
                        address: place.address(&random)
                    )
                )
            }
            humans.append(
                DemoHuman(
                    id: id,
                    role: role,
                    home: home,
                    firstDay: firstDay,
                    workStart: 420 + 5 * random.below(37),
                    workLength: 450 + random.below(121),
                    hourlyRate: random.real(in: 1.5...6.0),
                    weekendChance: random.real(in: 0.02...0.2),
                    homeChance: random.real(in: 0.1...0.6),
                    officeAddress: "10.\(officeIndex + 1).0.\(1 + random.below(4))",
                    homeAddress: home.address(&random),
                    habits: habits,
                    driftHabits: DemoHabits(driftWeights),
                    resources: resources,
                    team: team,
                    trips: trips
                )
            )
        }

        var services: [DemoService] = []
        services.reserveCapacity(serviceCount)
        for index in 0..<serviceCount {
            var random = DemoRandom(seed: configuration.seed, stream: Self.traitStream + UInt64(humanCount + index))
            let template = DemoServiceTemplate.all[index % DemoServiceTemplate.all.count]
            let instance = index / DemoServiceTemplate.all.count + 1
            let dataCenter = random.below(2)
            let period = random.element(of: template.periods)
            services.append(
                DemoService(
                    id: "svc-\(template.name)-\(instance < 10 ? "0" : "")\(instance)",
                    periodMinutes: period,
                    phaseSeconds: random.below(60 * period),
                    habits: DemoHabits(template.actions),
                    resources: template.resources,
                    bytesMedian: template.bytesMedian,
                    address: "10.\(200 + dataCenter).\(index / 250).\(1 + index % 250)",
                    place: dataCenter == 0 ? DemoWorld.offices[0] : DemoWorld.offices[3],
                    featureResource: template.featureResource
                )
            )
        }
        self.humans = humans
        self.services = services
    }

    private static func role(_ random: inout DemoRandom) -> DemoRole {
        var draw = random.unit()
        for (role, share) in DemoRole.shares {
            if draw < share { return role }
            draw -= share
        }
        return .engineer
    }
}
