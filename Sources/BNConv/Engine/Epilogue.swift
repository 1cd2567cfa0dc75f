/// The tail of a linear op: add a per-column bias, then the layer's own activation.
enum Epilogue {
    /// Adds `bias` (one per column) to the `rows x columns` matrix at `output`, then applies `activation`.
    static func apply(bias: [Float]?, activation: Activation, output: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        if let bias {
            bias.withUnsafeBufferPointer { b in
                Parallel.ranges(rows, costPerItem: columns) { range in
                    for r in range {
                        let row = output + r * columns
                        for c in 0..<columns { row[c] += b[c] }
                    }
                }
            }
        }
        if !activation.isLinear {
            ActivationFunction.apply(activation, input: output, output: output, count: rows * columns, lastAxis: columns)
        }
    }
}
