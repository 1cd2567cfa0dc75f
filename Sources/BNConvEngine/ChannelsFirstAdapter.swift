import BNConvCore
import BNConvModel
import BNConvInterop

/// Runs a channels-last kernel on channels-first (NCHW) values: the input is permuted to NHWC,
/// the kernel runs, and its output is permuted back.
struct ChannelsFirstAdapter: EngineKernel {
    /// The channels-last kernel.
    let inner: EngineKernel

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        var last: [EngineValue] = []
        defer { last.forEach(context.release) }
        for input in inputs {
            guard input.shape.count >= 3 else {
                throw EngineError.shapeMismatch("channels-first spatial input", expected: [-1, -1, -1], got: input.shape)
            }
            last.append(try Permutation.permute(input, Permutation.toChannelsLast(rank: input.shape.count), context))
        }
        let saved = context.reusable
        context.reusable = Array(repeating: true, count: last.count)
        let result = try inner.run(last, context)
        context.reusable = saved
        defer { context.release(result) }
        return try Permutation.permute(result, Permutation.toChannelsFirst(rank: result.shape.count), context)
    }
}
