import Foundation
import LedgerML
import LedgerTesting
import Testing

/// The seeded generator for test data (SplitMix64 from LedgerTesting), independent of the module's own.
typealias TestRandom = SeededRandom

extension SeededRandom {
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(unit(), 0x1.0p-60)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
    }

    mutating func int(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// `rows` × `columns` standard normal values with names f0, f1, ...
func gaussianMatrix(rows: Int, columns: Int, seed: UInt64) throws -> FeatureMatrix {
    var random = TestRandom(seed: seed)
    let values = (0..<(rows * columns)).map { _ in random.normal() }
    return try FeatureMatrix(
        values: values,
        rows: rows,
        columns: columns,
        featureNames: (0..<columns).map { "f\($0)" }
    )
}

/// FNV-1a 64 of bytes, to pin golden outputs compactly.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// Expects `body` to throw an `MLError` with `code`, and returns it for further checks.
@discardableResult
func expectMLError(
    _ code: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> MLError? {
    do {
        try body()
        Issue.record("expected an \(code) error, but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as MLError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected an MLError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
