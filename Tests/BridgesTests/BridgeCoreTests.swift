import Bridges
import CLASP
import HAL
import Logging
import Synchronization
import Testing

/// A bridge kind for the tests: records what it is given; `fail_starts` makes the first N
/// starts of the kind's bridges throw.
final class RecordingBridge: Bridge {
    let options: BridgeOptions
    let counters = BridgeCounters(["messages_in"])
    private let built: Built
    private let state = Mutex<(started: Int, stopped: Int, link: (any RouterLink)?)>((0, 0, nil))

    init(options: BridgeOptions, built: Built) {
        self.options = options
        self.built = built
    }

    var started: Int { state.withLock { $0.started } }
    var stopped: Int { state.withLock { $0.stopped } }

    func start(link: any RouterLink) async throws {
        let fails = built.startFailures.withLock { left in
            if left == nil { left = options.integer("fail_starts") }
            defer { left? -= 1 }
            return (left ?? 0) > 0
        }
        if fails {
            throw BridgeError("device not found")
        }
        state.withLock { $0.started += 1; $0.link = link }
        try link.send(.subscribe(Subscribe(id: 1, pattern: options.string("pattern"))))
    }

    func receive(_ message: Message) { counters.add("messages_in") }

    func stop() async { state.withLock { $0.stopped += 1; $0.link = nil } }

    var status: BridgeStatus { BridgeStatus(counters: counters.snapshot) }
}

/// Bridges built by the test kind, by the order they were made.
final class Built: Sendable {
    let bridges = Mutex<[RecordingBridge]>([])
    /// Starts left to fail, read from the first bridge's `fail_starts`.
    let startFailures = Mutex<Int?>(nil)
    var all: [RecordingBridge] { bridges.withLock { $0 } }
}

/// Links handed out by the supervisor: what was sent and whether it was closed.
final class RecordingLink: RouterLink {
    let name: String
    let sent = Mutex<[Message]>([])
    /// When each message was sent, monotonic ns, timed by the sender's thread.
    let sentAt = Mutex<[UInt64]>([])
    let closed = Mutex(false)

    init(name: String) { self.name = name }

    func send(_ message: Message) throws(CodecError) {
        let now = MonotonicClock.now()
        sent.withLock { $0.append(message) }
        sentAt.withLock { $0.append(now) }
    }
    func close() { closed.withLock { $0 = true } }
}

final class Links: Sendable {
    let links = Mutex<[RecordingLink]>([])
    var all: [RecordingLink] { links.withLock { $0 } }
}

func testKind(_ built: Built) -> BridgeKind {
    BridgeKind(
        name: "recording",
        summary: "records what it gets",
        fields: [
            BridgeField("pattern", .string, help: "what to subscribe to"),
            BridgeField("universe", .integer(1...63_999), default: .integer(1), help: "a universe"),
            BridgeField("level", .number(0...1), default: .number(1), help: "a level"),
            BridgeField("mode", .choice(["htp", "ltp"]), default: .string("htp"), help: "merge mode"),
            BridgeField("channels", .integerList(1...512), default: .list([]), help: "channels"),
            BridgeField("fail_starts", .integer(0...10), default: .integer(0), help: "starts that fail first"),
        ],
        make: { options throws(BridgeConfigProblem) in
            if options.string("pattern").isEmpty {
                throw BridgeConfigProblem(field: "pattern", reason: "must not be empty")
            }
            let bridge = RecordingBridge(options: options, built: built)
            built.bridges.withLock { $0.append(bridge) }
            return bridge
        })
}

@Suite("Bridge options")
struct BridgeOptionTests {
    let kind = testKind(Built())

    @Test func defaultsFillWhatIsLeftOutAndIntegersBecomeNumbers() throws {
        let options = try kind.validate(["pattern": .string("/dmx/**"), "level": .integer(0)])
        #expect(options.string("pattern") == "/dmx/**")
        #expect(options.integer("universe") == 1)
        #expect(options.number("level") == 0)
        #expect(options.string("mode") == "htp")
        #expect(options.integers("channels") == [])
    }

    @Test func everyProblemIsNamedWithItsField() {
        let problems: [BridgeConfigProblem]
        do throws(BridgeConfigProblems) {
            _ = try kind.validate([
                "universe": .integer(64_000), "level": .string("full"), "mode": .string("max"),
                "channels": .list([.integer(1), .integer(513)]), "colour": .bool(true),
            ])
            Issue.record("invalid options were accepted")
            return
        } catch {
            problems = error.problems
        }
        #expect(problems.map(\.description) == [
            "colour: unknown option for bridge kind recording; it takes pattern, universe, level, mode, channels, fail_starts",
            "pattern: is required (what to subscribe to)",
            "universe: must be from 1 to 63999, got 64000",
            "level: must be a number, got \"full\"",
            "mode: must be one of \"htp\", \"ltp\", got \"max\"",
            "channels: must be a list of integers from 1 to 512, got [1, 513]",
        ])
    }

    @Test func aWholeNumberGivenAsAFloatIsAcceptedForAnInteger() throws {
        let options = try kind.validate(["pattern": .string("/x"), "universe": .number(3)])
        #expect(options.integer("universe") == 3)
        #expect(throws: BridgeConfigProblems([BridgeConfigProblem(field: "universe", reason: "must be an integer, got 3.5")])) {
            try kind.validate(["pattern": .string("/x"), "universe": .number(3.5)])
        }
    }

    @Test func theCatalogNamesUnknownKindsBadIDsAndTheKindsOwnChecks() {
        let catalog = BridgeCatalog([kind])
        func problems(_ config: BridgeConfig) -> [String] {
            do throws(BridgeConfigProblems) {
                _ = try catalog.build(config)
                return []
            } catch {
                return error.problems.map(\.description)
            }
        }
        #expect(problems(BridgeConfig(id: "a", kind: "dmx")) == [
            "kind: unknown bridge kind \"dmx\"; this build has \"recording\"",
        ])
        #expect(problems(BridgeConfig(id: "has space", kind: "recording", options: ["pattern": .string("/x")])) == [
            "bridge id \"has space\" must be 1–64 letters, digits, '-' or '_'",
        ])
        #expect(problems(BridgeConfig(id: "a", kind: "recording", options: ["pattern": .string("")])) == [
            "pattern: must not be empty",
        ])
        #expect(problems(BridgeConfig(id: "a", kind: "recording", options: ["pattern": .string("/x")])) == [])
    }
}

