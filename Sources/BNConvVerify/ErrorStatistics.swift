import BNConvCore
import BNConvModel
import BNConvEngine

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

    /// Compares two tensors of the same shape: sums in Double, differences and maxima of float32
    /// values in float32 (exact for values within a factor 2 of each other). float32 tensors are read
    /// where they are (no conversion), large ones on every core.
    public init(reference: Tensor, candidate: Tensor) throws {
        try self.init(reference: reference, candidate: candidate, cores: .allCores)
    }

    /// Compares two tensors on `cores` (one, beside another model's run on the other cores).
    init(reference: Tensor, candidate: Tensor, cores: Parallel) throws {
        guard reference.shape == candidate.shape else {
            throw VerificationError.shapeMismatch(reference: reference.shape, candidate: candidate.shape)
        }
        // float32 tensors are read where they lie (tensor storage and file mappings are at least
        // 4-byte aligned); other dtypes, or unaligned bytes, are converted first.
        let inPlace = reference.dtype == .float32 && candidate.dtype == .float32 && reference.count > 0
        let sums = try inPlace ? reference.withUnsafeBytes { ra in
            try candidate.withUnsafeBytes { rb -> Sums? in
                guard Int(bitPattern: ra.baseAddress) % 4 == 0, Int(bitPattern: rb.baseAddress) % 4 == 0 else { return nil }
                return Sums.parallel(ra.baseAddress!.assumingMemoryBound(to: Float.self),
                                     rb.baseAddress!.assumingMemoryBound(to: Float.self), count: reference.count, cores: cores)
            }
        } : nil
        self.init(sums: sums ?? Sums.of(reference.floats(), candidate.floats(), cores: cores))
    }

    /// Compares a float32 `candidate` with a float64 `reference` (``Float64Reference``) of the same
    /// shape, every difference and sum in Double (the reference is not rounded to float32 first).
    init(reference: Float64Tensor, candidate: Tensor) throws {
        guard reference.shape == candidate.shape else {
            throw VerificationError.shapeMismatch(reference: reference.shape, candidate: candidate.shape)
        }
        let b = try candidate.materialized().doubles()
        var maxAbs = 0.0, refMax = 0.0, dot = 0.0, na = 0.0, nb = 0.0
        var nonFinite = false
        for (x, y) in zip(reference.values, b) {
            if !x.isFinite || !y.isFinite { nonFinite = true; continue }
            maxAbs = max(maxAbs, abs(x - y))
            refMax = max(refMax, abs(x))
            dot += x * y; na += x * x; nb += y * y
        }
        self.maxAbs = nonFinite ? .infinity : maxAbs
        referenceMax = refMax
        maxRel = nonFinite ? .infinity : (refMax > 0 ? maxAbs / refMax : (maxAbs > 0 ? .infinity : 0))
        cosine = (na > 0 && nb > 0) ? dot / (na.squareRoot() * nb.squareRoot()) : (na == nb ? 1 : 0)
    }

    /// The statistics of accumulated sums.
    private init(sums s: Sums) {
        maxAbs = s.nonFinite ? .infinity : s.maxAbs
        referenceMax = s.refMax
        maxRel = s.nonFinite ? .infinity : (s.refMax > 0 ? s.maxAbs / s.refMax : (s.maxAbs > 0 ? .infinity : 0))
        cosine = (s.na > 0 && s.nb > 0) ? s.dot / (s.na.squareRoot() * s.nb.squareRoot()) : (s.na == s.nb ? 1 : 0)
    }

    /// Running maxima and sums over element pairs (in Double); non-finite pairs only set a flag.
    private struct Sums {
        var maxAbs = 0.0, refMax = 0.0, dot = 0.0, na = 0.0, nb = 0.0
        var nonFinite = false

        init() {}

        /// Sums over `a` and `b` (same count).
        static func of(_ a: [Float], _ b: [Float], cores: Parallel) -> Sums {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    guard let x = pa.baseAddress, let y = pb.baseAddress else { return Sums() }
                    return parallel(x, y, count: min(pa.count, pb.count), cores: cores)
                }
            }
        }

        /// Adds `count` pairs: four at a time (differences and maxima in float32, where the
        /// difference of two close values is exact; sums in Double), and only when some value is
        /// not finite (the sums of squares then are not), pair by pair again with such pairs left out.
        mutating func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
            typealias F = SIMD4<Float>
            typealias D = SIMD4<Double>
            var vMax = F(repeating: 0), vRef = F(repeating: 0)
            var vDot = D(repeating: 0), vA = D(repeating: 0), vB = D(repeating: 0)
            let whole = count & ~3
            let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
            var i = 0
            while i < whole {
                let x = ra.loadUnaligned(fromByteOffset: i * 4, as: F.self)
                let y = rb.loadUnaligned(fromByteOffset: i * 4, as: F.self)
                let d = x - y
                let ad = d.replacing(with: -d, where: d .< 0), ax = x.replacing(with: -x, where: x .< 0)
                vMax.replace(with: ad, where: ad .> vMax)
                vRef.replace(with: ax, where: ax .> vRef)
                let xd = D(x), yd = D(y)
                vDot += xd * yd; vA += xd * xd; vB += yd * yd
                i += 4
            }
            var fast = Sums()
            fast.maxAbs = Double(vMax.max()); fast.refMax = Double(vRef.max())
            fast.dot = vDot.sum(); fast.na = vA.sum(); fast.nb = vB.sum()
            fast.addPairwise(a + whole, b + whole, count: count - whole)
            if fast.na.isFinite && fast.nb.isFinite && !fast.nonFinite {
                self = merged(fast)
            } else {
                addPairwise(a, b, count: count)
            }
        }

        /// Adds `count` pairs one at a time; non-finite pairs only set the flag.
        mutating func addPairwise(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
            var maxAbs = self.maxAbs, refMax = self.refMax, dot = self.dot, na = self.na, nb = self.nb
            var nonFinite = self.nonFinite
            for i in 0..<count {
                let x = Double(a[i]), y = Double(b[i])
                if !x.isFinite || !y.isFinite { nonFinite = true; continue }
                maxAbs = max(maxAbs, abs(x - y))
                refMax = max(refMax, abs(x))
                dot += x * y; na += x * x; nb += y * y
            }
            (self.maxAbs, self.refMax, self.dot, self.na, self.nb, self.nonFinite) = (maxAbs, refMax, dot, na, nb, nonFinite)
        }

        /// Both sums together.
        func merged(_ o: Sums) -> Sums {
            var s = self
            s.maxAbs = max(maxAbs, o.maxAbs); s.refMax = max(refMax, o.refMax)
            s.dot += o.dot; s.na += o.na; s.nb += o.nb
            s.nonFinite = nonFinite || o.nonFinite
            return s
        }

        /// Sums over `count` pairs, split into parts for the cores when there are many.
        static func parallel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, cores: Parallel) -> Sums {
            let parts = count < 1 << 16 || cores.workers == 1 ? 1 : min(8, count >> 15)
            if parts == 1 {
                var s = Sums()
                s.add(a, b, count: count)
                return s
            }
            var partial = [Sums](repeating: Sums(), count: parts)
            partial.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                cores.forEach(parts) { p in
                    let lo = count * p / parts, hi = count * (p + 1) / parts
                    var s = Sums()
                    s.add(a + lo, b + lo, count: hi - lo)
                    base[p] = s
                }
            }
            return partial.dropFirst().reduce(partial[0]) { $0.merged($1) }
        }
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
