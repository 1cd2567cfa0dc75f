import BNConvCore
import BNConvModel
import BNConvEngine

/// The range-relative tolerance bnconv verifies with when the user names none.
///
/// `1e-5` catches a dropped epsilon (about 4e-5 on ResNet-50) while leaving room for float32
/// reassociation in the fold. Weights stored in a half type carry that type's rounding after a fold
/// (every rewritten weight is rounded once to the file's dtype), so the floor rises to the machine
/// epsilon of the least precise floating dtype among the candidate's weights: float16 `2^-10`
/// (9.8e-4), bfloat16 `2^-7` (7.8e-3).
public enum DefaultTolerance {
    /// The float32 baseline.
    public static let baseline = 1e-5

    /// The tolerance for verifying `candidate`, and the dtype that set it (`nil` for the baseline).
    public static func forCandidate(_ candidate: Model) -> (tolerance: Double, dtype: DType?) {
        var result: (Double, DType?) = (baseline, nil)
        for node in candidate.nodes {
            for weight in node.weights {
                let eps = epsilon(of: weight.tensor.dtype)
                if eps > result.0 { result = (eps, weight.tensor.dtype) }
            }
        }
        return result
    }

    /// Machine epsilon (spacing of floats just above 1) of a floating dtype; 0 for others.
    public static func epsilon(of dtype: DType) -> Double {
        switch dtype {
        case .float16: return 0x1p-10
        case .bfloat16: return 0x1p-7
        case .float32: return 0x1p-23
        case .float64: return 0x1p-52
        default: return 0
        }
    }
}
