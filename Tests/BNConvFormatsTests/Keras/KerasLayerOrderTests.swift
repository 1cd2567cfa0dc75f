@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

final class KerasLayerOrderTests: XCTestCase {
    /// Keras saved each config's `layers` in `model.layers` order, so replaying the ordering on an
    /// untouched config must give that same order back.
    func testReplayedOrderEqualsTheSavedOrderOfEveryFixture() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        for fixture in cases {
            for key in ["keras2", "keras3"] {
                guard let data = FileManager.default.contents(atPath: fixture.directory.appendingPathComponent("\(key).json").path) else { continue }
                let container = try KerasContainer(model: try JSONValue.parse(String(decoding: data, as: UTF8.self)), place: "config")
                XCTAssertEqual(KerasLayerOrder.layers(of: container), container.layers.map(\.name), "\(fixture.name) \(key)")
            }
        }
    }

    /// Two branches of different depth: the deeper branch's layers come first at each depth.
    func testDepthOrderingOfBranches() throws {
        let config = #"{"class_name": "Functional", "config": {"name": "m", "layers": [{"class_name": "InputLayer", "config": {"name": "in"}, "name": "in", "inbound_nodes": []}, {"class_name": "Dense", "config": {"name": "a"}, "name": "a", "inbound_nodes": [[["in", 0, 0, {}]]]}, {"class_name": "Dense", "config": {"name": "b1"}, "name": "b1", "inbound_nodes": [[["in", 0, 0, {}]]]}, {"class_name": "Dense", "config": {"name": "b2"}, "name": "b2", "inbound_nodes": [[["b1", 0, 0, {}]]]}, {"class_name": "Add", "config": {"name": "add"}, "name": "add", "inbound_nodes": [[["a", 0, 0, {}], ["b2", 0, 0, {}]]]}], "input_layers": [["in", 0, 0]], "output_layers": [["add", 0, 0]]}}"#
        let container = try KerasContainer(model: try JSONValue.parse(config), place: "config")
        // depths: add 0, a 1, b2 1, b1 2, in 3; ties by walk order from the output (a before b2).
        XCTAssertEqual(KerasLayerOrder.layers(of: container), ["in", "b1", "a", "b2", "add"])
    }
}
