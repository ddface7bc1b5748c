/// Actions (§3.7, §4.4) and the action list with its separators (§3.1).
extension RuleGrammarParser {
    typealias Action = RuleSyntax.Action

    // MARK: - Action list

    /// `action_list = action { action_sep action }`; `or` between actions is parsed and reported as E_AMBIGUOUS.
    func actionList(first: Bool) -> ([Action], [RuleIssue])? {
        guard var list = action(first ? .firstAction : .nextAction) else { return nil }
        var issues: [RuleIssue] = []
        while true {
            let save = pos
            optionalComma()
            let orPosition = pos
            if word("or") {
                word("else")
                if let next = action(.nextAction) {
                    issues.append(
                        RuleIssue(
                            .structure,
                            RuleParseError(
                                code: .ambiguous,
                                message: "Actions cannot be alternatives: 'or' between actions has no single meaning.",
                                span: tokens[orPosition].span,
                                found: "or",
                                expected: ["and", "then"],
                                hint: "Use 'and' to do both, or write two rules with different conditions."
                            )
                        )
                    )
                    list += next
                    continue
                }
                pos = save
                break
            }
            var separated = pos != save
            if word("and") { separated = true }
            if word("then") { separated = true }
            if word("also") { separated = true }
            guard separated, let next = action(.nextAction) else {
                pos = save
                break
            }
            list += next
        }
        return (list, issues)
    }

    /// One action (a notify with several targets gives several actions).
    func action(_ label: RuleExpectation) -> [Action]? {
        let start = pos
        expect(label)
        return inSlot(.action(start: start)) {
            fillers()
            let verbStart = pos
            var match = RuleLongestMatch<[Action]>(start: verbStart)
            match.consider(self, notifyAction())
            match.consider(self, sendAction())
            match.consider(self, mediumAction())
            match.consider(self, passiveNotifyAction())
            match.consider(self, pauseResumeAction())
            match.consider(self, passiveListingAction())
            match.consider(self, safetyStockAction())
            match.consider(self, multiplierAction())
            match.consider(self, bufferAction())
            match.consider(self, setPriceAction())
            match.consider(self, adjustPriceAction())
            match.consider(self, reorderAction())
            match.consider(self, purchaseOrderAction())
            match.consider(self, rerouteAction())
            match.consider(self, tagOrderAction())
            match.consider(self, reconcileAction())
            match.consider(self, prioritizeAction())
            match.consider(self, waitAction())
            guard var actions = match.finish(self) else { return nil }
            actionTail(&actions, start: start)
            return actions
        }
    }

    /// `now`, `right away`, and delays (`in 2 hours`, `2 hours later`, `tomorrow`), which are unsupported.
    private func actionTail(_ actions: inout [Action], start: Int) {
        while true {
            if word("now") || words("right", "away") || word("immediately") || words("as", "well") || word("too") { continue }
            let save = pos
            if word("in") || word("after"), case .duration = token.kind {
                pos += 1
                actions[0].issues.append(Self.unsupportedDelay(span(from: save)))
                continue
            }
            pos = save
            if case .duration = token.kind, peek(1).isWord("later") || peek(1).isWord("from") {
                pos += 2
                word("now")
                actions[0].issues.append(Self.unsupportedDelay(span(from: save)))
                continue
            }
            if word("tomorrow") || word("later") {
                actions[0].issues.append(Self.unsupportedDelay(span(from: save)))
                continue
            }
            return
        }
    }

    private func makeAction(_ action: RuleAction, start: Int, item: Item? = nil) -> Action {
        Action(action: action, item: item, span: span(from: start))
    }

    static func missing(_ what: String, span: RuleSpan, found: String, hint: String) -> RuleIssue {
        RuleIssue(
            .missing,
            RuleParseError(
                code: .missingArgument,
                message: "This action needs \(what).",
                span: span,
                found: found,
                expected: [what],
                hint: hint
            )
        )
    }

    /// True when the next word (after an optional `the`) is an unknown word: a name the catalog does not have, which
    /// the furthest-failure error reports better than a missing argument would.
    private func nextIsUnknownName() -> Bool {
        var probe = pos
        if tokens[probe].isWord("the") { probe += 1 }
        let next = tokens[probe]
        return next.isWordLike && !RuleLexicon.known.contains(next.lower)
    }

    // MARK: - notify

