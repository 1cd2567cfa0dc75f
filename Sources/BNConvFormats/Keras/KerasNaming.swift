import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras 3's names for the groups of a `.weights.h5` (H5IOStore): `to_snake_case` of the class
/// name, made unique per container with `_1`, `_2`, ... (docs/formats.md, The weights store; keras-team/keras `keras/src/utils/naming.py`).
enum KerasNaming {
    private static let nonWord = try! NSRegularExpression(pattern: "\\W+")
    private static let capitalWord = try! NSRegularExpression(pattern: "(.)([A-Z][a-z]+)")
    private static let lowerUpper = try! NSRegularExpression(pattern: "([a-z])([A-Z])")

    /// `to_snake_case`: Conv2D -> conv2d, DepthwiseConv2D -> depthwise_conv2d, ReLU -> re_lu.
    static func snakeCase(_ name: String) -> String {
        var s = replace(nonWord, in: name, with: "")
        s = replace(capitalWord, in: s, with: "$1_$2")
        s = replace(lowerUpper, in: s, with: "$1_$2")
        return s.lowercased()
    }

    private static func replace(_ regex: NSRegularExpression, in s: String, with template: String) -> String {
        regex.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: template)
    }

    /// Group names for a container's layers, in order: `conv2d`, `conv2d_1`, ...
    static func storeNames(forClasses classes: [String]) -> [String] {
        var counts: [String: Int] = [:]
        return classes.map { className in
            let base = snakeCase(className)
            let n = counts[base, default: 0]
            counts[base] = n + 1
            return n == 0 ? base : "\(base)_\(n)"
        }
    }
}
