/// The closed vocabulary (Appendix A) plus the few extra words the grammar accepts, and the curated word lists used
/// for errors: near misses (§7.6.3), unsupported features and filler words.
enum RuleLexicon {
    /// Appendix A, every class.
    static let appendixA: Set<String> = Set(
        """
        after any anytime as each every if once soon time when whenever
        also and except if only or provided then unless
        a all an any anything as back customer every everything instead it it's its now our someone that the them there
        there's this those too we we've well
        after at by during for from in into last like matching of off on over past starting to via with within
        are available back be change changes climb climbs come comes dip dips down drop drops fall falls get gets go goes
        has have hit hits in inventory is left on-hand out reaches remain remains rise rises run runs sell sells sold stock
        unit units
        above and at below between equal equals exactly exceed exceeds fewer greater higher least less lower more most no
        not or over percent than to under up
        buy buys cancel canceled cancelled cancels come comes confirmed gets in includes order orders placed qty quantity
        arrives completes lands po received receiving restocked restocks return returned returns shipment
        changes cut lands lowered price prices raised up
        created expire expires placed reservation reservations reserved
        at baseline demand double doubles normal pace rate run runs sales sell sells spike spikes spiking times triple
        triples usual velocity
        behind channel channels error errors fail failed fails lag lags sync syncing
        count counts cross-channel detected differ disagree off shows variance
        afternoon am daily day each evening every friday hourly midnight monday mondays morning night nightly noon pm
        saturday sunday thursday tuesday wednesday weekday weekdays weekend
        day days half hour hours hr hrs min mins minute minutes week weeks
        dozen eight eighteen eighty eleven fifteen fifty five forty four fourteen hundred nine nineteen ninety one seven
        seventeen seventy six sixteen sixty ten thirteen thirty thousand three twelve twenty two zero
        alert bump create created cut double email hold increase keep lower lowered message notified notify order page
        pause paused ping post prioritize raise raised reconcile relist reorder reroute resume resumed route set ship
        should slack tag tagged tell
        buffer channel everywhere except listing listings multiplier order orders po price safety sync team
        collection item items product products sku skus tag tagged
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    )

    /// Words the grammar accepts beyond Appendix A (inflections, synonyms listed in §4, and error helpers).
    static let extras: Set<String> = [
        "send", "alerted", "emailed", "pinged", "paged", "messaged", "webhook", "default", "must", "beginning",
        "contains", "include", "purchases", "purchase", "orders", "somebody", "anyone", "arrive", "land", "received",
        "restock", "shipments", "complete", "is", "am", "expired", "spiked", "quadruple", "twice", "decrease",
        "decreases", "increases", "reduce", "reduced", "increased", "decreased", "climbs", "unpause", "unpaused",
        "relisted", "multiply", "stays", "stay", "goes", "went", "excess", "mondays", "tuesdays", "wednesdays",
        "thursdays", "fridays", "saturdays", "sundays", "weekends", "new", "these", "one", "level", "levels", "on",
        "hand", "customers", "placed", "create", "reorder", "inventory", "was", "came", "saying", "note", "weekly",
        "purchasing", "sale", "x", "begins", "start", "starts", "begin", "beyond", "exceeding", "found", "appears",
        "up", "cancellations", "cancellation", "selling", "sold", "running", "orders", "priority", "syncs", "lagging",
        "tripled", "doubled", "quadrupled", "hits", "reach", "hit", "cent", "per", "pct", "still", "right", "away",
    ]

    /// Every word the parser knows.
    static let known: Set<String> = appendixA.union(extras).union(fillers)

    /// Words that never change a rule's meaning.
    static let fillers: Set<String> = ["please", "automatically", "immediately", "just", "kindly"]

    /// Words that may not be used as a bare tag (they would swallow the rest of the sentence).
    static let tagStopWords: Set<String> = [
        "and", "or", "then", "also", "unless", "if", "when", "whenever", "with", "as", "via", "on", "at", "in", "to",
        "for", "from", "the", "a", "an", "it", "once", "after", "every", "each", "except",
    ]

    /// Semantic near misses (§7.6.3): a word that names an unsupported action → the closest supported phrases.
    static let nearMisses: [String: [String]] = [
        "delete": ["pause the listing"], "remove": ["pause the listing"], "unlist": ["pause the listing"],
        "hide": ["pause the listing"], "deactivate": ["pause the listing"], "disable": ["pause the listing"],
        "archive": ["pause the listing"], "unpublish": ["pause the listing"], "delist": ["pause the listing"],
        "publish": ["resume the listing"], "unhide": ["resume the listing"], "enable": ["resume the listing"],
        "reactivate": ["resume the listing"], "activate": ["resume the listing"],
        "text": ["email", "notify"], "sms": ["email", "notify"], "fax": ["email", "notify"], "call": ["email", "notify"],
        "phone": ["email", "notify"], "whatsapp": ["email", "notify"],
        "restock": ["reorder"], "replenish": ["reorder"], "buy": ["reorder"], "purchase": ["reorder"],
        "discount": ["lower the price"], "markdown": ["lower the price"], "mark": ["lower the price"],
        "sale": ["lower the price"],
    ]

    /// Words that name features v0.1 deliberately does not support (delays, calendar time).
    static let unsupported: [String: String] = [
        "wait": "Delays are not supported; a rule acts as soon as it fires.",
        "delay": "Delays are not supported; a rule acts as soon as it fires.",
        "later": "Delays are not supported; a rule acts as soon as it fires.",
        "tomorrow": "Relative dates such as 'tomorrow' are not supported.",
        "yesterday": "Relative dates such as 'yesterday' are not supported.",
        "today": "Relative dates such as 'today' are not supported.",
        "tonight": "Relative dates such as 'tonight' are not supported.",
        "holiday": "Business calendars and holidays are not supported yet.",
        "holidays": "Business calendars and holidays are not supported yet.",
    ]

    /// Data sellers ask about that no event carries (§4.3): field word → what it is.
    static let unknownFields: [String: String] = [
        "total": "order total", "value": "order value", "margin": "margin", "revenue": "revenue", "profit": "profit",
        "sell-through": "sell-through", "cost": "cost", "weight": "weight", "rating": "rating", "amount": "order amount",
        "cover": "days of cover", "aov": "average order value",
    ]
}