    private static let notifyVerbs: [[String]] = [["notify"], ["tell"], ["alert"], ["page"], ["ping"], ["message"], ["inform"], ["warn"]]
    private static let media: [([String], RuleNotifyMedium)] = [
        (["slack"], .slack), (["email"], .email), (["e-mail"], .email), (["a", "webhook"], .webhook), (["webhook"], .webhook),
        (["default"], .default), (["the", "default"], .default),
    ]

    private static let passiveNotifyVerbs: [(String, RuleNotifyMedium?)] = [
        ("notified", nil), ("alerted", nil), ("pinged", nil), ("paged", nil), ("messaged", nil), ("told", nil),
        ("emailed", .email), ("slacked", .slack),
    ]

    private struct Target {
        var to: String
        var medium: RuleNotifyMedium?
        var span: RuleSpan
    }

    private func target(committed: Bool) -> Target? {
        let current = token
        switch current.kind {
        case .email(let email):
            pos += 1
            return Target(to: email, medium: .email, span: current.span)
        case .slack(let channel):
            pos += 1
            return Target(to: channel, medium: .slack, span: current.span)
        case .url(let url):
            pos += 1
            return Target(to: url, medium: .webhook, span: current.span)
        default:
            break
        }
        if let entity = entity(.target, committed: committed) { return Target(to: entity.id, medium: nil, span: entity.span) }
        return nil
    }

    private func targetList(committed: Bool) -> [Target]? {
        guard let first = target(committed: committed) else { return nil }
        var targets = [first]
        while true {
            let save = pos
            optionalComma()
            let afterComma = pos
            word("and")
            guard pos != save, let next = target(committed: pos != afterComma && afterComma == save) else {
                pos = save
                break
            }
            targets.append(next)
        }
        return targets
    }

    /// `via slack`, `with "message"` in either order.
    private func notifyOptions() -> (medium: RuleNotifyMedium?, message: String?) {
        var medium: RuleNotifyMedium?
        var message: String?
        while true {
            let save = pos
            if medium == nil, word("via") || word("by") || word("over") || word("through") || word("on") {
                if let found = Self.media.first(where: { words($0.0) }) {
                    medium = found.1
                    continue
                }
                pos = save
            }
            if message == nil {
                if word("with") || word("saying") {
                    if !words("the", "message") && !words("a", "message") { _ = word("message") || word("note") }
                }
                if case .quoted(let text) = token.kind {
                    pos += 1
                    message = text
                    continue
                }
                pos = save
            }
            return (medium, message)
        }
    }

    private func notifyActions(_ targets: [Target], verbMedium: RuleNotifyMedium?, start: Int) -> [Action] {
        let options = notifyOptions()
        let span = span(from: start)
        return targets.map { target in
            var action = RuleAction(type: .notify)
            action.to = target.to
            action.message = options.message
            let explicit = options.medium ?? verbMedium
            action.via = explicit ?? target.medium ?? .default
            var built = Action(action: action, span: span)
            if let explicit, let implied = target.medium, explicit != implied, explicit != .default {
                built.issues.append(
                    RuleIssue(
                        .type,
                        RuleParseError(
                            code: .typeMismatch,
                            message: "'\(target.to)' cannot be reached via \(explicit.rawValue).",
                            span: target.span,
                            found: target.to,
                            expected: ["\(explicit.rawValue) target"],
                            hint: "Emails go via email, #channels via Slack, https:// URLs via webhook."
                        )
                    )
                )
            }
            return built
        }
    }

    /// `notify ops`, `tell ops and purchasing`, `alert the on-call via Slack`, `notify ops with "…"`.
    private func notifyAction() -> [Action]? {
        let start = pos
        guard oneOf(Self.notifyVerbs) != nil else { return nil }
        guard let targets = targetList(committed: true) else {
            if nextIsUnknownName() { return nil }
            var action = makeAction(RuleAction(type: .notify), start: start)
            action.issues.append(
                Self.missing(
                    "a notification target",
                    span: action.span,
                    found: text(action.span),
                    hint: "Name a team or person (e.g. 'notify ops'), an email address, a #slack-channel or an https:// URL."
                )
            )
            return [action]
        }
        return notifyActions(targets, verbMedium: nil, start: start)
    }

    /// `email purchasing`, `slack #inventory-alerts`, `Slack the ops team`, `post to https://…`.
    private func mediumAction() -> [Action]? {
        let start = pos
        let medium: RuleNotifyMedium?
        if word("email") || word("e-mail") {
            medium = .email
        } else if word("slack") {
            medium = .slack
        } else if word("post") || word("send") {
            if !words("a", "message") { word("it") }
            guard word("to") || word("in") || word("on") else { return nil }
            medium = nil
        } else {
            return nil
        }
        guard let targets = targetList(committed: true) else { return nil }
        return notifyActions(targets, verbMedium: medium, start: start)
    }

