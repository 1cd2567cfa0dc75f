/// Activation functions: `Relu LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid HardSwish Tanh
/// Softplus Softsign Clip Gelu Mish Celu ThresholdedRelu`, each with ONNX's attribute defaults.
///
/// They compute on floating-point tensors (float16 and bfloat16 in `Float`, rounded back);
/// `Relu`, `PRelu` and `Clip` also on integers.
enum ActivationOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "Relu": { _ in kernel("Relu", .relu) },
        "LeakyRelu": { a in kernel("LeakyRelu", .leakyRelu(alpha: try a.float("alpha", Double(Float(0.01))))) },
        "Elu": { a in kernel("Elu", .elu(alpha: try a.float("alpha", 1))) },
        "Selu": { a in
            kernel("Selu", .selu(alpha: try a.float("alpha", 1.67326319217681884765625),
                                 gamma: try a.float("gamma", 1.05070102214813232421875)))
        },
        "Celu": { a in kernel("Celu", .celu(alpha: try a.float("alpha", 1))) },
        "ThresholdedRelu": { a in kernel("ThresholdedRelu", .thresholdedRelu(alpha: try a.float("alpha", 1))) },
        "Sigmoid": { _ in kernel("Sigmoid", .sigmoid) },
        "HardSigmoid": { a in
            kernel("HardSigmoid", .hardSigmoid(alpha: try a.float("alpha", Double(Float(0.2))), beta: try a.float("beta", 0.5)))
        },
        "HardSwish": { _ in kernel("HardSwish", .hardSwish) },
        "Tanh": { _ in kernel("Tanh", .tanh) },
        "Softplus": { _ in kernel("Softplus", .softplus) },
        "Softsign": { _ in kernel("Softsign", .softsign) },
        "Mish": { _ in kernel("Mish", .mish) },
        "Gelu": { a in
            switch try a.string("approximate", "none") {
            case "none": return kernel("Gelu", .gelu(tanhApproximation: false))
            case "tanh": return kernel("Gelu", .gelu(tanhApproximation: true))
            case let other: throw a.invalid("attribute 'approximate' is '\(other)' (it must be 'none' or 'tanh')")
            }
        },
        "PRelu": { _ in
            ClosureKernel { values in
                let inputs = OpInputs("PRelu", values)
                return [try parametricRelu(try inputs.required(0), slope: try inputs.required(1))]
            }
        },
        "Clip": { a in
            // Before opset 11 the bounds are attributes defaulting to float32's finite range; from
            // 11 on, optional scalar inputs.
            let largest = Double(Float.greatestFiniteMagnitude)
            let attributeLow = a.opset < 11 ? try a.float("min", -largest) : nil
            let attributeHigh = a.opset < 11 ? try a.float("max", largest) : nil
            return ClosureKernel { values in
                let inputs = OpInputs("Clip", values)
                let x = try inputs.required(0)
                if a.opset < 11 {
                    return [try clip(x, low: attributeLow.map { HostTensor.filled($0, dtype: .float64, shape: []) },
                                     high: attributeHigh.map { HostTensor.filled($0, dtype: .float64, shape: []) })]
                }
                return [try clip(x, low: try bound(inputs, 1), high: try bound(inputs, 2))]
            }
        },
    ]

    /// An activation with its parameters.
    enum Activation {
        /// max(0, x).
        case relu
        /// x, or alpha * x below 0.
        case leakyRelu(alpha: Double)
        /// x, or alpha * (e^x - 1) below 0.
        case elu(alpha: Double)
        /// gamma * x, or gamma * alpha * (e^x - 1) at or below 0.
        case selu(alpha: Double, gamma: Double)
        /// max(0, x) + min(0, alpha * (e^(x / alpha) - 1)).
        case celu(alpha: Double)
        /// x above alpha, else 0 (NaN too).
        case thresholdedRelu(alpha: Double)
        /// 1 / (1 + e^-x).
        case sigmoid
        /// max(0, min(1, alpha * x + beta)).
        case hardSigmoid(alpha: Double, beta: Double)
        /// x * max(0, min(1, x / 6 + 1/2)).
        case hardSwish
        /// tanh x.
        case tanh
        /// ln(1 + e^x).
        case softplus
        /// x / (1 + |x|).
        case softsign
        /// x * tanh(softplus(x)).
        case mish
        /// x * Φ(x) exactly, or with the tanh approximation.
        case gelu(tanhApproximation: Bool)
    }

    /// The kernel applying `activation` to input 0 of `name`.
    static func kernel(_ name: String, _ activation: Activation) -> ClosureKernel {
        ClosureKernel { values in [try apply(activation, to: try OpInputs(name, values).required(0), name: name)] }
    }

    /// `activation` of every element of `x`, in its dtype.
    static func apply(_ activation: Activation, to x: HostTensor, name: String) throws -> HostTensor {
        let storage: HostStorage
        switch x.storage {
        case .float(let v): storage = .float(evaluate(activation, v))
        case .double(let v): storage = .double(evaluate(activation, v))
        case .int(let v):
            guard case .relu = activation else {
                throw OpError.invalid(op: name, problem: "input of type \(x.dtype) (it must be a floating-point type)")
            }
            storage = .int(v.map { Swift.max($0, 0) })
        case .bool: throw OpError.invalid(op: name, problem: "input of type bool is not a number")
        }
        return HostTensor(dtype: x.dtype, shape: x.shape, storage: storage)
    }

    /// `activation` over floating-point elements (NaN stays NaN).
    static func evaluate<T: ElementMath>(_ activation: Activation, _ v: [T]) -> [T] {
        switch activation {
        case .relu: return v.map { $0 < 0 ? 0 : $0 }
        case .leakyRelu(let alpha):
            let a = T(alpha)
            return v.map { $0 < 0 ? a * $0 : $0 }
        case .elu(let alpha):
            let a = T(alpha)
            return v.map { $0 < 0 ? a * T.exponentialMinusOne($0) : $0 }
        case .selu(let alpha, let gamma):
            let a = T(alpha), g = T(gamma)
            return v.map { $0 > 0 ? g * $0 : a * T.exponentialMinusOne($0) * g }
        case .celu(let alpha):
            let a = T(alpha)
            return v.map { $0 > 0 ? $0 : ($0.isNaN ? $0 : Swift.min(0, a * T.exponentialMinusOne($0 / a))) }
        case .thresholdedRelu(let alpha):
            let a = T(alpha)
            return v.map { $0 > a ? $0 : 0 }
        case .sigmoid: return v.map { 1 / (1 + T.exponential(-$0)) }
        case .hardSigmoid(let alpha, let beta):
            let a = T(alpha), b = T(beta)
            return v.map { clamp01(a * $0 + b) }
        case .hardSwish: return v.map { $0 * clamp01($0 / 6 + T(0.5)) }
        case .tanh: return v.map { T.hyperbolicTangent($0) }
        case .softplus: return v.map { softplus($0) }
        case .softsign: return v.map { $0 / (1 + $0.magnitude) }
        case .mish: return v.map { $0 * T.hyperbolicTangent(softplus($0)) }
        case .gelu(let tanhApproximation):
            if tanhApproximation {
                let c = T((2 / Double.pi).squareRoot()), k = T(0.044715)
                return v.map { T(0.5) * $0 * (1 + T.hyperbolicTangent(c * ($0 + k * $0 * $0 * $0))) }
            }
            let r = T(1 / 2.0.squareRoot())
            return v.map { T(0.5) * $0 * (1 + T.errorFunction($0 * r)) }
        }
    }

    /// `x` limited to [0, 1] (NaN stays NaN).
    @inline(__always)
    static func clamp01<T: ElementMath>(_ x: T) -> T { x < 0 ? 0 : (x > 1 ? 1 : x) }

    /// ln(1 + e^x), without overflow for large x.
    @inline(__always)
    static func softplus<T: ElementMath>(_ x: T) -> T {
        x > 0 ? x + T.logarithmOnePlus(T.exponential(-x)) : T.logarithmOnePlus(T.exponential(x))
    }

    /// PRelu: x, or slope * x below 0; `slope` (of x's dtype) broadcasts to x's shape.
    static func parametricRelu(_ x: HostTensor, slope: HostTensor) throws -> HostTensor {
        guard x.dtype == slope.dtype else {
            throw OpError.invalid(op: "PRelu", problem: "slope of type \(slope.dtype) for input of type \(x.dtype) (they must match)")
        }
        let rows = try BroadcastRows(x.shape, slope.shape, op: "PRelu")
        guard rows.shape == x.shape else {
            throw OpError.invalid(op: "PRelu", problem: "slope of shape \(slope.shape) does not broadcast to input shape \(x.shape)")
        }
        let storage: HostStorage
        switch (x.storage, slope.storage) {
        case let (.float(v), .float(s)): storage = .float(rows.apply(v, s) { $0 < 0 ? $0 * $1 : $0 })
        case let (.double(v), .double(s)): storage = .double(rows.apply(v, s) { $0 < 0 ? $0 * $1 : $0 })
        case let (.int(v), .int(s)): storage = .int(rows.apply(v, s) { $0 < 0 ? $0 &* $1 : $0 })
        default: throw OpError.invalid(op: "PRelu", problem: "input of type bool is not a number")
        }
        return HostTensor(dtype: x.dtype, shape: x.shape, storage: storage)
    }

    /// Clip's bound at input `i` (opset 11+): absent, or a tensor of one element.
    static func bound(_ inputs: OpInputs, _ i: Int) throws -> HostTensor? {
        guard let t = inputs.optional(i) else { return nil }
        guard t.count == 1 else {
            throw OpError.invalid(op: "Clip", problem: "input \(i == 1 ? "min" : "max") must hold one value, not shape \(t.shape)")
        }
        return t
    }

    /// `x` limited to [low, high] (a bound left out does not limit; when low > high every element
    /// is high, as ONNX specifies; NaN stays NaN).
    static func clip(_ x: HostTensor, low: HostTensor?, high: HostTensor?) throws -> HostTensor {
        let storage: HostStorage
        switch x.storage {
        case .float(let v):
            let lo = low.map { Float($0.storage.doubles[0]) } ?? -.infinity
            let hi = high.map { Float($0.storage.doubles[0]) } ?? .infinity
            storage = .float(v.map { let y = $0 < lo ? lo : $0; return y > hi ? hi : y })
        case .double(let v):
            let lo = low.map { $0.storage.doubles[0] } ?? -.infinity
            let hi = high.map { $0.storage.doubles[0] } ?? .infinity
            storage = .double(v.map { let y = $0 < lo ? lo : $0; return y > hi ? hi : y })
        case .int(let v):
            let lo = low.map { $0.storage.integers[0] } ?? .min
            let hi = high.map { $0.storage.integers[0] } ?? .max
            storage = .int(v.map { Swift.min(Swift.max($0, lo), hi) })
        case .bool: throw OpError.invalid(op: "Clip", problem: "input of type bool is not a number")
        }
        return HostTensor(dtype: x.dtype, shape: x.shape, storage: storage)
    }
}
