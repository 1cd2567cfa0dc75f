@testable import BNConvCore
@testable import BNConvModel
import XCTest

/// The one rule for invented names: the base when free, else the first free `base_<n>` counting
/// from 1 for every claim.
final class NameAllocatorTests: XCTestCase {
    func testFreeBaseIsReturnedAsIs() {
        var names = NameAllocator()
        XCTAssertEqual(names.claim("conv"), "conv")
        XCTAssertTrue(names.isTaken("conv"))
    }

    func testCollisionsCountFromOne() {
        var names = NameAllocator(taken: ["conv"])
        XCTAssertEqual(names.claim("conv"), "conv_1")
        XCTAssertEqual(names.claim("conv"), "conv_2")
        XCTAssertEqual(names.claim("conv"), "conv_3")
    }

    func testSuffixedNamesTakenElsewhereAreSkipped() {
        var names = NameAllocator(taken: ["x", "x_1", "x_3"])
        XCTAssertEqual(names.claim("x"), "x_2")
        XCTAssertEqual(names.claim("x"), "x_4")
    }

    func testEveryClaimStartsCountingAgain() {
        // A claimed "a_1" takes that name only: "a" still goes to "a_2" after "a_1".
        var names = NameAllocator(taken: ["a"])
        XCTAssertEqual(names.claim("a_1"), "a_1")
        XCTAssertEqual(names.claim("a"), "a_2")
        XCTAssertEqual(names.claim("a_1"), "a_1_1")
    }

    func testReservedNamesAreAvoided() {
        var names = NameAllocator()
        names.reserve("t")
        names.reserve(["u", "u_1"])
        XCTAssertEqual(names.claim("t"), "t_1")
        XCTAssertEqual(names.claim("u"), "u_2")
        XCTAssertEqual(names.taken, ["t", "t_1", "u", "u_1", "u_2"])
    }

    func testEmptyBaseIsAName() {
        var names = NameAllocator()
        XCTAssertEqual(names.claim(""), "")
        XCTAssertEqual(names.claim(""), "_1")
    }

    /// 100,000 claims of one name: each continues where the last search stopped (the same names as
    /// counting from 1 each time; a claim of a name reserved in between skips it).
    func testManyClaimsOfOneNameContinueTheCount() {
        var names = NameAllocator()
        for k in 0..<100_000 {
            XCTAssertEqual(names.claim("n"), k == 0 ? "n" : "n_\(k)")
        }
        names.reserve("n_100000")
        XCTAssertEqual(names.claim("n"), "n_100001")
    }
}