    /// `send an alert` (target missing), `send an email to ops`, `send a Slack message to #ops`.
    private func sendAction() -> [Action]? {
        let start = pos
        guard word("send") else { return nil }
        if !word("an") { word("a") }
        let medium: RuleNotifyMedium?
        if word("alert") || word("notification") || word("message") || word("note") || word("ping") || word("page") {
            medium = nil
        } else if word("email") || word("e-mail") {
            medium = .email
        } else if word("slack") {
            word("message")
            medium = .slack
        } else if word("webhook") {
            medium = .webhook
        } else {
            return nil
        }
        if word("to") {
            guard let targets = targetList(committed: true) else { return nil }
            return notifyActions(targets, verbMedium: medium, start: start)
        }
        _ = notifyOptions()
        var action = makeAction(RuleAction(type: .notify), start: start)
        action.issues.append(
            Self.missing(
                "a notification target",
                span: action.span,
                found: text(action.span),
                hint: "Say who to notify, e.g. 'send an alert to ops' or 'notify ops'."
            )
        )
        return [action]
    }

    /// `ops should be notified`, `dana must be emailed`.
    private func passiveNotifyAction() -> [Action]? {
        let start = pos
        guard let targets = targetList(committed: false) else { return nil }
        guard word("should") || word("must") || word("will"), word("be") || word("get") else { return nil }
        guard let verb = Self.passiveNotifyVerbs.first(where: { word($0.0) }) else { return nil }
        return notifyActions(targets, verbMedium: verb.1, start: start)
    }

    // MARK: - pause / resume

    private struct ListingObject {
        var item: Item?
        var channels: [String] = []
        var all = false
        var exclude: [String] = []
        var pronounLike = false
    }

    private func listingObject() -> ListingObject? {
        var match = RuleLongestMatch<ListingObject>(start: pos)
        match.consider(self, listingNounObject())
        match.consider(self, itemListingObject())
        return match.finish(self)
    }

    /// `the Amazon listing`, `the listing for MUG-11OZ on eBay`, `the Amazon and eBay listings`.
    private func listingNounObject() -> ListingObject? {
        let start = pos
        if !word("the") && !word("that") && !word("this") { _ = word("its") }
        var object = ListingObject(pronounLike: true)
        if let channels = channelList(committed: namesUnknownListing()) { object.channels = channels }
        guard word("listing") || word("listings") else { return nil }
        let nounSpan = span(from: start)
        let save = pos
        if word("for") || word("of") {
            if let item = itemPhrase() {
                object.item = item
                object.pronounLike = false
            } else {
                pos = save
            }
        }
        applyChannelSet(&object)
        if object.item == nil { object.item = Item(ref: .pronoun, span: nounSpan) }
        return object
    }

    /// True when up to four words before the next `listing(s)` include one the lexicon does not know: in `the Zalando
    /// listing` the name can only be a channel, so a miss there is an unknown channel rather than an unknown word.
    private func namesUnknownListing() -> Bool {
        var probe = pos
        var unknown = false
        while probe < tokens.count, probe - pos < 4 {
            let token = tokens[probe]
            if token.isWord("listing") || token.isWord("listings") { return unknown }
            guard token.isWordLike else { return false }
            if !RuleLexicon.known.contains(token.lower) { unknown = true }
            probe += 1
        }
        return false
    }

    /// `it on Amazon and eBay`, `SKU-9 on eBay`, `every SKU tagged handmade on Etsy`, `it everywhere`, `SKU-1's listing`.
    private func itemListingObject() -> ListingObject? {
        guard let item = itemPhrase() else { return nil }
        var object = ListingObject(item: item, pronounLike: item.isPronoun)
        if case .possessive = token.kind {
            pos += 1
            if let channels = channelList(committed: false) { object.channels = channels }
            guard word("listing") || word("listings") else { return nil }
        } else if word("listing") || word("listings") {
        }
        applyChannelSet(&object)
        return object
    }

    private func applyChannelSet(_ object: inout ListingObject) {
        guard let set = channelSetPhrase() else { return }
        if set.all {
            object.all = true
            object.exclude = set.exclude
        } else {
            object.channels += set.channels
        }
    }

