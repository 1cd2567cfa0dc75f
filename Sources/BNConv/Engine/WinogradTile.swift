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
    func transformFilters(_ kernel: [Float], outputs: Int, inputs: Int) -> [Float] {
        let a = alpha, g = self.g
        var u = [Float](repeating: 0, count: elements * outputs * inputs)
        var left = [Double](repeating: 0, count: a * 3)   // G g, alpha x 3
        for o in 0..<outputs {
            for c in 0..<inputs {
                let base = (o * inputs + c) * 9
                for i in 0..<a {
                    for q in 0..<3 {
                        var s = 0.0
                        for p in 0..<3 { s += g[i][p] * Double(kernel[base + p * 3 + q]) }
                        left[i * 3 + q] = s
                    }
                }
                for i in 0..<a {
                    for j in 0..<a {
                        var s = 0.0
                        for q in 0..<3 { s += left[i * 3 + q] * g[j][q] }
                        u[((i * a + j) * outputs + o) * inputs + c] = Float(s)
                    }
                }
            }
        }
        return u
    }
}
