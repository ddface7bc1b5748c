/// Event phrases (§3.4). Every alternative is tried and the longest wins, so shorter readings never shadow longer ones.
extension RuleGrammarParser {
    typealias Event = RuleSyntax.Event
    typealias Condition = RuleSyntax.Condition

    /// Modifiers that may follow (or precede) an event's verb.
    struct Modifiers: OptionSet {
        let rawValue: Int
        static let item = Modifiers(rawValue: 1)
        static let place = Modifiers(rawValue: 2)
        static let channel = Modifiers(rawValue: 4)
        static let supplier = Modifiers(rawValue: 8)
        static let window = Modifiers(rawValue: 16)
        /// `on SKU-5` (variance) as well as `for SKU-5`.
        static let itemOn = Modifiers(rawValue: 32)
    }

    /// The event phrase of a trigger clause.
    func eventPhrase() -> Event? {
        let start = pos
        return inSlot(.event(start: start)) {
            var match = RuleLongestMatch<Event>(start: start)
            match.consider(self, stockNounEvent())
            match.consider(self, itemEvent())
            match.consider(self, haveStockEvent())
            match.consider(self, remainStockEvent())
            match.consider(self, runOutEvent())
            match.consider(self, priceEvent())
            match.consider(self, orderEvent())
            match.consider(self, someoneEvent())
            match.consider(self, countedEvent())
            match.consider(self, returnEvent())
            match.consider(self, shipmentEvent())
            match.consider(self, receivingEvent())
            match.consider(self, reservationEvent())
            match.consider(self, demandEvent())
            match.consider(self, salesEvent())
            match.consider(self, syncFailedEvent())
            match.consider(self, syncLagEvent())
            match.consider(self, varianceEvent())
            match.consider(self, unknownFieldEvent())
            return match.finish(self)
        }
    }

    // MARK: - Shared pieces

    func modifiers(_ allowed: Modifiers, _ event: inout Event, window: inout Qty?) {
        while true {
            let save = pos
            if allowed.contains(.item), event.item == nil, word("for") || word("of") || (allowed.contains(.itemOn) && word("on")) {
                if let item = itemPhrase() {
                    event.item = item
                    continue
                }
                pos = save
            }
            if allowed.contains(.place), let locations = places() {
                event.locations += locations
                continue
            }
            if allowed.contains(.supplier), word("from") {
                if let supplier = entity(.supplier, committed: true) {
                    event.suppliers.append(supplier.id)
                    continue
                }
                pos = save
            }
            if allowed.contains(.channel), let channels = channelPhrase() {
                event.channels += channels
                continue
            }
            if allowed.contains(.window), window == nil, let found = self.window() {
                window = found
                continue
            }
            pos = save
            return
        }
    }

    func modifiers(_ allowed: Modifiers, _ event: inout Event) {
        var unused: Qty?
        modifiers(allowed.subtracting(.window), &event, window: &unused)
    }

    func newEvent(_ kind: RuleEvent, start: Int) -> Event {
        Event(event: kind, span: span(from: start))
    }

    func finish(_ event: inout Event, start: Int) {
        event.span = span(from: start)
    }

    func makeCondition(_ metric: RuleSyntax.MetricChoice, _ comparison: Comparison, window: Qty? = nil) -> Condition {
        Condition(
            metric: metric,
            comparison: comparison,
            window: window,
            span: comparison.span,
            issues: comparison.issues
        )
    }

    func fixedCondition(_ metric: RuleMetric, _ op: RuleOperator, _ value: Double, span: RuleSpan) -> Condition {
        let comparison = Comparison(op: op, value: Qty(value: .count(value), span: span), span: span)
        return Condition(metric: .fixed(metric), comparison: comparison, span: span)
    }