    private func listingAction(_ type: RuleActionType, _ object: ListingObject, start: Int) -> Action {
        var action = RuleAction(type: type)
        if object.all {
            action.channels = ["all"]
            if !object.exclude.isEmpty { action.excludeChannels = Array(Set(object.exclude)).sorted() }
        } else if !object.channels.isEmpty {
            action.channels = Array(Set(object.channels)).sorted()
        }
        var built = makeAction(action, start: start, item: object.item)
        built.needsChannels = true
        built.inheritsChannel = object.pronounLike && action.channels == nil
        return built
    }

    /// `pause the Amazon listing`, `resume it everywhere`, `relist SKU-1 on Etsy`.
    private func pauseResumeAction() -> [Action]? {
        let start = pos
        let type: RuleActionType
        if word("pause") || word("suspend") {
            type = .pauseListing
        } else if word("resume") || word("relist") || word("unpause") || word("reactivate") {
            type = .resumeListing
        } else {
            return nil
        }
        guard let object = listingObject() else {
            if nextIsUnknownName() { return nil }
            var action = makeAction(RuleAction(type: type), start: start)
            action.issues.append(
                Self.missing(
                    "a listing",
                    span: action.span,
                    found: text(action.span),
                    hint: "Say which listing, e.g. 'pause the Amazon listing' or 'pause it on eBay'."
                )
            )
            return [action]
        }
        return [listingAction(type, object, start: start)]
    }

    /// `the Amazon listing for SKU-17 should be paused`, `it should be resumed on Etsy`.
    private func passiveListingAction() -> [Action]? {
        let start = pos
        guard var object = listingObject() else { return nil }
        guard word("should") || word("must") || word("will"), word("be") || word("get") else { return nil }
        let type: RuleActionType
        if word("paused") || word("suspended") {
            type = .pauseListing
        } else if word("resumed") || word("relisted") || word("unpaused") || word("reactivated") {
            type = .resumeListing
        } else {
            return nil
        }
        applyChannelSet(&object)
        return [listingAction(type, object, start: start)]
    }

    // MARK: - safety stock

    private struct ItemPlace {
        var item: Item?
        var locations: [String] = []
    }

    /// `for X`, `at Reno` around safety-stock and buffer phrases.
    private func itemPlaceModifiers(_ found: inout ItemPlace) {
        while true {
            let save = pos
            if found.item == nil, word("for") || word("of") {
                if let item = itemPhrase() {
                    found.item = item
                    continue
                }
                pos = save
            }
            if let location = place() {
                found.locations.append(location)
                continue
            }
            return
        }
    }

    private func safetyStockNoun() -> Bool {
        word("the")
        return words("safety", "stock")
    }

    /// `set safety stock to 20`, `raise safety stock at Reno to 30 units`, `safety stock should be set to 10`.
    private func safetyStockAction() -> [Action]? {
        let start = pos
        var modifiers = ItemPlace()
        var passive = false
        if word("set") || word("raise") || word("increase") || word("lower") || word("reduce") || word("bump") || word("cut") {
            word("up")
            guard safetyStockNoun() else { return nil }
        } else {
            guard safetyStockNoun() else { return nil }
            passive = true
        }
        itemPlaceModifiers(&modifiers)
        if passive {
            guard word("should") || word("must"), word("be"),
                word("set") || word("raised") || word("lowered") || word("increased") || word("reduced")
            else { return nil }
        }
        guard word("to") || word("at"), let units = quantity() else { return nil }
        unitsTail()
        itemPlaceModifiers(&modifiers)
        var action = RuleAction(type: .setSafetyStock)
        if !modifiers.locations.isEmpty { action.locations = Array(Set(modifiers.locations)).sorted() }
        var built = makeAction(action, start: start, item: modifiers.item)
        unitsValue(units, into: &built, minimum: 0) { $0.action.units = $1 }
        return [built]
    }

    /// Stores a whole-unit count, or records a type / range issue.
    func unitsValue(_ quantity: Qty, into action: inout Action, minimum: Int, _ store: (inout Action, Int) -> Void) {
        guard case .count(let value) = quantity.value else {
            action.issues.append(
                RuleIssue(
                    .type,
                    RuleParseError(
                        code: .typeMismatch,
                        message: "This needs a whole number of units, not \(quantity.value.typeName).",
                        span: quantity.span,
                        found: text(quantity.span),
                        expected: ["number of units"]
                    )
                )
            )
            return
        }
        guard value.rounded() == value else {
            action.issues.append(
                RuleIssue(
                    .type,
                    RuleParseError(
                        code: .typeMismatch,
                        message: "Units must be whole numbers.",
                        span: quantity.span,
                        found: text(quantity.span),
                        expected: ["whole number of units"]
                    )
                )
            )
            return
        }
        guard value >= Double(minimum), value < 1e9 else {
            action.issues.append(
                RuleIssue(
                    .range,
                    RuleParseError(
                        code: .outOfRange,
                        message: "The number of units must be at least \(minimum).",
                        span: quantity.span,
                        found: text(quantity.span),
                        expected: ["\(minimum) or more units"]
                    )
                )
            )
            return
        }
        store(&action, Int(value))
    }

