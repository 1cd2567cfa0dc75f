/// What one float64 reference (``Float64Reference``) may still spend, so that a check of a layer far
/// larger than a fold check needs (a window too large for the capped input, run at full size) is
/// refused at once, and the check says so, instead of running for minutes or filling memory.
struct Float64Budget {
    /// The multiply-adds left for the whole evaluation.
    var multiplyAdds: Int
    /// The most values one tensor may hold.
    var valuesPerTensor: Int

    /// The default: 2^28 multiply-adds (well under a second in Double), 2^23 values (64 MiB) per tensor.
    init(multiplyAdds: Int = 1 << 28, valuesPerTensor: Int = 1 << 23) {
        self.multiplyAdds = multiplyAdds
        self.valuesPerTensor = valuesPerTensor
    }

    /// Takes the cost of one op, whose output holds the product of `values` and which does the
    /// product of `work` multiply-adds; throws when either is beyond what is left (or overflows).
    mutating func spend(values: [Int], multiplyAdds work: [Int]) throws {
        guard let count = Self.product(values), count <= valuesPerTensor else {
            throw Float64Reference.Unsupported("a value of \(values.map(String.init).joined(separator: " x ")) elements is more than the reference holds (\(valuesPerTensor))")
        }
        guard let cost = Self.product(work), cost <= multiplyAdds else {
            throw Float64Reference.Unsupported("the layers take more multiply-adds than the reference spends (\(multiplyAdds) left)")
        }
        multiplyAdds -= cost
    }

    /// The product of non-negative `factors`, or nil when it overflows.
    static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = r
        }
        return p
    }
}
