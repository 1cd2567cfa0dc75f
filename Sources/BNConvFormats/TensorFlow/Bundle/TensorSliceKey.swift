import BNConvInterop

/// The key a slice of a partitioned tensor is stored under in a tensor bundle: TensorFlow's
/// `checkpoint::EncodeTensorNameSlice` (`tensorflow/core/util/saved_tensor_slice_util.cc`), in
/// ``OrderedCode``: the number 0 (so every slice key starts with byte 0x00 and sorts before the
/// tensors' own keys), the full tensor's name as a string, the rank, then for each dimension the
/// start and the length as signed numbers, a whole dimension as start 0 and length -1.
enum TensorSliceKey {
    /// The key of the slice `extents` of the tensor stored under `name`.
    static func encode(name: [UInt8], extents: [TensorSliceExtent]) -> [UInt8] {
        var out = [UInt8]()
        OrderedCode.appendNumIncreasing(0, to: &out)
        OrderedCode.appendString(name, to: &out)
        OrderedCode.appendNumIncreasing(UInt64(extents.count), to: &out)
        for extent in extents {
            OrderedCode.appendSignedNumIncreasing(extent.start, to: &out)
            OrderedCode.appendSignedNumIncreasing(extent.length ?? -1, to: &out)
        }
        return out
    }

    /// The name and extents a slice key encodes (`DecodeTensorNameSlice`: a negative length is a
    /// whole dimension), or nil when `key` is not one (it must be read to its last byte).
    static func decode(_ key: [UInt8]) -> (name: [UInt8], extents: [TensorSliceExtent])? {
        var at = 0
        guard OrderedCode.readNumIncreasing(key, at: &at) == 0,
              let name = OrderedCode.readString(key, at: &at),
              let rank = OrderedCode.readNumIncreasing(key, at: &at), rank > 0, rank <= UInt64(key.count) else { return nil }
        var extents: [TensorSliceExtent] = []
        for _ in 0..<rank {
            guard let start = OrderedCode.readSignedNumIncreasing(key, at: &at),
                  let length = OrderedCode.readSignedNumIncreasing(key, at: &at) else { return nil }
            extents.append(length >= 0 ? TensorSliceExtent(start: start, length: length) : TensorSliceExtent(start: 0, length: nil))
        }
        return at == key.count ? (name, extents) : nil
    }
}