    private static let multiplyVerbs: [(String, Double)] = [("double", 2), ("triple", 3), ("quadruple", 4)]
    private static let multipliedWords: [(String, Double)] = [("doubled", 2), ("tripled", 3), ("quadrupled", 4)]
    private static let scaleVerbs: [(String, Double)] = [
        ("increase", 1), ("raise", 1), ("bump", 1), ("lower", -1), ("reduce", -1), ("cut", -1), ("decrease", -1),
    ]

    /// `set a safety stock multiplier of 1.5`, `double the safety stock`, `increase safety stock by 50%`.
    private func multiplierAction() -> [Action]? {
        let start = pos
        var modifiers = ItemPlace()
        var factor: Double?
        var factorSpan = RuleSpan(start: tokens[start].start, end: tokens[start].end)
        var issue: RuleIssue?
        if word("set") {
            guard word("a") || word("the"), words("safety", "stock"), word("multiplier") else { return nil }
            itemPlaceModifiers(&modifiers)
            guard word("of") || word("to"), let value = quantity() else { return nil }
            factorSpan = value.span
            switch value.value {
            case .count(let number), .mult(let number): factor = number
            default: issue = typeIssue(value, expected: "a factor such as 1.5")
            }
        } else if let multiple = Self.multiplyVerbs.first(where: { word($0.0) }) {
            guard safetyStockNoun() else { return nil }
            factor = multiple.1
        } else if let sign = Self.scaleVerbs.first(where: { word($0.0) })?.1 {
            word("up")
            guard safetyStockNoun() else { return nil }
            itemPlaceModifiers(&modifiers)
            guard word("by"), let value = quantity() else { return nil }
            factorSpan = value.span
            switch value.value {
            case .percent(let percent): factor = 1 + sign * percent / 100
            case .mult(let multiple) where sign > 0: factor = multiple
            default: issue = typeIssue(value, expected: "a percentage such as 50%")
            }
        } else {
            guard safetyStockNoun(), word("should") || word("must"), word("be") else { return nil }
            guard let multiple = Self.multipliedWords.first(where: { word($0.0) }) else { return nil }
            factor = multiple.1
        }
        itemPlaceModifiers(&modifiers)
        var action = RuleAction(type: .setSafetyStockMultiplier)
        if let factor {
            action.factor = RuleNumber((factor * 1_000_000).rounded() / 1_000_000)
        }
        var built = makeAction(action, start: start, item: modifiers.item)
        if let issue { built.issues.append(issue) }
        if let factor, !(factor > 0 && factor <= 10) {
            built.issues.append(
                RuleIssue(
                    .range,
                    RuleParseError(
                        code: .outOfRange,
                        message: "A safety stock multiplier must be above 0 and at most 10.",
                        span: factorSpan,
                        found: text(factorSpan),
                        expected: ["factor in (0, 10]"]
                    )
                )
            )
        }
        return [built]
    }

    func typeIssue(_ value: Qty, expected: String) -> RuleIssue {
        RuleIssue(
            .type,
            RuleParseError(
                code: .typeMismatch,
                message: "Expected \(expected), found \(value.value.typeName).",
                span: value.span,
                found: text(value.span),
                expected: [expected]
            )
        )
    }

    // MARK: - channel buffer

