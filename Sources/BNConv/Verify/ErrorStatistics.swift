/// How far one tensor is from a reference: max absolute error, max error relative to the
/// reference's range (`max|a - b| / max|a|`), and cosine similarity.
public struct ErrorStatistics: Codable, Equatable, Sendable {
    /// `max |reference - candidate|`.
    public var maxAbs: Double
    /// `maxAbs / max |reference|` (range-relative; 0 when both are all zero).
    public var maxRel: Double
    /// Cosine similarity of the two tensors as flat vectors (1 when both are zero).
    public var cosine: Double
    /// `max |reference|`.
    public var referenceMax: Double

    /// Compares two tensors of the same shape, in Double.
    public init(reference: Tensor, candidate: Tensor) throws {
        guard reference.shape == candidate.shape else {
            throw VerificationError.shapeMismatch(reference: reference.shape, candidate: candidate.shape)
        }
        let a = reference.floats(), b = candidate.floats()
        var maxAbs = 0.0, refMax = 0.0, dot = 0.0, na = 0.0, nb = 0.0
        var nonFinite = false
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(b[i])
            if !x.isFinite || !y.isFinite { nonFinite = true; continue }
            maxAbs = max(maxAbs, abs(x - y))
            refMax = max(refMax, abs(x))
            dot += x * y; na += x * x; nb += y * y
        }
        self.maxAbs = nonFinite ? .infinity : maxAbs
        self.referenceMax = refMax
        self.maxRel = nonFinite ? .infinity : (refMax > 0 ? maxAbs / refMax : (maxAbs > 0 ? .infinity : 0))
        self.cosine = (na > 0 && nb > 0) ? dot / (na.squareRoot() * nb.squareRoot()) : (na == nb ? 1 : 0)
    }

    /// The worse of two statistics (larger errors, smaller cosine).
    public func merged(with other: ErrorStatistics) -> ErrorStatistics {
        var s = self
        s.maxAbs = max(maxAbs, other.maxAbs)
        s.maxRel = max(maxRel, other.maxRel)
        s.cosine = min(cosine, other.cosine)
        s.referenceMax = max(referenceMax, other.referenceMax)
        return s
    }
}