    static let determiners: [[String]] = [["a"], ["an"], ["any"], ["every"], ["each"]]
    static let remainVerbs: [[String]] = [["remain"], ["remains"], ["are", "left"], ["is", "left"]]
    static let runOutVerbs: [[String]] = [["run", "out", "of"], ["runs", "out", "of"], ["are", "out", "of"], ["sell", "out", "of"]]
    static let includeVerbs: [[String]] = [["includes"], ["include"], ["contains"], ["has"]]
    static let cancelActiveVerbs: [[String]] = [["cancels"], ["cancel"]]
    static let buyVerbs: [[String]] = [["orders"], ["buys"], ["order"], ["buy"], ["purchases"], ["purchase"]]
    static let receivedUnitsVerbs: [[String]] = [["are", "received"], ["is", "received"], ["are", "restocked"], ["arrive"]]
    static let sellVerbs: [[String]] = [["sell"], ["sells"], ["are", "sold"], ["get", "sold"], ["sold"]]
    static let returnedVerbs: [[String]] = [["is", "returned"], ["are", "returned"], ["gets", "returned"]]
    static let stockArriveVerbs: [[String]] = [["arrives"], ["lands"], ["comes", "in"], ["is", "received"]]
    static let createdVerbs: [[String]] = [["is", "created"], ["is", "placed"], ["gets", "created"], ["are", "created"], ["is", "made"]]
    static let expireVerbs: [[String]] = [["expires"], ["expire"], ["is", "expired"], ["has", "expired"], ["lapses"]]
    static let runAtVerbs: [[String]] = [
        ["run", "at"], ["runs", "at"], ["are", "running", "at"], ["is", "running", "at"], ["sell", "at"], ["sells", "at"],
        ["is", "selling", "at"],
    ]
    static let sellsAtVerbs: [[String]] = [["sells", "at"], ["sell", "at"], ["is", "selling", "at"], ["runs", "at"]]
    static let syncDeterminers: [[String]] = [["a"], ["any"], ["every"]]
    static let failVerbs: [[String]] = [
        ["fails"], ["fail"], ["failed"], ["has", "failed"], ["errors", "out"], ["errors"], ["is", "failing"], ["breaks"],
    ]
    static let behindVerbs: [[String]] = [["is"], ["falls"], ["gets"], ["goes"], ["runs"], ["lags"], ["is", "running"]]
    static let varianceNouns: [[String]] = [["inventory"], ["cross-channel"], ["stock"], ["count"]]
    static let detectedVerbs: [[String]] = [["is", "detected"], ["shows", "up"], ["is", "found"], ["appears"], ["occurs"], ["is", "reported"]]
    static let restockedVerbs: [[String]] = [
        ["is", "restocked"], ["are", "restocked"], ["gets", "restocked"], ["is", "received"], ["are", "received"],
    ]

    // MARK: - stock.changed

    static let stockNouns: [[String]] = [
        ["available", "stock"], ["available", "inventory"], ["on-hand", "stock"], ["on-hand", "inventory"],
        ["stock", "levels"], ["stock", "level"], ["inventory", "levels"], ["inventory", "level"], ["stock"], ["inventory"],
        ["on-hand"], ["available", "units"],
    ]
    static let outOfStock: [[String]] = [
        ["sells", "out"], ["sell", "out"], ["is", "sold", "out"], ["are", "sold", "out"], ["runs", "out"], ["run", "out"],
        ["goes", "out", "of", "stock"], ["go", "out", "of", "stock"], ["is", "out", "of", "stock"], ["are", "out", "of", "stock"],
        ["gets", "out", "of", "stock"], ["is", "out"],
    ]
    static let backInStock: [[String]] = [
        ["is", "back", "in", "stock"], ["are", "back", "in", "stock"], ["comes", "back", "in", "stock"],
        ["come", "back", "in", "stock"], ["gets", "back", "in", "stock"], ["is", "in", "stock", "again"], ["is", "back"],
        ["comes", "back"],
    ]
    static let changeOnly: [[String]] = [["changes"], ["change"], ["is", "updated"], ["is", "changed"]]

    /// The possessed stock noun: `stock of SKU-1`, `Amazon inventory for SKU-42`, `SKU-1's stock`, `its inventory`.
    struct StockSubject {
        var item: RuleSyntax.Item?
        var elided = false
        var locations: [String] = []
        var channels: [String] = []
    }

    func stockSubject() -> StockSubject? {
        var match = RuleLongestMatch<StockSubject>(start: pos)
        match.consider(self, plainStockSubject())
        match.consider(self, possessiveStockSubject())
        return match.finish(self)
    }

    private func plainStockSubject() -> StockSubject? {
        var subject = StockSubject()
        word("the")
        if let channel = entity(.channel, committed: false) {
            subject.channels.append(channel.id)
        } else if let location = entity(.location, committed: false) {
            subject.locations.append(location.id)
            if case .possessive = token.kind { pos += 1 }
        }
        guard oneOf(Self.stockNouns) != nil else { return nil }
        let save = pos
        if word("of") || word("for") {
            if let item = itemPhrase() {
                subject.item = item
            } else {
                pos = save
            }
        }
        subject.elided = subject.item == nil
        subjectModifiers(&subject)
        return subject
    }

    /// "its" or "<item>'s": the item a possessive subject names.
    private func possessiveItem() -> RuleSyntax.Item? {
        let start = pos
        if word("its") { return RuleSyntax.Item(ref: .pronoun, span: span(from: start)) }
        guard let item = itemPhrase(allowPronoun: false), case .possessive = token.kind else { return nil }
        pos += 1
        return item
    }

    private func possessiveStockSubject() -> StockSubject? {
        var subject = StockSubject()
        guard let item = possessiveItem() else { return nil }
        subject.item = item
        if let channel = entity(.channel, committed: false) {
            subject.channels.append(channel.id)
        } else if let location = entity(.location, committed: false) {
            subject.locations.append(location.id)
        }
        guard oneOf(Self.stockNouns) != nil else { return nil }
        subjectModifiers(&subject)
        return subject
    }

