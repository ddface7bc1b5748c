import Testing
@testable import ShelfCore

@Suite("Atoms: one id per name, shared by every thread")
struct AtomsTests {
    @Test("tasks naming the same strings at once agree on every id, and every id reads back its name")
    func concurrentAssignmentAgrees() async {
        let names = (0..<3_000).map { "atoms-test-\($0)-\(Int.random(in: 0..<1_000_000_000))" }
        let seen = await withTaskGroup(of: [String: UInt32].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ids: [String: UInt32] = [:]
                    // Each task walks the names from a different starting point, so first uses race.
                    for i in 0..<names.count {
                        let name = names[(i + task * 397) % names.count]
                        let id = Atoms.id(name)
                        ids[name] = id
                        #expect(Atoms.name(id) == name)
                    }
                    return ids
                }
            }
            var all: [[String: UInt32]] = []
            for await ids in group { all.append(ids) }
            return all
        }
        #expect(seen.count == 8)
        for ids in seen { #expect(ids == seen[0]) }
        #expect(Set(seen[0].values).count == names.count)
        #expect(!seen[0].values.contains(Atoms.overflowID))
        for name in names { #expect(Atoms.id(name) == seen[0][name]) }
    }

    @Test("the empty string is a name like any other")
    func emptyName() {
        #expect(Atoms.name(Atoms.id("")) == "")
    }
}
