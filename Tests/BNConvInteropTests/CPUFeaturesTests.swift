@testable import BNConvInterop
@testable import BNConvTestSupport
import XCTest

final class CPUFeaturesTests: XCTestCase {
    private let zen5 = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 26
        flags\t\t: fpu sse avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16

        processor\t: 1
        vendor_id\t: GenuineIntel
        flags\t\t: fpu
        """

    func testParseReadsTheFirstProcessorsVendorAndFlags() throws {
        let features = try XCTUnwrap(CPUFeatures.parse(cpuinfo: zen5))
        XCTAssertEqual(features.vendor, "AuthenticAMD")
        XCTAssertTrue(features.flags.contains("avx512vl"))
        XCTAssertFalse(features.flags.contains("fpu sse"))
        XCTAssertNil(CPUFeatures.parse(cpuinfo: "processor\t: 0\n"))
    }

    func testSkylakeXIsChosenOnlyForAnAMDCPUWithEveryAVX512SubsetItUses() throws {
        let amd = try XCTUnwrap(CPUFeatures.parse(cpuinfo: zen5))
        XCTAssertEqual(CPUFeatures.openBLASCoreType(vendor: amd.vendor, flags: amd.flags), "SkylakeX")
        XCTAssertNil(CPUFeatures.openBLASCoreType(vendor: amd.vendor, flags: amd.flags.subtracting(["avx512vl"])))
        XCTAssertNil(CPUFeatures.openBLASCoreType(vendor: "GenuineIntel", flags: amd.flags))
        XCTAssertNil(CPUFeatures.openBLASCoreType(vendor: "AuthenticAMD", flags: ["avx2", "fma"]))
    }
}
