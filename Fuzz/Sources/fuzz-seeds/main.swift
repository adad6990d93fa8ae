import Glibc
import LedgerML

// Writes seed inputs that only code can make small enough to fuzz: Isolation Forest artifacts of one to three tiny
// trees (a real model is tens of kilobytes). `Scripts/fuzz seed` runs it; the other seeds come from the test
// fixtures and a quickstart workspace.

guard CommandLine.arguments.count == 2 else {
    print("usage: fuzz-seeds FOLDER  (writes FOLDER/model-artifact/*.bin)")
    exit(2)
}
let folder = CommandLine.arguments[1] + "/model-artifact"
mkdir(folder, 0o755)

var written = 0
for trees in 1...3 {
    for samples in [2, 4, 8] {
        for columns in 1...3 {
            let rows = 8
            let values = (0..<(rows * columns)).map { Double(($0 * 7 + trees) % 11) / 2 }
            let names = (0..<columns).map { "f\($0)" }
            let parameters = IsolationForestParameters(
                trees: trees,
                samples: samples,
                seed: UInt64(trees * 31 + samples)
            )
            guard let data = try? FeatureMatrix(values: values, rows: rows, columns: columns, featureNames: names),
                let model = try? IsolationForest.train(data, parameters: parameters)
            else {
                print("fuzz-seeds: cannot train a seed model (trees \(trees), samples \(samples))")
                exit(1)
            }
            let bytes = model.serialized()
            let path = "\(folder)/model-t\(trees)-s\(samples)-c\(columns).bin"
            guard let file = fopen(path, "wb"), fwrite(bytes, 1, bytes.count, file) == bytes.count, fclose(file) == 0
            else {
                print("fuzz-seeds: cannot write \(path)")
                exit(1)
            }
            written += 1
        }
    }
}
print("fuzz-seeds: wrote \(written) model artifacts to \(folder)")
