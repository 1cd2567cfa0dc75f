import BNConvCore
import BNConvModel
import BNConvInterop

/// Winograd's output transform `Y = A^T M A` (``WinogradTile``) for a row of tiles of one output
/// channel, four tiles at a time in SIMD lanes, written into the channel's output plane (the parts
/// of the edge tiles past the output dropped).
///
/// A step's results, one vector per tile position `(r, k)`, are interleaved by shuffles into `m`
/// output rows of `4 m` consecutive columns and stored whole; a step reaching past the output's
/// width goes through a small buffer and only its columns inside are copied.
enum WinogradOutputTransform {
    /// Tiles transformed together.
    typealias Lanes = SIMD4<Float>
    /// Lanes per step.
    static let step = 4

    /// Floats of the staging buffer a transform needs (one step's output rows).
    static func stagingCount(_ tile: WinogradTile, tiles: Int) -> Int {
        // F(4x4): also the 6x4 rows after A^T along each row of the product.
        16 + (tile == .f4x4 ? 24 * ((tiles + step - 1) / step * step) : 0)
    }

    /// Transforms a row of `tiles` tiles whose element `ξ` of tile `j` is `product[ξ * planeStride + j]`
    /// (up to `step - 1` floats after the last tile are read and ignored) into output rows
    /// `top..<top + m` of the `height x width` channel `plane`.
    static func transformRow(_ tile: WinogradTile, product: UnsafePointer<Float>, planeStride: Int, tiles: Int,
                             staging: UnsafeMutablePointer<Float>, plane: UnsafeMutablePointer<Float>,
                             height: Int, width: Int, top: Int) {
        let rows = min(tile.m, height - top), out = plane + top * width
        switch tile {
        case .f2x2: transform2(product, planeStride: planeStride, tiles: tiles, staging: staging, out: out, rows: rows, width: width)
        case .f4x4: transform4(product, planeStride: planeStride, tiles: tiles, staging: staging, out: out, rows: rows, width: width)
        }
    }

    /// Stores `value` (one output row's columns `column..<column + count`, `count` lanes) at `row + column`,
    /// only the columns before `width`.
    @inline(__always)
    private static func put<V: SIMD>(_ value: V, row: UnsafeMutablePointer<Float>, column: Int, width: Int,
                                     staging: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        if column + V.scalarCount <= width {
            UnsafeMutableRawPointer(row + column).storeBytes(of: value, as: V.self)
        } else {
            UnsafeMutableRawPointer(staging).storeBytes(of: value, as: V.self)
            (row + column).update(from: staging, count: width - column)
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    private static func store(_ value: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: Lanes.self)
    }

    /// `A^T x` for F(2x2,3x3): `(x0 + x1 + x2, x1 - x2 - x3)`.
    @inline(__always)
    private static func at4(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes) -> (Lanes, Lanes) {
        (x0 + x1 + x2, x1 - x2 - x3)
    }

    /// `A^T x` for F(4x4,3x3) (rows `[1,1,1,1,1,0]`, `[0,1,-1,2,-2,0]`, `[0,1,1,4,4,0]`, `[0,1,-1,8,-8,1]`).
    @inline(__always)
    private static func at6(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes, _ x4: Lanes,
                            _ x5: Lanes) -> (Lanes, Lanes, Lanes, Lanes) {
        let a = x1 + x2, b = x1 - x2, c = x3 + x4, d = x3 - x4
        return (x0 + a + c, b + 2 * d, a + 4 * c, b + 8 * d + x5)
    }

    private static func transform2(_ p: UnsafePointer<Float>, planeStride: Int, tiles: Int,
                                   staging: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                                   rows: Int, width: Int) {
        var j = 0
        while j < tiles {
            // Row i of the 4x4 product, reduced along its columns: (A^T applied to M[i][*]).
            func row(_ i: Int) -> (Lanes, Lanes) {
                let q = p + 4 * i * planeStride + j
                return at4(load(q), load(q + planeStride), load(q + 2 * planeStride), load(q + 3 * planeStride))
            }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
            let (y00, y10) = at4(r0.0, r1.0, r2.0, r3.0)
            let (y01, y11) = at4(r0.1, r1.1, r2.1, r3.1)
            put(SIMD8(y00[0], y01[0], y00[1], y01[1], y00[2], y01[2], y00[3], y01[3]), row: out, column: 2 * j,
                width: width, staging: staging)
            if rows > 1 {
                put(SIMD8(y10[0], y11[0], y10[1], y11[1], y10[2], y11[2], y10[3], y11[3]), row: out + width,
                    column: 2 * j, width: width, staging: staging)
            }
            j += step
        }
    }

    /// F(4x4): `A^T` along each row of the product first, over the whole row of tiles (into the
    /// staging after its first 16 floats), then down the columns per step: 36 live vectors at once
    /// would not fit the registers.
    private static func transform4(_ p: UnsafePointer<Float>, planeStride: Int, tiles: Int,
                                   staging: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                                   rows: Int, width: Int) {
        let stride = (tiles + step - 1) / step * step, t = staging + 16
        for i in 0..<6 {
            let q = p + 6 * i * planeStride, o = t + 4 * i * stride
            var j = 0
            while j < tiles {
                let (y0, y1, y2, y3) = at6(load(q + j), load(q + planeStride + j), load(q + 2 * planeStride + j),
                                           load(q + 3 * planeStride + j), load(q + 4 * planeStride + j),
                                           load(q + 5 * planeStride + j))
                store(y0, o + j)
                store(y1, o + stride + j)
                store(y2, o + 2 * stride + j)
                store(y3, o + 3 * stride + j)
                j += step
            }
        }
        var j = 0
        while j < tiles {
            // Column k of the 6x4 rows, down A^T: output rows 0...3 of column k.
            func column(_ k: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                let c = t + k * stride + j, r = 4 * stride
                return at6(load(c), load(c + r), load(c + 2 * r), load(c + 3 * r), load(c + 4 * r), load(c + 5 * r))
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
            // Output row r: columns 4j..<4j+16, tile t's four at 4t.
            func interleave(_ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: Lanes) -> SIMD16<Float> {
                SIMD16(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1], a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3])
            }
            put(interleave(c0.0, c1.0, c2.0, c3.0), row: out, column: 4 * j, width: width, staging: staging)
            if rows > 1 { put(interleave(c0.1, c1.1, c2.1, c3.1), row: out + width, column: 4 * j, width: width, staging: staging) }
            if rows > 2 { put(interleave(c0.2, c1.2, c2.2, c3.2), row: out + 2 * width, column: 4 * j, width: width, staging: staging) }
            if rows > 3 { put(interleave(c0.3, c1.3, c2.3, c3.3), row: out + 3 * width, column: 4 * j, width: width, staging: staging) }
            j += step
        }
    }
}
