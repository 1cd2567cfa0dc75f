import Foundation

/// How Resize and Upsample map output positions to input positions and weigh the inputs
/// (the attributes of ONNX Resize, defaults applied).
struct ResamplingSettings: Sendable {
    /// The interpolation (`mode`).
    enum Interpolation: Sendable {
        /// One input element per output element.
        case nearest
        /// Linear in each resized axis (bilinear, trilinear, ...).
        case linear
        /// Cubic convolution in each resized axis, coefficient `cubic_coeff_a`.
        case cubic
    }

    /// `coordinate_transformation_mode`: how an output index `x` maps to an input coordinate.
    enum Coordinates: String, Sendable {
        /// `(x + 0.5) / scale - 0.5`.
        case halfPixel = "half_pixel"
        /// half_pixel, shifted so the output's centre maps to the input's centre.
        case halfPixelSymmetric = "half_pixel_symmetric"
        /// half_pixel, but 0 for a resized length of 1 or less.
        case pytorchHalfPixel = "pytorch_half_pixel"
        /// `x · (in - 1) / (resized - 1)`: the corner pixels' centres align.
        case alignCorners = "align_corners"
        /// `x / scale`.
        case asymmetric
        /// `(x + 0.5) / scale` (opset 11 only).
        case tfHalfPixelForNN = "tf_half_pixel_for_nn"
        /// The region of interest `roi` resampled like TensorFlow's crop_and_resize.
        case tfCropAndResize = "tf_crop_and_resize"
    }

    /// `nearest_mode`: which input index a fractional coordinate picks.
    enum Rounding: String, Sendable {
        /// To the nearest index, halves down.
        case roundPreferFloor = "round_prefer_floor"
        /// To the nearest index, halves up.
        case roundPreferCeil = "round_prefer_ceil"
        /// Down.
        case floor
        /// Up.
        case ceil
        /// Opset 10's and Upsample's rounding: down when upsampling, up when downsampling (no
        /// ONNX spelling).
        case simple
    }

    /// `keep_aspect_ratio_policy` (with sizes only).
    enum AspectPolicy: String, Sendable {
        /// Each axis to its own size.
        case stretch
        /// One scale for all resized axes, the smallest: no axis exceeds its size.
        case notLarger = "not_larger"
        /// One scale for all resized axes, the largest: no axis falls short of its size.
        case notSmaller = "not_smaller"
    }

    /// `mode`.
    var interpolation: Interpolation
    /// `coordinate_transformation_mode`.
    var coordinates: Coordinates
    /// `nearest_mode`.
    var rounding: Rounding
    /// `cubic_coeff_a`.
    var cubicA: Double
    /// `exclude_outside`: weights of taps outside the input are dropped and the rest renormalized.
    var excludeOutside: Bool
    /// `extrapolation_value` (tf_crop_and_resize outside the input).
    var extrapolationValue: Double
    /// `antialias`: linear and cubic widen their kernel by 1/scale when downsampling.
    var antialias: Bool
    /// `keep_aspect_ratio_policy`.
    var aspectPolicy: AspectPolicy
    /// `axes`, when given.
    var axes: [Int]?

    /// The settings of op `a`, whose `mode` may name one of `interpolationNames` (ONNX spellings).
    init(_ a: OpAttributes, interpolationNames: Set<String>) throws {
        let mode = try a.string("mode", "nearest")
        guard interpolationNames.contains(mode) else { throw a.unsupported("with mode '\(mode)'") }
        interpolation = mode == "nearest" ? .nearest : mode == "cubic" ? .cubic : .linear
        let coordinateName = try a.string("coordinate_transformation_mode", "half_pixel")
        guard let c = Coordinates(rawValue: coordinateName) else {
            throw a.unsupported("with coordinate_transformation_mode '\(coordinateName)'")
        }
        coordinates = c
        let roundingName = try a.string("nearest_mode", "round_prefer_floor")
        guard let r = Rounding(rawValue: roundingName), r != .simple else { throw a.unsupported("with nearest_mode '\(roundingName)'") }
        rounding = r
        cubicA = try a.float("cubic_coeff_a", -0.75)
        excludeOutside = try a.int("exclude_outside", 0) != 0
        extrapolationValue = try a.float("extrapolation_value", 0)
        antialias = try a.int("antialias", 0) != 0
        let policyName = try a.string("keep_aspect_ratio_policy", "stretch")
        guard let p = AspectPolicy(rawValue: policyName) else { throw a.unsupported("with keep_aspect_ratio_policy '\(policyName)'") }
        aspectPolicy = p
        axes = try a.ints("axes")
    }
}

/// The resampling of one axis: for each output position, `taps` input indices (clamped into the
/// input) and their weights, or the extrapolation value.
struct ResamplingPlan {
    /// The number of taps per output position.
    let taps: Int
    /// The output length.
    let outputLength: Int
    /// `taps` input indices per output position.
    let indices: [Int]
    /// `taps` weights per output position (nearest: one tap of weight 1).
    let weights: [Double]
    /// Per output position, whether it lies outside the region (tf_crop_and_resize).
    let extrapolated: [Bool]
    /// The value of an extrapolated position.
    let extrapolationValue: Double

