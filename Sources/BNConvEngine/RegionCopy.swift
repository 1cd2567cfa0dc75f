import BNConvCore
import BNConvModel
import BNConvInterop

/// Copies an n-dimensional box between two C-order buffers (used by padding and cropping).
enum RegionCopy {
    /// Copies the box of `size` starting at `sourceStart` in `source` (`sourceShape`) to
    /// `destinationStart` in `destination` (`destinationShape`), on `parallel`'s cores.
    static func copy(size: [Int], source: UnsafePointer<Float>, sourceShape: [Int], sourceStart: [Int],
                     destination: UnsafeMutablePointer<Float>, destinationShape: [Int], destinationStart: [Int],
                     parallel: Parallel) {
        let rank = size.count
        guard size.allSatisfy({ $0 > 0 }) else { return }
        let ss = Tensor.strides(of: sourceShape), ds = Tensor.strides(of: destinationShape)
        let last = size[rank - 1]
        let rows = size.dropLast().reduce(1, *)
        parallel.ranges(rows, costPerItem: last) { range in
            for r in range {
                var rem = r, so = sourceStart[rank - 1], dof = destinationStart[rank - 1]
                for a in stride(from: rank - 2, through: 0, by: -1) {
                    let i = rem % size[a]
                    rem /= size[a]
                    so += (sourceStart[a] + i) * ss[a]
                    dof += (destinationStart[a] + i) * ds[a]
                }
                (destination + dof).update(from: source + so, count: last)
            }
        }
    }
}
