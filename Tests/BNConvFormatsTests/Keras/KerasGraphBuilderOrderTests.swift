import XCTest
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The functional graph is built in dependency order whatever order the config lists its layers
/// in, in time linear in the layers (a pass over the pending layers until none was left was
/// quadratic on a reversed list).
final class KerasGraphBuilderOrderTests: XCTestCase {
    /// A Keras 2 functional config: an input and `count` ReLU activations in a chain, listed in
    /// `order` (0 = the input).
    private func chain(count: Int, order: [Int]) throws -> KerasContainer {
        func layer(_ k: Int) -> String {
            if k == 0 {
                return #"{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_input_shape": [null, 4], "dtype": "float32"}, "inbound_nodes": []}"#
            }
            let input = k == 1 ? "x" : "a\(k - 1)"
            return #"{"class_name": "Activation", "name": "a\#(k)", "config": {"name": "a\#(k)", "activation": "relu"}, "inbound_nodes": [[["\#(input)", 0, 0, {}]]]}"#
        }
        let text = #"{"class_name": "Functional", "config": {"name": "m", "layers": ["# + order.map(layer).joined(separator: ", ")
            + #"], "input_layers": [["x", 0, 0]], "output_layers": [["a\#(count)", 0, 0]]}}"#
        return try KerasContainer(model: try JSONValue.parse(text), place: "model_config")
    }

    private func build(_ container: KerasContainer) throws -> (nodes: [String], outputs: [String]) {
        var builder = KerasGraphBuilder(dialect: .keras2, variables: [:])
        let outputs = try builder.build(container)
        return (builder.nodes.map(\.name), outputs)
    }

    func testAReversedListBuildsTheSameGraphAsTheSortedOne() throws {
        let count = 5
        let sorted = try build(try chain(count: count, order: Array(0...count)))
        let reversed = try build(try chain(count: count, order: Array((0...count).reversed())))
        XCTAssertEqual(reversed.nodes, sorted.nodes)
        XCTAssertEqual(reversed.outputs, sorted.outputs)
        XCTAssertEqual(sorted.nodes, ["x"] + (1...count).map { "a\($0)" })
    }

    /// 20,000 layers listed backwards: the old loop made 20,000 passes (2 x 10^8 layer visits);
    /// this builds in one. The bound is a hang check, not a speed goal.
    func testALongReversedChainBuilds() throws {
        let count = 20_000
        let container = try chain(count: count, order: Array((0...count).reversed()))
        let started = Date()
        let built = try build(container)
        XCTAssertEqual(built.nodes.count, count + 1)
        XCTAssertEqual(built.nodes.last, "a\(count)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
    }

    func testALayerReadingAMissingLayerIsNamed() throws {
        var text = #"{"class_name": "Functional", "config": {"name": "m", "layers": ["#
        text += #"{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_input_shape": [null, 4]}, "inbound_nodes": []}, "#
        text += #"{"class_name": "Activation", "name": "a", "config": {"name": "a", "activation": "relu"}, "inbound_nodes": [[["ghost", 0, 0, {}]]]}"#
        text += #"], "input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]}}"#
        let container = try KerasContainer(model: try JSONValue.parse(text), place: "model_config")
        XCTAssertThrowsError(try build(container)) { error in
            XCTAssertEqual("\(error)", "a: its inbound nodes name layers that are not in the model (or form a cycle)")
        }
    }
}
