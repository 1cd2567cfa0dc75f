/// The files of a tensor bundle written at a prefix (`tensorflow/core/util/tensor_bundle/naming.cc`):
/// the index `PREFIX.index` and the data files `PREFIX.data-%05d-of-%05d` (shard, count).
package enum TensorBundleNaming {
    /// The prefix `path` names: itself, or without a trailing `.index`.
    package static func prefix(of path: String) -> String {
        path.hasSuffix(".index") ? String(path.dropLast(".index".count)) : path
    }

    /// `PREFIX.index`.
    static func indexPath(_ prefix: String) -> String { prefix + ".index" }

    /// `PREFIX.data-SSSSS-of-NNNNN`: shard `shard` of `count`, each at least five digits.
    static func dataPath(_ prefix: String, shard: Int, of count: Int) -> String {
        "\(prefix).data-\(fiveDigits(shard))-of-\(fiveDigits(count))"
    }

    /// `n` in decimal, zero-padded to five digits (`%05d`).
    private static func fiveDigits(_ n: Int) -> String {
        let digits = String(n)
        return digits.count >= 5 ? digits : String(repeating: "0", count: 5 - digits.count) + digits
    }
}
