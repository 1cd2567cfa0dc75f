/// Element-wise application of a function over NumPy-broadcast operands.
public enum Broadcast {
    /// `f(a[i], b[i])` over the broadcast of the two shapes.
    @inlinable
    public static func binary<T, R>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], outShape: [Int],
                                    _ f: (T, T) -> R) -> [R] {
        if aShape == bShape { return zip(a, b).map(f) }
        if b.count == 1 {
            let y = b[0]
            if aShape == outShape { return a.map { f($0, y) } }
        }
        if a.count == 1 {
            let x = a[0]
            if bShape == outShape { return b.map { f(x, $0) } }
        }
        let ia = aShape == outShape ? Array(0..<a.count) : Shapes.broadcastIndices(from: aShape, to: outShape)
        let ib = bShape == outShape ? Array(0..<b.count) : Shapes.broadcastIndices(from: bShape, to: outShape)
        return zip(ia, ib).map { f(a[$0], b[$1]) }
    }

    /// `f(a[i], b[i], c[i])` over the broadcast of three shapes.
    @inlinable
    public static func ternary<A, B, C, R>(_ a: [A], _ aShape: [Int], _ b: [B], _ bShape: [Int], _ c: [C], _ cShape: [Int],
                                           outShape: [Int], _ f: (A, B, C) -> R) -> [R] {
        let ia = Shapes.broadcastIndices(from: aShape, to: outShape)
        let ib = Shapes.broadcastIndices(from: bShape, to: outShape)
        let ic = Shapes.broadcastIndices(from: cShape, to: outShape)
        return (0..<ia.count).map { f(a[ia[$0]], b[ib[$0]], c[ic[$0]]) }
    }
}