    /// `hold back 5 units on eBay`, `keep 3 units off Amazon and eBay`, `set a 5 unit buffer on Amazon`.
    private func bufferAction() -> [Action]? {
        let start = pos
        var modifiers = ItemPlace()
        var units: Qty?
        var channels: (channels: [String], all: Bool, exclude: [String])?
        if words("hold", "back") || word("reserve") {
            guard let value = quantity() else { return nil }
            units = value
            unitsTail()
            itemPlaceModifiers(&modifiers)
            channels = channelSetPhrase()
        } else if word("keep") {
            guard let value = quantity() else { return nil }
            units = value
            unitsTail()
            itemPlaceModifiers(&modifiers)
            if word("off") {
                if let list = channelList(committed: true) {
                    channels = (list, false, [])
                } else if words("all", "channels") || word("everywhere") {
                    channels = (["all"], true, [])
                } else {
                    return nil
                }
            } else {
                channels = channelSetPhrase()
                guard channels != nil || word("back") else { return nil }
            }
        } else if word("set") {
            if word("a") || word("an") {
                if word("buffer") {
                    guard word("of"), let value = quantity() else { return nil }
                    units = value
                    unitsTail()
                } else {
                    guard let value = quantity() else { return nil }
                    units = value
                    if !word("unit") { word("units") }
                    guard word("buffer") else { return nil }
                }
                itemPlaceModifiers(&modifiers)
                channels = channelSetPhrase()
            } else {
                word("the")
                let prefix = channelList(committed: false)
                guard word("buffer") else { return nil }
                itemPlaceModifiers(&modifiers)
                channels = channelSetPhrase() ?? prefix.map { ($0, false, []) }
                guard word("to"), let value = quantity() else { return nil }
                units = value
                unitsTail()
                if channels == nil { channels = channelSetPhrase() }
            }
        } else {
            return nil
        }
        itemPlaceModifiers(&modifiers)
        var action = RuleAction(type: .setChannelBuffer)
        if let channels, !channels.all, !channels.channels.isEmpty { action.channels = Array(Set(channels.channels)).sorted() }
        var built = makeAction(action, start: start, item: modifiers.item)
        built.needsChannels = true
        if let units {
            if case .percent = units.value {
                built.issues.append(typeIssue(units, expected: "a number of units (a buffer cannot be a percentage)"))
            } else {
                unitsValue(units, into: &built, minimum: 0) { $0.action.units = $1 }
            }
        }
        return [built]
    }

    // MARK: - prices

    private struct PriceObject {
        var item: Item?
        var channels: [String] = []
        var all = false
    }

    /// `the Amazon price of X`, `prices`, `the price for anything tagged sale`.
    private func priceObject() -> PriceObject? {
        var object = PriceObject()
        word("the")
        if let channels = channelList(committed: false) { object.channels = channels }
        if let item = attempt({ () -> Item? in
            guard let item = itemPhrase(allowPronoun: true), case .possessive = token.kind else { return nil }
            pos += 1
            return item
        }) {
            object.item = item
            if let channels = channelList(committed: false) { object.channels += channels }
        }
        guard word("price") || word("prices") else { return nil }
        let save = pos
        if object.item == nil, word("of") || word("for") {
            if let item = itemPhrase() { object.item = item } else { pos = save }
        }
        return object
    }

    private func priceChannels(_ object: inout PriceObject) {
        while true {
            let save = pos
            if let set = channelSetPhrase() {
                if set.all { object.all = true } else { object.channels += set.channels }
                continue
            }
            if object.item == nil, word("for") || word("of") {
                if let item = itemPhrase() {
                    object.item = item
                    continue
                }
            }
            pos = save
            if words("as", "well") || word("too") { continue }
            return
        }
    }

    private func priceAction(_ type: RuleActionType, _ object: PriceObject, start: Int) -> Action {
        var action = RuleAction(type: type)
        if !object.all, !object.channels.isEmpty { action.channels = Array(Set(object.channels)).sorted() }
        return makeAction(action, start: start, item: object.item)
    }

    /// `set the price to $29.99 on Amazon and eBay`, `set the eBay price back to $24.99`.
    private func setPriceAction() -> [Action]? {
        let start = pos
        let passive: Bool
        if word("set") {
            passive = false
        } else {
            passive = true
        }
        guard var object = priceObject() else { return nil }
        if passive {
            guard word("should") || word("must"), word("be"), word("set") else { return nil }
        }
        priceChannels(&object)
        word("back")
        guard word("to") || word("at"), let value = quantity() else { return nil }
        priceChannels(&object)
        return [moneyPrice(value, object: object, start: start)]
    }

    private func moneyPrice(_ value: Qty, object: PriceObject, start: Int) -> Action {
        var built = priceAction(.setPrice, object, start: start)
        if case .money(let amount, let currency) = value.value {
            built.action.price = RuleMoney(amount: amount, currency: currency)
        } else {
            built.issues.append(typeIssue(value, expected: "a money amount such as $24.99"))
        }
        return built
    }

