import BNConvCore
import BNConvModel
import BNConvEngine

/// Calibration samples for a model: one float32 array per model input, samples along axis 0,
/// cut into batches in order.
public struct CalibrationSet: Sendable {
    /// Per model input: the sample shape (without the batch axis) and the values, C order.
    private let arrays: [(shape: [Int], values: [Float])]
    /// The number of samples.
    public let sampleCount: Int

    /// A set from one tensor per model input; each has the samples along axis 0 and all have the
    /// same count, and every value is finite. Throws ``CalibrationError`` when they do not.
    public init(inputs: [Tensor]) throws {
        guard let first = inputs.first else { throw CalibrationError.noData }
        for t in inputs where t.rank == 0 {
            throw CalibrationError.badData("a calibration array needs a sample axis; got a scalar")
        }
        let count = first.shape[0]
        for t in inputs where t.shape[0] != count {
            throw CalibrationError.badData("calibration arrays hold \(count) and \(t.shape[0]) samples")
        }
        guard count > 0 else { throw CalibrationError.noData }
        let values = inputs.map { $0.floats() }
        for (k, v) in values.enumerated() {
            // NaN or infinity in one sample makes every recalibrated statistic it reaches NaN.
            if let i = v.firstIndex(where: { !$0.isFinite }) {
                let sampleSize = max(v.count / count, 1)
                throw CalibrationError.badData("calibration array\(inputs.count > 1 ? " \(k + 1)" : ""): sample \(i / sampleSize) holds \(v[i]) (element \(i)); the statistics would not be finite")
            }
        }
        arrays = zip(inputs, values).map { (Array($0.shape.dropFirst()), $1) }
        sampleCount = count
    }

    /// A set for a single-input model from several arrays, concatenated along the sample axis;
    /// their sample shapes must agree.
    public init(concatenating parts: [Tensor]) throws {
        guard let first = parts.first else { throw CalibrationError.noData }
        guard first.rank > 0 else { throw CalibrationError.badData("a calibration array needs a sample axis; got a scalar") }
        let sample = Array(first.shape.dropFirst())
        var values: [Float] = []
        var count = 0
        for part in parts {
            guard part.rank > 0, Array(part.shape.dropFirst()) == sample else {
                throw CalibrationError.badData("calibration arrays of shapes \(first.shape) and \(part.shape) cannot be joined: samples differ")
            }
            values += part.floats()
            count += part.shape[0]
        }
        try self.init(inputs: [Tensor(shape: [count] + sample, floats: values)])
    }

    /// The sample shape (batch axis excluded) of each input.
    public var sampleShapes: [[Int]] { arrays.map(\.shape) }

    /// The sample ranges of consecutive batches of `size` samples (the last may be shorter).
    public func batchRanges(size: Int) -> [Range<Int>] {
        let size = max(size, 1)
        return stride(from: 0, to: sampleCount, by: size).map { $0..<min($0 + size, sampleCount) }
    }

    /// The model inputs for the samples in `range`, in model-input order.
    public func batch(_ range: Range<Int>) -> [Tensor] {
        arrays.map { array in
            let per = array.shape.reduce(1, *)
            return Tensor(shape: [range.count] + array.shape,
                          floats: Array(array.values[(range.lowerBound * per)..<(range.upperBound * per)]))
        }
    }
}
