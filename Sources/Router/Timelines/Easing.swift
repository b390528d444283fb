/// How a timeline moves from one keyframe to the next (wire-format §4.8). The segment between
/// two keyframes uses the earlier keyframe's easing on the normalised time t ∈ [0, 1).
public enum Easing: Sendable, Equatable {
    case linear
    case easeIn
    case easeOut
    case easeInOut
    /// Holds the earlier keyframe's value until the next keyframe.
    case step
    /// The CSS curve through (0,0), (x1,y1), (x2,y2), (1,1); x1 and x2 lie in [0, 1], so the
    /// curve is a function of time. y1 and y2 may leave [0, 1] (overshoot).
    case cubicBezier(x1: Double, y1: Double, x2: Double, y2: Double)

    /// The name on the wire (the `easing` key of a keyframe).
    public var wireName: String {
        switch self {
        case .linear: "linear"
        case .easeIn: "ease-in"
        case .easeOut: "ease-out"
        case .easeInOut: "ease-in-out"
        case .step: "step"
        case .cubicBezier: "cubic-bezier"
        }
    }

    /// Every wire name, in the order error messages list them.
    public static let wireNames = ["linear", "ease-in", "ease-out", "ease-in-out", "step", "cubic-bezier"]

    /// The eased progress at `t` ∈ [0, 1]. For the one-off use of tests and tools; the engine
    /// evaluates precomputed `EasingCurve`s.
    public func callAsFunction(_ t: Double) -> Double { EasingCurve(self)(t) }
}

/// An easing ready to evaluate: a cubic-bezier's polynomial coefficients are worked out once
/// per segment, not per tick.
enum EasingCurve: Sendable {
    case linear, easeIn, easeOut, easeInOut, step
    case bezier(CubicBezier)

    init(_ easing: Easing) {
        switch easing {
        case .linear: self = .linear
        case .easeIn: self = .easeIn
        case .easeOut: self = .easeOut
        case .easeInOut: self = .easeInOut
        case .step: self = .step
        case let .cubicBezier(x1, y1, x2, y2): self = .bezier(CubicBezier(x1: x1, y1: y1, x2: x2, y2: y2))
        }
    }

    func callAsFunction(_ t: Double) -> Double {
        switch self {
        case .linear: t
        case .easeIn: t * t
        case .easeOut: 1 - (1 - t) * (1 - t)
        case .easeInOut: t < 0.5 ? 2 * t * t : 1 - (2 - 2 * t) * (2 - 2 * t) / 2
        case .step: t < 1 ? 0 : 1
        case .bezier(let curve): curve.y(atX: t)
        }
    }
}

/// A CSS cubic-bezier timing curve, B(s) = 3(1−s)²s·P1 + 3(1−s)s²·P2 + s³, in polynomial
/// form a·s³ + b·s² + c·s per axis.
struct CubicBezier: Sendable {
    private let ax, bx, cx: Double
    private let ay, by, cy: Double

    init(x1: Double, y1: Double, x2: Double, y2: Double) {
        cx = 3 * x1
        bx = 3 * (x2 - x1) - cx
        ax = 1 - cx - bx
        cy = 3 * y1
        by = 3 * (y2 - y1) - cy
        ay = 1 - cy - by
    }

    func y(atX x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let s = parameter(forX: x)
        return ((ay * s + by) * s + cy) * s
    }

    private func x(_ s: Double) -> Double { ((ax * s + bx) * s + cx) * s }

    /// The curve parameter s with x(s) = `x`. x(s) rises monotonically on [0, 1] because x1
    /// and x2 lie in [0, 1]. Newton's method converges in a few steps almost everywhere; where
    /// the slope vanishes (x1 = 1, x2 = 0 at the middle, say) bisection takes over.
    private func parameter(forX target: Double) -> Double {
        var s = target
        for _ in 0 ..< 8 {
            let error = x(s) - target
            if abs(error) < 1e-12 { return s }
            let slope = (3 * ax * s + 2 * bx) * s + cx
            if abs(slope) < 1e-6 { break }
            s -= error / slope
            if !(0 ... 1).contains(s) { break }
        }
        var low = 0.0
        var high = 1.0
        s = target
        while high - low > 1e-12 {
            s = (low + high) / 2
            if x(s) < target { low = s } else { high = s }
        }
        return (low + high) / 2
    }
}
