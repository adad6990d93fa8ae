/// How the demo's actors behave, day by day, and how its incidents unfold.

enum DemoOutcome: String {
    case success, failure, denied
}

/// One generated audit event, before it has an id.
struct DemoEvent {
    var time: Int64
    /// Generation order: breaks ties between events in the same millisecond.
    var order: Int
    var actorID: String
    var role: String
    var action: DemoAction
    var resource: String
    var outcome: DemoOutcome
    var address: String
    var country: String
    var bytes: Int64
    var session: String?
    /// The incident this event belongs to; `nil` for benign activity.
    var anomaly: DemoAnomalyKind?
}

/// Who is acting, from where, in which session: what the events of one session share.
struct DemoSessionContext {
    var actorID: String
    var role: String
    var address: String
    var country: String
    var session: String?
    var anomaly: DemoAnomalyKind?
}

/// Events waiting to be written: generated a day at a time, written in time order once no later
/// generation day can produce an earlier event.
struct DemoEventBuffer {
    let range: Range<Int64>
    private(set) var pending: [DemoEvent] = []
    private var order = 0
    private var benignSinceLastCount = 0
    private(set) var anomalousAdded = 0

    init(range: Range<Int64>) { self.range = range }

    /// Adds an event; one outside the configured range is dropped.
    mutating func add(
        at time: Int64,
        _ action: DemoAction,
        _ resource: String,
        _ outcome: DemoOutcome,
        bytes: Int64,
        _ context: DemoSessionContext
    ) {
        guard range.contains(time) else { return }
        order += 1
        pending.append(
            DemoEvent(
                time: time,
                order: order,
                actorID: context.actorID,
                role: context.role,
                action: action,
                resource: resource,
                outcome: outcome,
                address: context.address,
                country: context.country,
                bytes: bytes,
                session: context.session,
                anomaly: context.anomaly
            )
        )
        if context.anomaly == nil { benignSinceLastCount += 1 } else { anomalousAdded += 1 }
    }

    /// The benign events added since the last call.
    mutating func takeBenignCount() -> Int {
        defer { benignSinceLastCount = 0 }
        return benignSinceLastCount
    }

    /// Removes and returns, in (time, generation order) order, the events before `boundary`.
    mutating func take(before boundary: Int64) -> [DemoEvent] {
        pending.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        let split = pending.firstIndex { $0.time >= boundary } ?? pending.count
        let taken = Array(pending[..<split])
        pending.removeFirst(split)
        return taken
    }
}

/// The rules of everyday activity and of the injected incidents.
struct DemoBehaviour {
    let start: Int64
    let days: Int
    let driftDay: Int
    let startWeekday: Int
    let teams: Int
    /// The first instant of the drift (after the end when there is none).
    let driftInstant: Int64

    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day = AuditTimestamp.millisecondsPerDay

    init(configuration: DemoAuditConfiguration, population: DemoPopulation) {
        start = configuration.start
        days = configuration.weeks * 7
        driftDay = (configuration.driftWeek - 1) * 7
        startWeekday = AuditTimestamp.weekday(daysSinceEpoch: configuration.start / Self.day)
        teams = DemoPopulation.teamCount(humans: population.humans.count)
        driftInstant = start + Int64(driftDay) * Self.day
    }

    /// The instant of `localMinute` (which may pass 1440) on local day `day` at UTC offset `offsetMinutes`.
    func instant(day: Int, localMinute: Int, offsetMinutes: Int) -> Int64 {
        start + Int64(day) * Self.day + Int64(localMinute - offsetMinutes) * Self.minute
    }

    // MARK: - Everyday activity

