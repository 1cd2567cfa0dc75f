import Foundation

/// The TensorFlow-written tensor bundles under Tests/Fixtures/tf_bundle
/// (tools/fixtures/make_bundle_fixtures.py) and what TensorFlow read back from each (values.json).
enum TensorBundleFixtures {
    /// The cases: dtypes, many_keys, partitioned, sharded.
    static let cases = ["dtypes", "many_keys", "partitioned", "sharded"]

    /// The bundle prefix of a case (`.../tf_bundle/CASE/model.ckpt`).
    static func prefix(_ name: String) -> String { FixturePaths.url("tf_bundle/\(name)/model.ckpt").path }

    /// The folder of a case.
    static func folder(_ name: String) -> URL { FixturePaths.url("tf_bundle/\(name)") }

    /// One key as TensorFlow read it.
    struct Expected {
        /// The key.
        var key: String
        /// TensorFlow's dtype name (`float32`, `bfloat16`, `string`, ...).
        var dtype: String
        /// The shape.
        var shape: [Int]
        /// The value's little-endian C-order bytes (nil for strings).
        var bytes: [UInt8]?
        /// A string tensor's elements (nil for numbers).
        var strings: [[UInt8]]?
    }

    /// Every key of a case as TensorFlow read it, in key order.
    static func expected(_ name: String) throws -> [Expected] {
        let data = try Data(contentsOf: folder(name).appendingPathComponent("values.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = root["entries"] as? [[String: Any]] else { throw CocoaError(.fileReadCorruptFile) }
        return try entries.map { e in
            guard let key = e["key"] as? String, let dtype = e["dtype"] as? String, let shape = e["shape"] as? [Int] else {
                throw CocoaError(.fileReadCorruptFile)
            }
            return Expected(key: key, dtype: dtype, shape: shape, bytes: (e["hex"] as? String).map(hexBytes),
                            strings: (e["strings"] as? [String]).map { $0.map(hexBytes) })
        }
    }

    /// The bytes a hex string spells.
    static func hexBytes(_ hex: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v = c <= 57 ? c - 48 : (c | 0x20) - 87
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    /// The files of a case's bundle (index and data files), by name.
    static func bundleFiles(_ name: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder(name).path).filter { $0.hasPrefix("model.ckpt.") }.sorted()
    }
}
