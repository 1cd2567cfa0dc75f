/// Checked access to a kernel's inputs, with errors naming the op.
public struct OpInputs {
    /// The op (for error messages).
    public let op: String
    /// The inputs as given.
    public let values: [HostTensor?]

    /// Wraps `values` of `op`.
    public init(_ op: String, _ values: [HostTensor?]) {
        self.op = op
        self.values = values
    }

    /// Input `i`, which the op requires.
    public func required(_ i: Int) throws -> HostTensor {
        guard i < values.count, let v = values[i] else {
            throw OpError.invalid(op: op, problem: "input \(i) is missing")
        }
        return v
    }

    /// Input `i` when given.
    public func optional(_ i: Int) -> HostTensor? { i < values.count ? values[i] : nil }

    /// Input `i` read as a list of integers (an axes, shape or pads tensor), when given.
    public func integers(_ i: Int) -> [Int]? {
        optional(i).map { $0.storage.integers.map { Int(truncatingIfNeeded: $0) } }
    }

    /// Input `i` read as one number, when given.
    public func scalar(_ i: Int) throws -> Double? {
        guard let t = optional(i) else { return nil }
        guard t.count == 1 else { throw OpError.invalid(op: op, problem: "input \(i) must hold one value, not shape \(t.shape)") }
        return t.storage.doubles[0]
    }
}
