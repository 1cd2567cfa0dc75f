import BNConvCore
import BNConvModel

/// How a weight tensor's flat (C-order) elements map to channels: element
/// `(outer * channels + c) * inner + k` belongs to channel `c`.
///
/// Built from a ``KernelLayout`` and a shape, for the output channels a BN after the op scales, or
/// for the input channels a BN before the op scales. Grouped ONNX ConvTranspose kernels (`iohw`)
/// need `groups`: there the channel of element `(i, o', ...)` is `(i / (I/groups)) * (O/groups) + o'`
/// (ONNX Operators.md, ConvTranspose).
struct ChannelView: Equatable {
    /// Product of the axes before the channel axis.
    var outer: Int
    /// Channels along the channel axis (per group for grouped `iohw`).
    var channels: Int
    /// Product of the axes after the channel axis.
    var inner: Int
    /// Groups of a grouped `iohw` kernel (1 elsewhere): the outer index `i` selects group `i / (outer / groups)`.
    var groups: Int = 1

    /// Total channels the view addresses.
    var totalChannels: Int { channels * groups }

    /// The output-channel view of a kernel, or `nil` when the layout has no output channels.
    static func output(of layout: KernelLayout, shape: [Int], groups: Int = 1) -> ChannelView? {
        let r = shape.count
        func prod(_ s: ArraySlice<Int>) -> Int { s.reduce(1, *) }
        switch layout {
        case .hwio where r >= 2: return ChannelView(outer: prod(shape[..<(r - 1)]), channels: shape[r - 1], inner: 1)
        case .hwcm where r >= 2: return ChannelView(outer: prod(shape[..<(r - 2)]), channels: shape[r - 2] * shape[r - 1], inner: 1)
        case .hwoi where r >= 2: return ChannelView(outer: prod(shape[..<(r - 2)]), channels: shape[r - 2], inner: shape[r - 1])
        case .oihw where r >= 2: return ChannelView(outer: 1, channels: shape[0], inner: prod(shape[1...]))
        case .iohw where r >= 2 && groups >= 1 && shape[0] % groups == 0:
            return ChannelView(outer: shape[0], channels: shape[1], inner: prod(shape[2...]), groups: groups)
        case .io where r == 2: return ChannelView(outer: shape[0], channels: shape[1], inner: 1)
        case .oi where r == 2: return ChannelView(outer: 1, channels: shape[0], inner: shape[1])
        case .vector where r == 1: return ChannelView(outer: 1, channels: shape[0], inner: 1)
        default: return nil
        }
    }

    /// The input-channel view of an ungrouped conv or dense kernel, or `nil` for other layouts.
    static func input(of layout: KernelLayout, shape: [Int]) -> ChannelView? {
        let r = shape.count
        func prod(_ s: ArraySlice<Int>) -> Int { s.reduce(1, *) }
        switch layout {
        case .hwio where r >= 2: return ChannelView(outer: prod(shape[..<(r - 2)]), channels: shape[r - 2], inner: shape[r - 1])
        case .io where r == 2: return ChannelView(outer: 1, channels: shape[0], inner: shape[1])
        case .oihw where r >= 2: return ChannelView(outer: shape[0], channels: shape[1], inner: prod(shape[2...]))
        case .oi where r == 2: return ChannelView(outer: shape[0], channels: shape[1], inner: 1)
        default: return nil
        }
    }

    /// The channel of each outer index's block start; `channel(outerIndex:c)` for grouped views.
    @inline(__always)
    func channel(outerIndex o: Int, c: Int) -> Int {
        groups == 1 ? c : (o / (outer / groups)) * channels + c
    }

    /// Multiplies every element by `scale[channel]` (scale has ``totalChannels`` entries).
    func scale(_ values: inout [Double], by scale: [Double]) {
        precondition(values.count == outer * channels * inner && scale.count == totalChannels)
        var index = 0
        for o in 0..<outer {
            for c in 0..<channels {
                let s = scale[channel(outerIndex: o, c: c)]
                for _ in 0..<inner {
                    values[index] *= s
                    index += 1
                }
            }
        }
    }