@Suite("Bridge supervisor")
struct BridgeSupervisorTests {
    static let logger: Logger = {
        var logger = Logger(label: "bridges-tests")
        logger.logLevel = .critical
        return logger
    }()

    static func supervisor(_ built: Built, _ links: Links) -> BridgeSupervisor {
        BridgeSupervisor(
            catalog: BridgeCatalog([testKind(built)]),
            connect: { name, _ in
                let link = RecordingLink(name: name)
                links.links.withLock { $0.append(link) }
                return link
            },
            logger: logger)
    }

    static func config(_ id: String, pattern: String = "/a/**", enabled: Bool = true, failStarts: Int = 0) -> BridgeConfig {
        BridgeConfig(
            id: id, kind: "recording", enabled: enabled,
            options: ["pattern": .string(pattern), "fail_starts": .integer(Int64(failStarts))])
    }

    @Test func eachBridgeGetsItsOwnSessionAndStartsAndStopsAlone() async throws {
        let built = Built(), links = Links()
        let supervisor = Self.supervisor(built, links)
        await supervisor.apply([Self.config("one"), Self.config("two"), Self.config("off", enabled: false)])
        #expect(links.all.map(\.name) == ["bridge:one", "bridge:two"])
        #expect(links.all.allSatisfy { $0.sent.withLock { $0 } == [.subscribe(Subscribe(id: 1, pattern: "/a/**"))] })
        let states = await supervisor.reports().map(\.state)
        #expect(states.count == 3)
        #expect(states[2] == .disabled)
        guard case .running = states[0], case .running = states[1] else {
            Issue.record("not running: \(states)")
            return
        }

        // Changing one bridge restarts that one only; removing one stops it and closes its session.
        let first = built.all[0], second = built.all[1]
        await supervisor.apply([Self.config("one"), Self.config("two", pattern: "/b/**")])
        #expect(first.stopped == 0)
        #expect(second.stopped == 1)
        #expect(links.all[1].closed.withLock { $0 })
        #expect(built.all.count == 3)
        #expect(links.all.last?.sent.withLock { $0 } == [.subscribe(Subscribe(id: 1, pattern: "/b/**"))])

        await supervisor.apply([Self.config("two", pattern: "/b/**")])
        #expect(first.stopped == 1)
        #expect(links.all[0].closed.withLock { $0 })
        #expect(await supervisor.reports().map(\.config.id) == ["two"])

        await supervisor.stopAll()
        #expect(built.all.last?.stopped == 1)
    }

    @Test func aBridgeThatCannotStartIsRetriedAndReportsWhy() async throws {
        let built = Built(), links = Links()
        let supervisor = Self.supervisor(built, links)
        await supervisor.apply([Self.config("flaky", failStarts: 1)])
        #expect(await supervisor.reports().first?.state == .retrying(reason: "device not found", retryIn: 1))
        #expect(links.all.first?.closed.withLock { $0 } == true)
        // The retry comes after about 1 s.
        let clock = ContinuousClock()
        let end = clock.now + .seconds(10)
        while clock.now < end {
            if case .running = await supervisor.reports().first?.state { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard case .running = await supervisor.reports().first?.state else {
            Issue.record("the bridge was not retried")
            return
        }
        #expect(built.all.count == 2)
        await supervisor.stopAll()
    }

    @Test func aRemovedBridgeIsNotRetried() async throws {
        let built = Built(), links = Links()
        let supervisor = Self.supervisor(built, links)
        await supervisor.apply([Self.config("gone", failStarts: 5)])
        await supervisor.apply([])
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(built.all.count == 1)
        #expect(await supervisor.reports().isEmpty)
    }

    @Test func problemsListDuplicatesAndInvalidOptionsWithoutApplying() {
        let supervisor = Self.supervisor(Built(), Links())
        let problems = supervisor.problems(in: [
            Self.config("a"), Self.config("a"), BridgeConfig(id: "b", kind: "recording"),
        ])
        #expect(problems.map { "\($0.id): \($0.problem)" } == [
            "a: two bridges named \"a\"",
            "b: pattern: is required (what to subscribe to)",
        ])
    }
}
