import Foundation
import ShelfCore

/// Turns a sentence into tokens (§2): quotes, URLs, emails, Slack channels, money, percents, multipliers, clock
/// times, SKUs, numbers (digits or words) and durations, then plain words. Spans are Unicode-scalar offsets of the
/// original text, so normalisation (NFC, curly quotes, dashes, contractions) never shifts an error position.
struct RuleLexer {
    private let scalars: [Unicode.Scalar]
    private let knownSkus: Set<String>?
    private let currency: String

    /// Lexes `text`; throws the first lexical error (unsupported currency or calendar unit, bad quote, …).
    static func tokenize(_ text: String, skus: Set<String>?, currency: String) throws(RuleParseError) -> [RuleToken] {
        let lexer = RuleLexer(scalars: Array(text.unicodeScalars), knownSkus: skus, currency: currency)
        return try lexer.run()
    }

    /// Lower-cased word texts of a catalog alias, lexed like a sentence so that they compare token by token.
    static func aliasWords(_ alias: String) -> [String] {
        let lexer = RuleLexer(scalars: Array(alias.unicodeScalars), knownSkus: nil, currency: "USD")
        guard let tokens = try? lexer.run() else { return [alias.lowercased()] }
        return tokens.filter { !$0.isEOF && !$0.isComma }.map(\.lower)
    }

    private init(scalars: [Unicode.Scalar], knownSkus: Set<String>?, currency: String) {
        self.scalars = scalars
        self.knownSkus = knownSkus
        self.currency = currency
    }

    // MARK: - Pass 1: chunks

    private func run() throws(RuleParseError) -> [RuleToken] {
        var raw: [RuleToken] = []
        raw.reserveCapacity(24)
        let count = scalars.count
        var index = 0
        while index < count {
            let scalar = scalars[index]
            if Self.isSpace(scalar) {
                index += 1
                continue
            }
            if [0x2D, 0x2013, 0x2014].contains(scalar.value), index + 1 >= count || Self.isSpace(scalars[index + 1]) {
                raw.append(RuleToken(kind: .comma, lower: ",", start: index, end: index + 1))
                index += 1
                continue
            }
            switch scalar.value {
            case 0x22, 0x201C, 0x201D, 0x201E:
                var close = index + 1
                while close < count, !Self.isDoubleQuote(scalars[close]) { close += 1 }
                guard close < count else {
                    throw RuleParseError(
                        code: .unexpectedEnd,
                        message: "The quote that starts here is never closed.",
                        span: RuleSpan(start: count, end: count),
                        expected: ["\""],
                        hint: "Close the quoted text with a matching quote."
                    )
                }
                let content = text(index + 1, close)
                raw.append(RuleToken(kind: .quoted(content), lower: content.lowercased(), start: index, end: close + 1))
                index = close + 1
            case 0x27, 0x2018, 0x2019:
                if let close = singleQuoteClose(from: index) {
                    let content = text(index + 1, close)
                    raw.append(RuleToken(kind: .quoted(content), lower: content.lowercased(), start: index, end: close + 1))
                    index = close + 1
                } else {
                    index += 1
                }
            case 0x2C, 0x3B, 0x3A:
                raw.append(RuleToken(kind: .comma, lower: ",", start: index, end: index + 1))
                index += 1
            case 0x2E, 0x21, 0x3F:
                raw.append(RuleToken(kind: .comma, lower: ".", start: index, end: index + 1))
                index += 1
            case 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D:
                index += 1
            case 0x26:
                raw.append(RuleToken(kind: .word, lower: "and", start: index, end: index + 1))
                index += 1
            default:
                if let end = urlEnd(from: index) {
                    let url = text(index, end)
                    raw.append(RuleToken(kind: .url(url), lower: url.lowercased(), start: index, end: end))
                    index = end
                } else {
                    let end = chunkEnd(from: index)
                    if end == index {
                        index += 1
                        continue
                    }
                    try classifyChunk(start: index, end: end, into: &raw)
                    index = end
                }
            }
        }
        var merged = try mergeLiterals(mergeNumberWords(raw))
        try checkRanges(merged)
        finishPunctuation(&merged)
        merged.append(RuleToken(kind: .eof, lower: "", start: count, end: count))
        return merged
    }

