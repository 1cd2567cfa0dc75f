@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvTestSupport
import XCTest

/// Which nodes the model's outputs depend on (``Model/nodesTheOutputsNeed()``).
final class ModelOutputDependenciesTests: XCTestCase {
    func testOnlyTheNodesOnAPathToAnOutputAreNeeded() {
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "a", op: .identity, inputs: ["x"], outputs: ["a"]),
            Node(name: "dead", op: .identity, inputs: ["x"], outputs: ["d"]),
            Node(name: "after dead", op: .identity, inputs: ["d"], outputs: ["e"]),
            Node(name: "b", op: .elementwise(.add), inputs: ["a", "x"], outputs: ["b"]),
            Node(name: "unread", op: .identity, inputs: ["b"], outputs: ["u"]),
        ]
        let model = Model(name: "m", format: .graphDef, inputs: ["x"], outputs: ["b"], nodes: nodes, values: [:])
        XCTAssertEqual(model.nodesTheOutputsNeed(), [true, true, false, false, true, false])
        var both = model
        both.outputs = ["b", "e"]
        XCTAssertEqual(both.nodesTheOutputsNeed(), [true, true, true, true, true, false])
        both.outputs = []
        XCTAssertEqual(both.nodesTheOutputsNeed(), Array(repeating: false, count: 6))
    }
}
