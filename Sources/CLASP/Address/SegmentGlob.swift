/// A glob that matches one address segment (text between two `/`).
///
/// Syntax, over Unicode scalars (no normalisation: text is compared scalar by scalar, as
/// the bytes of the address are):
/// - `*` any run of characters, possibly empty;
/// - `?` exactly one character;
/// - `[abc]`, `[a-z]` one character from the class; `[!a-z]` (or `[^a-z]`) one character
///   not in it. A `]` right after `[` or `[!` is a member; `\` escapes inside a class too;
///   `-` first or last is a member;
/// - `{alt1,alt2,…}` one of the alternatives, which may themselves use `*`, `?`, classes and
///   escapes (but not another `{`); an alternative may be empty;
/// - `\c` the character `c` literally;
/// - every other character, including a lone `]`, `}` or `,` outside braces, stands for
///   itself.
///
/// Matching runs the glob as a small non-deterministic automaton over the segment, keeping
/// the set of live states: time is O(segment length × glob length) whatever the input,
/// with no backtracking and no recursion.
public struct SegmentGlob: Sendable, Hashable, CustomStringConvertible {
    /// The segment text the glob was made from.
    public let text: String
    private let program: [GlobOperation]

    /// Compiles one segment. Throws `AddressError.malformedGlob` naming the segment for an
    /// unclosed `[` or `{`, a nested `{`, a trailing `\`, a reversed range, or a `/`.
    public init(_ segment: String) throws(AddressError) {
        text = segment
        program = try GlobCompiler.compile(segment)
    }

    public var description: String { text }

    public static func == (lhs: SegmentGlob, rhs: SegmentGlob) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Whether the whole of `segment` matches.
    public func matches(_ segment: String) -> Bool { run(segment.unicodeScalars) }

    /// Whether the whole of `segment` matches.
    public func matches(_ segment: Substring) -> Bool { run(segment.unicodeScalars) }

    private func run<Scalars: Sequence<Unicode.Scalar>>(_ scalars: Scalars) -> Bool {
        let count = program.count
        // `seen[state] == generation` marks a state already in the list for this step.
        var seen = [Int](repeating: -1, count: count)
        var current: [Int] = []
        var next: [Int] = []
        var stack: [Int] = []
        current.reserveCapacity(count)
        next.reserveCapacity(count)
        var generation = 0
        addClosure(of: 0, to: &current, seen: &seen, generation: generation, stack: &stack)
        for scalar in scalars {
            generation += 1
            next.removeAll(keepingCapacity: true)
            for state in current {
                switch program[state] {
                case .scalar(let expected):
                    if expected == scalar {
                        addClosure(of: state + 1, to: &next, seen: &seen, generation: generation, stack: &stack)
                    }
                case .anyCharacter:
                    addClosure(of: state + 1, to: &next, seen: &seen, generation: generation, stack: &stack)
                case .characterClass(let characterClass):
                    if characterClass.admits(scalar) {
                        addClosure(of: state + 1, to: &next, seen: &seen, generation: generation, stack: &stack)
                    }
                case .anyRun:
                    addClosure(of: state, to: &next, seen: &seen, generation: generation, stack: &stack)
                case .fork, .jump, .match:
                    break
                }
            }
            if next.isEmpty { return false }
            swap(&current, &next)
        }
        return current.contains { state in
            if case .match = program[state] { return true }
            return false
        }
    }

    /// Adds `start` and every state reachable from it without consuming a character.
    private func addClosure(of start: Int, to list: inout [Int], seen: inout [Int], generation: Int, stack: inout [Int]) {
        stack.append(start)
        while let state = stack.popLast() {
            guard seen[state] != generation else { continue }
            seen[state] = generation
            list.append(state)
            switch program[state] {
            case .anyRun: stack.append(state + 1)
            case .jump(let target): stack.append(target)
            case .fork(let targets): stack.append(contentsOf: targets)
            default: break
            }
        }
    }
}