    /// `tensor` with every element multiplied by `scale[channel]` in Double and rounded once to the
    /// tensor's dtype (a loaded tensor; see ``scaledBytes(_:dtype:shape:by:)``).
    func scaled(_ tensor: Tensor, by scale: [Double]) -> Tensor {
        precondition(tensor.count == outer * channels * inner && scale.count == totalChannels)
        let bytes = tensor.bytes.withUnsafeBytes { scaledBytes($0, dtype: tensor.dtype, shape: tensor.shape, by: scale) }
        return Tensor(dtype: tensor.dtype, shape: tensor.shape, exactBytes: bytes)
    }

    /// The raw bytes of a `dtype` tensor of `shape` with every element multiplied by
    /// `scale[channel]` in Double and rounded once to `dtype` (see ``scale(_:into:dtype:shape:by:)``).
    func scaledBytes(_ raw: UnsafeRawBufferPointer, dtype: DType, shape: [Int], by scale: [Double]) -> [UInt8] {
        let count = outer * channels * inner * dtype.byteCount
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            self.scale(raw, into: UnsafeMutableRawBufferPointer(buffer), dtype: dtype, shape: shape, by: scale)
            initialized = count
        }
    }

    /// Writes into `destination` the raw bytes of the `dtype` tensor `raw` of `shape` with every
    /// element multiplied by `scale[channel]` in Double and rounded once to `dtype`. float32
    /// streams from `raw` (which may be a mapping of the file) in one pass; other dtypes go
    /// through Double.
    func scale(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, dtype: DType,
               shape: [Int], by scale: [Double]) {
        let n = outer * channels * inner
        precondition(raw.count == n * dtype.byteCount && destination.count == raw.count && scale.count == totalChannels)
        guard dtype == .float32 else {
            var values = Tensor(dtype: dtype, shape: shape, exactBytes: Array(raw)).doubles()
            self.scale(&values, by: scale)
            Tensor(shape: shape, doubles: values, dtype: dtype).bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
            return
        }
        guard n > 0, let from = raw.baseAddress, let to = destination.baseAddress else { return }
        // Loads and stores that need no alignment: a STORED `.keras` member starts at any byte of
        // the archive, so a kernel lent from its mapping (and the direct-I/O buffer placed to
        // match its offset in the output) may lie at an odd address. On x86-64 and arm64 these
        // are plain loads and stores, and the loops still vectorize.
        scale.withUnsafeBufferPointer { factors in
            let s = factors.baseAddress!
            if self.groups == 1 && self.inner == 1 {
                // Channels last (hwio, io, hwcm): one factor per element of a row; a straight
                // loop over row pointers (no overflow checks) that vectorizes.
                for o in 0..<self.outer {
                    let x = from + o * self.channels * 4, y = to + o * self.channels * 4
                    for c in 0..<self.channels {
                        y.storeBytes(of: Float(Double(x.loadUnaligned(fromByteOffset: c * 4, as: Float.self)) * s[c]),
                                     toByteOffset: c * 4, as: Float.self)
                    }
                }
                return
            }
            var index = 0
            for o in 0..<self.outer {
                for c in 0..<self.channels {
                    let factor = s[self.channel(outerIndex: o, c: c)]
                    for _ in 0..<self.inner {
                        to.storeBytes(of: Float(Double(from.loadUnaligned(fromByteOffset: index * 4, as: Float.self)) * factor),
                                      toByteOffset: index * 4, as: Float.self)
                        index += 1
                    }
                }
            }
        }
    }

    /// For an input-channel view of a kernel whose output channels are the `outer` or `inner`
    /// axis: `sum over elements of value * shift[channel]`, accumulated per output channel.
    /// `outputOf(o, k)` names the output channel of the element at outer `o`, inner `k`.
    func contract(_ values: [Double], with shift: [Double], outputs: Int,
                  outputOf: (_ outer: Int, _ inner: Int) -> Int) -> [Double] {
        var out = [Double](repeating: 0, count: outputs)
        var index = 0
        for o in 0..<outer {
            for c in 0..<channels {
                let t = shift[c]
                for k in 0..<inner {
                    out[outputOf(o, k)] += values[index] * t
                    index += 1
                }
            }
        }
        return out
    }
}