    /// The number of input positions each output position weighs: 1 for nearest; for linear (2)
    /// and cubic (4) the kernel's width, stretched by 1/scale with antialias when downsampling.
    static func tapCount(_ settings: ResamplingSettings, scale: Double) -> Int {
        let support: Double
        switch settings.interpolation {
        case .nearest: return 1
        case .linear: support = 1
        case .cubic: support = 2
        }
        let stretch = settings.antialias ? Swift.min(scale, 1) : 1
        // Taps run from `1 - count/2` to `count/2` around the position left of x.
        let first = (-support / stretch).rounded(.down) + 1
        return 2 - 2 * Int(Swift.max(first, -1e12))
    }

    /// The plan of an axis of `inputLength` resized to `outputLength` by `scale`
    /// (`resizedLength` = scale · inputLength, fractional), with region `region` (start, end as
    /// fractions of the input, tf_crop_and_resize).
    init(_ settings: ResamplingSettings, inputLength: Int, outputLength: Int, scale: Double,
         resizedLength: Double, region: (Double, Double)) {
        self.outputLength = outputLength
        extrapolationValue = settings.extrapolationValue
        let last = Double(inputLength - 1)
        var extrapolated = [Bool](repeating: false, count: outputLength)
        let coordinates: [Double] = (0..<outputLength).map { j in
            let y = Double(j)
            switch settings.coordinates {
            case .halfPixel:
                return (y + 0.5) / scale - 0.5
            case .halfPixelSymmetric:
                let adjustment = Double(outputLength) / resizedLength
                let offset = Double(inputLength) / 2 * (1 - adjustment)
                return offset + (y + 0.5) / scale - 0.5
            case .pytorchHalfPixel:
                return resizedLength > 1 ? (y + 0.5) / scale - 0.5 : 0
            case .alignCorners:
                return resizedLength == 1 ? 0 : y * last / (resizedLength - 1)
            case .asymmetric:
                return y / scale
            case .tfHalfPixelForNN:
                return (y + 0.5) / scale
            case .tfCropAndResize:
                let (start, end) = region
                let x = resizedLength > 1
                    ? start * last + y * (end - start) * last / (resizedLength - 1)
                    : 0.5 * (start + end) * last
                if x < 0 || x > last { extrapolated[j] = true }
                return x
            }
        }
        self.extrapolated = extrapolated
        func clamp(_ i: Int) -> Int { Swift.min(Swift.max(i, 0), inputLength - 1) }
        switch settings.interpolation {
        case .nearest:
            taps = 1
            weights = Array(repeating: 1, count: outputLength)
            indices = coordinates.map { x in
                guard x.isFinite else { return 0 }
                let below = x.rounded(.down)
                let fraction = x - below
                let index: Double
                switch settings.rounding {
                case .roundPreferFloor: index = fraction <= 0.5 ? below : below + 1
                case .roundPreferCeil: index = fraction < 0.5 ? below : below + 1
                case .floor: index = below
                case .ceil: index = x.rounded(.up)
                case .simple: index = scale < 1 ? x.rounded(.up) : below
                }
                return clamp(Int(Swift.max(Swift.min(index, 1e15), -1e15)))
            }
        case .linear, .cubic:
            let stretch = settings.antialias ? Swift.min(scale, 1) : 1
            let count = Self.tapCount(settings, scale: scale)
            let first = 1 - count / 2
            taps = count
            var indices = [Int](repeating: 0, count: outputLength * count)
            var weights = [Double](repeating: 0, count: outputLength * count)
            let a = settings.cubicA
            func kernel(_ d: Double) -> Double {
                let t = abs(d)
                if settings.interpolation == .linear { return Swift.max(0, 1 - t) }
                if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
                if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
                return 0
            }
            for (j, x) in coordinates.enumerated() {
                guard x.isFinite else { continue }
                // x = left + ratio with ratio in (0, 1]: an integer x counts as ratio 1 from its left.
                let left = x.rounded(.up) - 1
                let ratio = x - left
                var sum = 0.0
                for k in 0..<count {
                    let position = Int(Swift.max(Swift.min(left, 1e15), -1e15)) + first + k
                    var w = kernel(stretch * (Double(first + k) - ratio))
                    if settings.excludeOutside && (position < 0 || position >= inputLength) { w = 0 }
                    indices[j * count + k] = clamp(position)
                    weights[j * count + k] = w
                    sum += w
                }
                if settings.antialias || settings.excludeOutside, sum != 0 {
                    for k in 0..<count { weights[j * count + k] /= sum }
                }
            }
            self.indices = indices
            self.weights = weights
        }
    }
}
