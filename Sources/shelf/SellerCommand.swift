import ArgumentParser
import Foundation
import ShelfCore
import ShelfLedger

/// `shelf seller create|list`: the platform operator's tenant commands, on the database (a running server sees a new seller
/// at once only through `POST /v1/sellers`; created here, it is loaded on the server's next start).
struct SellerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seller", abstract: "Create and list sellers (tenants).",
                                                    subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a seller; prints its id.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Seller id: a–z, 0–9, '-' and '_'.") var id: String
        @Option(help: "Display name.") var name: String
        @Option(help: "ISO 4217 currency of its prices.") var currency: String = "USD"
        @Option(name: .customLong("time-zone"), help: "IANA time zone of the seller's business day.") var timeZone: String = "UTC"
        @Option(name: .customLong("holiday"), help: "A business holiday (YYYY-MM-DD); repeat for more.") var holidays: [String] = []

        func run() async throws {
            var days: [CivilDate] = []
            for text in holidays {
                guard let day = CivilDate(text) else { throw ValidationError("holiday \(text) must be a date like 2026-12-25") }
                days.append(day)
            }
            let seller = SellerFixture(id: id, name: name, currency: currency, timeZone: timeZone, holidays: Array(Set(days)).sorted())
            if let (field, reason) = seller.problem { throw ValidationError("\(field) \(reason)") }
            guard try await db.withLedger({ ledger in try await ledger.createSeller(seller) }) else {
                throw ValidationError("a seller with id \(id) exists already")
            }
            print(id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sellers: id, currency, time zone, SKUs, name.")
        @OptionGroup var db: DatabaseOptions

        func run() async throws {
            let sellers = try await db.withLedger { ledger in
                try await ledger.rebuildSnapshot()
                return try await ledger.sellers()
            }
            for s in sellers { print("\(s.id)\t\(s.currency)\t\(s.timeZone)\t\(s.skus)\t\(s.name)") }
        }
    }
}
