import BNConv
import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvFormats

/// Reads a committed `.npy` fixture (relative to Tests/Fixtures).
func fixtureArray(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
    try NumPyFile.read(FixturePaths.url(relative).path)
}

/// Reads a committed JSON fixture (relative to Tests/Fixtures) as a dictionary.
func fixtureJSON(_ relative: String) throws -> [String: Any] {
    let data = try Data(contentsOf: FixturePaths.url(relative))
    return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// The largest |actual - expected| relative to max|expected| (or absolute when expected is all zeros).
func relativeError<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ actual: [A], _ expected: [B]) -> Double {
    let scale = max(expected.map { abs(Double($0)) }.max() ?? 0, 1e-30)
    let worst = zip(actual, expected).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return worst / (scale > 1e-30 ? scale : 1)
}

/// Asserts same shape, then every value within `tolerance * max|expected|`.
func assertClose<T: BinaryFloatingPoint>(_ actual: [T], shape: [Int], _ expected: Tensor, tolerance: Double = 1e-5,
                                         _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(shape, expected.shape, "shape differs \(message)", file: file, line: line)
    guard shape == expected.shape else { return }
    XCTAssertEqual(actual.count, expected.count, "value count differs \(message)", file: file, line: line)
    let error = relativeError(actual, expected.doubles())
    XCTAssertLessThanOrEqual(error, tolerance, "max error \(error) x max|ref| \(message)", file: file, line: line)
}

/// Asserts a tensor equals a reference within `tolerance * max|expected|`, shapes compared first.
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Double = 1e-5, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.doubles(), shape: actual.shape, expected, tolerance: tolerance, message, file: file, line: line)
}
