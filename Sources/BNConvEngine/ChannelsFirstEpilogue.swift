import BNConvCore
import BNConvModel
import BNConvInterop

/// The tail of a channels-first linear op (``PostOp``s), where a channel is a row of `positions`
/// values: bias and affine maps take one constant per row; a residual Add reads the element at
/// the same place in its operand (the op must be bound to the output, ``Epilogue/bind(_:to:)``, and
/// `image` must lie in that output). Applied to a block of rows and columns
/// right after the block's product, or (a softmax over channels among them) to the whole output.
enum ChannelsFirstEpilogue {
    /// Applies row-wise `ops` (no softmax) to channels `channels`, positions `columns` of one image
    /// at `image` (`channels x positions`), on the calling thread.
    static func applyBlock(_ ops: [PostOp], image: UnsafeMutablePointer<Float>, channels: Range<Int>,
                           columns: Range<Int>, positions: Int) {
        let n = columns.count
        guard n > 0 else { return }
        if let plain = PlainTail(ops) {
            // The usual tail (bias, BatchNorm, residual Add, ReLU) in one pass over each row, each
            // value computed as the separate steps would: ((x + b) * s + t) + r, then max(., 0).
            let reluFirst = plain.relu && plain.residual == nil
            for o in channels {
                let row = image + o * positions + columns.lowerBound
                let b = plain.bias?[o] ?? 0, s = plain.scale?[o] ?? 1, t = plain.shift?[o] ?? 0
                switch (plain.bias != nil, plain.scale != nil, reluFirst) {
                case (true, true, true): for j in 0..<n { row[j] = max((row[j] + b) * s + t, 0) }
                case (true, true, false): for j in 0..<n { row[j] = (row[j] + b) * s + t }
                case (false, true, true): for j in 0..<n { row[j] = max(row[j] * s + t, 0) }
                case (false, true, false): for j in 0..<n { row[j] = row[j] * s + t }
                case (true, false, true): for j in 0..<n { row[j] = max(row[j] + b, 0) }
                case (true, false, false): for j in 0..<n { row[j] += b }
                case (false, false, true): for j in 0..<n { row[j] = max(row[j], 0) }
                case (false, false, false): break
                }
                if let (other, total, base) = plain.residual {
                    // The row is still in L1: a second sweep costs about nothing.
                    let r = PostOp.residualElement(other, total: total, base, for: row, count: n)
                    if plain.relu {
                        for j in 0..<n { row[j] = max(row[j] + r[j], 0) }
                    } else {
                        for j in 0..<n { row[j] += r[j] }
                    }
                }
            }
            return
        }
        for o in channels {
            let row = image + o * positions + columns.lowerBound
            for op in ops {
                switch op {
                case .bias(let b):
                    let v = b[o]
                    for j in 0..<n { row[j] += v }
                case let .affine(scale, shift):
                    let s = scale[o], t = shift[o]
                    for j in 0..<n { row[j] = row[j] * s + t }
                case .activation(let a):
                    ActivationFunction.applySerially(a, input: row, output: row, count: n)
                case let .residual(other, base):
                    let r = PostOp.residualElement(other, base, for: row, count: n)
                    for j in 0..<n { row[j] += r[j] }
                case .program(let program):
                    program.apply(row, count: n)
                }
            }
        }
    }

    /// The ops a block may apply (no linear activations), or `nil` when a softmax is among them.
    static func blockOps(_ ops: [PostOp]) -> [PostOp]? {
        guard Epilogue.isRowWise(ops) else { return nil }
        return ops.filter { if case .activation(.linear) = $0 { return false } else { return true } }
    }

    /// `ops` cut before the first residual Add: the part a kernel may apply to a product held
    /// outside the output (a scratch matrix), and the rest, to apply once the block is in place.
    static func splitAtResidual(_ ops: [PostOp]) -> (scratch: [PostOp], inPlace: [PostOp]) {
        let cut = ops.firstIndex { if case .residual = $0 { return true } else { return false } } ?? ops.count
        return (Array(ops[..<cut]), Array(ops[cut...]))
    }

    /// Applies `ops` in order to the whole `(images, channels, positions)` output, a softmax over
    /// the channel axis, on `parallel`'s cores.
    static func apply(_ ops: [PostOp], output: UnsafeMutablePointer<Float>, images: Int, channels: Int, positions: Int,
                      parallel: Parallel) {
        for op in ops {
            if case .activation(.softmax) = op {
                Softmax.apply(input: output, output: output,
                              geometry: ChannelGeometry(outer: images, channels: channels, inner: positions), parallel: parallel)
                continue
            }
            guard let block = blockOps([op]), !block.isEmpty else { continue }
            parallel.ranges(images * channels, costPerItem: positions) { range in
                for r in range {
                    let image = output + (r / channels) * channels * positions
                    applyBlock(block, image: image, channels: (r % channels)..<(r % channels + 1),
                               columns: 0..<positions, positions: positions)
                }
            }
        }
    }

    /// A tail of at most one bias, then at most one affine map, then at most one residual Add,
    /// then at most one plain ReLU.
    private struct PlainTail {
        var bias: [Float]?, scale: [Float]?, shift: [Float]?, relu = false
        /// The residual's first element, its element count and the output's first element (bound),
        /// as raw pointers: no reference counting per row.
        var residual: (UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>)?

        init?(_ ops: [PostOp]) {
            var stage = 0
            for op in ops {
                switch op {
                case .bias(let b) where stage < 1: bias = b; stage = 1
                case let .affine(s, t) where stage < 2: scale = s; shift = t; stage = 2
                case let .residual(other, base?) where stage < 3: residual = (other.pointer, other.count, base); stage = 3
                case .activation(.relu(maxValue: nil, threshold: 0, negativeSlope: 0)) where stage < 4: relu = true; stage = 4
                default: return nil
                }
            }
        }
    }
}