    /// One local day of a person's activity: an on-call fix at night now and then, a weekend hour or two
    /// now and then, and on most weekdays a working day with a session or two.
    func humanDay(_ human: DemoHuman, day: Int, random: inout DemoRandom, into buffer: inout DemoEventBuffer) {
        guard day >= human.firstDay else { return }
        let trip = human.trip(on: day)
        let place = trip?.place ?? human.home
        // A local day drifts if it begins at or after the drift instant, so nothing drifted precedes it.
        let drifted = instant(day: day, localMinute: 0, offsetMinutes: place.offsetMinutes) >= driftInstant
        let habits = drifted ? human.driftHabits : human.habits
        let rate = human.hourlyRate * (drifted ? 1.3 : 1)
        let weekday = ((startWeekday + day) % 7 + 7) % 7

        if human.role == .engineer || human.role == .admin, trip == nil, random.chance(0.015) {
            let onCall = DemoHabits([(.configRead, 4), (.configUpdate, 2), (.deployRun, 1), (.recordRead, 2)])
            session(
                human,
                from: instant(day: day, localMinute: random.integer(in: 0...300), offsetMinutes: place.offsetMinutes),
                minutes: random.integer(in: 10...40),
                rate: 15,
                habits: onCall,
                address: human.homeAddress,
                country: place.country,
                lunch: nil,
                random: &random,
                into: &buffer
            )
        }
        if weekday >= 5 {
            guard random.chance(human.weekendChance) else { return }
            session(
                human,
                from: instant(
                    day: day,
                    localMinute: random.integer(in: 600...1020),
                    offsetMinutes: place.offsetMinutes
                ),
                minutes: random.integer(in: 30...150),
                rate: rate * 0.7,
                habits: habits,
                address: trip?.address ?? human.homeAddress,
                country: place.country,
                lunch: nil,
                random: &random,
                into: &buffer
            )
            return
        }
        // Leave and sick days.
        guard !random.chance(0.05) else { return }
        let begin = human.workStart + random.integer(in: -30...30)
        var length = human.workLength + random.integer(in: -30...30)
        if random.chance(0.07) { length += random.integer(in: 60...180) }
        let address: String
        if let trip {
            address = trip.address
        } else if random.chance(0.02) {
            address = place.address(&random)
        } else if random.chance(human.homeChance) {
            address = human.homeAddress
        } else {
            address = human.officeAddress
        }
        session(
            human,
            from: instant(day: day, localMinute: begin, offsetMinutes: place.offsetMinutes),
            minutes: length,
            rate: rate,
            habits: habits,
            address: address,
            country: place.country,
            lunch: 60 * max(1, (human.workLength / 2 - 30) / 60),
            random: &random,
            into: &buffer
        )
    }

    /// A login, then Poisson-many habitual actions in each hour, a lunch dip with a second login now and then,
    /// and usually a logout. A mistyped password now and then fails the first login.
    private func session(
        _ human: DemoHuman,
        from begin: Int64,
        minutes: Int,
        rate: Double,
        habits: DemoHabits,
        address: String,
        country: String,
        lunch: Int?,
        random: inout DemoRandom,
        into buffer: inout DemoEventBuffer
    ) {
        // Nobody logs in on the exact minute.
        let begin = begin + random.integer(in: 0..<Self.minute)
        var context = DemoSessionContext(
            actorID: human.id,
            role: human.role.rawValue,
            address: address,
            country: country,
            session: nil
        )
        if random.chance(0.03) {
            for attempt in 1...random.integer(in: 1...2) {
                let time = begin - Int64(attempt) * random.integer(in: 5000..<40_000)
                buffer.add(at: time, .login, resource(.login, human, &random), .failure, bytes: small(&random), context)
            }
        }
        context.session = "s-" + random.hex16()
        buffer.add(at: begin, .login, resource(.login, human, &random), .success, bytes: size(.login, &random), context)
        var minute = 0
        while minute < minutes {
            let slice = min(60, minutes - minute)
            var mean = rate * Double(slice) / 60
            if let lunch, minute == lunch {
                mean *= 0.35
            }
            if let lunch, minute == lunch + 60, random.chance(0.35) {
                context.session = "s-" + random.hex16()
                let time = begin + Int64(minute) * Self.minute
                buffer.add(
                    at: time,
                    .login,
                    resource(.login, human, &random),
                    .success,
                    bytes: size(.login, &random),
                    context
                )
            }
            for _ in 0..<random.poisson(mean: mean) {
                let time = begin + Int64(minute) * Self.minute + random.integer(in: 1000..<Int64(slice) * Self.minute)
                let action = habits.draw(&random)
                let outcome = everydayOutcome(action, &random)
                let bytes = outcome == .success ? size(action, &random) : small(&random)
                buffer.add(at: time, action, resource(action, human, &random), outcome, bytes: bytes, context)
            }
            minute += slice
        }
        if random.chance(0.7) {
            let time = begin + Int64(minutes) * Self.minute
            buffer.add(
                at: time,
                .logout,
                resource(.logout, human, &random),
                .success,
                bytes: size(.logout, &random),
                context
            )
        }
    }

