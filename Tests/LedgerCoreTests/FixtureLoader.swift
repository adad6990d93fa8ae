import Foundation
import LedgerCore

/// Reads a file from this target's `Fixtures/` folder.
enum Fixture {
    static func data(_ path: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "Fixtures/\(path)", withExtension: nil) else {
            throw FixtureMissing(path: path)
        }
        return Array(try Data(contentsOf: url))
    }

    static func json(_ path: String) throws -> JSONValue {
        try CanonicalJSON.parse(try data(path))
    }

    struct FixtureMissing: Error { let path: String }
}
