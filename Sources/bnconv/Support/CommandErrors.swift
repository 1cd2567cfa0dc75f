import ArgumentParser
import BNConv

/// Runs a subcommand body and turns every library error into one line on stderr and exit 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let validation as ValidationError {
        throw validation
    } catch let usage as UsageError {
        throw ValidationError(usage.message)
    } catch let unfaithful as UnfaithfulWriteError {
        Terminal.printError("bnconv: \(unfaithful)")
        throw ExitStatus.verificationFailed
    } catch {
        Terminal.printError("bnconv: error: \(error)")
        throw ExitStatus.error
    }
}
