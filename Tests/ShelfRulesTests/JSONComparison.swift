import Foundation

/// Deep equality of parsed JSON values (objects, arrays, strings, numbers, booleans, null).
enum JSONComparison {
    static func parse(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    static func equal(_ lhs: Any, _ rhs: Any) -> Bool {
        switch (lhs, rhs) {
        case (let left as [String: Any], let right as [String: Any]):
            guard Set(left.keys) == Set(right.keys) else { return false }
            return left.allSatisfy { key, value in right[key].map { equal(value, $0) } ?? false }
        case (let left as [Any], let right as [Any]):
            return left.count == right.count && zip(left, right).allSatisfy { equal($0, $1) }
        case (let left as String, let right as String):
            return left == right
        case (let left as NSNumber, let right as NSNumber):
            return left == right
        case (is NSNull, is NSNull):
            return true
        default:
            return false
        }
    }
}