    private func subjectModifiers(_ subject: inout StockSubject) {
        while true {
            if let locations = places() {
                subject.locations += locations
            } else if let channels = channelPhrase() {
                subject.channels += channels
            } else {
                return
            }
        }
    }

    func apply(_ subject: StockSubject, to event: inout Event) {
        event.item = subject.item
        event.itemElided = subject.elided
        event.locations += subject.locations
        event.channels += subject.channels
    }

    /// `stock of X drops below 10`, `Amazon inventory for X hits 0`, `stock of X changes`, `its stock runs out`.
    private func stockNounEvent() -> Event? {
        let start = pos
        guard let subject = stockSubject() else { return nil }
        var event = newEvent(.stockChanged, start: start)
        apply(subject, to: &event)
        let verbStart = pos
        if oneOf(Self.outOfStock) != nil {
            event.conditions.append(fixedCondition(.stock, .lte, 0, span: span(from: verbStart)))
        } else if oneOf(Self.backInStock) != nil {
            event.conditions.append(fixedCondition(.stock, .gt, 0, span: span(from: verbStart)))
        } else if oneOf(Self.changeOnly) != nil {
            // Any change: no trigger comparison (level guards follow, §5.3).
        } else if let comparison = verbComparison() {
            event.conditions.append(makeCondition(.fixed(.stock), comparison))
        } else {
            return nil
        }
        stockTail(&event)
        finish(&event, start: start)
        return event
    }

    /// `SKU-1 drops below 10`, `SKU-5 goes out of stock at Reno`, `SKU-9 is back in stock`, `SKU-3 drops below $9.50`.
    private func itemEvent() -> Event? {
        let start = pos
        guard let item = itemPhrase() else { return nil }
        var event = newEvent(.stockChanged, start: start)
        event.item = item
        modifiers([.place, .channel], &event)
        let verbStart = pos
        if oneOf(Self.outOfStock) != nil {
            event.conditions.append(fixedCondition(.stock, .lte, 0, span: span(from: verbStart)))
        } else if oneOf(Self.backInStock) != nil {
            event.conditions.append(fixedCondition(.stock, .gt, 0, span: span(from: verbStart)))
        } else if let comparison = verbComparison() {
            if case .money = comparison.quantities.first?.value {
                event.event = .priceChanged
                event.conditions.append(makeCondition(.fixed(.price), comparison))
            } else {
                event.conditions.append(makeCondition(.fixed(.stock), comparison))
            }
        } else {
            return nil
        }
        stockTail(&event)
        finish(&event, start: start)
        return event
    }

    private func stockTail(_ event: inout Event) {
        while true {
            if word("left") || words("in", "stock") || words("on", "hand") { continue }
            let save = pos
            modifiers([.place, .channel], &event)
            if pos == save { return }
        }
    }

    /// `SKU-1 has fewer than 5 units left`, `Reno has fewer than 5 units of SKU-1`, `we have less than 10 of X`.
    private func haveStockEvent() -> Event? {
        let start = pos
        var event = newEvent(.stockChanged, start: start)
        if word("we") {
        } else if let location = entity(.location, committed: false) {
            event.locations.append(location.id)
        } else if let channel = entity(.channel, committed: false) {
            event.channels.append(channel.id)
        } else if let item = itemPhrase() {
            event.item = item
        } else {
            return nil
        }
        modifiers([.place, .channel], &event)
        guard word("has") || word("have") else { return nil }
        word("only")
        guard let comparison = comparison(.copula, bare: .eq) else { return nil }
        event.conditions.append(makeCondition(.fixed(.stock), comparison))
        word("units")
        stockTail(&event)
        if event.item == nil, word("of") || word("for") {
            guard let item = itemPhrase() else { return nil }
            event.item = item
        }
        stockTail(&event)
        event.itemElided = event.item == nil
        finish(&event, start: start)
        return event
    }

    /// `fewer than 5 units of SKU-1 remain`.
    private func remainStockEvent() -> Event? {
        let start = pos
        guard let comparison = comparison(.copula) else { return nil }
        word("units")
        guard word("of"), let item = itemPhrase() else { return nil }
        var event = newEvent(.stockChanged, start: start)
        event.item = item
        modifiers([.place, .channel], &event)
        guard oneOf(Self.remainVerbs) != nil else { return nil }
        event.conditions.append(makeCondition(.fixed(.stock), comparison))
        stockTail(&event)
        finish(&event, start: start)
        return event
    }

    /// `we run out of SKU-1`.
    private func runOutEvent() -> Event? {
        let start = pos
        guard word("we") else { return nil }
        let verbStart = pos
        guard oneOf(Self.runOutVerbs) != nil,
            let item = itemPhrase()
        else { return nil }
        var event = newEvent(.stockChanged, start: start)
        event.item = item
        event.conditions.append(fixedCondition(.stock, .lte, 0, span: span(from: verbStart)))
        stockTail(&event)
        finish(&event, start: start)
        return event
    }

    // MARK: - price.changed

