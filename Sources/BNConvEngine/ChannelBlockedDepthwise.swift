import BNConvCore

/// 2-D depthwise convolution of channels-first planes, sixteen output channels at a time: their
/// input rows are interleaved into a zero-padded scratch (`rows x columns x 16`), a band of output
/// rows at a time, every output position is computed for the sixteen channels at once with vector
/// multiply-adds kept in registers across the taps, and the result is written back plane by plane.
/// Rows of a few positions (a MobileNet's or PP-LCNet's 7x7 and 14x14 stages) leave a
/// plane-at-a-time loop too short to vectorize, and strided rows gather; this depends on neither.
///
/// Each output element is the same sum, in the same tap order and with a separate multiply and add
/// per tap, as ``ChannelsFirstDepthwiseKernel``'s plane loop computes (a tap outside the input
/// adds `0 * w`), so both paths agree bit for bit.
struct ChannelBlockedDepthwise {
    /// Channels per block (one 512-bit vector of floats).
    static let lanes = 16
    /// Output rows narrower than this run blocked; wider ones vectorize along the row
    /// (``ChannelsFirstDepthwiseKernel``), where interleaving would cost more than it saves.
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

        /// Padded scratch columns: every column a window reads (``scratch(_:)`` has checked that this
        /// is small before a run uses it).
        var paddedColumns: Int { (ow - 1) * sw + (kw - 1) * dw + 1 }
    }

    /// Floats of interleaved input one band of output rows takes at most (about 64 KB): the band's
    /// input rows stay in the L1/L2 cache while its windows are read.
    static let bandBudget = 1 << 14

    /// Most floats of scratch one block may take (16 MB): a window spread wide by a file's dilation
    /// or padding (a 3x3 window dilated by 100,000 reads 200,001 rows) runs the plane loop instead,
    /// which takes no scratch.
    static let scratchLimit = 1 << 22

    /// The floats of scratch ``run(block:input:output:_:)`` takes for `g`, or nil when that is more
    /// than ``scratchLimit`` (or does not fit an Int).
    static func scratch(_ g: Geometry) -> Int? {
        // The window's reach first, checked: a file may declare any dilation up to 2^31 - 1.
        let (columnSpan, o1) = (g.ow - 1).multipliedReportingOverflow(by: g.sw)
        let (windowWidth, o2) = (g.kw - 1).multipliedReportingOverflow(by: g.dw)
        let (rowSpan, o3) = (g.kh - 1).multipliedReportingOverflow(by: g.dh)
        guard !o1, !o2, !o3, columnSpan < scratchLimit, windowWidth < scratchLimit, rowSpan < scratchLimit,
              g.sh < scratchLimit else { return nil }
        let width = g.paddedColumns   // columnSpan + windowWidth + 1, both now known to be small
        let band = bandRows(g)
        let rows = (band - 1) * g.sh + rowSpan + 1
        let (padded, o4) = rows.multipliedReportingOverflow(by: width * lanes)
        let (total, o5) = padded.addingReportingOverflow(band * g.ow * lanes)
        guard !o4, !o5, total <= scratchLimit else { return nil }
        return total
    }

    /// Output rows per band for `g`: as many as fit ``bandBudget`` with their input rows, at least one.
    static func bandRows(_ g: Geometry) -> Int {
        let perRow = g.paddedColumns * lanes
        let inputRows = max(1, bandBudget / max(perRow, 1))
        // A band of r output rows reads (r - 1) * sh + (kh - 1) * dh + 1 input rows.
        let rows = (inputRows - 1 - (g.kh - 1) * g.dh) / max(g.sh, 1) + 1
        return max(1, min(g.oh, rows))
    }

    /// Writes output channels `block * 16 ..< +16` (those that exist) of one image: `input` is the
    /// image's first input plane, `output` its first output plane. Works through bands of output
    /// rows (``bandRows(_:)``), interleaving only the input rows a band reads.
    func run(block: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, _ g: Geometry) {
        let lanes = Self.lanes
        let first = block * lanes
        let count = min(lanes, outputChannels - first)
        guard count > 0, g.oh > 0, g.ow > 0 else { return }
        let wp = g.paddedColumns
        let band = Self.bandRows(g)
        let bandInputRows = (band - 1) * g.sh + (g.kh - 1) * g.dh + 1
        let inPlane = g.ih * g.iw, outPlane = g.oh * g.ow
        let columns = max(0, min(g.iw, wp - g.pw))
        withUnsafeTemporaryAllocation(of: Float.self, capacity: bandInputRows * wp * lanes + band * g.ow * lanes) { scratch in
            let padded = scratch.baseAddress!
            let result = padded + bandInputRows * wp * lanes
            weights.withUnsafeBufferPointer { w in
                let wb = UnsafeRawPointer(w.baseAddress! + block * taps * lanes)
                let source = UnsafeRawPointer(padded)
                let target = UnsafeMutableRawPointer(result)
                let stride = MemoryLayout<SIMD16<Float>>.stride
                var y0 = 0
                while y0 < g.oh {
                    let y1 = min(g.oh, y0 + band)
                    // Padded rows p0 ..< p0 + rows hold input rows p - ph (zero outside the input).
                    let p0 = y0 * g.sh
                    let rows = (y1 - 1 - y0) * g.sh + (g.kh - 1) * g.dh + 1
                    padded.initialize(repeating: 0, count: rows * wp * lanes)
                    for lane in 0..<count {
                        let plane = input + ((first + lane) / g.multiplier) * inPlane
                        for k in 0..<rows {
                            let r = p0 + k - g.ph
                            guard r >= 0 && r < g.ih else { continue }
                            let src = plane + r * g.iw
                            let dst = padded + (k * wp + g.pw) * lanes + lane
                            for c in 0..<columns { dst[c * lanes] = src[c] }
                        }
                    }
                    for yh in y0..<y1 {
                        for yw in 0..<g.ow {
                            var acc = SIMD16<Float>(repeating: 0)
                            for b in 0..<g.kh {
                                let rowStart = (((yh - y0) * g.sh + b * g.dh) * wp + yw * g.sw) * lanes
                                for c in 0..<g.kw {
                                    let p = source.loadUnaligned(fromByteOffset: (rowStart + c * g.dw * lanes) * 4, as: SIMD16<Float>.self)
                                    let k = wb.loadUnaligned(fromByteOffset: (b * g.kw + c) * stride, as: SIMD16<Float>.self)
                                    acc += p * k
                                }
                            }
                            target.storeBytes(of: acc, toByteOffset: ((yh - y0) * g.ow + yw) * stride, as: SIMD16<Float>.self)
                        }
                    }
                    // Back to planes.
                    let positions = (y1 - y0) * g.ow
                    for lane in 0..<count {
                        let dst = output + (first + lane) * outPlane + y0 * g.ow
                        for pos in 0..<positions { dst[pos] = result[pos * lanes + lane] }
                    }
                    y0 = y1
                }
            }
        }
    }
}
