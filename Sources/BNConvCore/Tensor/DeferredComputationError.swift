/// An error thrown by the computation behind a deferred tensor (``Tensor/mappedBytes(dtype:shape:writing:)``)
/// that says nothing about the file being written: a writer that meets one while writing hands it
/// back to its caller unchanged instead of reporting a write failure. The fold pass's
/// non-finite-kernel check is one (its caller keeps that BN and plans again).
public protocol DeferredComputationError: Error {}
