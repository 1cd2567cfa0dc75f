import CHDF5
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport
import XCTest

final class HDF5DatasetTests: XCTestCase {
    func testEveryDTypeRoundTripsBitForBit() throws {
        let (h5, path) = try HDF5TestSupport.scratchFile(self)
        let values: [Double] = [1, -2, 0.333251953125, 0, 7]
        let dtypes: [DType] = [.float16, .bfloat16, .float32, .float64, .int8, .uint8, .int16, .int32, .int64]
        for dtype in dtypes {
            try h5.root().createDataset(dtype.rawValue, tensor: Tensor(shape: [5], doubles: dtype == .uint8 ? values.map(abs) : values, dtype: dtype))
        }
        try h5.close()
        let root = try HDF5File.open(path).root()
        for dtype in dtypes {
            let expected = Tensor(shape: [5], doubles: dtype == .uint8 ? values.map(abs) : values, dtype: dtype)
            let dataset = try root.dataset(dtype.rawValue)
            XCTAssertEqual(try dataset.dtype(), dtype)
            let tensor = try dataset.readTensor()
            XCTAssertEqual(tensor.shape, [5], dtype.rawValue)
            XCTAssertEqual(tensor.bytes, expected.bytes, dtype.rawValue)
        }
        XCTAssertEqual(try root.dataset("bfloat16").stringAttribute("dtype"), "bfloat16")
    }

    func testScalarDataset() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let t = Tensor(shape: [], doubles: [42], dtype: .int64)
        let d = try h5.root().createDataset("iteration", tensor: t)
        XCTAssertEqual(try d.shape(), [])
        XCTAssertEqual(try d.readTensor(), t)
    }

    func testChunkedCompressedPropertiesAreReadAndReusedWithClampedChunks() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let creation = HDF5DatasetCreation(layout: .chunked([4, 4]),
                                           filters: [HDF5DatasetCreation.Filter(id: 2, flags: 1, values: [4]),
                                                     HDF5DatasetCreation.Filter(id: 1, flags: 1, values: [6])])
        let big = Tensor(shape: [8, 8], floats: (0..<64).map(Float.init))
        let original = try h5.root().createDataset("w", tensor: big, creation: creation)
        let read = try original.creation()
        XCTAssertEqual(read.layout, .chunked([4, 4]))
        XCTAssertEqual(read.filters.map(\.id), [2, 1])
        XCTAssertEqual(read.filters.last?.values.first, 6, "deflate level kept")
        let small = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let rewritten = try h5.root().createDataset("w_small", tensor: small, creation: read)
        XCTAssertEqual(try rewritten.creation().layout, .chunked([2, 3]))
        XCTAssertEqual(try rewritten.creation().filters.map(\.id), [2, 1])
        XCTAssertEqual(try rewritten.readTensor(), small)
        XCTAssertEqual(try original.readTensor(), big)
    }

    func testContiguousIsTheDefault() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let d = try h5.root().createDataset("k", tensor: Tensor(shape: [2], floats: [1, 2]))
        XCTAssertEqual(try d.creation(), .contiguous)
    }

    func testCopyKeepsBitsAttributesAndLayout() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        let source = try h5.root().createGroup("src")
        let t = Tensor(shape: [3], doubles: [1, 2, 3], dtype: .bfloat16)
        try source.createDataset("x", tensor: t, creation: HDF5DatasetCreation(layout: .chunked([3]), filters: [.init(id: 1, flags: 0, values: [4])]))
        let target = try h5.root().createGroup("dst")
        try target.copy("x", from: source, as: "deep/y")
        let copy = try target.dataset("deep/y")
        XCTAssertEqual(try copy.readTensor(), t)
        XCTAssertEqual(try copy.creation().layout, .chunked([3]))
    }

    func testDeclaredSizeBeyondTheFileIsRefused() throws {
        let (h5, _) = try HDF5TestSupport.scratchFile(self)
        // A 4 GiB dataset that was never written: HDF5 allocates lazily, so the file stays small.
        let root = try h5.root()
        try root.createDataset("bomb", dtype: .float32, shape: [1 << 20, 1 << 10])
        XCTAssertThrowsError(try root.dataset("bomb").readTensor()) { error in
            XCTAssertTrue("\(error)".contains("more than the"), "\(error)")
        }
    }

    /// A dataset whose storage HDF5 only reserves (first element written) takes its bytes from a
    /// write beside HDF5 at the reported offset; it reads back as written and its stored creation
    /// properties (allocation and fill time) are those of a dataset HDF5 wrote itself.
    func testReservedStorageTakesBytesWrittenBesideHDF5() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("reserved.h5").path
        let values = Tensor(shape: [60, 70], floats: (0..<4200).map { Float($0) * 0.5 - 3 })
        let file = try HDF5File.create(path, unbufferedRawData: true)
        let root = try file.root()
        try root.createDataset("written", tensor: values)
        let reserved = try root.createDataset("reserved", dtype: .float32, shape: [60, 70])
        let offset = try reserved.reserveContiguousStorage()
        try root.createDataset("after", tensor: Tensor(shape: [3], floats: [1, 2, 3]))
        try values.bytes.withUnsafeBytes { try DirectRangeWriter(path: path).write($0, at: offset) }
        try file.close()

        let reopened = try HDF5File.open(path).root()
        XCTAssertEqual(try reopened.dataset("reserved").readTensor(), values)
        XCTAssertEqual(try reopened.dataset("after").readTensor(), Tensor(shape: [3], floats: [1, 2, 3]))
        func storedTimes(_ name: String) throws -> [Int32] {
            let dataset = try reopened.dataset(name)
            let plist = H5Dget_create_plist(dataset.id)
            defer { H5Pclose(plist) }
            var alloc = H5D_ALLOC_TIME_ERROR, fill = H5D_FILL_TIME_ERROR
            H5Pget_alloc_time(plist, &alloc)
            H5Pget_fill_time(plist, &fill)
            return [alloc.rawValue, fill.rawValue]
        }
        XCTAssertEqual(try storedTimes("reserved"), try storedTimes("written"))
        XCTAssertEqual(try storedTimes("reserved"), [H5D_ALLOC_TIME_LATE.rawValue, H5D_FILL_TIME_IFSET.rawValue])
    }
}
