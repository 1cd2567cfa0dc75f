import BNConvCore
import BNConvModel

/// Whether the original layers' own float32 run confirms their float64 reference
/// (``Float64Reference``), before a fold check measures anything against it: a reference that
/// computed something else than the engine (an op or attribute read differently) would otherwise
/// pass every fold, since the original layers' error against it (the noise floor) would be large too.
///
/// The run confirms it when it is within ``rangeAgreement`` of the reference's range (float32
/// rounding of a few layers stays orders of magnitude below), or, for layers float32 computes
/// poorly (a BN subtracting a mean far larger than what it leaves), within ``boundSlack`` times
/// float32's own worst-case rounding at every element (``Float64Reference/roundingScale(_:inputs:budget:)``).
/// Only a difference beyond both says the two disagree about what the layers are.
enum ReferenceConfirmation {
    /// The range-relative distance within which the reference is confirmed outright.
    static let rangeAgreement = 1e-3

    /// How many times the first-order rounding bound `n * 2^-24 * M` the float32 run may reach
    /// (the bound is first-order, and a Winograd convolution's transforms round more often).
    static let boundSlack = 16.0

    /// Returns when `original` (the original layers' float32 output, `floor` its error against
    /// `reference`) confirms `reference`; throws ``Float64Reference/Unsupported`` saying why not.
    static func confirm(_ reference: Float64Tensor, original: Tensor, floor: ErrorStatistics, model: Model, inputs: [Tensor]) throws {
        if floor.maxRel <= rangeAgreement { return }
        let apart = "the original layers' float32 run is \(floor.maxRel) of the range from it"
        let scale: (magnitudes: [Float64Tensor], roundings: Int)
        do {
            scale = try Float64Reference.roundingScale(model, inputs: inputs)
        } catch {
            throw Float64Reference.Unsupported("\(apart), and there is no rounding bound to tell whether float32 explains that (\(error))")
        }
        let magnitudes = scale.magnitudes[0].values
        let unit = boundSlack * Double(scale.roundings) * 0x1p-24
        let values = try original.materialized().doubles()
        guard magnitudes.count == values.count else {
            throw Float64Reference.Unsupported("\(apart), and its rounding bound has \(magnitudes.count) values for \(values.count)")
        }
        for i in values.indices {
            let difference = abs(values[i] - reference.values[i])
            let bound = unit * magnitudes[i] + Double(Float.leastNormalMagnitude)
            if !(difference <= bound) {
                throw Float64Reference.Unsupported("\(apart), \(difference) at element \(i), beyond \(boundSlack)x float32's rounding bound there (\(bound)): the two do not compute the same layers")
            }
        }
    }
}