    /// One UTC day of a service: a tick every period, one or two calls a tick, a new token each day.
    func serviceDay(_ service: DemoService, day: Int, random: inout DemoRandom, into buffer: inout DemoEventBuffer) {
        let dayStart = start + Int64(day) * Self.day
        let context = DemoSessionContext(
            actorID: service.id,
            role: "service",
            address: service.address,
            country: service.place.country,
            session: "t-" + random.hex16()
        )
        let feature = day >= driftDay ? service.featureResource : nil
        var tick = dayStart + Int64(service.phaseSeconds) * 1000
        while tick < dayStart + Self.day {
            let calls = random.chance(0.3) ? 2 : 1
            for call in 0..<calls {
                let time = tick + Int64(call) * random.integer(in: 200..<3000) + random.integer(in: 0..<2000)
                let action = service.habits.draw(&random)
                let draw = random.unit()
                let outcome: DemoOutcome = draw < 0.007 ? .failure : draw < 0.008 ? .denied : .success
                let bytes =
                    outcome == .success ? random.logNormal(median: service.bytesMedian, spread: 0.4) : small(&random)
                buffer.add(at: time, action, random.element(of: service.resources), outcome, bytes: bytes, context)
            }
            if let feature, random.chance(0.6) {
                let time = tick + random.integer(in: 3000..<9000)
                let action = service.habits.actions[0]
                buffer.add(
                    at: time,
                    action,
                    feature,
                    .success,
                    bytes: random.logNormal(median: 15_000, spread: 0.6),
                    context
                )
            }
            tick += Int64(service.periodMinutes) * Self.minute
        }
    }

    private func everydayOutcome(_ action: DemoAction, _ random: inout DemoRandom) -> DemoOutcome {
        let failure = action == .recordUpdate || action == .configUpdate || action == .deployRun ? 0.03 : 0.008
        let draw = random.unit()
        return draw < failure ? .failure : draw < failure + 0.004 ? .denied : .success
    }

    private func size(_ action: DemoAction, _ random: inout DemoRandom) -> Int64 {
        let (median, spread) = action.size
        return random.logNormal(median: median, spread: spread)
    }

    /// The size of a refusal or an error page.
    private func small(_ random: inout DemoRandom) -> Int64 { random.logNormal(median: 350, spread: 0.3) }

    /// A habitual resource most of the time, another of the team's sometimes, anyone's rarely.
    private func resource(_ action: DemoAction, _ human: DemoHuman, _ random: inout DemoRandom) -> String {
        let kind = action.resourceKind
        let habitual = human.resources[kind.rawValue]
        let draw = random.unit()
        let number: Int
        if draw < 0.90 {
            number = habitual[random.index(cumulative: DemoHuman.zipf[habitual.count])]
        } else if draw < 0.98 {
            number = human.team * DemoResourceKind.perTeam + random.below(DemoResourceKind.perTeam)
        } else {
            number = random.below(teams * DemoResourceKind.perTeam)
        }
        return kind.name(number)
    }

    // MARK: - Incidents