    /// Numbers outside what Shelf can act on are out of range where they are written (E_OUT_OF_RANGE), so no rule can carry
    /// a value that later overflows: percentages beyond `Limits.maxPercent`, multipliers beyond `Limits.maxSpikeMultiplier`,
    /// counts beyond 10¹², durations beyond ten years, and anything not finite.
    private func checkRanges(_ tokens: [RuleToken]) throws(RuleParseError) {
        for token in tokens {
            let problem: (message: String, expected: String)?
            switch token.kind {
            case .percent(let v) where !v.isFinite || abs(v) > Limits.maxPercent:
                problem = ("A percentage must be at most \(Int(Limits.maxPercent))%.", "percentage up to \(Int(Limits.maxPercent))%")
            case .mult(let v) where !v.isFinite || v > Double(Limits.maxSpikeMultiplier):
                problem = ("A multiplier must be at most \(Limits.maxSpikeMultiplier)×.", "multiplier up to \(Limits.maxSpikeMultiplier)×")
            case .number(let v) where !v.isFinite || abs(v) > 1e12:
                problem = ("This number is too large.", "number up to 1000000000000")
            case .duration(let seconds) where !seconds.isFinite || seconds > 10 * 366 * 86_400:
                problem = ("A duration must be at most ten years.", "duration up to 10 years")
            default:
                problem = nil
            }
            guard let problem else { continue }
            throw RuleParseError(
                code: .outOfRange, message: problem.message, span: RuleSpan(start: token.start, end: token.end),
                found: text(token.start, token.end), expected: [problem.expected]
            )
        }
    }

    private func singleQuoteClose(from index: Int) -> Int? {
        if index > 0, Self.isAlnum(scalars[index - 1]) { return nil }
        var probe = index + 1
        while probe < scalars.count {
            if Self.isSingleQuote(scalars[probe]), probe > index + 1,
                probe + 1 == scalars.count || !Self.isAlnum(scalars[probe + 1])
            {
                return probe
            }
            probe += 1
        }
        return nil
    }

    private func urlEnd(from index: Int) -> Int? {
        guard scalars[index] == "h" || scalars[index] == "H" else { return nil }
        let prefixes: [[Unicode.Scalar]] = [Array("https://".unicodeScalars), Array("http://".unicodeScalars)]
        for prefix in prefixes where index + prefix.count < scalars.count {
            var matches = true
            for offset in 0..<prefix.count where Self.lowerASCII(scalars[index + offset]) != prefix[offset] {
                matches = false
                break
            }
            guard matches else { continue }
            var end = index + prefix.count
            while end < scalars.count, !Self.isSpace(scalars[end]) { end += 1 }
            while end > index + prefix.count, ".,;:!?)]'\"".unicodeScalars.contains(scalars[end - 1]) { end -= 1 }
            return end
        }
        return nil
    }

    private func chunkEnd(from start: Int) -> Int {
        var index = start
        let count = scalars.count
        while index < count {
            let scalar = scalars[index]
            if Self.isSpace(scalar) { break }
            let previous: Unicode.Scalar? = index > start ? scalars[index - 1] : nil
            let next: Unicode.Scalar? = index + 1 < count ? scalars[index + 1] : nil
            switch scalar.value {
            case 0x22, 0x201C, 0x201D, 0x201E, 0x3B, 0x21, 0x3F, 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D:
                return index
            case 0x2C:
                guard let previous, Self.isDigit(previous), index + 3 < count,
                    (1...3).allSatisfy({ Self.isDigit(scalars[index + $0]) }),
                    index + 4 >= count || !Self.isDigit(scalars[index + 4])
                else { return index }
            case 0x2E:
                guard let previous, let next, Self.isAlnum(previous), Self.isAlnum(next) else { return index }
            case 0x3A:
                guard let previous, let next, Self.isDigit(previous), Self.isDigit(next) else { return index }
            case 0x27, 0x2018, 0x2019:
                guard let previous, let next, Self.isAlnum(previous), Self.isLetter(next) else { return index }
            default:
                break
            }
            index += 1
        }
        return index
    }

