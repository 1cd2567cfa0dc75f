import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// An `.onnx` read where it lies (``ONNXMappedModel``): the large initializers' `raw_data` cut out
/// (its range kept), the tree otherwise the whole file's, and packed again byte for byte with the
/// cut payloads lent from the mapping; contents still to be computed leave gaps at the offsets
/// reported.
final class ONNXMappedModelTests: XCTestCase {
    func testCutInitializersAreLentBackAndThePackIsByteIdentical() throws {
        var cut = 0
        for name in ONNXFixtures.cases + ONNXFixtures.modelOnlyCases {
            let bytes = try ONNXFixtures.modelBytes(name)
            let whole = try ONNXModelMessage(bytes: bytes, file: name).snapshot()
            let file = try XCTUnwrap(MappedFile(path: ONNXFixtures.modelPath(name)))
            for minimum in [0, 100] {
                let mapped = try ONNXMappedModel(file: file, path: name, cuttingFrom: minimum)
                let message = try ONNXModelMessage(mapped: mapped, file: name)
                let proto = try message.snapshot()
                XCTAssertEqual(proto.nodes, whole.nodes, name)
                XCTAssertEqual(proto.initializers.count, whole.initializers.count, name)
                for (t, u) in zip(proto.initializers, whole.initializers) {
                    if let range = t.stored {
                        XCTAssertNil(t.rawData)
                        XCTAssertGreaterThanOrEqual(range.count, minimum)
                        XCTAssertEqual(Array(bytes[range]), u.rawData, "\(name): \(t.name)")
                        var v = t
                        v.stored = nil
                        v.rawData = u.rawData
                        XCTAssertEqual(v, u, "\(name): \(t.name)")
                        cut += 1
                    } else {
                        XCTAssertEqual(t, u, "\(name): \(t.name)")
                    }
                }
                // Unpacked again and written with every initializer kept: the file's bytes.
                let again = try ONNXModelMessage(origin: try XCTUnwrap(message.origin), file: name)
                again.apply(ONNXGraphEdit(nodes: proto.nodes.indices.map { .original(index: $0, inputs: proto.nodes[$0].inputs, outputs: proto.nodes[$0].outputs) },
                                          initializers: proto.initializers.indices.map { .original(index: $0) },
                                          inputs: Array(proto.inputs.indices), outputs: proto.outputs.enumerated().map { ($0.offset, $0.element.name) },
                                          valueInfos: Array(proto.valueInfos.indices)))
                let sink = ByteSink()
                again.serialize(to: sink)
                try sink.finish()
                XCTAssertTrue(sink.bytes == bytes, "\(name) (cut from \(minimum))")
            }
        }
        XCTAssertGreaterThan(cut, 10)
    }

    /// An initializer whose new content is still to be computed is packed as a gap of its size at
    /// the offset reported; filling the gap with the content gives the bytes of a message whose
    /// initializer was replaced in memory.
    func testAComputedInitializerLeavesAGapWhereItsBytesGo() throws {
        let name = "conv_bn"
        let file = try XCTUnwrap(MappedFile(path: ONNXFixtures.modelPath(name)))
        let mapped = try ONNXMappedModel(file: file, path: name, cuttingFrom: 0)
        let proto = try ONNXModelMessage(mapped: mapped, file: name).snapshot()
        let k = try XCTUnwrap(proto.initializers.firstIndex { $0.stored != nil && $0.dims.count == 4 })
        let t = proto.initializers[k]
        let count = Int(t.dims.reduce(1, *))
        let values = (0..<count).map { Float($0) * 0.25 - 3 }
        let content = Tensor(shape: t.dims.map(Int.init), floats: values)
        func edit(_ item: ONNXGraphEdit.InitializerItem) -> ONNXGraphEdit {
            ONNXGraphEdit(nodes: proto.nodes.indices.map { .original(index: $0, inputs: proto.nodes[$0].inputs, outputs: proto.nodes[$0].outputs) },
                          initializers: proto.initializers.indices.map { $0 == k ? item : .original(index: $0) },
                          inputs: Array(proto.inputs.indices), outputs: proto.outputs.enumerated().map { ($0.offset, $0.element.name) },
                          valueInfos: Array(proto.valueInfos.indices))
        }
        let inMemory = try ONNXModelMessage(origin: .mapped(mapped), file: name)
        inMemory.apply(edit(.replaced(index: k, dataType: t.dataType, dims: t.dims, rawData: content.bytes)))
        let expected = try inMemory.serialized()

        let withGap = try ONNXModelMessage(origin: .mapped(mapped), file: name)
        withGap.apply(edit(.computed(index: k, dataType: t.dataType, dims: t.dims, content: content)))
        let sink = ByteSink()
        var gaps: [(Tensor, Int)] = []
        withGap.serialize(to: sink) { gaps.append(($0, $1)) }
        try sink.finish()
        XCTAssertEqual(gaps.count, 1)
        var bytes = sink.bytes
        XCTAssertEqual(bytes.count, expected.count)
        let offset = try XCTUnwrap(gaps.first?.1)
        XCTAssertTrue(bytes[offset..<(offset + count * 4)].allSatisfy { $0 == 0 }, "a gap, not bytes")
        bytes.replaceSubrange(offset..<(offset + count * 4), with: content.bytes)
        XCTAssertTrue(bytes == expected)
        // Packed into memory, the content is computed in place.
        let computedInMemory = try ONNXModelMessage(origin: .mapped(mapped), file: name)
        computedInMemory.apply(edit(.computed(index: k, dataType: t.dataType, dims: t.dims, content: content)))
        XCTAssertTrue(try computedInMemory.serialized() == expected)
    }
}
