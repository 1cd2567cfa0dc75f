import BNConvCore
import BNConvModel
import BNConvInterop

/// Winograd's input transform `V = B^T d B` (``WinogradTile``) for a row of tiles of one channel,
/// four tiles at a time in SIMD lanes.
///
/// The tiles' `alpha` input rows are first copied into a staging buffer with the padding as zeros
/// around them (staging column `q` is input column `q + left`); tile `j`'s element `(i, k)` is then
/// staging row `i`, column `m j + k`, and a step loads `m * 4 + alpha` consecutive columns per row
/// and splits them by phase (`k mod m`) with shuffles.
enum WinogradInputTransform {
    /// Tiles transformed together.
    typealias Lanes = SIMD4<Float>
    /// Lanes per step.
    static let step = 4

    /// Floats per staging row for a row of `tiles` tiles: every column a step reads (whole steps,
    /// plus the widest load past the last tile).
    static func stagingStride(_ tile: WinogradTile, tiles: Int) -> Int {
        (tiles + step - 1) / step * step * tile.m + 16
    }

    /// Floats of the staging buffer for a row of `tiles` tiles.
    static func stagingCount(_ tile: WinogradTile, tiles: Int) -> Int {
        // F(4x4): the input rows, then the rows after B^T.
        (tile == .f4x4 ? 2 : 1) * tile.alpha * stagingStride(tile, tiles: tiles)
    }

    /// Transforms a row of `tiles` tiles of the `height x width` channel `plane` whose first input
    /// row is `top` and first tile's first column `left` (negative or past the end where the tiles
    /// cover padding). Tile `j`'s element `ξ` goes to `v[ξ * planeStride + j]`; up to `step - 1`
    /// floats after the last tile of each `ξ` are overwritten with junk (the caller's next tile
    /// row, or spare room, takes them).
    static func transformRow(_ tile: WinogradTile, plane: UnsafePointer<Float>, height: Int, width: Int,
                             top: Int, left: Int, tiles: Int, staging: UnsafeMutablePointer<Float>,
                             v: UnsafeMutablePointer<Float>, planeStride: Int) {
        let stride = stagingStride(tile, tiles: tiles)
        // Staging columns [lo, hi) hold input columns [lo + left, hi + left); the rest is padding.
        let lo = min(max(-left, 0), stride), hi = min(max(width - left, lo), stride)
        for i in 0..<tile.alpha {
            let y = top + i, dst = staging + i * stride
            guard y >= 0 && y < height else {
                dst.update(repeating: 0, count: stride)
                continue
            }
            // The borders are a few floats: plain loops, not memset calls.
            for q in 0..<lo { dst[q] = 0 }
            dst.advanced(by: lo).update(from: plane + y * width + lo + left, count: hi - lo)
            for q in hi..<stride { dst[q] = 0 }
        }
        switch tile {
        case .f2x2: transform2(staging, stride: stride, tiles: tiles, v: v, planeStride: planeStride)
        case .f4x4: transform4(staging, stride: stride, tiles: tiles, v: v, planeStride: planeStride)
        }
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    private static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func store(_ value: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: Lanes.self)
    }

    /// `B^T x` for F(2x2,3x3): `(x0 - x2, x1 + x2, x2 - x1, x1 - x3)`.
    @inline(__always)
    private static func bt4(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes) -> (Lanes, Lanes, Lanes, Lanes) {
        (x0 - x2, x1 + x2, x2 - x1, x1 - x3)
    }

    /// `B^T x` for F(4x4,3x3) (rows `[4,0,-5,0,1,0]`, `[0,-4,-4,1,1,0]`, `[0,4,-4,-1,1,0]`,
    /// `[0,-2,-1,2,1,0]`, `[0,2,-1,-2,1,0]`, `[0,4,0,-5,0,1]`).
    @inline(__always)
    private static func bt6(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes, _ x4: Lanes,
                            _ x5: Lanes) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
        let a = x3 + x4, b = x1 + x2, c = x4 - x3, d = x1 - x2, e = x4 - x2, f = x3 - x1
        return (4 * x0 - 5 * x2 + x4, a - 4 * b, c + 4 * d, e + 2 * f, e - 2 * f, 4 * x1 - 5 * x3 + x5)
    }

    private static func transform2(_ s: UnsafeMutablePointer<Float>, stride: Int, tiles: Int,
                                   v: UnsafeMutablePointer<Float>, planeStride: Int) {
        var j = 0
        while j < tiles {
            // Row i of the 4x4 tiles j..<j+4: columns 2j..<2j+10 split into k = 0, 1 and k = 2, 3.
            func row(_ i: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                let p = s + i * stride + 2 * j
                let a = load8(p), b = load8(p + 2)
                return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
            }
            let d0 = row(0), d1 = row(1), d2 = row(2), d3 = row(3)
            let c0 = bt4(d0.0, d1.0, d2.0, d3.0), c1 = bt4(d0.1, d1.1, d2.1, d3.1)
            let c2 = bt4(d0.2, d1.2, d2.2, d3.2), c3 = bt4(d0.3, d1.3, d2.3, d3.3)
            func put(_ r: Int, _ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes) {
                let (y0, y1, y2, y3) = bt4(x0, x1, x2, x3)
                let q = v + 4 * r * planeStride + j
                store(y0, q)
                store(y1, q + planeStride)
                store(y2, q + 2 * planeStride)
                store(y3, q + 3 * planeStride)
            }
            put(0, c0.0, c1.0, c2.0, c3.0)
            put(1, c0.1, c1.1, c2.1, c3.1)
            put(2, c0.2, c1.2, c2.2, c3.2)
            put(3, c0.3, c1.3, c2.3, c3.3)
            j += step
        }
    }

    /// F(4x4): `B^T` down the columns first, over whole staging rows (element-wise, into the
    /// second half of the staging), then along each transformed row per step: 36 live vectors at
    /// once would not fit the registers.
    private static func transform4(_ s: UnsafeMutablePointer<Float>, stride: Int, tiles: Int,
                                   v: UnsafeMutablePointer<Float>, planeStride: Int) {
        let t = s + 6 * stride
        var q = 0
        while q < stride {
            let p = s + q
            let rows = bt6(load4(p), load4(p + stride), load4(p + 2 * stride), load4(p + 3 * stride),
                           load4(p + 4 * stride), load4(p + 5 * stride))
            let o = t + q
            store(rows.0, o)
            store(rows.1, o + stride)
            store(rows.2, o + 2 * stride)
            store(rows.3, o + 3 * stride)
            store(rows.4, o + 4 * stride)
            store(rows.5, o + 5 * stride)
            q += step
        }
        for r in 0..<6 {
            let row = t + r * stride, out = v + 6 * r * planeStride
            var j = 0
            while j < tiles {
                // Columns 4j..<4j+20 of the row split by phase into k = 0...5.
                let a = load16(row + 4 * j), b = load16(row + 4 * j + 4)
                let ae = a.evenHalf, ao = a.oddHalf
                let (y0, y1, y2, y3, y4, y5) = bt6(ae.evenHalf, ao.evenHalf, ae.oddHalf, ao.oddHalf,
                                                   b.evenHalf.evenHalf, b.oddHalf.evenHalf)
                let o = out + j
                store(y0, o)
                store(y1, o + planeStride)
                store(y2, o + 2 * planeStride)
                store(y3, o + 3 * planeStride)
                store(y4, o + 4 * planeStride)
                store(y5, o + 5 * planeStride)
                j += step
            }
        }
    }
}
