/// Pieces ACP and UCP products share the same shape for (prices in both are `Money`: integer minor units and a currency).
enum FeedParts {
    /// Whether an item can be obtained, and the status qualifying it.
    struct Availability: Encodable {
        var available: Bool
        var status: String
    }

    /// An image by URL.
    struct Media: Encodable {
        var type = "image"
        var url: String
    }

    /// A barcode, typed by its length (13 digits: EAN, else UPC).
    struct Barcode: Encodable {
        var type: String
        var value: String

        init(_ code: String) {
            type = code.count == 13 ? "EAN" : "UPC"
            value = code
        }
    }

    /// Plain-text description.
    struct Description: Encodable {
        var plain: String
    }
}
