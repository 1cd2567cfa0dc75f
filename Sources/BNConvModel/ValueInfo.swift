import BNConvCore

/// What is known about a value (an edge) of a ``Model``.
public struct ValueInfo: Equatable, Sendable {
    /// The value's unique name.
    public var name: String
    /// Dimensions with the batch first; `nil` marks an unknown size (usually the batch).
    public var shape: [Int?]?
    /// The channel position of a 3-D to 5-D activation; `nil` when unknown or not spatial.
    public var layout: DataLayout?
    /// The element type.
    public var dtype: DType

    /// Creates value facts.
    public init(name: String, shape: [Int?]? = nil, layout: DataLayout? = nil, dtype: DType = .float32) {
        self.name = name
        self.shape = shape
        self.layout = layout
        self.dtype = dtype
    }

    /// The number of channels, when the shape and layout say it.
    public var channels: Int? {
        guard let shape, !shape.isEmpty else { return nil }
        if shape.count <= 2 { return shape.last ?? nil }
        return shape[(layout ?? .channelsLast).channelAxis(rank: shape.count)]
    }
}
