import BNConvModel

/// TensorFlow's `Conv2D` and `DepthwiseConv2dNative` whose filter is computed in the graph (not a
/// constant the CNN patterns take as a weight): the ONNX `Conv` of the op library, with the value
/// moved to NCHW and the filter from HWIO (depthwise: HWCM) to OIHW and back
/// (tensorflow/core/ops/nn_ops.cc: SAME pads the odd cell after, as ONNX's SAME_UPPER).
enum TensorFlowConvolution {
    /// The kernel of a Conv2D (`depthwise` false) or a DepthwiseConv2dNative.
    static func builder(depthwise: Bool) -> KernelBuilder {
        { a in
            let channelsFirst = try a.string("data_format", "NHWC").hasPrefix("NC")
            let strides = try a.ints("strides") ?? [1, 1, 1, 1]
            let dilations = try a.ints("dilations") ?? [1, 1, 1, 1]
            let padding = try a.string("padding", "VALID")
            let explicit = try a.ints("explicit_paddings") ?? []
            guard strides.count == 4, dilations.count == 4 else { throw a.invalid("strides \(strides) and dilations \(dilations) must have 4 entries") }
            let spatial = channelsFirst ? [2, 3] : [1, 2]
            var attributes: [String: OpAttribute] = [
                "strides": .ints(spatial.map { strides[$0] }), "dilations": .ints(spatial.map { dilations[$0] }),
            ]
            switch padding {
            case "SAME": attributes["auto_pad"] = .string("SAME_UPPER")
            case "VALID": attributes["auto_pad"] = .string("VALID")
            case "EXPLICIT":
                guard explicit.count == 8 else { throw a.invalid("explicit_paddings \(explicit) must have 8 entries") }
                attributes["pads"] = .ints([explicit[2 * spatial[0]], explicit[2 * spatial[1]], explicit[2 * spatial[0] + 1], explicit[2 * spatial[1] + 1]])
            default: throw a.unsupported("with padding '\(padding)'")
            }
            let fixed = attributes
            return ClosureKernel { values in
                let inputs = OpInputs(a.op, values)
                var x = try inputs.required(0)
                let filter = try inputs.required(1)
                guard x.rank == 4, filter.rank == 4 else { throw a.invalid("input \(x.shape) and filter \(filter.shape) must be 4-D") }
                if !channelsFirst { x = try x.permuted([0, 3, 1, 2], op: a.op) }
                let channels = x.shape[1]
                var w: HostTensor
                var group = 1
                if depthwise {
                    // HWCM -> (C*M) x 1 x H x W, one group per input channel.
                    let (h, wd, c, m) = (filter.shape[0], filter.shape[1], filter.shape[2], filter.shape[3])
                    guard c == channels else { throw a.invalid("filter \(filter.shape) for \(channels) channels") }
                    w = try filter.permuted([2, 3, 0, 1], op: a.op).reshaped([c * m, 1, h, wd])
                    group = c
                } else {
                    // HWIO -> OIHW; fewer filter inputs than channels is a grouped convolution.
                    w = try filter.permuted([3, 2, 0, 1], op: a.op)
                    guard filter.shape[2] > 0, channels % filter.shape[2] == 0 else {
                        throw a.invalid("filter \(filter.shape) for \(channels) channels")
                    }
                    group = channels / filter.shape[2]
                }
                if w.dtype != x.dtype { w = w.converted(to: x.dtype) }
                var attributes = fixed
                attributes["group"] = .int(group)
                let conv = OpAttributes(op: a.op, opset: 18, values: attributes)
                let y = try ConvolutionOps.conv(conv, OpInputs(a.op, [x, w]))
                return [channelsFirst ? y : try y.permuted([0, 2, 3, 1], op: a.op)]
            }
        }
    }
}
