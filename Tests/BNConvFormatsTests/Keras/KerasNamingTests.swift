@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

final class KerasNamingTests: XCTestCase {
    func testSnakeCaseMatchesKerasGroupNames() {
        // Group names observed in Keras 3 stores (docs/formats.md, The weights store).
        XCTAssertEqual(KerasNaming.snakeCase("Conv2D"), "conv2d")
        XCTAssertEqual(KerasNaming.snakeCase("DepthwiseConv2D"), "depthwise_conv2d")
        XCTAssertEqual(KerasNaming.snakeCase("Conv2DTranspose"), "conv2d_transpose")
        XCTAssertEqual(KerasNaming.snakeCase("InputLayer"), "input_layer")
        XCTAssertEqual(KerasNaming.snakeCase("ReLU"), "re_lu")
        XCTAssertEqual(KerasNaming.snakeCase("GlobalAveragePooling2D"), "global_average_pooling2d")
        XCTAssertEqual(KerasNaming.snakeCase("BatchNormalization"), "batch_normalization")
    }

    func testCountersArePerClassInOrder() {
        XCTAssertEqual(KerasNaming.storeNames(forClasses: ["Conv2D", "BatchNormalization", "Conv2D", "Conv2D", "BatchNormalization"]),
                       ["conv2d", "batch_normalization", "conv2d_1", "conv2d_2", "batch_normalization_1"])
    }
}
