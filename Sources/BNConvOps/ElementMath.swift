import Foundation

/// The transcendental functions the element-wise and activation kernels need, for `Float`
/// (float32, float16 and bfloat16 compute in it) and `Double` (float64), so each kernel is written
/// once, generic over this protocol, and specialized for both.
protocol ElementMath: BinaryFloatingPoint, Sendable {
    /// e^x.
    static func exponential(_ x: Self) -> Self
    /// e^x - 1, accurate near 0.
    static func exponentialMinusOne(_ x: Self) -> Self
    /// The natural logarithm.
    static func logarithm(_ x: Self) -> Self
    /// log(1 + x), accurate near 0.
    static func logarithmOnePlus(_ x: Self) -> Self
    /// The hyperbolic tangent.
    static func hyperbolicTangent(_ x: Self) -> Self
    /// The Gauss error function.
    static func errorFunction(_ x: Self) -> Self
    /// x^y (C `pow`).
    static func power(_ x: Self, _ y: Self) -> Self
}

extension Float: ElementMath {
    /// e^x.
    static func exponential(_ x: Float) -> Float { exp(x) }
    /// e^x - 1.
    static func exponentialMinusOne(_ x: Float) -> Float { expm1(x) }
    /// The natural logarithm.
    static func logarithm(_ x: Float) -> Float { log(x) }
    /// log(1 + x).
    static func logarithmOnePlus(_ x: Float) -> Float { log1p(x) }
    /// The hyperbolic tangent.
    static func hyperbolicTangent(_ x: Float) -> Float { tanh(x) }
    /// The Gauss error function.
    static func errorFunction(_ x: Float) -> Float { erf(x) }
    /// x^y.
    static func power(_ x: Float, _ y: Float) -> Float { pow(x, y) }
}

extension Double: ElementMath {
    /// e^x.
    static func exponential(_ x: Double) -> Double { exp(x) }
    /// e^x - 1.
    static func exponentialMinusOne(_ x: Double) -> Double { expm1(x) }
    /// The natural logarithm.
    static func logarithm(_ x: Double) -> Double { log(x) }
    /// log(1 + x).
    static func logarithmOnePlus(_ x: Double) -> Double { log1p(x) }
    /// The hyperbolic tangent.
    static func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }
    /// The Gauss error function.
    static func errorFunction(_ x: Double) -> Double { erf(x) }
    /// x^y.
    static func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
}
