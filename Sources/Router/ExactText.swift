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
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
        hasher.combine(text.utf8.count)
    }
}