    // MARK: - Chunk classification

    private static let contractions: [String: (String, String)] = [
        "it's": ("it", "is"), "there's": ("there", "is"), "that's": ("that", "is"), "we've": ("we", "have"),
        "we're": ("we", "are"), "isn't": ("is", "not"), "aren't": ("are", "not"), "doesn't": ("does", "not"),
        "hasn't": ("has", "not"), "haven't": ("have", "not"), "they're": ("they", "are"),
    ]

    private func classifyChunk(start: Int, end: Int, into tokens: inout [RuleToken]) throws(RuleParseError) {
        let (rawText, lower) = texts(start, end)
        if lower.utf8.allSatisfy({ $0 == UInt8(ascii: "-") }) {
            tokens.append(RuleToken(kind: .comma, lower: ",", start: start, end: end))
            return
        }
        if lower.utf8.contains(0x27) {
            if let (first, second) = Self.contractions[lower] {
                let split = start + first.unicodeScalars.count
                tokens.append(RuleToken(kind: .word, lower: first, start: start, end: split))
                tokens.append(RuleToken(kind: .word, lower: second, start: split, end: end))
                return
            }
            if lower.hasSuffix("'s"), lower.count > 2 {
                let split = end - 2
                try classifyChunk(start: start, end: split, into: &tokens)
                tokens.append(RuleToken(kind: .possessive, lower: "'s", start: split, end: end))
                return
            }
        }
        tokens.append(try classify(rawText, lower: lower, start: start, end: end))
    }

    private func classify(_ rawText: String, lower: String, start: Int, end: Int) throws(RuleParseError) -> RuleToken {
        func token(_ kind: RuleToken.Kind) -> RuleToken { RuleToken(kind: kind, lower: lower, start: start, end: end) }
        let bytes = lower.utf8
        guard let first = bytes.first else { return token(.word) }
        if first == UInt8(ascii: "#"), bytes.count > 1,
            bytes.dropFirst().allSatisfy({ Self.isSlackByte($0) })
        {
            return token(.slack(lower))
        }
        if bytes.contains(UInt8(ascii: "@")), Self.isEmail(lower) {
            return token(.email(lower))
        }
        if let symbolCurrency = Self.currencySymbol(rawText.unicodeScalars.first) {
            let rest = String(rawText.unicodeScalars.dropFirst())
            if let numeric = RuleDecimal(parsing: rest.lowercased()), numeric.suffix.isEmpty || numeric.suffix == "k" {
                let code = symbolCurrency == "$" ? dollarCurrency : symbolCurrency
                return token(try money(numeric, currency: code, span: RuleSpan(start: start, end: end)))
            }
        }
        if Self.isDigit(Unicode.Scalar(first)), let clock = Self.clock(lower) {
            return token(clock)
        }
        if Self.isDigit(Unicode.Scalar(first)) || (first == UInt8(ascii: ".") && bytes.count > 1),
            let numeric = RuleDecimal(parsing: lower)
        {
            switch numeric.suffix {
            case "": return token(.number(numeric.value))
            case "%": return token(.percent(numeric.value))
            case "x", "×": return token(.mult(numeric.value))
            case "k": return token(.number(numeric.value * 1000))
            case "am", "a.m", "pm", "p.m":
                if let clock = Self.meridiemClock(hour: numeric.value, minute: 0, suffix: numeric.suffix) { return token(clock) }
            default:
                if let unit = Self.durationUnits[numeric.suffix] ?? Self.gluedDurationUnits[numeric.suffix] {
                    return token(.duration(seconds: numeric.value * unit))
                }
                if Self.calendarUnits.contains(numeric.suffix) {
                    throw Self.calendarError(RuleSpan(start: start, end: end), found: rawText)
                }
            }
            return token(.word)
        }
        if lower.hasPrefix("sku-") {
            if bytes.count == 4 { return token(.skuPrefix("SKU-")) }
            if bytes.contains(UInt8(ascii: "*")) { return token(.skuGlob(rawText.uppercased())) }
            if lower.hasSuffix("-") { return token(.skuPrefix(rawText.uppercased())) }
            return token(.sku(rawText.uppercased()))
        }
        let rawBytes = rawText.utf8
        if Self.isUpperSku(rawBytes) { return token(.sku(rawText)) }
        if Self.isUpperPrefix(rawBytes) { return token(.skuPrefix(rawText)) }
        if Self.isUpperGlob(rawBytes) { return token(.skuGlob(rawText)) }
        if let knownSkus, knownSkus.contains(rawText.uppercased()) { return token(.sku(rawText.uppercased())) }
        return token(.word)
    }

