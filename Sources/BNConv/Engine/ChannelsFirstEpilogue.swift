/// The tail of a channels-first linear op (``PostOp``s), where a channel is a row of `positions`
/// values: bias and affine maps take one constant per row. Applied to a block of rows and columns
/// right after the block's product, or (a softmax over channels among them) to the whole output.
enum ChannelsFirstEpilogue {
    /// Applies row-wise `ops` (no softmax) to channels `channels`, positions `columns` of one image
    /// at `image` (`channels x positions`), on the calling thread.
    static func applyBlock(_ ops: [PostOp], image: UnsafeMutablePointer<Float>, channels: Range<Int>,
                           columns: Range<Int>, positions: Int) {
        let n = columns.count
        guard n > 0 else { return }
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
                }
            }
        }
    }

    /// The ops a block may apply (no linear activations), or `nil` when a softmax is among them.
    static func blockOps(_ ops: [PostOp]) -> [PostOp]? {
        guard Epilogue.isRowWise(ops) else { return nil }
        return ops.filter { if case .activation(.linear) = $0 { return false } else { return true } }
    }

    /// Applies `ops` in order to the whole `(images, channels, positions)` output, a softmax over
    /// the channel axis.
    static func apply(_ ops: [PostOp], output: UnsafeMutablePointer<Float>, images: Int, channels: Int, positions: Int) {
        for op in ops {
            if case .activation(.softmax) = op {
                Softmax.apply(input: output, output: output,
                              geometry: ChannelGeometry(outer: images, channels: channels, inner: positions))
                continue
            }
            guard let block = blockOps([op]), !block.isEmpty else { continue }
            Parallel.ranges(images * channels, costPerItem: positions) { range in
                for r in range {
                    let image = output + (r / channels) * channels * positions
                    applyBlock(block, image: image, channels: (r % channels)..<(r % channels + 1),
                               columns: 0..<positions, positions: positions)
                }
            }
        }
    }
}