    static let priceByVerbs: [([String], Int)] = [
        (["is", "lowered"], -1), (["gets", "lowered"], -1), (["is", "cut"], -1), (["is", "reduced"], -1),
        (["is", "decreased"], -1), (["goes", "down"], -1), (["drops"], -1), (["falls"], -1), (["dips"], -1),
        (["decreases"], -1), (["lowered"], -1), (["is", "raised"], 1), (["gets", "raised"], 1), (["is", "increased"], 1),
        (["goes", "up"], 1), (["rises"], 1), (["climbs"], 1), (["increases"], 1), (["raised"], 1), (["changes"], 0),
        (["is", "changed"], 0), (["moves"], 0),
    ]

    private struct PriceSubject {
        var item: RuleSyntax.Item?
        var elided = false
        var channels: [String] = []
    }

    private func priceSubject() -> PriceSubject? {
        var match = RuleLongestMatch<PriceSubject>(start: pos)
        match.consider(self, plainPriceSubject())
        match.consider(self, possessivePriceSubject())
        return match.finish(self)
    }

    private func plainPriceSubject() -> PriceSubject? {
        var subject = PriceSubject()
        word("the")
        if let channel = entity(.channel, committed: false) { subject.channels.append(channel.id) }
        guard word("price") || word("prices") else { return nil }
        let save = pos
        if word("of") || word("for") {
            if let item = itemPhrase() { subject.item = item } else { pos = save }
        }
        subject.elided = subject.item == nil
        if let channels = channelPhrase() { subject.channels += channels }
        return subject
    }

    private func possessivePriceSubject() -> PriceSubject? {
        var subject = PriceSubject()
        guard let item = possessiveItem() else { return nil }
        subject.item = item
        if let channel = entity(.channel, committed: false) { subject.channels.append(channel.id) }
        guard word("price") || word("prices") else { return nil }
        if let channels = channelPhrase() { subject.channels += channels }
        return subject
    }

    /// `the price of X on Amazon drops below $12`, `X's price is lowered by more than 15 percent`, `the price changes`.
    private func priceEvent() -> Event? {
        let start = pos
        guard let subject = priceSubject() else { return nil }
        var event = newEvent(.priceChanged, start: start)
        event.item = subject.item
        event.itemElided = subject.elided
        event.channels = subject.channels
        modifiers([.channel], &event)
        var matched = false
        let save = pos
        for (phrase, sign) in Self.priceByVerbs where words(phrase) {
            modifiers([.channel], &event)
            if word("by"), let comparison = comparison(.copula, bare: .gte) {
                event.conditions.append(makeCondition(.priceChange(sign: sign), comparison))
                matched = true
                break
            }
            pos = save
        }
        if !matched {
            if oneOf(Self.changeOnly) != nil {
                matched = true
            } else if let comparison = verbComparison() {
                event.conditions.append(makeCondition(.fixed(.price), comparison))
                matched = true
            }
        }
        guard matched else { return nil }
        modifiers([.channel], &event)
        finish(&event, start: start)
        return event
    }

    // MARK: - order.confirmed / order.cancelled

    static let confirmVerbs: [[String]] = [
        ["is", "placed"], ["is", "confirmed"], ["gets", "placed"], ["gets", "confirmed"], ["comes", "in"], ["arrives"],
        ["is", "made"],
    ]
    static let cancelVerbs: [[String]] = [
        ["is", "cancelled"], ["is", "canceled"], ["gets", "cancelled"], ["gets", "canceled"], ["cancels"],
    ]
    static let pluralArrive: [[String]] = [
        ["come", "in"], ["arrive"], ["are", "placed"], ["are", "confirmed"], ["get", "placed"], ["are", "received"],
        ["land"], ["comes", "in"],
    ]
    static let pluralCancel: [[String]] = [
        ["are", "cancelled"], ["are", "canceled"], ["get", "cancelled"], ["get", "canceled"],
    ]
    static let someone: [[String]] = [
        ["someone"], ["somebody"], ["anyone"], ["a", "customer"], ["customer"], ["customers"], ["a", "buyer"],
    ]

    /// `an eBay order for SKU-1 on Amazon of at least 50 units`.
    private func orderNounPhrase(_ event: inout Event) -> Bool {
        guard oneOf(Self.determiners) != nil || word("new") else { return false }
        word("new")
        if let channel = entity(.channel, committed: false) { event.channels.append(channel.id) }
        guard word("order") else { return false }
        orderModifiers(&event)
        return true
    }