    /// Adds one incident of `kind` on UTC day `day`, entirely inside that day, and returns how many events it added.
    func incident(
        _ kind: DemoAnomalyKind,
        day: Int,
        humans: [DemoHuman],
        random: inout DemoRandom,
        into buffer: inout DemoEventBuffer
    ) -> Int {
        let candidates = humans.indices.filter {
            humans[$0].firstDay <= day && (kind != .privilegeMisuse || humans[$0].role != .admin)
        }
        guard !candidates.isEmpty else { return 0 }
        let human = humans[random.element(of: candidates)]
        let before = buffer.anomalousAdded
        let dayStart = start + Int64(day) * Self.day
        let trip = human.trip(on: day)
        let place = trip?.place ?? human.home
        let habits = day >= driftDay ? human.driftHabits : human.habits
        var context = DemoSessionContext(
            actorID: human.id,
            role: human.role.rawValue,
            address: trip?.address ?? human.homeAddress,
            country: place.country,
            session: "s-" + random.hex16(),
            anomaly: kind
        )
        /// A start that leaves `duration` before the day ends.
        func fitted(_ time: Int64, lasting duration: Int64) -> Int64 {
            max(dayStart, min(time, dayStart + Self.day - duration - 1))
        }
        /// The instant on this UTC day whose local time of day is `localMinute`.
        func onThisDay(localMinute: Int) -> Int64 {
            let utcMinute = ((localMinute - place.offsetMinutes) % 1440 + 1440) % 1440
            return dayStart + Int64(utcMinute) * Self.minute + random.integer(in: 0..<Self.minute)
        }

        switch kind {
        case .credentialStuffing:
            let attacker = random.element(of: DemoWorld.elsewhere)
            let addresses = (0..<random.integer(in: 1...4)).map { _ in
                random.element(of: ["203.0.113", "198.51.100", "192.0.2"]) + ".\(1 + random.below(254))"
            }
            context.country = attacker.country
            context.session = nil
            var time = fitted(dayStart + random.integer(in: 0..<Self.day), lasting: 30 * Self.minute)
            for _ in 0..<random.integer(in: 15...40) {
                time += random.integer(in: 1000..<15_000)
                context.address = random.element(of: addresses)
                buffer.add(at: time, .login, resource(.login, human, &random), .failure, bytes: small(&random), context)
            }
            if random.chance(0.25) {
                // The attacker got in.
                context.session = "s-" + random.hex16()
                time += random.integer(in: 1000..<15_000)
                buffer.add(
                    at: time,
                    .login,
                    resource(.login, human, &random),
                    .success,
                    bytes: size(.login, &random),
                    context
                )
                for _ in 0..<random.integer(in: 2...6) {
                    time += random.integer(in: 20_000..<120_000)
                    let action = random.element(of: [DemoAction.recordRead, .fileDownload, .reportExport])
                    buffer.add(
                        at: time,
                        action,
                        resource(action, human, &random),
                        .success,
                        bytes: size(action, &random),
                        context
                    )
                }
            }

        case .exfiltration:
            let atWork = random.chance(0.6)
            let localMinute =
                atWork
                ? human.workStart + 60 + random.below(max(1, human.workLength - 150))
                : random.chance(0.5) ? random.integer(in: 1200...1380) : random.integer(in: 0...240)
            if atWork, trip == nil, !random.chance(human.homeChance) { context.address = human.officeAddress }
            var time = fitted(onThisDay(localMinute: localMinute), lasting: 3 * Self.hour)
            buffer.add(
                at: time,
                .login,
                resource(.login, human, &random),
                .success,
                bytes: size(.login, &random),
                context
            )
            let count = random.integer(in: 30...80)
            let span = Int64(random.integer(in: 20...90)) * Self.minute
            for _ in 0..<count {
                time += random.integer(in: 5000..<max(5001, 2 * span / Int64(count)))
                let draw = random.unit()
                let action: DemoAction = draw < 0.5 ? .fileDownload : draw < 0.8 ? .reportExport : .recordRead
                let resource = action.resourceKind.name(random.below(teams * DemoResourceKind.perTeam))
                if random.chance(0.05) {
                    buffer.add(at: time, action, resource, .denied, bytes: small(&random), context)
                } else {
                    let median: Double = action == .recordRead ? 250_000 : 15_000_000
                    buffer.add(
                        at: time,
                        action,
                        resource,
                        .success,
                        bytes: random.logNormal(median: median, spread: 0.8),
                        context
                    )
                }
            }

        case .privilegeMisuse:
            let localMinute = human.workStart + 30 + random.below(max(1, human.workLength - 90))
            if trip == nil, !random.chance(human.homeChance) { context.address = human.officeAddress }
            var time = fitted(onThisDay(localMinute: localMinute), lasting: Self.hour)
            for _ in 0..<random.integer(in: 3...8) {
                time += random.integer(in: 10_000..<240_000)
                let action = random.element(of: DemoAction.adminActions)
                let resource = DemoResourceKind.iam.name(random.below(1000))
                if random.chance(0.7) {
                    buffer.add(at: time, action, resource, .denied, bytes: small(&random), context)
                } else {
                    buffer.add(at: time, action, resource, .success, bytes: size(action, &random), context)
                }
            }

        case .newCountry, .offHours:
            var time: Int64
            if kind == .newCountry {
                let elsewhere = random.element(of: DemoWorld.elsewhere.filter { $0.country != place.country })
                context.country = elsewhere.country
                context.address = elsewhere.address(&random)
                time = fitted(dayStart + random.integer(in: 0..<Self.day), lasting: 2 * Self.hour)
            } else {
                time = fitted(onThisDay(localMinute: random.integer(in: 30...270)), lasting: 2 * Self.hour)
            }
            buffer.add(
                at: time,
                .login,
                resource(.login, human, &random),
                .success,
                bytes: size(.login, &random),
                context
            )
            for _ in 0..<random.integer(in: 5...15) {
                time += random.integer(in: 30_000..<300_000)
                let action = habits.draw(&random)
                let outcome = everydayOutcome(action, &random)
                let bytes = outcome == .success ? size(action, &random) : small(&random)
                buffer.add(at: time, action, resource(action, human, &random), outcome, bytes: bytes, context)
            }
        }
        return buffer.anomalousAdded - before
    }
}