    /// `raise the price of SKU-10 by $2 on Etsy`, `lower the Amazon price by $50`, `cut prices by 10%`.
    private func adjustPriceAction() -> [Action]? {
        let start = pos
        let sign: Int
        if word("raise") || word("increase") || word("bump") || word("hike") {
            sign = 1
        } else if word("lower") || word("cut") || word("reduce") || word("decrease") || word("drop") {
            sign = -1
        } else {
            return nil
        }
        if !word("up") { word("down") }
        guard var object = priceObject() else { return nil }
        if !word("up") { word("down") }
        priceChannels(&object)
        if word("to") {
            guard let value = quantity() else { return nil }
            priceChannels(&object)
            return [moneyPrice(value, object: object, start: start)]
        }
        word("by")
        guard let value = quantity() else { return nil }
        priceChannels(&object)
        var built = priceAction(.adjustPrice, object, start: start)
        switch value.value {
        case .percent(let percent):
            built.action.percent = RuleNumber(Double(sign) * percent)
            if sign < 0, percent >= 100 {
                built.issues.append(
                    RuleIssue(
                        .range,
                        RuleParseError(
                            code: .outOfRange,
                            message: "A price cut must be less than 100%.",
                            span: value.span,
                            found: text(value.span),
                            expected: ["percentage below 100"]
                        )
                    )
                )
            }
        case .money(let amount, let currency):
            built.action.delta = RuleMoney(amount: sign * amount, currency: currency)
        default:
            built.issues.append(typeIssue(value, expected: "a percentage or a money amount"))
        }
        return [built]
    }

    // MARK: - reorder

    private struct OrderTerms {
        var units: Qty?
        var item: Item?
        var supplier: String?
        var location: String?
    }

    private func reorderModifiers(_ terms: inout OrderTerms) {
        while true {
            let save = pos
            if terms.item == nil, word("of") || word("for") {
                if let item = itemPhrase() {
                    terms.item = item
                    continue
                }
                pos = save
            }
            if terms.supplier == nil, word("from") || word("with") || word("through") {
                if let supplier = entity(.supplier, committed: true) {
                    terms.supplier = supplier.id
                    continue
                }
                pos = save
            }
            if terms.location == nil, word("into") || word("to") || word("at") || word("for") || word("in") {
                if let location = entity(.location, committed: !tokens[save].isWord("for") && !tokens[save].isWord("in")) {
                    terms.location = location.id
                    continue
                }
                pos = save
            }
            return
        }
    }

    private func reorder(_ terms: OrderTerms, start: Int) -> Action {
        var action = RuleAction(type: .reorder)
        action.supplier = terms.supplier
        action.location = terms.location
        var built = makeAction(action, start: start, item: terms.item)
        if let units = terms.units {
            unitsValue(units, into: &built, minimum: 1) { $0.action.units = $1 }
        } else {
            built.issues.append(
                Self.missing(
                    "a number of units",
                    span: built.span,
                    found: text(built.span),
                    hint: "Say how many units, e.g. 'reorder 100 units from Acme'."
                )
            )
        }
        return built
    }

    /// `reorder 100 units of SKU-1 from Acme into Reno`, `order 50 more units from Globex`.
    private func reorderAction() -> [Action]? {
        let start = pos
        var terms = OrderTerms()
        if word("reorder") {
            terms.units = quantity()
            if terms.units != nil { unitsTail() }
        } else if word("order") {
            guard let units = quantity() else { return nil }
            terms.units = units
            word("more")
            unitsTail()
        } else {
            return nil
        }
        reorderModifiers(&terms)
        return [reorder(terms, start: start)]
    }

    /// `create a PO for 120 units with Acme`, `a PO for 120 units should be created with Acme Supply`.
    private func purchaseOrderAction() -> [Action]? {
        let start = pos
        let passive: Bool
        if word("create") || word("place") || word("raise") || word("open") || word("submit") {
            passive = false
        } else {
            passive = true
        }
        guard word("a") || word("an"), word("po") || words("purchase", "order") || word("reorder") else { return nil }
        var terms = OrderTerms()
        let save = pos
        if word("for") || word("of"), let units = quantity() {
            terms.units = units
            unitsTail()
        } else {
            pos = save
        }
        reorderModifiers(&terms)
        if passive {
            guard word("should") || word("must"), word("be"), word("created") || word("placed") || word("raised") else { return nil }
            reorderModifiers(&terms)
        }
        return [reorder(terms, start: start)]
    }

    // MARK: - reroute, tag, reconcile, prioritize

