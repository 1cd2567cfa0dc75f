@testable import BNConvEngine

/// Seeded data shared by the engine's kernel tests (a test class adopts it to call these).
protocol EngineTestData {}

extension EngineTestData {
    /// `count` values in [-1, 1], in steps of 0.001, from a seeded linear congruential generator.
    func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
    }

    /// An engine value of `shape` holding `floats`, its buffer taken from `pool`.
    func value(_ shape: [Int], _ floats: [Float], _ pool: BufferPool) -> EngineValue {
        let v = EngineValue(shape: shape, buffer: pool.take(floats.count))
        floats.withUnsafeBufferPointer { v.pointer.update(from: $0.baseAddress!, count: floats.count) }
        return v
    }
}
