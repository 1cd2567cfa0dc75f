/// Where a convolution or pooling window goes along the spatial axes: the kernel's extent, its
/// strides and dilations, the borders added before and after each axis, and the output sizes that
/// follow (ONNX `auto_pad`, `pads`, `strides`, `dilations`, `ceil_mode`).
///
/// Output position `o` along axis `i` reads input positions
/// `o * strides[i] - padBegin[i] + j * dilations[i]` for `j` in `0..<kernel[i]`.
struct SlidingWindow: Equatable {
    /// The input's spatial sizes.
    var input: [Int]
    /// The kernel's spatial sizes.
    var kernel: [Int]
    /// The step between output positions, per axis.
    var strides: [Int]
    /// The step between kernel taps, per axis.
    var dilations: [Int]
    /// Border added before each axis.
    var padBegin: [Int]
    /// Border added after each axis.
    var padEnd: [Int]
    /// The output's spatial sizes.
    var output: [Int]

    /// The number of spatial axes.
    var rank: Int { input.count }

    /// The span one window covers along axis `i`: `(kernel - 1) * dilation + 1`.
    func extent(_ i: Int) -> Int { (kernel[i] - 1) * dilations[i] + 1 }

    /// The largest number of spatial axes the kernels loop over (1-D and 2-D windows are lifted
    /// to 3-D with leading axes of size 1).
    static let maximumRank = 3

    /// The window of a forward op (Conv, MaxPool, AveragePool, LpPool) over `input` with `kernel`,
    /// reading `strides`, `dilations`, `pads` and `auto_pad` from `a`; `ceilMode` rounds the output
    /// size up (a last window that would start in the end border is dropped).
    static func forward(_ a: OpAttributes, input: [Int], kernel: [Int], ceilMode: Bool) throws -> SlidingWindow {
        let rank = input.count
        let strides = try a.ints("strides") ?? Array(repeating: 1, count: rank)
        let dilations = try a.ints("dilations") ?? Array(repeating: 1, count: rank)
        try check(a, kernel: kernel, strides: strides, dilations: dilations, rank: rank)
        var window = SlidingWindow(input: input, kernel: kernel, strides: strides, dilations: dilations,
                                   padBegin: Array(repeating: 0, count: rank), padEnd: Array(repeating: 0, count: rank),
                                   output: Array(repeating: 0, count: rank))
        let autoPad = try a.string("auto_pad", "NOTSET")
        switch autoPad {
        case "NOTSET", "":
            let pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * rank)
            try checkBorders(a, "pads", pads, count: 2 * rank)
            for i in 0..<rank {
                window.padBegin[i] = pads[i]
                window.padEnd[i] = pads[i + rank]
                let span = input[i] + pads[i] + pads[i + rank] - window.extent(i)
                guard span >= 0 else {
                    throw a.invalid("the window (kernel \(kernel), dilations \(dilations)) is larger than the padded input \(input) along axis \(i)")
                }
                var size = span / strides[i] + 1
                if ceilMode && span % strides[i] != 0 {
                    size += 1
                    // The last window must start inside the input or its begin border.
                    if (size - 1) * strides[i] >= input[i] + pads[i] { size -= 1 }
                }
                window.output[i] = size
            }
        case "VALID":
            for i in 0..<rank {
                let span = input[i] - window.extent(i)
                guard span >= 0 else {
                    throw a.invalid("the window (kernel \(kernel), dilations \(dilations)) is larger than the input \(input) along axis \(i)")
                }
                window.output[i] = span / strides[i] + 1
            }
        case "SAME_UPPER", "SAME_LOWER":
            for i in 0..<rank {
                let size = (input[i] + strides[i] - 1) / strides[i]
                let total = max(0, (size - 1) * strides[i] + window.extent(i) - input[i])
                window.output[i] = size
                window.padBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                window.padEnd[i] = total - window.padBegin[i]
            }
        default:
            throw a.invalid("attribute 'auto_pad' is '\(autoPad)' (NOTSET, VALID, SAME_UPPER or SAME_LOWER)")
        }
        return window
    }

    /// The largest stride, dilation or border accepted (window arithmetic on them cannot overflow).
    static let largestStep = 1 << 24

    /// Refuses border lists (`pads`, `output_padding`) with a value outside `0...largestStep`.
    static func checkBorders(_ a: OpAttributes, _ name: String, _ list: [Int], count: Int) throws {
        guard list.count == count else {
            throw a.invalid("attribute '\(name)' has \(list.count) values (needs \(count))")
        }
        guard list.allSatisfy({ $0 >= 0 && $0 <= largestStep }) else {
            throw a.invalid("attribute '\(name)' \(list) has a value outside 0...\(largestStep)")
        }
    }

    /// Refuses kernel, stride and dilation lists that do not have one positive value per axis.
    static func check(_ a: OpAttributes, kernel: [Int], strides: [Int], dilations: [Int], rank: Int) throws {
        for (name, list) in [("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)] {
            guard list.count == rank else {
                throw a.invalid("attribute '\(name)' has \(list.count) values for \(rank) spatial axes")
            }
            guard list.allSatisfy({ $0 >= 1 }) else { throw a.invalid("attribute '\(name)' \(list) has a value below 1") }
            guard list.allSatisfy({ $0 <= largestStep }) else {
                throw a.invalid("attribute '\(name)' \(list) has a value above \(largestStep)")
            }
        }
        guard rank >= 1, rank <= maximumRank else {
            throw a.unsupported("with \(rank) spatial axes (1 to \(maximumRank))")
        }
    }

    /// The same window with leading axes of size 1 added up to ``maximumRank`` axes.
    var lifted: SlidingWindow {
        let extra = Self.maximumRank - rank
        guard extra > 0 else { return self }
        let ones = Array(repeating: 1, count: extra), zeros = Array(repeating: 0, count: extra)
        return SlidingWindow(input: ones + input, kernel: ones + kernel, strides: ones + strides,
                             dilations: ones + dilations, padBegin: zeros + padBegin, padEnd: zeros + padEnd,
                             output: ones + output)
    }

    /// For output position `o` along axis `i`, the taps `j` whose input position
    /// `o * strides[i] - padBegin[i] + j * dilations[i]` lies inside the input: `first..<end`,
    /// empty when none does.
    func taps(_ i: Int, at o: Int) -> Range<Int> {
        let start = o * strides[i] - padBegin[i]
        let d = dilations[i]
        let first = start >= 0 ? 0 : (-start + d - 1) / d
        let limit = input[i] - start  // taps need j * d < limit
        let end = limit <= 0 ? 0 : min(kernel[i], (limit + d - 1) / d)
        return first < end ? first..<end : first..<first
    }

    /// ``taps(_:at:)`` for every output position along axis `i`.
    func tapRanges(_ i: Int) -> [Range<Int>] { (0..<output[i]).map { taps(i, at: $0) } }
}