    /// `order_mod`: `for SKU-1`, `of at least 50 units`, `on Amazon`, `with a quantity over 20`, and a bare comparison
    /// (`over $500`, which §4.3 rejects as an unknown field).
    private func orderModifiers(_ event: inout Event) {
        while true {
            let save = pos
            if word("for") || word("of") {
                if let comparison = comparison(.copula) {
                    word("units")
                    event.conditions.append(orderQuantity(comparison))
                    continue
                }
                let quantityStart = pos
                if let exact = quantity(), word("units") || word("unit") {
                    let span = span(from: quantityStart)
                    event.conditions.append(orderQuantity(Comparison(op: .eq, value: exact, span: span)))
                    continue
                }
                pos = save
                _ = word("for") || word("of")
                if event.item == nil, let item = itemPhrase() {
                    event.item = item
                    continue
                }
                pos = save
            }
            if words("with", "a") && (word("quantity") || word("qty")) || words(["with", "quantity"]) {
                word("of")
                if let comparison = comparison(.copula, bare: .eq) {
                    word("units")
                    event.conditions.append(orderQuantity(comparison))
                    continue
                }
            }
            pos = save
            if word("with"), let comparison = comparison(.copula), word("units") || word("unit") {
                event.conditions.append(orderQuantity(comparison))
                continue
            }
            pos = save
            if let channels = channelPhrase() {
                event.channels += channels
                continue
            }
            if let comparison = comparison(.neutral) {
                word("units")
                event.conditions.append(orderQuantity(comparison))
                continue
            }
            pos = save
            return
        }
    }

    /// An order-line quantity; money has no field on an order (§4.3).
    private func orderQuantity(_ comparison: Comparison) -> Condition {
        var condition = makeCondition(.fixed(.orderQty), comparison)
        if let value = comparison.quantities.first, case .money = value.value {
            condition.issues.append(unknownField("order total", span: comparison.span))
        }
        return condition
    }

    func unknownField(_ field: String, span: RuleSpan) -> RuleIssue {
        RuleIssue(
            .type,
            RuleParseError(
                code: .unknownField,
                message: "Rules cannot compare \(field): no event carries it.",
                span: span,
                found: text(span),
                expected: ["quantity", "units"],
                hint: "Orders carry only SKU, quantity and channel. Compare the order quantity ('an order of at least 50 units'), "
                    + "stock, price or sales counts instead."
            )
        )
    }

    /// `an order for X is placed on Amazon`, `an eBay order includes 3 or more units of X`, `an order … is between 10
    /// and 25 units`, `a Shopify order for anything tagged preorder is canceled`.
    private func orderEvent() -> Event? {
        let start = pos
        var event = newEvent(.orderConfirmed, start: start)
        guard orderNounPhrase(&event) else { return nil }
        let afterNoun = pos
        var match = RuleLongestMatch<Event>(start: afterNoun)
        var confirmed = event
        if oneOf(Self.confirmVerbs) != nil {
            orderModifiers(&confirmed)
            match.consider(self, confirmed)
        } else {
            pos = afterNoun
        }
        var cancelled = event
        cancelled.event = .orderCancelled
        if oneOf(Self.cancelVerbs) != nil {
            orderModifiers(&cancelled)
            match.consider(self, cancelled)
        } else {
            pos = afterNoun
        }
        var includes = event
        if oneOf(Self.includeVerbs) != nil, let comparison = comparison(.copula, bare: .eq) {
            word("units")
            if word("of"), let item = itemPhrase() {
                includes.item = item
                includes.conditions.append(orderQuantity(comparison))
                orderModifiers(&includes)
                match.consider(self, includes)
            }
        }
        pos = afterNoun
        var sized = event
        if word("is") || word("are"), let comparison = comparison(.copula, bare: .eq) {
            word("units")
            sized.conditions.append(orderQuantity(comparison))
            match.consider(self, sized)
        }
        pos = afterNoun
        guard var result = match.finish(self) else { return nil }
        finish(&result, start: start)
        return result
    }

    /// `someone orders more than 10 units of SKU-9 on eBay`, `someone buys X`, `a customer cancels an order`.
    private func someoneEvent() -> Event? {
        let start = pos
        guard oneOf(Self.someone) != nil else { return nil }
        var event = newEvent(.orderConfirmed, start: start)
        if oneOf(Self.cancelActiveVerbs) != nil {
            event.event = .orderCancelled
            guard orderNounPhrase(&event) || words(["their", "order"]) else { return nil }
            orderModifiers(&event)
            finish(&event, start: start)
            return event
        }
        guard oneOf(Self.buyVerbs) != nil else { return nil }
        let save = pos
        if let comparison = comparison(.copula, bare: .eq) {
            word("units")
            if word("of") {
                event.conditions.append(orderQuantity(comparison))
            } else {
                pos = save
            }
        }
        guard let item = itemPhrase() else { return nil }
        event.item = item
        modifiers([.channel], &event)
        finish(&event, start: start)
        return event
    }