    /// `reroute orders to the Dallas 3PL`, `route it back to Reno`, `ship orders from ShipBob instead`.
    private func rerouteAction() -> [Action]? {
        let start = pos
        var action = RuleAction(type: .rerouteOrders)
        var channels: [String] = []
        var item: Item?
        if word("ship") || word("fulfill") || word("fulfil") {
            _ = word("orders") || word("it") || word("them") || words("the", "order")
            guard word("from"), let location = entity(.location, committed: true), word("instead") else { return nil }
            action.to = location.id
            return [makeAction(action, start: start)]
        }
        guard word("reroute") || word("route") || word("redirect") else { return nil }
        if let list = channelList(committed: false) { channels = list }
        guard
            word("orders") || words("the", "order") || words("the", "orders") || word("it") || word("them")
                || words("this", "order") || words("new", "orders")
        else { return nil }
        var destination: String?
        while true {
            let save = pos
            if word("from") || word("on") {
                if let list = channelList(committed: true) {
                    channels += list
                    continue
                }
                pos = save
            }
            if item == nil, word("for") || word("of") {
                if let found = itemPhrase() {
                    item = found
                    continue
                }
                pos = save
            }
            if destination == nil {
                word("back")
                if word("to") {
                    guard let location = entity(.location, committed: true) else { return nil }
                    destination = location.id
                    continue
                }
                pos = save
            }
            break
        }
        action.to = destination
        if !channels.isEmpty { action.channels = Array(Set(channels)).sorted() }
        var built = makeAction(action, start: start, item: item)
        if destination == nil {
            built.issues.append(
                Self.missing(
                    "a destination location",
                    span: built.span,
                    found: text(built.span),
                    hint: "Say where to, e.g. 'reroute orders to the Dallas 3PL'."
                )
            )
        }
        return [built]
    }

    private static let orderObjects: [[String]] = [
        ["the", "orders"], ["the", "order"], ["this", "order"], ["that", "order"], ["orders"], ["it"], ["them"],
    ]

    /// `tag the order amazon-priority`, `tag orders 'wholesale-review'`, `the order should be tagged refund-pending`.
    private func tagOrderAction() -> [Action]? {
        let start = pos
        if word("tag") {
            guard oneOf(Self.orderObjects) != nil else { return nil }
        } else {
            guard oneOf(Self.orderObjects) != nil, word("should") || word("must"), word("be"), word("tagged") else { return nil }
        }
        if !word("as") { word("with") }
        guard let tag = tagValue() else { return nil }
        var action = RuleAction(type: .tagOrder)
        action.tag = tag
        return [makeAction(action, start: start)]
    }

    /// `reconcile Walmart now`, `reconcile all channels`, `reconcile everything`.
    private func reconcileAction() -> [Action]? {
        let start = pos
        guard word("reconcile") else { return nil }
        var action = RuleAction(type: .reconcileChannels)
        if let list = channelList(committed: false) {
            action.channels = Array(Set(list)).sorted()
        } else if words("all", "channels") || words("every", "channel") || words("the", "channels") || word("channels")
            || word("everything") || word("inventory") || word("stock") || word("all") || word("everywhere")
        {
        } else if nextIsUnknownName() {
            _ = entity(.channel, committed: true)
            return nil
        }
        return [makeAction(action, start: start)]
    }

    /// `prioritize sync for SKU-42`, `prioritize sync for that SKU on TikTok Shop`.
    private func prioritizeAction() -> [Action]? {
        let start = pos
        guard word("prioritize") || word("prioritise") || word("expedite") else { return nil }
        word("the")
        let item: Item
        if word("sync") || word("syncing") || word("syncs") {
            guard word("for") || word("of"), let found = itemPhrase() else { return nil }
            item = found
        } else {
            guard let found = itemPhrase() else { return nil }
            item = found
            _ = word("sync") || word("syncing")
        }
        var action = RuleAction(type: .prioritizeSync)
        if let set = channelSetPhrase(), !set.all, !set.channels.isEmpty {
            action.channels = Array(Set(set.channels)).sorted()
        }
        return [makeAction(action, start: start, item: item)]
    }

    /// `wait 2 hours` is a delay, which v0.1 does not support.
    private func waitAction() -> [Action]? {
        let start = pos
        guard word("wait") || word("delay") else { return nil }
        word("for")
        if case .duration = token.kind { pos += 1 }
        var action = makeAction(RuleAction(type: .notify), start: start)
        action.issues.append(Self.unsupportedDelay(action.span))
        return [action]
    }
}
