import NIOCore

/// What the publisher sends: message `seq` goes to `addresses[seq % count]`.
struct PumpPlan: Sendable {
    /// Messages per second; nil sends as fast as the connection takes them.
    let rate: Int?
    let duration: TimeAmount
    let maxMessages: Int
    let addresses: [String]
    /// Keep each message's send time, to pair with its ACK (QoS confirm and commit).
    let tracksAcks: Bool
    /// Messages per write burst when unpaced.
    let batch = 64
}

struct PumpResult: Sendable {
    let sent: Int
    let startedAt: UInt64
    let endedAt: UInt64
    let sendTimes: [UInt64]
}

/// The publisher's sending loop. Runs on its channel's event loop only: paced by a repeated
/// timer (a tick per message up to 20 k/s, bursts above), or unpaced in bursts that stop
/// while the channel is not writable.
final class Pump: @unchecked Sendable {
    private let channel: any Channel
    private let session: LoadSession
    private let dialect: Dialect
    private let plan: PumpPlan
    private let done: EventLoopPromise<PumpResult>
    private var timer: RepeatedTask?
    private var sent = 0
    private var startedAt = NIODeadline.now()
    private var sendTimes: [UInt64] = []
    private var finished = false
    private var waitingForWritable = false

    init(channel: any Channel, session: LoadSession, dialect: Dialect, plan: PumpPlan) {
        self.channel = channel
        self.session = session
        self.dialect = dialect
        self.plan = plan
        self.done = channel.eventLoop.makePromise()
    }

    func run() -> EventLoopFuture<PumpResult> {
        channel.eventLoop.execute { [self] in
            startedAt = .now()
            if plan.tracksAcks { sendTimes.reserveCapacity(min(plan.maxMessages, 4_000_000)) }
            if let rate = plan.rate {
                let interval = TimeAmount.nanoseconds(max(50_000, 1_000_000_000 / Int64(max(1, rate))))
                timer = channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [self] _ in tick(rate: rate) }
            } else {
                session.onWritable = { [self] in
                    guard waitingForWritable else { return }
                    waitingForWritable = false
                    burst()
                }
                burst()
            }
        }
        return done.futureResult
    }

    private func tick(rate: Int) {
        guard !finished else { return }
        let elapsed = NIODeadline.now() - startedAt
        let due = min(plan.maxMessages, Int(Double(elapsed.nanoseconds) * Double(rate) / 1e9) + 1)
        while sent < due, !finished { send() }
        channel.flush()
        if elapsed >= plan.duration || sent >= plan.maxMessages { finish() }
    }

    private func burst() {
        guard !finished else { return }
        for _ in 0..<plan.batch where sent < plan.maxMessages && !finished { send() }
        channel.flush()
        if sent >= plan.maxMessages || NIODeadline.now() - startedAt >= plan.duration {
            finish()
        } else if channel.isWritable {
            channel.eventLoop.execute { [self] in burst() }  // lets reads in between bursts
        } else {
            waitingForWritable = true
        }
    }

    private func send() {
        let now = NIODeadline.now().uptimeNanoseconds
        do {
            let message = try dialect.publish(
                address: plan.addresses[sent % plan.addresses.count], seq: UInt64(sent), sentAt: now, allocator: channel.allocator)
            channel.write(message, promise: nil)
        } catch {
            finished = true
            timer?.cancel()
            done.fail(error)
            return
        }
        if plan.tracksAcks { sendTimes.append(now) }
        sent += 1
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        done.succeed(PumpResult(
            sent: sent, startedAt: startedAt.uptimeNanoseconds, endedAt: NIODeadline.now().uptimeNanoseconds, sendTimes: sendTimes))
    }
}
