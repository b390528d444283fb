public import CLASP
public import Logging

/// Opens a bridge's router session: `name` is the HELLO name, `deliver` gets what the router
/// sends the session (on the router's thread).
public typealias RouterLinkFactory = @Sendable (
    _ name: String, _ deliver: @escaping @Sendable (Message) -> Void
) async throws -> any RouterLink

/// Runs the configured bridges: builds, starts and stops each one alone, retries one that
/// cannot start (1 s, doubling up to 30 s), and reports their states.
public actor BridgeSupervisor {
    /// Where one bridge is in its life.
    public enum State: Sendable, Equatable {
        case disabled
        case starting
        case running(BridgeStatus)
        /// Could not start; the next attempt is `retryIn` seconds after the failure.
        case retrying(reason: String, retryIn: Double)
    }

    public struct Report: Sendable, Equatable {
        public let config: BridgeConfig
        public let state: State
    }

    private struct Instance {
        var config: BridgeConfig
        var bridge: (any Bridge)?
        var link: (any RouterLink)?
        var state: State
        /// Bumped on every stop: a pending retry of an older generation gives up.
        var generation: Int
    }

    private let catalog: BridgeCatalog
    private let connect: RouterLinkFactory
    private let logger: Logger
    private var instances: [String: Instance] = [:]
    private var order: [String] = []
    private var generations = 0

    public init(catalog: BridgeCatalog, connect: @escaping RouterLinkFactory, logger: Logger) {
        self.catalog = catalog
        self.connect = connect
        self.logger = logger
    }

    /// Problems of each config, without applying anything (empty: all valid).
    public nonisolated func problems(in configs: [BridgeConfig]) -> [(id: String, problem: BridgeConfigProblem)] {
        var problems: [(id: String, problem: BridgeConfigProblem)] = []
        var seen = Set<String>()
        for config in configs {
            if !seen.insert(config.id).inserted {
                problems.append((config.id, BridgeConfigProblem(field: "", reason: "two bridges named \"\(config.id)\"")))
            }
            do throws(BridgeConfigProblems) {
                _ = try catalog.build(config)
            } catch {
                problems += error.problems.map { (config.id, $0) }
            }
        }
        return problems
    }

    /// Makes the running bridges match `configs`: removed and changed ones stop, new and
    /// changed ones start, unchanged ones keep running untouched. Configs must be valid
    /// (`problems(in:)`); an invalid one is skipped and logged.
    public func apply(_ configs: [BridgeConfig]) async {
        let wanted = Set(configs.map(\.id))
        for id in order where !wanted.contains(id) {
            await stop(id)
            instances[id] = nil
        }
        order = configs.map(\.id)
        for config in configs {
            if let current = instances[config.id], current.config == config { continue }
            await stop(config.id)
            instances[config.id] = Instance(config: config, state: .disabled, generation: generation())
            if config.enabled { await start(config.id, attempt: 0) }
        }
    }

    /// Every bridge in config order with its state.
    public func reports() -> [Report] {
        order.compactMap { id in
            guard let instance = instances[id] else { return nil }
            var state = instance.state
            if case .running = state, let bridge = instance.bridge { state = .running(bridge.status) }
            return Report(config: instance.config, state: state)
        }
    }

    /// Stops every bridge (gateway shutdown).
    public func stopAll() async {
        for id in order { await stop(id) }
    }

    private func generation() -> Int {
        generations += 1
        return generations
    }

    private func start(_ id: String, attempt: Int) async {
        guard var instance = instances[id] else { return }
        let generation = instance.generation
        instance.state = .starting
        instances[id] = instance
        let bridge: any Bridge
        do throws(BridgeConfigProblems) {
            bridge = try catalog.build(instance.config)
        } catch {
            logger.error("bridge \(id): invalid config: \(error.problems.map(\.description).joined(separator: "; "))")
            instances[id]?.state = .disabled
            return
        }
        var opened: (any RouterLink)?
        do {
            let link = try await connect("bridge:\(id)") { [bridge] message in bridge.receive(message) }
            opened = link
            guard instances[id]?.generation == generation else {
                link.close()
                return
            }
            instances[id]?.bridge = bridge
            instances[id]?.link = link
            try await bridge.start(link: link)
            guard instances[id]?.generation == generation else {
                // Stopped or replaced while starting.
                await bridge.stop()
                link.close()
                return
            }
            instances[id]?.state = .running(bridge.status)
            logger.notice("bridge \(id) (\(instance.config.kind)) running")
        } catch {
            await bridge.stop()
            opened?.close()
            guard instances[id]?.generation == generation else { return }
            instances[id]?.link = nil
            instances[id]?.bridge = nil
            let delay = min(30, Double(1 << min(attempt, 5)))
            instances[id]?.state = .retrying(reason: "\(error)", retryIn: delay)
            logger.error("bridge \(id) (\(instance.config.kind)) could not start: \(error); retrying in \(Int(delay)) s")
            Task { [weak self] in
                try? await Task.sleep(for: .seconds(delay))
                await self?.retry(id, generation: generation, attempt: attempt + 1)
            }
        }
    }

    private func retry(_ id: String, generation: Int, attempt: Int) async {
        guard instances[id]?.generation == generation, case .retrying = instances[id]?.state else { return }
        await start(id, attempt: attempt)
    }

    private func stop(_ id: String) async {
        guard var instance = instances[id] else { return }
        instance.generation = generation()
        let bridge = instance.bridge
        let link = instance.link
        instance.bridge = nil
        instance.link = nil
        instance.state = .disabled
        instances[id] = instance
        if let bridge {
            await bridge.stop()
            logger.notice("bridge \(id) (\(instance.config.kind)) stopped")
        }
        link?.close()
    }
}
