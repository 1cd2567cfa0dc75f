@testable import BNConvInterop
@testable import BNConvTestSupport
import XCTest

final class HDF5AttributeTests: XCTestCase {
    private func roundTrip(_ values: [String], _ encoding: HDF5StringEncoding, scalar: Bool = false,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let (h5, path) = try HDF5TestSupport.scratchFile(self)
        try h5.root().writeStrings("s", values, encoding: encoding, scalar: scalar)
        try h5.close()
        let attribute = try HDF5File.open(path).root().attribute("s")
        XCTAssertEqual(try attribute.shape(), scalar ? [] : [values.count], file: file, line: line)
        XCTAssertEqual(try attribute.readStrings(), values, file: file, line: line)
        let read = try XCTUnwrap(try attribute.stringEncoding(), file: file, line: line)
        XCTAssertEqual(read.utf8, encoding.utf8, file: file, line: line)
        switch (read.storage, encoding.storage) {
        case (.variable, .variable): break
        case (.fixed(let a), .fixed(let b)): XCTAssertGreaterThanOrEqual(a, b, file: file, line: line)
                                             XCTAssertEqual(read.nullPadded, encoding.nullPadded, file: file, line: line)
        default: XCTFail("storage \(read.storage) != \(encoding.storage)", file: file, line: line)
        }
    }

    func testScalarVlenUTF8() throws { try roundTrip(["tensorflow é"], .variableUTF8, scalar: true) }
    func testScalarVlenASCII() throws { try roundTrip(["{\"class_name\": \"Functional\"}"], .variableASCII, scalar: true) }
    func testVlenArray() throws { try roundTrip(["bn/gamma:0", "bn/beta:0", ""], .variableASCII) }
    func testFixedNullPadArray() throws { try roundTrip(["conv", "a_much_longer_name"], .fixedASCII(size: 18)) }
    func testFixedNullTermArray() throws {
        try roundTrip(["x", "yz"], HDF5StringEncoding(storage: .fixed(size: 4), utf8: false, nullPadded: false))
    }

    func testEmptyFloat64ReadsAsNoStrings() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let root = try h5.root()
        try root.writeEmptyFloat64("weight_names")
        let attribute = try root.attribute("weight_names")
        XCTAssertEqual(try attribute.shape(), [0])
        XCTAssertNil(try attribute.stringEncoding())
        XCTAssertEqual(try attribute.readStrings(), [])
        XCTAssertEqual(try attribute.readValue(), .numbers(.float64, shape: [0], bytes: []))
    }

    func testNumbersAreNotStrings() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let root = try h5.root()
        try HDF5Attribute.write(.numbers(.int32, shape: [2], bytes: [1, 0, 0, 0, 2, 0, 0, 0]), on: root, name: "n")
        XCTAssertThrowsError(try root.attribute("n").readStrings())
        XCTAssertEqual(try root.attribute("n").readValue(), .numbers(.int32, shape: [2], bytes: [1, 0, 0, 0, 2, 0, 0, 0]))
    }

    func testCopyAttributeKeepsTypeAndValue() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let root = try h5.root()
        try root.writeStrings("v", ["2.21.0"], encoding: .variableUTF8, scalar: true)
        let target = try root.createGroup("g")
        try target.copyAttribute("v", from: root)
        XCTAssertEqual(try target.attribute("v").readValue(), try root.attribute("v").readValue())
        XCTAssertEqual(try target.attributeNames(), ["v"])
    }
}
