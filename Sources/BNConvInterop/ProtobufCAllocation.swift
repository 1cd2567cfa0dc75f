import CProtobufC
import Foundation
import BNConvCore

/// Reading and `malloc`-allocating the pieces of a protobuf-c message tree from Swift.
///
/// Everything allocated here can be released by `protobuf_c_message_free_unpacked` (protobuf-c's
/// default allocator is `malloc`/`free`), so it may be spliced into a tree owned by
/// ``ProtobufMessage``; nothing stack- or Swift-allocated ever enters such a tree.
enum ProtobufCAllocation {
    // MARK: Reading

    /// A NUL-terminated C string, or "" for NULL (an absent proto2 string).
    static func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        p.map { String(cString: $0) } ?? ""
    }

    /// A repeated string field.
    static func strings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) -> [String] {
        guard let p, n > 0 else { return [] }
        return (0..<n).map { string(p[$0]) }
    }

    /// A repeated scalar field.
    static func array<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) -> [T] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    /// A repeated message field, skipping NULL entries.
    static func messages<T>(_ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ n: Int) -> [UnsafeMutablePointer<T>] {
        guard let p, n > 0 else { return [] }
        return (0..<n).compactMap { p[$0] }
    }

    /// A bytes field.
    static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        guard let data = b.data, b.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: b.len))
    }

    // MARK: Allocating

    /// One uninitialized `T` from `malloc`.
    static func allocate<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        guard let raw = malloc(MemoryLayout<T>.stride) else { fatalError("out of memory") }
        return raw.bindMemory(to: T.self, capacity: 1)
    }

    /// `count` uninitialized `T`s from `malloc`; `nil` for zero (protobuf-c's empty repeated field).
    static func allocateArray<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T>? {
        guard count > 0 else { return nil }
        guard let raw = malloc(MemoryLayout<T>.stride * count) else { fatalError("out of memory") }
        return raw.bindMemory(to: T.self, capacity: count)
    }

    /// A `malloc`'d copy of `values` (a repeated scalar field).
    static func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        let p = allocateArray(T.self, count: values.count)
        for (i, v) in values.enumerated() { p![i] = v }
        return p
    }

    /// A `malloc`'d array of message pointers (a repeated message field).
    static func pointerArray<T>(_ items: [UnsafeMutablePointer<T>]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
        let p = allocateArray(UnsafeMutablePointer<T>?.self, count: items.count)
        for (i, item) in items.enumerated() { p![i] = item }
        return (items.count, p)
    }

    /// A `malloc`'d array of `strdup`'d strings (a repeated string field).
    static func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        let p = allocateArray(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (i, v) in values.enumerated() { p![i] = strdup(v) }
        return (values.count, p)
    }

    /// Frees a repeated string field allocated by protobuf-c or ``strings(_:)``.
    static func freeStrings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) {
        guard let p else { return }
        for i in 0..<n { free(p[i]) }
        free(p)
    }

    /// A `malloc`'d bytes field.
    static func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let data = allocateArray(UInt8.self, count: bytes.count)
        if let data { bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: bytes.count) } }
        return ProtobufCBinaryData(len: bytes.count, data: data)
    }

    /// Frees one sub-message (and everything under it) of any generated type.
    static func freeMessage<T>(_ p: UnsafeMutablePointer<T>) {
        protobuf_c_message_free_unpacked(UnsafeMutableRawPointer(p).assumingMemoryBound(to: ProtobufCMessage.self), nil)
    }
}
