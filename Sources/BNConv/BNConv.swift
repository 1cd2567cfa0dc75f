// The umbrella module: `import BNConv` gives a library user the public API of every layer
// (docs/architecture.md lists the layers and what each may import).
@_exported import BNConvCore
@_exported import BNConvModel
@_exported import BNConvFormats
@_exported import BNConvPasses
@_exported import BNConvOps
@_exported import BNConvEngine
@_exported import BNConvVerify
@_exported import BNConvCalibration
@_exported import BNConvPipeline