    /// `$` means the store currency when it is a dollar currency, otherwise USD.
    private var dollarCurrency: String {
        ["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"].contains(currency) ? currency : "USD"
    }

    private func money(_ numeric: RuleDecimal, currency code: String, span: RuleSpan) throws(RuleParseError) -> RuleToken.Kind {
        guard code == currency else {
            throw RuleParseError(
                code: .unsupported,
                message: "Only \(currency) amounts are supported; \(code) is not this store's currency.",
                span: span,
                found: text(span.start, span.end),
                expected: ["\(currency) amount"],
                hint: "Write amounts in the store currency (\(currency))."
            )
        }
        let exponent = Money.minorUnitDigits(code)
        guard numeric.value < 1e12 else {
            throw RuleParseError(
                code: .outOfRange,
                message: "This money amount is too large.",
                span: span,
                found: text(span.start, span.end),
                expected: ["money amount"]
            )
        }
        guard let minor = numeric.minorUnits(exponent: exponent) else {
            throw RuleParseError(
                code: .typeMismatch,
                message: "A money amount has at most \(exponent) decimals.",
                span: span,
                found: text(span.start, span.end),
                expected: ["money amount"],
                hint: "Write amounts like $29.99."
            )
        }
        return .money(amount: minor, currency: code)
    }

    static func calendarError(_ span: RuleSpan, found: String) -> RuleParseError {
        RuleParseError(
            code: .unsupported,
            message: "Months and years are not supported because their length depends on the calendar.",
            span: span,
            found: found,
            expected: ["minutes", "hours", "days", "weeks"],
            hint: "Use days or weeks instead, e.g. 'in the last 30 days'."
        )
    }

    // MARK: - Pass 2: number words

