import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Every tensor of the TensorFlow-written bundles reads back as TensorFlow read it (values.json:
/// `tf.train.load_checkpoint(...).get_tensor`, dtype and shape maps): every dtype, strings, a
/// scalar, an empty tensor, a partitioned tensor assembled from its slices, two data shards, an
/// index of several blocks; every entry's CRC is checked on the way.
final class TensorBundleReaderTests: XCTestCase {
    /// TensorFlow's dtype names to TensorFlow DataType numbers.
    private let dataTypes: [String: Int32] = [
        "float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7, "int64": 9,
        "bool": 10, "bfloat16": 14, "float16": 19,
    ]

    func testEveryValueIsWhatTensorFlowRead() throws {
        for name in TensorBundleFixtures.cases {
            let bundle = try TensorBundle(prefix: TensorBundleFixtures.prefix(name))
            let expected = try TensorBundleFixtures.expected(name)
            XCTAssertEqual(bundle.keys, expected.map(\.key), name)
            for e in expected {
                let entry = try XCTUnwrap(bundle.entry(e.key), "\(name): \(e.key)")
                XCTAssertEqual(entry.dataType, dataTypes[e.dtype], "\(name): \(e.key)")
                XCTAssertEqual(entry.shape, e.shape, "\(name): \(e.key)")
                if let strings = e.strings {
                    XCTAssertEqual(try bundle.strings(e.key), strings, "\(name): \(e.key)")
                } else {
                    let tensor = try bundle.tensor(e.key)
                    XCTAssertEqual(tensor.shape, e.shape)
                    XCTAssertEqual(try tensor.materialized().bytes, e.bytes, "\(name): \(e.key)")
                }
            }
        }
    }

    func testTheFixturesCoverWhatTheyShould() throws {
        let dtypes = try TensorBundle(prefix: TensorBundleFixtures.prefix("dtypes"))
        let kinds = Set(dtypes.keys.compactMap { dtypes.entry($0)?.dataType })
        XCTAssertEqual(kinds, [1, 2, 3, 4, 5, 6, 7, 9, 10, 14, 19])
        XCTAssertTrue(dtypes.keys.contains { dtypes.entry($0)?.shape == [] })
        XCTAssertTrue(dtypes.keys.contains { dtypes.entry($0)?.elementCount == 0 })
        XCTAssertEqual(dtypes.header, TensorBundleHeader(numShards: 1))

        let partitioned = try TensorBundle(prefix: TensorBundleFixtures.prefix("partitioned"))
        let kernel = try XCTUnwrap(partitioned.entry("dense/kernel"))
        XCTAssertEqual(kernel.slices.count, 3)
        XCTAssertEqual(kernel.slices.map { $0[0].length }, [4, 3, 3])
        XCTAssertEqual(kernel.slices.map { $0[1] }, Array(repeating: TensorSliceExtent(start: 0, length: 4), count: 3))   // TensorFlow spells the whole dimension out
        XCTAssertEqual(partitioned.index.records.filter(\.isSlice).count, 3)

        let sharded = try TensorBundle(prefix: TensorBundleFixtures.prefix("sharded"))
        XCTAssertEqual(sharded.header.numShards, 2)
        XCTAssertEqual(Set(sharded.keys.compactMap { sharded.entry($0)?.shardID }), [0, 1])

        let many = try TensorBundle(prefix: TensorBundleFixtures.prefix("many_keys"))
        XCTAssertGreaterThanOrEqual(many.index.dataBlockCount, 3)
        XCTAssertEqual(many.keys.count, 1801)
    }

    /// A tensor stored in one piece is lent from a mapping of its data file, not copied.
    func testAWholeTensorIsMappedNotCopied() throws {
        let bundle = try TensorBundle(prefix: TensorBundleFixtures.prefix("dtypes"))
        for key in bundle.keys where bundle.entry(key)?.dataType == 1 {
            let tensor = try bundle.tensor(key)
            XCTAssertTrue(tensor.isDeferred, key)
            XCTAssertTrue(tensor.source is FileRangeSource, key)
        }
    }

    /// Slice keys are TensorFlow's EncodeTensorNameSlice: recomputed from the full entry's slices,
    /// each one is in the index, and decodes back.
    func testSliceKeysAreTensorFlows() throws {
        let bundle = try TensorBundle(prefix: TensorBundleFixtures.prefix("partitioned"))
        let kernel = try XCTUnwrap(bundle.entry("dense/kernel"))
        let stored = bundle.index.records.filter(\.isSlice).map(\.keyBytes)
        let made = kernel.slices.map { TensorSliceKey.encode(name: Array("dense/kernel".utf8), extents: $0) }
        XCTAssertEqual(Set(stored), Set(made))
        for key in made {
            let decoded = try XCTUnwrap(TensorSliceKey.decode(key))
            XCTAssertEqual(decoded.name, Array("dense/kernel".utf8))
        }
        // The first slice: rows 0..<4 of 10, columns 0..<4: 0, "dense/kernel", rank 2, 0, 4, 0, 4.
        XCTAssertEqual(made[0], [0x00] + Array("dense/kernel".utf8) + [0x00, 0x01, 0x01, 0x02, 0x80, 0x84, 0x80, 0x84])
        // A whole dimension is start 0, length -1.
        XCTAssertEqual(TensorSliceKey.encode(name: [0x61], extents: [.full]), [0x00, 0x61, 0x00, 0x01, 0x01, 0x01, 0x80, 0x7F])
    }

    func testKeysInStorageOrderFollowTheDataFiles() throws {
        for name in TensorBundleFixtures.cases {
            let bundle = try TensorBundle(prefix: TensorBundleFixtures.prefix(name))
            let order = bundle.keysInStorageOrder
            XCTAssertEqual(Set(order), Set(bundle.keys))
            let places = order.compactMap { key -> [Int]? in
                guard let e = bundle.entry(key), e.slices.isEmpty else { return nil }
                return [e.shardID, e.offset]
            }
            XCTAssertEqual(places, places.sorted { $0.lexicographicallyPrecedes($1) }, name)
        }
    }
}
