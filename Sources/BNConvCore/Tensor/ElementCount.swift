/// The element count of a shape whose dimensions come from a file or a user's option: computed
/// with overflow checks, so a hostile size ends in an error instead of a trap.
package enum ElementCount {
    /// The product of `shape`'s dimensions, or `nil` when a dimension is negative, the product
    /// overflows `Int`, or it is larger than `limit`.
    package static func of(_ shape: [Int], atMost limit: Int = .max) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= limit else { return nil }
            count = product
        }
        return count
    }
}
