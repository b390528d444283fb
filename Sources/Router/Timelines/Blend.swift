import CLASP

/// What one segment (keyframe i to i + 1) blends, worked out once when its timeline is
/// played, so a tick only evaluates (wire-format §4.8 interpolation rules).
enum Blend: Sendable {
    /// The value does not move over the segment: equal ends, or a step easing.
    case hold(Value)
    case ints(Int64, Int64)
    /// Two floats, or an int and a float.
    case floats(Double, Double)
    /// Arrays of numbers of one length, element by element.
    case vector([Lane])
    /// Anything else: the earlier value until the eased progress reaches 0.5.
    case switchover(Value, Value)

    /// One element of a vector.
    enum Lane: Sendable {
        case ints(Int64, Int64)
        case floats(Double, Double)

        init?(_ a: Value, _ b: Value) {
            switch (a, b) {
            case let (.int(x), .int(y)): self = .ints(x, y)
            case let (.int(x), .float(y)): self = .floats(Double(x), y)
            case let (.float(x), .int(y)): self = .floats(x, Double(y))
            case let (.float(x), .float(y)): self = .floats(x, y)
            default: return nil
            }
        }

        func value(at t: Double) -> Value {
            switch self {
            case let .ints(a, b): .int(Blend.int(from: a, to: b, at: t))
            case let .floats(a, b): .float(a + (b - a) * t)
            }
        }
    }

    /// `a` and `b` passed `ValueShape.interpolates(with:)`.
    init(from a: Value, to b: Value, easing: Easing) {
        if a == b || easing == .step {
            // A step's eased progress stays 0 until the next keyframe takes over.
            self = .hold(a)
            return
        }
        switch (a, b) {
        case let (.array(x), .array(y)) where x.count == y.count:
            var lanes: [Lane] = []
            lanes.reserveCapacity(x.count)
            for (p, q) in zip(x, y) {
                guard let lane = Lane(p, q) else {
                    self = .switchover(a, b)
                    return
                }
                lanes.append(lane)
            }
            self = .vector(lanes)
        default:
            switch Lane(a, b) {
            case let .ints(x, y)?: self = .ints(x, y)
            case let .floats(x, y)?: self = .floats(x, y)
            case nil: self = .switchover(a, b)
            }
        }
    }

    var isConstant: Bool {
        if case .hold = self { true } else { false }
    }

    /// The value at eased progress `t` (0 at the earlier keyframe; a cubic-bezier may take it
    /// below 0 or above 1).
    func value(at t: Double) -> Value {
        switch self {
        case .hold(let value): value
        case let .ints(a, b): .int(Self.int(from: a, to: b, at: t))
        case let .floats(a, b): .float(a + (b - a) * t)
        case .vector(let lanes): .array(lanes.map { $0.value(at: t) })
        case let .switchover(a, b): t < 0.5 ? a : b
        }
    }

    /// a + trunc((b − a)·t), saturating at the Int64 bounds instead of trapping (b − a alone
    /// can overflow, and an overshooting curve can carry the result past either bound).
    /// Exact while b − a stays within ±2^53.
    static func int(from a: Int64, to b: Int64, at t: Double) -> Int64 {
        let (difference, overflow) = b.subtractingReportingOverflow(a)
        let span = overflow ? Double(b) - Double(a) : Double(difference)
        let step = (span * t).rounded(.towardZero)
        if step >= -0x1p63, step < 0x1p63 {
            let (sum, overflow) = a.addingReportingOverflow(Int64(step))
            if !overflow { return sum }
            return step < 0 ? .min : .max
        }
        let sum = Double(a) + step
        if sum >= 0x1p63 { return .max }
        if sum < -0x1p63 { return .min }
        return Int64(sum)
    }
}
