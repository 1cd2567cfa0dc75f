import BNConvCore
import BNConvModel
import BNConvInterop

/// Explicit ONNX `pads` (all begin values, then all end values) for the border modes of a
/// ``Model``, so exported models never rely on `auto_pad` (docs/math.md, Layouts).
enum ONNXExportPadding {
    /// Pads of a convolution or pooling window over spatial input sizes `input`.
    ///
    /// TensorFlow SAME: `total = max((ceil(in/s) - 1) * s + (k - 1) * d + 1 - in, 0)`, `begin =
    /// total / 2`, the odd pixel at the end; causal: `(k - 1) * d` before. Returns `nil` when SAME
    /// needs an input size that is unknown.
    static func window(_ padding: Padding, input: [Int?], kernel: [Int], strides: [Int], dilations: [Int]) -> [Int]? {
        let rank = kernel.count
        switch padding {
        case .valid:
            return Array(repeating: 0, count: 2 * rank)
        case .explicit(let pairs):
            return pairs.map(\.before) + pairs.map(\.after)
        case .causal:
            return (0..<rank).map { (kernel[$0] - 1) * dilations[$0] } + Array(repeating: 0, count: rank)
        case .same:
            var begin: [Int] = [], end: [Int] = []
            for i in 0..<rank {
                guard i < input.count, let n = input[i] else { return nil }
                let out = (n + strides[i] - 1) / strides[i]
                let total = max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - n, 0)
                begin.append(total / 2)
                end.append(total - total / 2)
            }
            return begin + end
        }
    }

    /// Pads and `output_padding` of a transposed convolution that give Keras's output.
    ///
    /// Keras (`deconv_output_length`, dilated `k`): SAME gives `in * s`, VALID `in * s + max(k - s,
    /// 0)`; with `output_padding` p, SAME gives `(in - 1) * s + k - 2 * (k / 2) + p` and VALID
    /// `(in - 1) * s + k + p`. TensorFlow computes the full transposed convolution, `(in - 1) * s + k`
    /// long, and crops it like the forward SAME conv pads (`total = max(full - out, 0)`, begin
    /// `total / 2`). ONNX gives `s * (in - 1) + output_padding + k - begin - end`, so the crop is the
    /// pads and a negative end crop becomes `output_padding` (zeros at the end). `full - out` does
    /// not depend on `in`.
    static func transposed(_ c: Convolution) -> (pads: [Int], outputPadding: [Int])? {
        var begin: [Int] = [], end: [Int] = [], extra: [Int] = []
        for i in 0..<c.rank {
            let k = (c.kernelSize[i] - 1) * c.dilations[i] + 1
            let s = c.strides[i]
            let p = c.outputPadding?[i]
            let excess: Int  // full - out
            switch c.padding {
            case .valid:
                excess = p.map { -$0 } ?? (k - s - max(k - s, 0))
                begin.append(0)
            case .same:
                excess = p.map { 2 * (k / 2) - $0 } ?? (k - s)
                begin.append(max(excess, 0) / 2)
            case .explicit(let pairs):
                begin.append(pairs[i].before); end.append(pairs[i].after); extra.append(p ?? 0)
                continue
            case .causal:
                return nil
            }
            let endCrop = excess - begin[i]
            end.append(max(endCrop, 0))
            extra.append(max(-endCrop, 0))
        }
        return (begin + end, extra)
    }
}
