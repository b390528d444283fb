import CLASP

// Timelines: a timeline PUBLISH is validated, stored and played into the param at its
// address at `timelineTickRate`; subscribers see ordinary SETs. docs/timelines.md.

extension RouterCore {
    func handleTimeline(_ publish: Publish, qos: QoS, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        let key = ExactText(publish.address)
        let command: TimelineCommand
        do {
            command = try TimelineDefinition.parse(publish.value, messageTimestamp: publish.timestamp, now: clock.wallMicroseconds())
        } catch {
            reply(connection, .invalidValue, "invalid timeline: \(error.description)", address: publish.address)
            return
        }
        if let holder = params[key]?.lockHolder, holder != session.id {
            reply(connection, .lockHeld, "lock held by \(holder)", address: publish.address)
            return
        }
        let announcement: Publish
        switch command {
        case .play(let definition):
            if let rule = configuration.paramRules.rule(for: publish.address),
               let (number, problem) = definition.keyframes.enumerated().lazy
                   .compactMap({ index, keyframe in rule.constraint.problem(with: keyframe.value).map { (index + 1, $0) } }).first
            {
                reply(connection, .invalidValue, "invalid timeline: keyframe \(number): invalid value for \(publish.address): \(problem)", address: publish.address)
                return
            }
            announcement = definition.publish(at: publish.address)
            guard (try? Message.publish(announcement).encodedFrame()) != nil else {
                reply(connection, .invalidValue, "invalid timeline: too large to be sent to subscribers within the 65535-byte payload limit", address: publish.address)
                return
            }
            timelines.play(definition, at: publish.address, currentValue: params[key]?.value)
            timelineWriters[key] = session.id
            storeLink?.timelineChanged(key, now: clock.monotonicNanoseconds())
        case .stop:
            guard timelines.stop(publish.address) else {
                acknowledge(Ack(address: publish.address), qos: qos, connection)
                return
            }
            timelineWriters[key] = nil
            storeLink?.timelineRemoved(key, now: clock.monotonicNanoseconds())
            announcement = Publish(address: publish.address, signal: .timeline, value: .map([("stop", .bool(true))]))
        }
        if let bytes = try? Message.publish(announcement).encodedFrame() {
            deliver(OutboundFrame(bytes: bytes), to: publish.address, signal: .timeline, excluding: id)
        }
        acknowledge(Ack(address: publish.address), qos: qos, connection)
        requestNextWakeUp()
    }

    /// Writes what the playing timelines give for now.
    func runTimelines() {
        guard !timelines.isEmpty else { return }
        apply(timelines.tick(now: clock.wallMicroseconds()))
    }

    func apply(_ updates: [TimelineUpdate]) {
        for update in updates {
            let key = ExactText(update.address)
            if let value = update.value {
                writeTimelineValue(value, at: update.address, key, writer: timelineWriters[key] ?? "timeline")
            }
            if update.finished {
                timelineWriters[key] = nil
                storeLink?.timelineRemoved(key, now: clock.monotonicNanoseconds())
            }
        }
    }

    /// A timeline's value becomes the param's, as a SET from the timeline's publisher would:
    /// a new revision, echoed to subscribers, stored. Skipped while another session holds
    /// the param's lock; a number beyond the param's range (a curve's overshoot) is clamped.
    private func writeTimelineValue(_ value: Value, at address: String, _ key: ExactText, writer: String) {
        let current = params[key]
        if let holder = current?.lockHolder, holder != writer { return }
        if current == nil, params.count >= configuration.maxParams { return }
        let value = configuration.paramRules.rule(for: address).map { Self.clamp(value, to: $0.constraint) } ?? value
        let revision = (current?.revision ?? 0) &+ 1
        guard let echo = try? Message.set(SetMessage(address: address, value: value, revision: revision)).encodedFrame() else { return }
        params[key] = Param(
            value: value, revision: revision, writer: writer, timestamp: clock.wallMicroseconds(),
            ttl: current?.ttl, expiresAt: current?.expiresAt, lockHolder: current?.lockHolder)
        storeLink?.changed(key, now: clock.monotonicNanoseconds())
        deliver(OutboundFrame(bytes: echo, coalescing: .param(address)), to: address, signal: .param, excluding: nil)
    }

    private static func clamp(_ value: Value, to constraint: ValueConstraint) -> Value {
        func limit(_ number: Double) -> Double {
            Swift.min(constraint.maximum ?? number, Swift.max(constraint.minimum ?? number, number))
        }
        switch value {
        case .float(let number): return .float(limit(number))
        case .int(let number):
            let limited = limit(Double(number))
            return limited == Double(number) ? value : .int(Int64(limited.rounded(.towardZero)))
        case .array(let items): return .array(items.map { clamp($0, to: constraint) })
        default: return value
        }
    }

    /// The active timelines matching a new subscription, as timeline PUBLISHes.
    func sendTimelines(matching pattern: AddressPattern, to connection: Connection) {
        for (address, definition) in timelines.definitions where pattern.matches(address) {
            if let bytes = try? Message.publish(definition.publish(at: address)).encodedFrame() {
                transmit(OutboundFrame(bytes: bytes), to: connection)
            }
        }
    }

    /// When the timelines next need a tick, monotonic ns.
    var timelineDeadline: UInt64? {
        let interval = UInt64(1e6 / configuration.timelineTickRate)
        return timelines.nextDeadline(now: clock.wallMicroseconds(), tickInterval: interval).map(monotonic(fromServerTime:))
    }
}
