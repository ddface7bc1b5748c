import ShelfCore
@testable import ShelfLedger
import Testing

/// The flat external-id table against a plain set of (channel, item id, SKU) triples, through growth, wrap-around and
/// removals that shift runs back.
@Suite("External-id index")
struct ExternalIdIndexTests {
    @Test("random inserts and removals answer exactly what a set of triples answers", arguments: [1, 2, 3])
    func matchesAReferenceSet(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var index = ExternalIdIndex()
        var reference: Set<[String]> = []
        let channels = ["amazon", "ebay", "shopify"]
        // Few distinct keys and SKUs, so the same key is listed by several SKUs and removals hit long probe runs.
        func key() -> (String, String) { (channels[Int(rng.next() % 3)], "ID-\(rng.next() % 400)") }
        func sku() -> String { "SKU-\(rng.next() % 50)" }
        for step in 0..<20_000 {
            let (channel, id) = key()
            let s = sku()
            if rng.next() % 3 == 0, let victim = reference.randomElement(using: &rng) {
                index.remove(channel: victim[0], externalId: victim[1], sku: victim[2])
                reference.remove(victim)
            } else if rng.next() % 5 == 0 {
                index.remove(channel: channel, externalId: id, sku: s)  // often absent: removes nothing
                reference.remove([channel, id, s])
            } else {
                index.insert(channel: channel, externalId: id, sku: s)
                reference.insert([channel, id, s])
            }
            if step % 997 == 0 || step == 19_999 {
                #expect(index.count == reference.count)
                // One slot per distinct (channel, id): SKUs sharing one never lengthen other ids' probe runs.
                #expect(index.occupied == Set(reference.map { [$0[0], $0[1]] }).count)
                for channel in channels {
                    for n in 0..<400 {
                        let expected = Set(reference.filter { $0[0] == channel && $0[1] == "ID-\(n)" }.map { $0[2] })
                        #expect(Set(index.candidates(channel: channel, externalId: "ID-\(n)")) == expected, "\(channel) ID-\(n) at step \(step)")
                    }
                }
            }
        }
    }

    @Test("many SKUs listing the same item id take one slot, and each can be removed")
    func sharedIdTakesOneSlot() {
        var index = ExternalIdIndex()
        for n in 0..<600 { index.insert(channel: "amazon", externalId: "SAME", sku: "SKU-\(n)") }
        index.insert(channel: "amazon", externalId: "OTHER", sku: "X")
        #expect(index.count == 601)
        #expect(index.occupied == 2)
        #expect(Set(index.candidates(channel: "amazon", externalId: "SAME")) == Set((0..<600).map { "SKU-\($0)" }))
        // The slot's own SKU (the first) and one from the side table.
        index.remove(channel: "amazon", externalId: "SAME", sku: "SKU-0")
        index.remove(channel: "amazon", externalId: "SAME", sku: "SKU-300")
        index.remove(channel: "amazon", externalId: "SAME", sku: "SKU-300")  // absent now: nothing changes
        #expect(index.count == 599)
        #expect(Set(index.candidates(channel: "amazon", externalId: "SAME")) == Set((1..<600).filter { $0 != 300 }.map { "SKU-\($0)" }))
        for n in 1..<600 where n != 300 { index.remove(channel: "amazon", externalId: "SAME", sku: "SKU-\(n)") }
        #expect(index.candidates(channel: "amazon", externalId: "SAME").isEmpty)
        #expect(index.candidates(channel: "amazon", externalId: "OTHER") == ["X"])
        #expect(index.count == 1 && index.occupied == 1)
    }

    @Test("the channel is part of the key")
    func channelIsPartOfTheKey() {
        var index = ExternalIdIndex()
        index.insert(channel: "amazon", externalId: "B0-1", sku: "A")
        index.insert(channel: "ebay", externalId: "B0-1", sku: "E")
        #expect(index.candidates(channel: "amazon", externalId: "B0-1") == ["A"])
        #expect(index.candidates(channel: "ebay", externalId: "B0-1") == ["E"])
        #expect(index.candidates(channel: "amazon", externalId: "B0-2").isEmpty)
        #expect(ExternalIdIndex.hash(channel: "ab", externalId: "c") != ExternalIdIndex.hash(channel: "a", externalId: "bc"))
    }
}
