/// A tensor seen as lanes along one axis (or a run of adjacent axes): `outer` blocks, each of
/// `extent` steps along the axis times `inner` trailing elements. Lane `(o, i)` starts at
/// `o * extent * inner + i` and steps by `inner`. Softmax, ArgMax, the normalizations and the
/// resize of one axis all walk tensors this way.
struct AxisLanes: Equatable {
    /// The product of the dimensions before the axis.
    let outer: Int
    /// The length of a lane (the axis' dimension, or the product of the run's dimensions).
    let extent: Int
    /// The product of the dimensions after the axis (the stride of a lane).
    let inner: Int

    /// The lanes of `shape` along the axes `first..<end` taken together.
    init(shape: [Int], axes range: Range<Int>) {
        outer = shape[..<range.lowerBound].reduce(1, *)
        extent = shape[range].reduce(1, *)
        inner = shape[range.upperBound...].reduce(1, *)
    }

    /// The lanes of `shape` along `axis` (a resolved axis of `shape`).
    init(shape: [Int], axis: Int) { self.init(shape: shape, axes: axis..<(axis + 1)) }

    /// The number of lanes.
    var count: Int { outer * inner }

    /// The offset of the first element of lane `lane` (lanes numbered `o * inner + i`).
    func start(of lane: Int) -> Int { (lane / inner) * extent * inner + lane % inner }
}

/// The geometry of a reduction over some axes of a shape: for every output element, where its
/// lane of input elements starts, and the offsets of a lane's elements from that start.
struct ReductionLayout {
    /// The output shape (reduced axes kept as 1 with keepdims, else dropped).
    let outputShape: [Int]
    /// Per output element (C order), the input offset its lane starts at.
    let laneStarts: [Int]
    /// The offsets of a lane's elements from its start (one per combination of the reduced axes;
    /// `[0]` when no axis is reduced, empty when a reduced axis has length 0).
    let laneOffsets: [Int]

    /// The reduction of `shape` over the axes flagged in `reduced` (one flag per axis).
    init(shape: [Int], reduced: [Bool], keepDims: Bool) {
        let strides = Shapes.strides(shape)
        var keptShape: [Int] = [], keptStrides: [Int] = []
        var reducedShape: [Int] = [], reducedStrides: [Int] = []
        var output: [Int] = []
        for axis in shape.indices {
            if reduced[axis] {
                reducedShape.append(shape[axis])
                reducedStrides.append(strides[axis])
                if keepDims { output.append(1) }
            } else {
                keptShape.append(shape[axis])
                keptStrides.append(strides[axis])
                output.append(shape[axis])
            }
        }
        outputShape = output
        laneStarts = Shapes.indexMap(keptShape) { keptStrides }
        laneOffsets = Shapes.indexMap(reducedShape) { reducedStrides }
    }

    /// Whether a lane is a contiguous run (the reduced axes are the trailing ones).
    var isContiguous: Bool { laneOffsets.last.map { $0 == laneOffsets.count - 1 } ?? true }
}