/// One instruction of a compiled segment glob. States that consume a character are
/// `scalar`, `anyCharacter`, `characterClass` and `anyRun` (which loops on itself); `fork`
/// and `jump` move without consuming; `match` is the accepting state.
enum GlobOperation: Sendable {
    case scalar(Unicode.Scalar)
    case anyCharacter
    case characterClass(GlobCharacterClass)
    case anyRun
    case fork([Int])
    case jump(Int)
    case match
}

struct GlobCharacterClass: Sendable {
    var negated: Bool
    var ranges: [ClosedRange<UInt32>]

    func admits(_ scalar: Unicode.Scalar) -> Bool {
        ranges.contains { $0.contains(scalar.value) } != negated
    }
}

private enum GlobCompiler {
    static func compile(_ segment: String) throws(AddressError) -> [GlobOperation] {
        let scalars = Array(segment.unicodeScalars)
        func fail(_ reason: String) -> AddressError { .malformedGlob(segment: segment, reason: reason) }

        var program: [GlobOperation] = []
        // Open `{`: index of its fork, the start of each alternative, the jumps to patch.
        var forkIndex: Int?
        var alternativeStarts: [Int] = []
        var pendingJumps: [Int] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "/":
                throw fail("a segment cannot contain '/'")
            case "\\":
                guard index < scalars.count else { throw fail("'\\' at the end escapes nothing") }
                program.append(.scalar(scalars[index]))
                index += 1
            case "?":
                program.append(.anyCharacter)
            case "*":
                // Consecutive stars mean the same as one.
                if case .anyRun? = program.last {} else { program.append(.anyRun) }
            case "[":
                program.append(.characterClass(try characterClass(scalars, from: &index, fail: fail)))
            case "{":
                guard forkIndex == nil else { throw fail("'{' inside '{…}' is not supported") }
                forkIndex = program.count
                program.append(.fork([]))
                alternativeStarts = [program.count]
                pendingJumps = []
            case "," where forkIndex != nil:
                pendingJumps.append(program.count)
                program.append(.jump(-1))
                alternativeStarts.append(program.count)
            case "}" where forkIndex != nil:
                pendingJumps.append(program.count)
                program.append(.jump(-1))
                let end = program.count
                for jump in pendingJumps { program[jump] = .jump(end) }
                if let fork = forkIndex { program[fork] = .fork(alternativeStarts) }
                forkIndex = nil
            default:
                program.append(.scalar(scalar))
            }
        }
        guard forkIndex == nil else { throw fail("unclosed '{'") }
        program.append(.match)
        return program
    }

    /// Parses a class whose `[` was just consumed; leaves `index` after its `]`.
    private static func characterClass(
        _ scalars: [Unicode.Scalar], from index: inout Int, fail: (String) -> AddressError
    ) throws(AddressError) -> GlobCharacterClass {
        var result = GlobCharacterClass(negated: false, ranges: [])
        if index < scalars.count, scalars[index] == "!" || scalars[index] == "^" {
            result.negated = true
            index += 1
        }
        var first = true
        while index < scalars.count {
            var low = scalars[index]
            index += 1
            if low == "]" && !first { return result }
            first = false
            if low == "\\" {
                guard index < scalars.count else { break }
                low = scalars[index]
                index += 1
            }
            // A range `low-high`, unless the `-` is the last member (`[a-]`).
            if index + 1 < scalars.count, scalars[index] == "-", scalars[index + 1] != "]" {
                var high = scalars[index + 1]
                index += 2
                if high == "\\" {
                    guard index < scalars.count else { break }
                    high = scalars[index]
                    index += 1
                }
                guard low.value <= high.value else { throw fail("reversed range '\(low)-\(high)' in '[…]'") }
                result.ranges.append(low.value...high.value)
            } else {
                result.ranges.append(low.value...low.value)
            }
        }
        throw fail("unclosed '['")
    }
}