    /// Counted events: `more than 20 orders for X come in within 15 minutes`, `more than 5 orders are canceled on
    /// Walmart within an hour`, `N units of X sell in the last D`, `more than 3 returns of X come in within 7 days`,
    /// `more than 100 units of X are received`.
    private func countedEvent() -> Event? {
        let start = pos
        guard let comparison = comparison(.copula) else { return nil }
        var window: Qty?
        var event = newEvent(.orderConfirmed, start: start)
        var metric: RuleMetric
        if word("orders") || word("cancellations") {
            let isCancellations = tokens[pos - 1].isWord("cancellations")
            modifiers([.item, .channel], &event)
            if oneOf(Self.pluralCancel) != nil {
                event.event = .orderCancelled
                metric = .cancelCount
            } else if oneOf(Self.pluralArrive) != nil {
                event.event = isCancellations ? .orderCancelled : .orderConfirmed
                metric = isCancellations ? .cancelCount : .orderCount
            } else {
                return nil
            }
        } else if word("returns") {
            event.event = .returnReceived
            metric = .returnCount
            modifiers([.item, .channel], &event)
            guard oneOf(Self.pluralArrive) != nil else { return nil }
        } else {
            word("units")
            guard word("of"), let item = itemPhrase() else { return nil }
            event.item = item
            modifiers([.channel, .place], &event)
            if oneOf(Self.receivedUnitsVerbs) != nil {
                event.event = .stockReceived
                metric = .receivedQty
            } else {
                guard oneOf(Self.sellVerbs) != nil else { return nil }
                metric = .unitsSold
            }
        }
        modifiers([.channel, .place, .window], &event, window: &window)
        var condition = makeCondition(.fixed(metric), comparison, window: window)
        condition.span = comparison.span
        event.conditions.append(condition)
        finish(&event, start: start)
        return event
    }

    // MARK: - return.received

    static let receiveVerbs: [[String]] = [
        ["is", "received"], ["gets", "received"], ["arrives"], ["comes", "in"], ["lands"], ["is", "processed"],
        ["is", "delivered"],
    ]

    /// `a return for X is received at Reno`, `an Amazon return lands at ShipBob`, `X is returned`.
    private func returnEvent() -> Event? {
        let start = pos
        var event = newEvent(.returnReceived, start: start)
        if let item = attempt({ () -> RuleSyntax.Item? in
            guard let item = itemPhrase() else { return nil }
            return oneOf(Self.returnedVerbs) != nil ? item : nil
        }) {
            event.item = item
            modifiers([.place, .channel], &event)
            finish(&event, start: start)
            return event
        }
        _ = oneOf(Self.determiners)
        if let channel = entity(.channel, committed: false) { event.channels.append(channel.id) }
        guard word("return") else { return nil }
        modifiers([.item, .channel, .place], &event)
        guard oneOf(Self.receiveVerbs) != nil else { return nil }
        modifiers([.item, .channel, .place], &event)
        finish(&event, start: start)
        return event
    }

    // MARK: - stock.received

    /// `X is restocked at Reno`, `a shipment from Acme is received`, `Northwind restocks X`.
    private func shipmentEvent() -> Event? {
        let start = pos
        var event = newEvent(.stockReceived, start: start)
        if let item = attempt({ () -> RuleSyntax.Item? in
            guard let item = itemPhrase() else { return nil }
            return oneOf(Self.restockedVerbs) != nil ? item : nil
        }) {
            event.item = item
            modifiers([.place, .supplier], &event)
            finish(&event, start: start)
            return event
        }
        if let supplier = entity(.supplier, committed: false) {
            guard word("restocks") || word("restock") || word("delivers") || word("ships") else { return nil }
            event.suppliers.append(supplier.id)
            guard let item = itemPhrase() else { return nil }
            event.item = item
            modifiers([.place], &event)
            finish(&event, start: start)
            return event
        }
        _ = oneOf(Self.determiners)
        guard word("shipment") || word("po") || words("purchase", "order") || word("delivery") else { return nil }
        while true {
            let save = pos
            if word("of"), let comparison = comparison(.copula, bare: .eq) {
                word("units")
                event.conditions.append(makeCondition(.fixed(.receivedQty), comparison))
                continue
            }
            pos = save
            modifiers([.supplier, .item, .place], &event)
            if pos == save { break }
        }
        guard oneOf(Self.receiveVerbs) != nil else { return nil }
        modifiers([.supplier, .item, .place], &event)
        finish(&event, start: start)
        return event
    }

    /// `receiving completes at Reno`, `stock arrives at Newark`.
    private func receivingEvent() -> Event? {
        let start = pos
        var event = newEvent(.stockReceived, start: start)
        if word("receiving") {
            guard word("completes") || words("is", "complete") || word("finishes") else { return nil }
        } else {
            guard word("stock") || word("inventory"), oneOf(Self.stockArriveVerbs) != nil
            else { return nil }
        }
        modifiers([.place, .item, .supplier], &event)
        finish(&event, start: start)
        return event
    }

    // MARK: - reservation.created / reservation.expired

