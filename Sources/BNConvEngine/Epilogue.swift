import BNConvCore
import BNConvModel
import BNConvInterop

/// The tail of a linear op: its ``PostOp``s applied row by row, so each row is read and written
/// once while it is in cache. A softmax activation (a whole-row reduction) runs last, on its own.
enum Epilogue {
    /// Applies `ops` in order to the `rows x columns` matrix at `output`, on `parallel`'s cores.
    static func apply(_ ops: [PostOp], output: UnsafeMutablePointer<Float>, rows: Int, columns: Int, parallel: Parallel) {
        let softmaxInside = ops.dropLast().contains { if case .activation(.softmax) = $0 { return true } else { return false } }
        if softmaxInside {
            for op in ops { apply([op], output: output, rows: rows, columns: columns, parallel: parallel) }
            return
        }
        var rowOps = ops
        var softmax = false
        if case .activation(.softmax)? = ops.last { rowOps.removeLast(); softmax = true }
        rowOps.removeAll { if case .activation(.linear) = $0 { return true } else { return false } }
        if !rowOps.isEmpty {
            parallel.ranges(rows, costPerItem: columns * rowOps.count) { range in
                applyRows(rowOps, output: output, rows: range, columns: columns)
            }
        }
        if softmax {
            Softmax.apply(input: output, output: output, geometry: ChannelGeometry(outer: rows, channels: columns, inner: 1), parallel: parallel)
        }
    }

    /// Whether `ops` can run row by row (no softmax).
    static func isRowWise(_ ops: [PostOp]) -> Bool {
        !ops.contains { if case .activation(.softmax) = $0 { return true } else { return false } }
    }

    /// Applies row-wise `ops` (no softmax) to the rows in `rows`, on the calling thread.
    static func applyRows(_ ops: [PostOp], output: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int) {
        for r in rows {
            let row = output + r * columns
            for op in ops {
                switch op {
                case .bias(let b):
                    b.withUnsafeBufferPointer { bp in for c in 0..<columns { row[c] += bp[c] } }
                case let .affine(scale, shift):
                    scale.withUnsafeBufferPointer { sp in
                        shift.withUnsafeBufferPointer { tp in
                            for c in 0..<columns { row[c] = row[c] * sp[c] + tp[c] }
                        }
                    }
                case .activation(let a):
                    ActivationFunction.applySerially(a, input: row, output: row, count: columns)
                case let .residual(other, base):
                    let r = PostOp.residualElement(other, base, for: row, count: columns)
                    for c in 0..<columns { row[c] += r[c] }
                case .program(let program):
                    program.apply(row, count: columns)
                }
            }
        }
    }

    /// `ops` with every residual Add bound to `output` (see ``PostOp/residual(other:output:)``).
    /// Throws when a residual's shape is not exactly the output's: the executor fuses only
    /// same-shape Adds, so this guards the reads rather than ever broadcasting.
    static func bind(_ ops: [PostOp], to output: EngineValue) throws -> [PostOp] {
        try ops.map { op in
            guard case .residual(let other, _) = op else { return op }
            guard other.shape == output.shape else {
                throw EngineError.shapeMismatch("fused residual Add operand", expected: output.shape, got: other.shape)
            }
            return .residual(other: other, output: output.pointer)
        }
    }

    /// Whether `ops` hold a residual Add.
    static func hasResidual(_ ops: [PostOp]) -> Bool {
        ops.contains { if case .residual = $0 { return true } else { return false } }
    }

    /// The layer's own tail: bias (when it has one), then its activation.
    static func layerOps(bias: [Float]?, activation: Activation) -> [PostOp] {
        (bias.map { [PostOp.bias($0)] } ?? []) + [.activation(activation)]
    }
}
