#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text compared and hashed byte for byte (UTF-8).
///
/// Swift's `String ==` treats canonically equivalent text (NFC and NFD spellings) as equal;
/// CLASP addresses are byte strings and the pattern matcher compares them exactly, so keys
/// of router tables must too.
struct ExactText: Hashable {
    let text: Substring

    init(_ text: String) { self.text = Substring(text) }
    init(_ text: Substring) { self.text = text }

    static func == (lhs: ExactText, rhs: ExactText) -> Bool {
        let left = lhs.text.utf8
        let right = rhs.text.utf8
        guard left.count == right.count else { return false }
        // Native strings are contiguous: compare the bytes in one go (the generic
        // element-by-element path was ≈ 40 % of a routed timeline tick).
        let equal: Bool?? = left.withContiguousStorageIfAvailable { a in
            right.withContiguousStorageIfAvailable { b in
                guard let first = a.baseAddress, let second = b.baseAddress else { return a.isEmpty && b.isEmpty }
                return memcmp(first, second, a.count) == 0
            }
        }
        if let equal = equal ?? nil { return equal }
        return left.elementsEqual(right)
    }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
        hasher.combine(text.utf8.count)
    }
}
