/// Unicode-scalar offsets of words in a sentence, as the corpus convention (§9) defines them.
enum TextOffsets {
    /// The scalar offset of the first whole-word, case-insensitive occurrence of `needle` in `text`.
    static func wholeWordOffset(of needle: String, in text: String) -> Int? {
        let haystack = Array(text.lowercased().unicodeScalars)
        let target = Array(needle.lowercased().unicodeScalars)
        guard !target.isEmpty, haystack.count >= target.count else { return nil }
        func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_"
        }
        for start in 0...(haystack.count - target.count) where Array(haystack[start..<(start + target.count)]) == target {
            let before = start == 0 || !isWordScalar(haystack[start - 1])
            let after = start + target.count == haystack.count || !isWordScalar(haystack[start + target.count])
            let needleStartsWord = isWordScalar(target[0])
            let needleEndsWord = isWordScalar(target[target.count - 1])
            if (before || !needleStartsWord) && (after || !needleEndsWord) { return start }
        }
        return nil
    }
}
