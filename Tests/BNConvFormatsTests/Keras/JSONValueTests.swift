@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

final class JSONValueTests: XCTestCase {
    /// Every config Keras wrote (model_config attributes, config.json, to_json files) comes back byte for byte.
    func testEveryFixtureConfigRoundTripsByteIdentical() throws {
        let cases = try KerasFixtureCase.all()
        try XCTSkipIf(cases.isEmpty, "no Keras fixtures committed yet")
        var count = 0
        for fixture in cases {
            var texts: [(String, String)] = []
            for json in ["keras2.json", "keras3.json"] {
                if let data = FileManager.default.contents(atPath: fixture.directory.appendingPathComponent(json).path) {
                    texts.append((json, String(decoding: data, as: UTF8.self)))
                }
            }
            for key in ["keras2", "keras3"] {
                for (path, config) in fixture.checkpoints(key) where config == nil {
                    let record = try XCTUnwrap(try Checkpoint.read(path).source as? KerasModelRecord)
                    if let text = record.configText { texts.append(((path as NSString).lastPathComponent, text)) }
                }
            }
            for (name, text) in texts {
                let value = try JSONValue.parse(text)
                XCTAssertEqual(value.serialized(), text, "\(fixture.name)/\(name)")
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 0)
    }

    func testKeyOrderAndNumberTextArePreserved() throws {
        let text = #"{"z": 1, "a": [1e-05, 0.0010000000474974513, -0, NaN, Infinity, -Infinity], "m": {"b": null, "a": true}}"#
        let value = try JSONValue.parse(text)
        XCTAssertEqual(value.serialized(), text)
        XCTAssertEqual(value.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(value["a"]?[0]?.doubleValue, 1e-05)
        XCTAssertTrue(value["a"]?[3]?.doubleValue?.isNaN ?? false)
    }

    func testStringsAreEscapedLikeJSONDumps() throws {
        // json.dumps("é\u{1F600}\"\\\n\t\u{7f}/") == '"\\u00e9\\ud83d\\ude00\\"\\\\\\n\\t\\u007f/"'
        let value = JSONValue.string("é\u{1F600}\"\\\n\t\u{7f}/")
        XCTAssertEqual(value.serialized(), #""\u00e9\ud83d\ude00\"\\\n\t\u007f/""#)
        XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
    }

    func testEditingAnObjectKeepsTheOtherKeysInPlace() throws {
        var object = try XCTUnwrap(try JSONValue.parse(#"{"name": "conv", "use_bias": false, "filters": 4}"#).objectValue)
        object["use_bias"] = .bool(true)
        object["extra"] = .integer(3)
        object["filters"] = nil
        XCTAssertEqual(JSONValue.object(object).serialized(), #"{"name": "conv", "use_bias": true, "extra": 3}"#)
    }

    func testMalformedJSONIsRejectedWithTheOffset() {
        XCTAssertThrowsError(try JSONValue.parse(#"{"a": [1, 2}"#)) { error in
            XCTAssertTrue("\(error)".contains("at byte 11"), "\(error)")
        }
        XCTAssertThrowsError(try JSONValue.parse("{} x"))
        XCTAssertThrowsError(try JSONValue.parse(#""unterminated"#))
    }

    /// A repeated key is read as Python's json reads it (Keras's config loader): the last value,
    /// at the first key's place, once.
    func testARepeatedKeyTakesItsLastValueAtItsFirstPlace() throws {
        let value = try JSONValue.parse(#"{"epsilon": 0.001, "name": "bn", "epsilon": 0.5, "axis": -1}"#)
        XCTAssertEqual(value.objectValue?.keys, ["epsilon", "name", "axis"])
        XCTAssertEqual(value["epsilon"]?.doubleValue, 0.5)
        XCTAssertEqual(value.serialized(), #"{"epsilon": 0.5, "name": "bn", "axis": -1}"#)
    }
}