    /// `a reservation of more than 25 units is created`, `a reservation at Reno expires`, `reserved units expire`.
    private func reservationEvent() -> Event? {
        let start = pos
        var event = newEvent(.reservationCreated, start: start)
        if word("reserved") {
            guard word("units") || word("stock") else { return nil }
            modifiers([.item, .channel, .place], &event)
            guard word("expire") || word("expires") else { return nil }
            event.event = .reservationExpired
            modifiers([.item, .channel, .place], &event)
            finish(&event, start: start)
            return event
        }
        _ = oneOf(Self.determiners)
        guard word("reservation") || word("reservations") else { return nil }
        reservationModifiers(&event)
        if oneOf(Self.createdVerbs) != nil {
            event.event = .reservationCreated
        } else if oneOf(Self.expireVerbs) != nil {
            event.event = .reservationExpired
        } else {
            return nil
        }
        reservationModifiers(&event)
        finish(&event, start: start)
        return event
    }

    private func reservationModifiers(_ event: inout Event) {
        while true {
            let save = pos
            if word("of") || word("for"), let comparison = comparison(.copula, bare: .eq) {
                word("units")
                event.conditions.append(makeCondition(.fixed(.reservationQty), comparison))
                continue
            }
            pos = save
            modifiers([.item, .channel, .place], &event)
            if pos == save { return }
        }
    }

    // MARK: - demand.spike

    static let spikeVerbs: [[String]] = [["spikes"], ["spike"], ["is", "spiking"], ["are", "spiking"], ["spiked"], ["surges"]]
    static let multVerbs: [([String], Double)] = [
        (["doubles"], 2), (["double"], 2), (["triples"], 3), (["triple"], 3), (["quadruples"], 4), (["quadruple"], 4),
    ]

    /// A spike verb, a doubling verb (→ velocity_ratio gte N) or `run at N× the normal rate`.
    private func spikePredicate(_ event: inout Event) -> Bool {
        let start = pos
        if oneOf(Self.spikeVerbs) != nil { return true }
        for (phrase, factor) in Self.multVerbs where words(phrase) {
            let span = span(from: start)
            let comparison = Comparison(op: .gte, value: Qty(value: .mult(factor), span: span), span: span)
            event.conditions.append(makeCondition(.fixed(.velocityRatio), comparison))
            return true
        }
        if oneOf(Self.runAtVerbs) != nil,
            let comparison = comparison(.copula, bare: .gte)
        {
            event.conditions.append(makeCondition(.fixed(.velocityRatio), comparison))
            return true
        }
        pos = start
        if let comparison = comparison(.neutral) {
            event.conditions.append(makeCondition(.fixed(.velocityRatio), comparison))
            return true
        }
        return false
    }

    /// `demand for X spikes`, `there is a demand spike on TikTok Shop`, `demand doubles`.
    private func demandEvent() -> Event? {
        let start = pos
        var event = newEvent(.demandSpike, start: start)
        var window: Qty?
        if words("there", "is") {
            word("a")
            if words("demand", "spike") || words("spike", "in") && word("demand") || words("sales", "spike") {
            } else {
                return nil
            }
        } else {
            guard word("demand") else { return nil }
            modifiers([.item, .channel], &event)
            guard spikePredicate(&event) else { return nil }
        }
        modifiers([.item, .channel, .window], &event, window: &window)
        attachWindow(window, to: &event)
        event.itemElided = event.item == nil
        finish(&event, start: start)
        return event
    }

    /// `orders for X run at more than 3x the normal rate over the last hour`, `sales of X triple`, `X sells at 2.5x its
    /// usual pace`.
    private func salesEvent() -> Event? {
        let start = pos
        var event = newEvent(.demandSpike, start: start)
        var window: Qty?
        if word("orders") || word("sales") || words("order", "velocity") || words("sales", "velocity") || word("velocity") {
            modifiers([.item, .channel], &event)
            guard spikePredicate(&event) else { return nil }
            event.itemElided = event.item == nil
        } else {
            guard let item = itemPhrase() else { return nil }
            event.item = item
            modifiers([.channel], &event)
            guard oneOf(Self.sellsAtVerbs) != nil,
                let comparison = comparison(.copula, bare: .gte)
            else { return nil }
            event.conditions.append(makeCondition(.fixed(.velocityRatio), comparison))
        }
        modifiers([.item, .channel, .window], &event, window: &window)
        attachWindow(window, to: &event)
        finish(&event, start: start)
        return event
    }

    private func attachWindow(_ window: Qty?, to event: inout Event) {
        guard let window else { return }
        if event.conditions.isEmpty {
            event.issues.append(
                RuleIssue(
                    .missing,
                    RuleParseError(
                        code: .missingArgument,
                        message: "A window needs a threshold, e.g. 'more than 3x the normal rate'.",
                        span: window.span,
                        expected: ["threshold"]
                    )
                )
            )
        } else {
            event.conditions[event.conditions.count - 1].window = window
        }
    }

    // MARK: - sync.failed / sync.lagging

