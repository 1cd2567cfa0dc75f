import BNConvCore
import BNConvModel
import BNConvInterop

/// A tile size of Winograd's minimal filtering for a 3x3 window, F(m x m, 3 x 3), after Lavin & Gray,
/// "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016, arXiv:1509.09308): an `m x m`
/// output tile of a cross-correlation is `Y = A^T [(G g G^T) ⊙ (B^T d B)] A`, from the `alpha x alpha`
/// input tile `d` (`alpha = m + 2`) and the 3x3 filter `g`: `alpha^2` multiplications where the
/// direct sum takes `9 m^2`. Summed over input channels, the element-wise product becomes one
/// matrix product per tile element `ξ` (`alpha^2` of them): `M[ξ] = U[ξ] x V[ξ]`.
///
/// The matrices are the paper's (interpolation points 0, -1, 1 for F(2x2,3x3); 0, -1, 1, -2, 2 for
/// F(4x4,3x3)). The specialized transforms (``WinogradInputTransform``, ``WinogradOutputTransform``)
/// apply `B^T` and `A^T` in float32; `G` is applied once per filter in double precision.
enum WinogradTile: Equatable {
    /// F(2x2, 3x3): 4x4 input tiles, 16 products per 4 outputs (2.25x fewer multiply-adds than direct).
    case f2x2
    /// F(4x4, 3x3): 6x6 input tiles, 36 products per 16 outputs (4x fewer), larger rounding error.
    case f4x4

    /// Output tile side `m`.
    var m: Int { self == .f2x2 ? 2 : 4 }
    /// Input tile side `alpha = m + 2`.
    var alpha: Int { m + 2 }
    /// Tile elements `alpha^2`: the number of matrix products.
    var elements: Int { alpha * alpha }

    /// `G` (`alpha x 3`): the filter transform.
    var g: [[Double]] {
        switch self {
        case .f2x2:
            return [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        case .f4x4:
            return [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                    [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
        }
    }

    /// `B^T` (`alpha x alpha`): the input transform, as ``WinogradInputTransform`` applies it.
    var bt: [[Double]] {
        switch self {
        case .f2x2:
            return [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
        case .f4x4:
            return [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                    [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
        }
    }

    /// `A^T` (`m x alpha`): the output transform, as ``WinogradOutputTransform`` applies it.
    var at: [[Double]] {
        switch self {
        case .f2x2:
            return [[1, 1, 1, 0], [0, 1, -1, -1]]
        case .f4x4:
            return [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
        }
    }

    /// The transformed filters `U[ξ] = (G g G^T)[ξ]` of an `oihw` kernel `(outputs, inputs, 3, 3)`,
    /// as `elements` matrices `[outputs x inputs]` one after the other (`U[ξ][o][c]` at
    /// `(ξ * outputs + o) * inputs + c`), computed in double and rounded to float once.
    /// Output channels are shared out over `parallel`'s cores.
    func transformFilters(_ kernel: [Float], outputs: Int, inputs: Int, parallel: Parallel = .allCores) -> [Float] {
        let a = alpha, g = self.g.flatMap { $0 }   // G, alpha x 3, row-major
        var u = [Float](repeating: 0, count: elements * outputs * inputs)
        let plane = outputs * inputs
        u.withUnsafeMutableBufferPointer { u in
            let u = u.baseAddress!
            kernel.withUnsafeBufferPointer { k in
                let k = k.baseAddress!
                g.withUnsafeBufferPointer { g in
                    // Output channels are independent: share them out across the cores.
                    parallel.ranges(outputs, costPerItem: inputs * elements * 8) { range in
                        var left = [Double](repeating: 0, count: a * 3)   // G g, alpha x 3
                        for o in range {
                            for c in 0..<inputs {
                                let w = k + (o * inputs + c) * 9
                                for i in 0..<a {
                                    let g0 = g[i * 3], g1 = g[i * 3 + 1], g2 = g[i * 3 + 2]
                                    for q in 0..<3 {
                                        left[i * 3 + q] = g0 * Double(w[q]) + g1 * Double(w[3 + q]) + g2 * Double(w[6 + q])
                                    }
                                }
                                for i in 0..<a {
                                    let l0 = left[i * 3], l1 = left[i * 3 + 1], l2 = left[i * 3 + 2]
                                    for j in 0..<a {
                                        let s = l0 * g[j * 3] + l1 * g[j * 3 + 1] + l2 * g[j * 3 + 2]
                                        u[(i * a + j) * plane + o * inputs + c] = Float(s)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return u
    }
}
