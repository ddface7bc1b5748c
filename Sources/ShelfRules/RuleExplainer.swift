/// Renders the `explain` echo of §7.3 from a canonical rule (never from the input text), e.g.
/// `WHEN stock.changed for SKU-123 AND stock crosses below 10 → notify ops (default medium); pause listing on amazon`.
enum RuleExplainer {
    static func explain(_ rule: Rule) -> String {
        var text: String
        if let schedule = rule.trigger.schedule {
            text = "EVERY " + describe(schedule)
        } else {
            text = "WHEN " + rule.trigger.event.rawValue
        }
        let scope = describe(rule.trigger.scope)
        if !scope.isEmpty { text += " " + scope }
        for condition in rule.conditions { text += " AND " + describe(condition) }
        text += " → " + rule.actions.map(describe).joined(separator: "; ")
        return text
    }

    static func describe(_ schedule: RuleSchedule) -> String {
        switch schedule.freq {
        case .daily: "day at \(schedule.time ?? "?")"
        case .weekly: (schedule.days ?? []).map(\.rawValue).joined(separator: ",") + " at \(schedule.time ?? "?")"
        case .interval: schedule.interval ?? "?"
        }
    }

    static func describe(_ scope: RuleScope) -> String {
        var parts: [String] = []
        var items: [String] = []
        if let skus = scope.skus { items.append(skus.joined(separator: ", ")) }
        if let prefix = scope.skuPrefix { items.append("SKUs starting with \(prefix)") }
        if let pattern = scope.skuPattern { items.append("SKUs like \(pattern)") }
        if let tags = scope.tags { items.append("items tagged " + tags.joined(separator: "|")) }
        if let collection = scope.collection { items.append("collection \(collection)") }
        if !items.isEmpty { parts.append("for " + items.joined(separator: ", ")) }
        if let tags = scope.excludeTags { parts.append("not tagged " + tags.joined(separator: "|")) }
        if let skus = scope.excludeSkus { parts.append("except " + skus.joined(separator: ", ")) }
        if let channels = scope.channels { parts.append("on " + channels.joined(separator: ", ")) }
        if let channels = scope.excludeChannels { parts.append("not on " + channels.joined(separator: ", ")) }
        if let locations = scope.locations { parts.append("at " + locations.joined(separator: ", ")) }
        if let locations = scope.excludeLocations { parts.append("not at " + locations.joined(separator: ", ")) }
        if let suppliers = scope.suppliers { parts.append("from " + suppliers.joined(separator: ", ")) }
        return parts.joined(separator: " ")
    }

    static func describe(_ value: RuleValue?) -> String {
        switch value {
        case .number(let number): number.integerValue.map(String.init) ?? String(number.value)
        case .money(let money): describe(money)
        case .duration(let iso): iso
        case nil: "?"
        }
    }

    static func describe(_ money: RuleMoney) -> String {
        let sign = money.amount < 0 ? "-" : ""
        let amount = abs(money.amount)
        let cents = amount % 100
        return "\(sign)\(amount / 100).\(cents < 10 ? "0" : "")\(cents) \(money.currency)"
    }

    static func describe(_ condition: RuleCondition) -> String {
        let comparison: String
        switch condition.op {
        case .lt: comparison = "below " + describe(condition.value)
        case .lte: comparison = "at or below " + describe(condition.value)
        case .gt: comparison = "above " + describe(condition.value)
        case .gte: comparison = "at or above " + describe(condition.value)
        case .eq: comparison = "equal to " + describe(condition.value)
        case .neq: comparison = "not equal to " + describe(condition.value)
        case .between: comparison = "between " + describe(condition.min) + " and " + describe(condition.max)
        }
        var text = condition.metric.rawValue + (condition.edge == true ? " crosses " : " is ") + comparison
        if let window = condition.window { text += " within " + window }
        if let scope = condition.scope {
            let described = describe(scope)
            if !described.isEmpty { text += " (" + described + ")" }
        }
        return condition.negate == true ? "NOT(" + text + ")" : text
    }

    static func describe(_ action: RuleAction) -> String {
        var text: String
        let channels = action.channels.map { $0 == ["all"] ? "all channels" : $0.joined(separator: ", ") }
        switch action.type {
        case .notify:
            text = "notify \(action.to ?? "?")"
            text += action.via == .default || action.via == nil ? " (default medium)" : " via \(action.via?.rawValue ?? "")"
            if let message = action.message { text += " with \"\(message)\"" }
        case .pauseListing, .resumeListing:
            text = (action.type == .pauseListing ? "pause" : "resume") + " listing on " + (channels ?? "?")
            if let excluded = action.excludeChannels { text += " except " + excluded.joined(separator: ", ") }
        case .setSafetyStock:
            text = "set safety stock to \(action.units ?? 0) units"
            if let locations = action.locations { text += " at " + locations.joined(separator: ", ") }
        case .setSafetyStockMultiplier:
            text = "set safety stock multiplier to " + describe(action.factor.map { .number($0) })
        case .setChannelBuffer:
            text = "hold back \(action.units ?? 0) units on " + (channels ?? "?")
        case .setPrice:
            text = "set " + (channels.map { "price on " + $0 } ?? "base price") + " to " + (action.price.map(describe) ?? "?")
        case .adjustPrice:
            let amount = action.percent.map { describe(.number($0)) + "%" } ?? action.delta.map(describe) ?? "?"
            text = "adjust " + (channels.map { "price on " + $0 } ?? "base price") + " by " + amount
        case .reorder:
            text = "reorder \(action.units ?? 0) units"
            text += " from " + (action.supplier ?? "the default supplier")
            if let location = action.location { text += " into " + location }
        case .rerouteOrders:
            text = "reroute orders" + (channels.map { " from " + $0 } ?? "") + " to " + (action.to ?? "?")
        case .tagOrder:
            text = "tag order " + (action.tag ?? "?")
        case .reconcileChannels:
            text = "reconcile " + (channels ?? "all channels")
        case .prioritizeSync:
            text = "prioritize sync on " + (channels ?? "all channels")
        }
        if let scope = action.scope {
            let described = describe(scope)
            if !described.isEmpty { text += " " + described }
        }
        return text
    }
}
