import BNConvCore
import BNConvModel
import BNConvInterop

/// One variable as a Keras file stores it, before it becomes a ``Weight``.
struct KerasStoredVariable: Sendable {
    /// The variable's own name: `kernel`, `gamma`, `moving_mean`, ...
    var variable: String
    /// The name the file lists: the `weight_names` entry (`bn/gamma:0`), or `<layer>/<variable>`
    /// for a Keras 3 store, which lists none.
    var storedName: String
    /// The dataset's absolute path in the weights file.
    var storageKey: String
    /// The values.
    var tensor: Tensor
    /// The dataset's creation properties.
    var creation: HDF5DatasetCreation

    /// The variable name from a `weight_names` entry: the last path component without `:0`.
    static func variableName(fromStoredName name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        if let colon = last.lastIndex(of: ":"), Int(last[last.index(after: colon)...]) != nil {
            return String(last[..<colon])
        }
        return last
    }
}
