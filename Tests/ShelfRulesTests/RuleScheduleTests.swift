import ShelfRules
import Testing

/// Schedules (§3.6): weekly days, day parts, intervals, and how schedule rules take their scope (§5.8).
@Suite("Schedules")
struct RuleScheduleTests {
    @Test func weeklyDaysInWeekOrder() throws {
        #expect(try RuleExpectations.accepts(
            "Every Friday, Monday and Wednesday at 7:30 am, reconcile all channels.",
            #"""
            {"trigger":{"event":"schedule","scope":{},"schedule":{"freq":"weekly","days":["MON","WED","FRI"],
            "time":"07:30"}},"conditions":[],"actions":[{"type":"reconcile_channels"}]}
            """#
        ) != nil)
    }

    @Test func dayPartsResolveBareHours() throws {
        #expect(try RuleExpectations.accepts(
            "Every evening at 9, email purchasing if SKU-4 is under 30 units.",
            #"""
            {"trigger":{"event":"schedule","scope":{"skus":["SKU-4"]},"schedule":{"freq":"daily",
            "time":"21:00"}},"conditions":[{"metric":"stock","op":"lt","value":30}],"actions":[{"type":"notify",
            "via":"email","to":"purchasing"}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "Every weekday morning at 6, reconcile Amazon.",
            #"""
            {"trigger":{"event":"schedule","scope":{},"schedule":{"freq":"weekly","days":["MON","TUE","WED",
            "THU","FRI"],"time":"06:00"}},"conditions":[],"actions":[{"type":"reconcile_channels",
            "channels":["amazon"]}]}
            """#
        ) != nil)
    }

    @Test(
        "interval schedules",
        arguments: [
            ("Reconcile everything every 2 hours.", "PT2H"), ("Hourly, reconcile everything.", "PT1H"),
            ("Every half hour, reconcile everything.", "PT30M"), ("Every 5 minutes, reconcile everything.", "PT5M"),
            ("Every 90 minutes, reconcile everything.", "PT1H30M"),
        ]
    )
    func intervals(_ text: String, _ iso: String) throws {
        #expect(try RuleExpectations.accepts(
            text,
            #"""
            {"trigger":{"event":"schedule","scope":{},"schedule":{"freq":"interval","interval":"\#(iso)"}},
            "conditions":[],"actions":[{"type":"reconcile_channels"}]}
            """#
        ) != nil)
    }

    @Test func noonAndMidnight() throws {
        #expect(try RuleExpectations.accepts(
            "At midnight every Sunday, reconcile Etsy.",
            #"""
            {"trigger":{"event":"schedule","scope":{},"schedule":{"freq":"weekly","days":["SUN"],
            "time":"00:00"}},"conditions":[],"actions":[{"type":"reconcile_channels","channels":["etsy"]}]}
            """#
        ) != nil)
        #expect(try RuleExpectations.accepts(
            "Daily at noon, reconcile Etsy.",
            #"""
            {"trigger":{"event":"schedule","scope":{},"schedule":{"freq":"daily","time":"12:00"}},
            "conditions":[],"actions":[{"type":"reconcile_channels","channels":["etsy"]}]}
            """#
        ) != nil)
    }

    @Test func scheduleScopeComesFromTheFirstItemPhrase() throws {
        #expect(try RuleExpectations.accepts(
            "Daily at 07:00, reorder 40 units of SKU-4 from Acme if SKU-4 has fewer than 10 units at Reno.",
            #"""
            {"trigger":{"event":"schedule","scope":{"skus":["SKU-4"]},"schedule":{"freq":"daily",
            "time":"07:00"}},"conditions":[{"metric":"stock","op":"lt","value":10,
            "scope":{"locations":["reno"]}}],"actions":[{"type":"reorder","units":40,"supplier":"acme"}]}
            """#
        ) != nil)
    }
}
