import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Initializer decoding against what onnx's numpy_helper.to_array decoded (facts.json of the
/// `initializers` fixture): raw_data and the typed fields, float16/bfloat16 bits in int32_data.
final class ONNXTensorCodecTests: XCTestCase {
    func testEveryEncodingDecodesToWhatOnnxDecodes() throws {
        let facts = try XCTUnwrap(try ONNXFixtures.facts("initializers")["tensors"] as? [String: [String: Any]])
        let snapshot = try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("initializers"), file: "i").snapshot()
        XCTAssertEqual(snapshot.initializers.count, facts.count)
        let expectedDType: [String: DType] = ["float32": .float32, "float16": .float16, "bfloat16": .bfloat16,
                                              "float64": .float64, "int64": .int64, "int32": .int32]
        for proto in snapshot.initializers where proto.name != "u64_typed" {
            let fact = try XCTUnwrap(facts[proto.name], proto.name)
            let tensor = try ONNXTensorCodec.decode(proto, file: "i", limits: ReadLimits())
            XCTAssertEqual(proto.rawData != nil, fact["encoding"] as? String == "raw_data", "\(proto.name): encoding")
            XCTAssertEqual(tensor.dtype, expectedDType[fact["dtype"] as? String ?? ""], proto.name)
            XCTAssertEqual(tensor.shape, fact["shape"] as? [Int], "\(proto.name): shape")
            let expected = try XCTUnwrap(fact["values"] as? [NSNumber], proto.name).map(\.doubleValue)
            XCTAssertEqual(tensor.doubles().count, expected.count, proto.name)
            for (got, want) in zip(tensor.doubles(), expected) {
                // Foundation's JSON parser on Linux may miss the nearest double by an ulp or two.
                XCTAssertEqual(got, want, accuracy: 4 * want.ulp, "\(proto.name)")
                XCTAssertEqual(got.sign, want.sign, "\(proto.name): sign of \(want)")
            }
        }
    }

    func testTypedFieldsKeepExactBits() throws {
        let snapshot = try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("initializers"), file: "i").snapshot()
        let byName = Dictionary(uniqueKeysWithValues: snapshot.initializers.map { ($0.name, $0) })
        // The same values, raw and typed, give the same tensor bytes.
        for (raw, typed) in [("f16_raw", "f16_typed"), ("bf16_raw", "bf16_typed"), ("f64_raw", "f64_typed"), ("i64_raw", "i64_typed")] {
            let a = try ONNXTensorCodec.decode(try XCTUnwrap(byName[raw]), file: "i", limits: ReadLimits())
            let b = try ONNXTensorCodec.decode(try XCTUnwrap(byName[typed]), file: "i", limits: ReadLimits())
            XCTAssertEqual(a.bytes, b.bytes, "\(raw) vs \(typed)")
        }
        XCTAssertEqual(byName["f16_typed"]?.rawData, nil)
        XCTAssertEqual(byName["f16_typed"]?.int32Data.count, 6)
    }

    func testElementCountMismatchIsMalformed() {
        let t = ONNXProto.Tensor(name: "w", dataType: ONNXProto.DataType.float, dims: [2, 3], rawData: nil, floatData: [1, 2])
        XCTAssertThrowsError(try ONNXTensorCodec.decode(t, file: "m.onnx", limits: ReadLimits())) { error in
            XCTAssertEqual((error as? CheckpointError)?.description,
                           "m.onnx: initializer 'w': dims [2, 3] need 6 elements but float_data holds 2")
        }
    }

    func testUnsupportedDataTypeNamesTheTensor() {
        let t = ONNXProto.Tensor(name: "s", dataType: 8, dims: [1], rawData: nil)
        XCTAssertThrowsError(try ONNXTensorCodec.decode(t, file: "m.onnx", limits: ReadLimits())) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
            XCTAssertEqual((error as? CheckpointError)?.place, "initializer 's'")
        }
    }

    func testExternalDataFixtureIsRefusedNamingTheTensor() {
        XCTAssertThrowsError(try ONNXReader.read(FixturePaths.url("onnx/external_data/model.onnx").path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.kind, .unsupported)
            XCTAssertEqual(e?.place, "initializer 'conv.weight'")
            XCTAssertTrue(e?.problem.contains("external file ('weights.bin')") ?? false, e?.problem ?? "")
        }
    }

    func testDTypeMappingRoundTrips() {
        for dtype in DType.allCases {
            XCTAssertEqual(ONNXTensorCodec.dtype(of: ONNXTensorCodec.dataType(of: dtype)), dtype)
        }
    }

    func testUndecodedTypeDoesNotStopTheReader() throws {
        let model = try ONNXFixtures.read("initializers")
        XCTAssertEqual(model.inputs, ["input"])
        XCTAssertEqual(try ONNXWriter.serialize(model, file: "i.onnx"), try ONNXFixtures.modelBytes("initializers"))
    }
}