    private static let smallNumbers: [String: Int] = [
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
        "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
        "seventeen": 17, "eighteen": 18, "nineteen": 19,
    ]
    private static let scales: Set<String> = ["hundred", "thousand", "dozen"]
    /// Every number word below one hundred, and the letters they start with (a cheap filter before hashing).
    private static let basicNumbers: [String: Int] = smallNumbers.merging(tens) { first, _ in first }
    private static let numberInitials: Set<UInt8> = Set(basicNumbers.keys.compactMap(\.utf8.first))
    private static let meridiems: Set<String> = ["am", "pm", "a.m", "p.m"]
    private static let calendarAdverbs: Set<String> = ["monthly", "yearly", "annually", "quarterly"]
    private static let tens: [String: Int] = [
        "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    ]

    /// The value of a number word below one hundred, including hyphenated forms such as `twenty-five`.
    private static func basicNumber(_ word: String) -> Int? {
        guard let first = word.utf8.first, numberInitials.contains(first), word.utf8.count >= 3, word.utf8.count <= 15 else {
            return nil
        }
        if let value = basicNumbers[word] { return value }
        guard word.utf8.contains(UInt8(ascii: "-")) else { return nil }
        let parts = word.split(separator: "-")
        if parts.count == 2, let ten = tens[String(parts[0])], let unit = smallNumbers[String(parts[1])], unit < 10, unit > 0 {
            return ten + unit
        }
        return nil
    }

    private func mergeNumberWords(_ tokens: [RuleToken]) -> [RuleToken] {
        var out: [RuleToken] = []
        out.reserveCapacity(tokens.count)
        var index = 0
        while index < tokens.count {
            if let (token, next) = numberWords(tokens, at: index) {
                out.append(token)
                index = next
            } else {
                out.append(tokens[index])
                index += 1
            }
        }
        return out
    }

    private func numberWords(_ tokens: [RuleToken], at start: Int) -> (RuleToken, Int)? {
        guard case .word = tokens[start].kind else { return nil }
        let firstWord = tokens[start].lower
        if firstWord == "a" || firstWord == "an" {
            guard start + 1 < tokens.count, Self.scales.contains(tokens[start + 1].lower) else { return nil }
        } else if Self.basicNumber(firstWord) == nil, !Self.scales.contains(firstWord) {
            return nil
        }
        var index = start
        var total = 0
        var current = 0
        var sawNumber = false
        var lastWasScale = false
        var lastWasBasic = false
        while index < tokens.count, case .word = tokens[index].kind {
            let word = tokens[index].lower
            let nextWord = index + 1 < tokens.count ? tokens[index + 1].lower : ""
            if !sawNumber, word == "a" || word == "an", Self.scales.contains(nextWord) {
                current = 1
                sawNumber = true
                index += 1
                continue
            }
            if let value = Self.basicNumber(word) {
                if lastWasBasic { break }
                current += value
                lastWasBasic = true
                lastWasScale = false
            } else if word == "hundred" {
                current = (current == 0 ? 1 : current) * 100
                lastWasScale = true
                lastWasBasic = false
            } else if word == "thousand" {
                total += (current == 0 ? 1 : current) * 1000
                current = 0
                lastWasScale = true
                lastWasBasic = false
            } else if word == "dozen" {
                current = (current == 0 ? 1 : current) * 12
                lastWasScale = true
                lastWasBasic = false
            } else if word == "and", lastWasScale, Self.basicNumber(nextWord) != nil {
                index += 1
                continue
            } else {
                break
            }
            sawNumber = true
            index += 1
        }
        guard sawNumber, index > start else { return nil }
        let last = tokens[index - 1]
        let lower = tokens[start..<index].map(\.lower).joined(separator: " ")
        return (
            RuleToken(kind: .number(Double(total + current)), lower: lower, start: tokens[start].start, end: last.end),
            index
        )
    }

    // MARK: - Pass 3: multi-token literals

    static let durationUnits: [String: Double] = [
        "sec": 1, "secs": 1, "second": 1, "seconds": 1,
        "min": 60, "mins": 60, "minute": 60, "minutes": 60,
        "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
        "day": 86400, "days": 86400,
        "week": 604_800, "weeks": 604_800, "wk": 604_800, "wks": 604_800,
    ]
    private static let gluedDurationUnits: [String: Double] = ["s": 1, "m": 60, "d": 86400, "w": 604_800]
    static let calendarUnits: Set<String> = ["month", "months", "mo", "mos", "year", "years", "yr", "yrs"]
    private static let calendarLeads: Set<String> = ["a", "an", "the", "last", "past", "every", "each", "per", "one"]
    private static let moneyWords: [String: String] = [
        "dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD", "euro": "EUR", "euros": "EUR", "eur": "EUR",
        "pounds": "GBP", "gbp": "GBP", "cad": "CAD", "aud": "AUD", "yen": "JPY", "jpy": "JPY",
    ]
    private static let moneyCodes: Set<String> = ["usd", "eur", "gbp", "cad", "aud", "jpy"]

    /// The ISO 4217 code a token spells when it is written in capitals and is an active code (`5 KWD`, `CLF 2.5`); lower-case
    /// words that happen to be codes ("all", "top", "try") stay words.
    private func isoCode(_ token: RuleToken?) -> String? {
        guard let token, token.lower.utf8.count == 3 else { return nil }
        let raw = text(token.start, token.end)
        guard raw.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }), ISO4217.isActive(raw) else { return nil }
        return raw
    }

    private func mergeLiterals(_ tokens: [RuleToken]) throws(RuleParseError) -> [RuleToken] {
        var out: [RuleToken] = []
        out.reserveCapacity(tokens.count)
        var index = 0
        func word(_ offset: Int) -> String? {
            let position = index + offset
            guard position < tokens.count, tokens[position].isWordLike else { return nil }
            return tokens[position].lower
        }
        func merged(_ kind: RuleToken.Kind, _ length: Int) -> RuleToken {
            let lower = tokens[index..<(index + length)].map(\.lower).joined(separator: " ")
            return RuleToken(kind: kind, lower: lower, start: tokens[index].start, end: tokens[index + length - 1].end)
        }
        while index < tokens.count {
            let token = tokens[index]
            let next = word(1)
            if let initial = token.lower.utf8.first,
                initial == UInt8(ascii: "m") || initial == UInt8(ascii: "y")
                    || initial == UInt8(ascii: "a") || initial == UInt8(ascii: "q"),
                Self.calendarUnits.contains(token.lower) || Self.calendarAdverbs.contains(token.lower)
            {
                let previous = out.last
                let leads = previous.map { Self.calendarLeads.contains($0.lower) || $0.number != nil } ?? false
                if leads || token.lower.hasSuffix("ly") {
                    let start = leads ? (previous?.start ?? token.start) : token.start
                    throw Self.calendarError(RuleSpan(start: start, end: token.end), found: text(start, token.end))
                }
            }
            switch token.kind {
            case .number(let value):
                if let next, next == "percent" || next == "pct" || next == "%" {
                    out.append(merged(.percent(value), 2))
                    index += 2
                    continue
                }
                if next == "per", word(2) == "cent" {
                    out.append(merged(.percent(value), 3))
                    index += 3
                    continue
                }
                if next == "times" {
                    out.append(merged(.mult(value), 2))
                    index += 2
                    continue
                }
                if let next, let code = Self.moneyWords[next] ?? isoCode(index + 1 < tokens.count ? tokens[index + 1] : nil) {
                    let numeric = RuleDecimal(value: value, text: token.lower)
                    let span = RuleSpan(start: token.start, end: tokens[index + 1].end)
                    out.append(merged(try money(numeric, currency: code, span: span), 2))
                    index += 2
                    continue
                }
                if let next, Self.meridiems.contains(next),
                    let clock = Self.meridiemClock(hour: value, minute: 0, suffix: next)
                {
                    out.append(merged(clock, 2))
                    index += 2
                    continue
                }
                if let next, let unit = Self.durationUnits[next] {
                    var seconds = value * unit
                    var length = 2
                    if word(2) == "and", word(3) == "a", word(4) == "half" {
                        seconds += unit / 2
                        length = 5
                    }
                    out.append(merged(.duration(seconds: seconds), length))
                    index += length
                    continue
                }
                if let next, Self.calendarUnits.contains(next) {
                    let span = RuleSpan(start: token.start, end: tokens[index + 1].end)
                    throw Self.calendarError(span, found: text(span.start, span.end))
                }
            case .clock(let hour, let minute, .none):
                if let next, Self.meridiems.contains(next),
                    let clock = Self.meridiemClock(hour: Double(hour), minute: minute, suffix: next)
                {
                    out.append(merged(clock, 2))
                    index += 2
                    continue
                }
            case .word, .sku:
                let lower = token.lower
                if lower == "$" || (lower.utf8.count == 3 && (Self.moneyCodes.contains(lower) || isoCode(token) != nil)), index + 1 < tokens.count,
                    case .number(let value) = tokens[index + 1].kind
                {
                    let code = lower == "$" ? dollarCurrency : lower.uppercased()
                    let numeric = RuleDecimal(value: value, text: tokens[index + 1].lower)
                    let span = RuleSpan(start: token.start, end: tokens[index + 1].end)
                    out.append(merged(try money(numeric, currency: code, span: span), 2))
                    index += 2
                    continue
                }
                if lower == "a" || lower == "an", let next, let unit = Self.durationUnits[next] {
                    var seconds = unit
                    var length = 2
                    if word(2) == "and", word(3) == "a", word(4) == "half" {
                        seconds += unit / 2
                        length = 5
                    }
                    out.append(merged(.duration(seconds: seconds), length))
                    index += length
                    continue
                }
                if lower == "a" || lower == "an", next == "half", let unitWord = word(2), let unit = Self.durationUnits[unitWord] {
                    out.append(merged(.duration(seconds: unit / 2), 3))
                    index += 3
                    continue
                }
                if lower == "half" {
                    if let next, next == "a" || next == "an", let unitWord = word(2), let unit = Self.durationUnits[unitWord] {
                        out.append(merged(.duration(seconds: unit / 2), 3))
                        index += 3
                        continue
                    }
                    if let next, let unit = Self.durationUnits[next] {
                        out.append(merged(.duration(seconds: unit / 2), 2))
                        index += 2
                        continue
                    }
                }
            default:
                break
            }
            out.append(token)
            index += 1
        }
        return mergeDurationSums(out)
    }

    /// `2 hours and 30 minutes` is one duration.
    private func mergeDurationSums(_ tokens: [RuleToken]) -> [RuleToken] {
        var out: [RuleToken] = []
        out.reserveCapacity(tokens.count)
        for token in tokens {
            if case .duration(let seconds) = token.kind, out.count >= 2, out[out.count - 1].isWord("and"),
                case .duration(let previous) = out[out.count - 2].kind
            {
                let first = out[out.count - 2]
                out.removeLast(2)
                out.append(
                    RuleToken(
                        kind: .duration(seconds: previous + seconds),
                        lower: first.lower + " and " + token.lower,
                        start: first.start,
                        end: token.end
                    )
                )
            } else {
                out.append(token)
            }
        }
        return out
    }

    /// Drops sentence-final punctuation, turns other stops into commas, and collapses repeated commas.
    private func finishPunctuation(_ tokens: inout [RuleToken]) {
        while let last = tokens.last, last.isComma { tokens.removeLast() }
        var out: [RuleToken] = []
        out.reserveCapacity(tokens.count)
        for var token in tokens {
            if token.isComma {
                token.lower = ","
                if out.isEmpty || out[out.count - 1].isComma { continue }
            }
            out.append(token)
        }
        tokens = out
    }

    // MARK: - Small recognisers

    private static func clock(_ lower: String) -> RuleToken.Kind? {
        let bytes = Array(lower.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon >= 1, colon <= 2, bytes.count >= colon + 3 else { return nil }
        let hourBytes = bytes[0..<colon]
        let minuteBytes = bytes[(colon + 1)..<(colon + 3)]
        guard hourBytes.allSatisfy({ isDigitByte($0) }), minuteBytes.allSatisfy({ isDigitByte($0) }) else { return nil }
        let hour = Int(String(decoding: hourBytes, as: UTF8.self)) ?? 99
        let minute = Int(String(decoding: minuteBytes, as: UTF8.self)) ?? 99
        let suffix = String(decoding: bytes[(colon + 3)...], as: UTF8.self)
        guard minute < 60 else { return nil }
        if suffix.isEmpty {
            guard hour < 24 else { return nil }
            let meridiem: RuleToken.Meridiem = (colon == 2 || hour >= 13 || hour == 0) ? .twentyFour : .none
            return .clock(hour: hour, minute: minute, meridiem: meridiem)
        }
        return meridiemClock(hour: Double(hour), minute: minute, suffix: suffix)
    }

    static func meridiemClock(hour value: Double, minute: Int, suffix: String) -> RuleToken.Kind? {
        guard value.rounded() == value, value >= 1, value <= 12 else { return nil }
        let hour = Int(value)
        switch suffix {
        case "am", "a.m": return .clock(hour: hour == 12 ? 0 : hour, minute: minute, meridiem: .am)
        case "pm", "p.m": return .clock(hour: hour == 12 ? 12 : hour + 12, minute: minute, meridiem: .pm)
        default: return nil
        }
    }

    private static func currencySymbol(_ scalar: Unicode.Scalar?) -> String? {
        switch scalar {
        case "$": "$"
        case "€": "EUR"
        case "£": "GBP"
        case "¥": "JPY"
        default: nil
        }
    }

    private static func isEmail(_ lower: String) -> Bool {
        let parts = lower.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }), let tld = labels.last, tld.count >= 2 else { return false }
        return tld.allSatisfy(\.isLetter)
    }

    private static func isUpperSku(_ bytes: String.UTF8View) -> Bool {
        guard let first = bytes.first, isUpperByte(first), bytes.contains(UInt8(ascii: "-")) else { return false }
        var previousHyphen = false
        for byte in bytes.dropFirst() {
            if byte == UInt8(ascii: "-") {
                if previousHyphen { return false }
                previousHyphen = true
            } else if isUpperByte(byte) || isDigitByte(byte) {
                previousHyphen = false
            } else {
                return false
            }
        }
        return !previousHyphen
    }

    private static func isUpperPrefix(_ bytes: String.UTF8View) -> Bool {
        guard let first = bytes.first, isUpperByte(first), bytes.last == UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { isUpperByte($0) || isDigitByte($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isUpperGlob(_ bytes: String.UTF8View) -> Bool {
        guard bytes.contains(UInt8(ascii: "*")) else { return false }
        return bytes.allSatisfy { isUpperByte($0) || isDigitByte($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "*") }
    }

    /// The chunk as written and lower-cased, built in one pass for ASCII text.
    private func texts(_ start: Int, _ end: Int) -> (String, String) {
        var raw: [UInt8] = []
        var lower: [UInt8] = []
        raw.reserveCapacity(end - start)
        lower.reserveCapacity(end - start)
        for scalar in scalars[start..<end] {
            let value = scalar.value
            if value >= 0x80 {
                let text = text(start, end)
                return (text, text.lowercased())
            }
            let byte = UInt8(value)
            raw.append(byte)
            lower.append((0x41...0x5A).contains(byte) ? byte + 32 : byte)
        }
        return (String(decoding: raw, as: UTF8.self), String(decoding: lower, as: UTF8.self))
    }

    private func text(_ start: Int, _ end: Int) -> String {
        var out = String.UnicodeScalarView()
        var ascii = true
        for scalar in scalars[start..<end] {
            switch scalar.value {
            case 0x2018, 0x2019: out.append("'")
            case 0x201C, 0x201D, 0x201E: out.append("\"")
            case 0x2013, 0x2014: out.append("-")
            default:
                if scalar.value > 0x7F { ascii = false }
                out.append(scalar)
            }
        }
        let string = String(out)
        return ascii ? string : string.precomposedStringWithCanonicalMapping
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { (0x30...0x39).contains(scalar.value) }
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return (0x41...0x5A).contains(scalar.value) || (0x61...0x7A).contains(scalar.value) }
        return scalar.properties.isAlphabetic
    }
    static func isAlnum(_ scalar: Unicode.Scalar) -> Bool { isDigit(scalar) || isLetter(scalar) }
    private static func isDoubleQuote(_ scalar: Unicode.Scalar) -> Bool { [0x22, 0x201C, 0x201D, 0x201E].contains(scalar.value) }
    private static func isSingleQuote(_ scalar: Unicode.Scalar) -> Bool { [0x27, 0x2018, 0x2019].contains(scalar.value) }
    private static func lowerASCII(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar
    }
    private static func isUpperByte(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) }
    private static func isDigitByte(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    private static func isSlackByte(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || isDigitByte(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
