import BNConvCore
import BNConvModel
import BNConvInterop

/// A tensor shape seen around one channel axis: `outer` positions before it, `channels`, and
/// `inner` positions after it (C order), so element `(o, c, i)` lives at `(o * channels + c) * inner + i`.
///
/// It lets BatchNorm and other per-channel math be written once for any channel axis: NHWC
/// (`inner == 1`), NCHW (`outer == N`), 2-D `(N, C)` and 3-D `(N, L, C)` alike.
public struct ChannelGeometry: Equatable, Sendable {
    /// Product of the dimensions before the channel axis.
    public let outer: Int
    /// The channel axis' size.
    public let channels: Int
    /// Product of the dimensions after the channel axis.
    public let inner: Int

    /// Splits `shape` around `axis` (batch included; negative counts from the end).
    public init(shape: [Int], axis: Int) throws {
        let resolved = Op.resolveAxis(axis, rank: shape.count)
        guard resolved >= 0, resolved < shape.count else {
            throw EngineError.badAxis(axis, shape: shape, context: "channel axis")
        }
        outer = shape[..<resolved].reduce(1, *)
        channels = shape[resolved]
        inner = shape[(resolved + 1)...].reduce(1, *)
    }

    /// Creates a geometry from its three extents.
    public init(outer: Int, channels: Int, inner: Int) {
        self.outer = outer
        self.channels = channels
        self.inner = inner
    }

    /// Elements per channel (the `N` of the moments: every axis but the channel).
    public var countPerChannel: Int { outer * inner }
    /// Total elements.
    public var count: Int { outer * channels * inner }
}
