import BNConvCore
import BNConvModel
import BNConvInterop

/// An activation seen as 3-D: `(n, d, h, w, c)` (channels last or first), with 1-D and 2-D values padded with
/// leading unit spatial axes so every spatial kernel is written once.
struct SpatialShape: Equatable {
    /// Batch.
    var n: Int
    /// Spatial sizes, always three (depth, height, width); missing leading axes are 1.
    var spatial: [Int]
    /// Channels.
    var c: Int

    /// The 3-D view of a channels-last shape `(N, s1..sr, C)` with `1 <= r <= 3`.
    init(channelsLast shape: [Int]) throws {
        guard shape.count >= 3, shape.count <= 5 else {
            throw EngineError.shapeMismatch("spatial (rank 3 to 5) input", expected: [-1, -1, -1], got: shape)
        }
        n = shape[0]
        c = shape[shape.count - 1]
        spatial = Array(repeating: 1, count: 5 - shape.count) + shape[1..<(shape.count - 1)]
    }

    /// The 3-D view of a channels-first shape `(N, C, s1..sr)` with `1 <= r <= 3`.
    init(channelsFirst shape: [Int]) throws {
        guard shape.count >= 3, shape.count <= 5 else {
            throw EngineError.shapeMismatch("spatial (rank 3 to 5) input", expected: [-1, -1, -1], got: shape)
        }
        n = shape[0]
        c = shape[1]
        spatial = Array(repeating: 1, count: 5 - shape.count) + shape[2...]
    }

    /// Creates a view from parts.
    init(n: Int, spatial: [Int], c: Int) { self.n = n; self.spatial = spatial; self.c = c }

    /// Positions per image.
    var positions: Int { spatial[0] * spatial[1] * spatial[2] }

    /// The channels-last shape of `rank` dimensions (drops the padded leading axes).
    func shape(rank: Int) -> [Int] { [n] + spatial[(5 - rank)...] + [c] }

    /// The channels-first shape of `rank` dimensions (drops the padded leading axes).
    func channelsFirstShape(rank: Int) -> [Int] { [n, c] + spatial[(5 - rank)...] }

    /// Three entries from `values` given for the last `values.count` spatial axes, padded with `fill`.
    static func pad3(_ values: [Int], fill: Int) -> [Int] {
        Array(repeating: fill, count: max(0, 3 - values.count)) + values.suffix(3)
    }
}
