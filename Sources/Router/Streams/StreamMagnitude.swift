import CLASP

/// A stream sample's number(s), as epsilon compares them.
enum StreamMagnitude {
    /// An int or a float.
    case scalar(Double)
    /// An array of ints and floats, or a sample batch.
    case vector([Double])

    /// Nil for values of any other kind (they always pass epsilon).
    init?(_ publish: Publish) {
        guard let value = publish.value else {
            guard let samples = publish.samples else { return nil }
            self = .vector(samples)
            return
        }
        switch value {
        case .int(let integer):
            self = .scalar(Double(integer))
        case .float(let float):
            self = .scalar(float)
        case .array(let elements):
            var numbers: [Double] = []
            numbers.reserveCapacity(elements.count)
            for element in elements {
                guard let number = Self.number(element) else { return nil }
                numbers.append(number)
            }
            self = .vector(numbers)
        default:
            return nil
        }
    }

    /// Whether the two differ by more than `epsilon`: element by element for vectors; a
    /// different length or kind is a change.
    func differs(from other: StreamMagnitude, by epsilon: Double) -> Bool {
        switch (self, other) {
        case let (.scalar(a), .scalar(b)):
            return Self.gap(a, b) > epsilon
        case let (.vector(a), .vector(b)):
            return a.count != b.count || zip(a, b).contains { Self.gap($0, $1) > epsilon }
        default:
            return true
        }
    }

    private static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let integer): return Double(integer)
        case .float(let float): return float
        default: return nil
        }
    }

    /// |a − b|, where equal infinities are 0 apart, NaN is 0 from NaN and infinitely far
    /// from anything else (so a NaN appearing or going away is always a change).
    private static func gap(_ a: Double, _ b: Double) -> Double {
        if a == b || (a.isNaN && b.isNaN) { return 0 }
        if a.isNaN || b.isNaN { return .infinity }
        return abs(a - b)
    }
}