    /// `Amazon sync fails`, `any channel sync fails`, `syncing to Etsy fails`, `a sync to Walmart errors out`.
    private func syncFailedEvent() -> Event? {
        let start = pos
        var event = newEvent(.syncFailed, start: start)
        if !word("the") { _ = oneOf(Self.syncDeterminers) }
        if let channel = entity(.channel, committed: false) {
            event.channels.append(channel.id)
        } else {
            word("channel")
        }
        guard word("sync") || word("syncing") || word("syncs") else { return nil }
        if word("to") || word("with") || word("on") || word("for") {
            guard let channel = entity(.channel, committed: true) else { return nil }
            event.channels.append(channel.id)
        }
        modifiers([.item, .channel], &event)
        guard oneOf(Self.failVerbs) != nil
        else { return nil }
        modifiers([.item, .channel], &event)
        finish(&event, start: start)
        return event
    }

    /// `AMAZON sync lag goes over 10 minutes`, `eBay sync is more than half an hour behind`, `Amazon lags by 10 minutes`.
    private func syncLagEvent() -> Event? {
        let start = pos
        var event = newEvent(.syncLagging, start: start)
        word("the")
        let channel = entity(.channel, committed: false)
        if let channel { event.channels.append(channel.id) }
        if word("sync") || word("syncing") {
            if word("lag") {
                if word("on") || word("for") {
                    if !words("any", "channel") {
                        guard let other = entity(.channel, committed: true) else { return nil }
                        event.channels.append(other.id)
                    }
                }
                guard let comparison = verbComparison() else { return nil }
                event.conditions.append(makeCondition(.fixed(.syncLag), comparison))
            } else {
                let save = pos
                if channel != nil, oneOf(Self.behindVerbs) != nil, let comparison = comparison(.copula, bare: .gte), word("behind") {
                    event.conditions.append(makeCondition(.fixed(.syncLag), comparison))
                } else {
                    pos = save
                }
            }
        }
        if event.conditions.isEmpty {
            guard channel != nil, word("lags") || word("lag") else { return nil }
            word("behind")
            word("by")
            guard let comparison = comparison(.copula, bare: .gte) else { return nil }
            event.conditions.append(makeCondition(.fixed(.syncLag), comparison))
        }
        modifiers([.channel], &event)
        finish(&event, start: start)
        return event
    }

    // MARK: - variance.detected

    /// `Amazon and Shopify disagree on X by more than 3 units`, `a variance of at least 2 units is detected`,
    /// `channel counts differ by more than 5%`.
    private func varianceEvent() -> Event? {
        let start = pos
        var event = newEvent(.varianceDetected, start: start)
        if let first = entity(.channel, committed: false) {
            guard word("and"), let second = entity(.channel, committed: true) else { return nil }
            event.channels = [first.id, second.id]
            guard word("disagree") || word("differ") || words("are", "off") else { return nil }
            modifiers([.item, .itemOn], &event)
            guard word("by"), let comparison = comparison(.copula, bare: .gte) else { return nil }
            event.conditions.append(makeCondition(.variance, comparison))
            modifiers([.item, .itemOn], &event)
        } else if words("channel", "counts") || words("the", "counts") || word("counts") {
            modifiers([.item, .itemOn], &event)
            guard word("differ") || word("disagree") || words("are", "off"), word("by"),
                let comparison = comparison(.copula, bare: .gte)
            else { return nil }
            event.conditions.append(makeCondition(.variance, comparison))
            modifiers([.item, .itemOn, .channel], &event)
        } else {
            _ = oneOf(Self.determiners)
            _ = oneOf(Self.varianceNouns)
            guard word("variance") else { return nil }
            let save = pos
            if word("of"), let comparison = comparison(.copula, bare: .gte) {
                event.conditions.append(makeCondition(.variance, comparison))
            } else {
                pos = save
            }
            modifiers([.item, .itemOn, .channel], &event)
            guard oneOf(Self.detectedVerbs) != nil
            else { return nil }
            modifiers([.item, .itemOn, .channel], &event)
        }
        finish(&event, start: start)
        return event
    }

    // MARK: - Unknown fields

    /// `the order total is over $500`, `margin on X drops below 20%`: understood, but no event carries the field.
    private func unknownFieldEvent() -> Event? {
        let start = pos
        guard let field = unknownFieldSubject() else { return nil }
        var event = newEvent(.orderConfirmed, start: start)
        _ = verbComparison()
        event.issues.append(unknownField(field.name, span: field.span))
        finish(&event, start: start)
        return event
    }

    /// A subject naming data no event carries: `[the] [CHANNEL] [order] total [of X]`.
    func unknownFieldSubject() -> (name: String, span: RuleSpan)? {
        let start = pos
        if !word("the") { _ = oneOf(Self.determiners) }
        _ = entity(.channel, committed: false)
        if word("order") || word("orders") {}
        words("days", "of")
        let fieldStart = pos
        guard token.isWordLike, let name = RuleLexicon.unknownFields[token.lower] else {
            pos = start
            return nil
        }
        pos += 1
        let span = RuleSpan(start: tokens[fieldStart].start, end: tokens[pos - 1].end)
        let save = pos
        if word("of") || word("for") || word("on") {
            if itemPhrase() == nil { pos = save }
        }
        return (name, span)
    }
}
