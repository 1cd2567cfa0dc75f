import BNConvCore

/// Depthwise convolution of narrow channels-first planes, sixteen output channels at a time: their
/// input planes are interleaved into a zero-padded scratch (`rows x columns x 16`), every output
/// position is computed for the sixteen channels at once with vector multiply-adds, and the result
/// is written back plane by plane. Rows of a few positions (a MobileNet's or PP-LCNet's 7x7 and
/// 14x14 stages) leave the plane-at-a-time loop too short to vectorize; this does not depend on
/// the row length.
///
/// Each output element is the same sum, in the same tap order and with a separate multiply and add
/// per tap, as ``ChannelsFirstDepthwiseKernel``'s plane loop computes (a tap outside the input
/// adds `0 * w`), so both paths agree bit for bit.
struct ChannelBlockedDepthwise {
    /// Channels per block (one 512-bit vector of floats).
    static let lanes = 16
    /// Output rows narrower than this run blocked.
    static let widestRow = 32

    /// The weights as `(blocks, taps, lanes)`, zero past the last output channel.
    let weights: [Float]
    /// Taps per channel.
    let taps: Int
    /// Output channels.
    let outputChannels: Int

    /// Blocks the `(outputChannels, taps)` kernel.
    init(kernel: [Float], outputChannels: Int, taps: Int) {
        let blocks = (outputChannels + Self.lanes - 1) / Self.lanes
        var blocked = [Float](repeating: 0, count: blocks * taps * Self.lanes)
        for o in 0..<outputChannels {
            let (block, lane) = o.quotientAndRemainder(dividingBy: Self.lanes)
            for t in 0..<taps { blocked[(block * taps + t) * Self.lanes + lane] = kernel[o * taps + t] }
        }
        weights = blocked
        self.taps = taps
        self.outputChannels = outputChannels
    }

    /// The sizes of one 2-D run.
    struct Geometry {
        /// Input rows and columns.
        let ih: Int, iw: Int
        /// Output rows and columns.
        let oh: Int, ow: Int
        /// Window rows and columns.
        let kh: Int, kw: Int
        /// Strides, leading padding and dilations (rows, columns).
        let sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
        /// Input channels per output channel's input plane (the depth multiplier).
        let multiplier: Int

        /// Padded scratch rows and columns: every position a window reads.
        var paddedRows: Int { (oh - 1) * sh + (kh - 1) * dh + 1 }
        var paddedColumns: Int { (ow - 1) * sw + (kw - 1) * dw + 1 }
    }

    /// Writes output channels `block * 16 ..< +16` (those that exist) of one image: `input` is the
    /// image's first input plane, `output` its first output plane.
    func run(block: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, _ g: Geometry) {
        let lanes = Self.lanes
        let first = block * lanes
        let count = min(lanes, outputChannels - first)
        guard count > 0, g.oh > 0, g.ow > 0 else { return }
        let hp = g.paddedRows, wp = g.paddedColumns
        let inPlane = g.ih * g.iw, outPlane = g.oh * g.ow
        withUnsafeTemporaryAllocation(of: Float.self, capacity: hp * wp * lanes + outPlane * lanes) { scratch in
            let padded = scratch.baseAddress!
            let result = padded + hp * wp * lanes
            padded.initialize(repeating: 0, count: hp * wp * lanes)
            // Interleave: padded[(r + ph, c + pw), lane] = plane(lane)[r, c], for the rows and columns read.
            let rows = max(0, min(g.ih, hp - g.ph)), columns = max(0, min(g.iw, wp - g.pw))
            for lane in 0..<count {
                let plane = input + ((first + lane) / g.multiplier) * inPlane
                for r in 0..<rows {
                    let src = plane + r * g.iw
                    let dst = padded + ((r + g.ph) * wp + g.pw) * lanes + lane
                    for c in 0..<columns { dst[c * lanes] = src[c] }
                }
            }
            weights.withUnsafeBufferPointer { w in
                let wb = UnsafeRawPointer(w.baseAddress! + block * taps * lanes)
                let source = UnsafeRawPointer(padded)
                let target = UnsafeMutableRawPointer(result)
                let stride = MemoryLayout<SIMD16<Float>>.stride
                for yh in 0..<g.oh {
                    for yw in 0..<g.ow {
                        var acc = SIMD16<Float>(repeating: 0)
                        for b in 0..<g.kh {
                            let rowStart = ((yh * g.sh + b * g.dh) * wp + yw * g.sw) * lanes
                            for c in 0..<g.kw {
                                let p = source.loadUnaligned(fromByteOffset: (rowStart + c * g.dw * lanes) * 4, as: SIMD16<Float>.self)
                                let k = wb.loadUnaligned(fromByteOffset: (b * g.kw + c) * stride, as: SIMD16<Float>.self)
                                acc += p * k
                            }
                        }
                        target.storeBytes(of: acc, toByteOffset: (yh * g.ow + yw) * stride, as: SIMD16<Float>.self)
                    }
                }
            }
            // Back to planes.
            for lane in 0..<count {
                let dst = output + (first + lane) * outPlane
                for pos in 0..<outPlane { dst[pos] = result[pos * lanes + lane] }
            }
        }
    }
}
