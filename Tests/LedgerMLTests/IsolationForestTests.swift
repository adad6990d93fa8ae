import Foundation
import LedgerML
import LedgerTesting
import Testing

@Suite("IsolationForest")
struct IsolationForestTests {
    @Test(
        "c(n) matches scikit-learn's _average_path_length",
        arguments: [
            (0, 0.0), (1, 0.0), (2, 1.0), (3, 1.207_392_357_589_623), (10, 3.748_880_484_475_505),
            (256, 10.244_770_920_119_917),
        ] as [(Int, Double)]
    )
    func averagePathLength(n: Int, expected: Double) {
        // Values printed by scikit-learn 1.9.1: sklearn.ensemble._iforest._average_path_length.
        #expect(abs(IsolationForest.averagePathLength(n) - expected) < 1e-12)
    }

    @Test("a far outlier scores higher than every inlier, and every score is in (0, 1)")
    func outlier() throws {
        var random = TestRandom(seed: 11)
        var values: [Double] = []
        for _ in 0..<500 { values += [random.normal(), random.normal()] }
        values += [8, 8]
        let data = try FeatureMatrix(values: values, rows: 501, columns: 2, featureNames: ["x", "y"])
        let model = try IsolationForest.train(data, parameters: .init(seed: 1))
        let scores = try model.scores(data)
        #expect(scores.allSatisfy { $0 > 0 && $0 < 1 })
        let inlierMax = try #require(scores.dropLast().max())
        #expect(scores[500] > inlierMax)
        #expect(scores[500] > 0.7)
        #expect(model.sampleSize == 256)
        #expect(model.trainingRows == 501)
        #expect(model.treeCount == 100)
    }

    @Test("constant data isolates nothing: every score is 2^-1")
    func constantData() throws {
        let data = try FeatureMatrix(
            values: Array(repeating: 3, count: 40),
            rows: 20,
            columns: 2,
            featureNames: ["a", "b"]
        )
        let scores = try IsolationForest.train(data, parameters: .init(trees: 5, seed: 0)).scores(data)
        #expect(scores.allSatisfy { abs($0 - 0.5) < 1e-15 })
    }

    @Test("the same seed gives the same bytes for 1, 2 and 3 threads; another seed does not")
    func determinism() throws {
        let data = try gaussianMatrix(rows: 1000, columns: 5, seed: 2)
        let parameters = IsolationForestParameters(trees: 37, samples: 128, maxFeatures: 0.6, seed: 42)
        let one = try IsolationForest.train(data, parameters: parameters, threads: 1)
        let two = try IsolationForest.train(data, parameters: parameters, threads: 2)
        let three = try IsolationForest.train(data, parameters: parameters, threads: 3)
        #expect(one.serialized() == two.serialized())
        #expect(one.serialized() == three.serialized())
        #expect(one == two)
        var other = parameters
        other.seed = 43
        #expect(try IsolationForest.train(data, parameters: other).serialized() != one.serialized())
        // Scores do not depend on the thread count either.
        let scores = try one.scores(data, threads: 1)
        #expect(try one.scores(data, threads: 2) == scores)
        #expect(try one.scores(data, threads: 7) == scores)
    }

    @Test("training output is pinned: if this fails, bump IsolationForest.trainerVersion")
    func golden() throws {
        let data = try gaussianMatrix(rows: 300, columns: 4, seed: 5)
        let model = try IsolationForest.train(data, parameters: .init(trees: 10, samples: 64, seed: 9))
        let bytes = model.serialized()
        #expect(IsolationForest.trainerVersion == "ledger-iforest/1")
        #expect(bytes.count == 4220)
        #expect(fnv1a(bytes) == 0x774C_7B91_AFD2_DCC6)
        let scores = try model.scores(data)
        #expect(abs(scores[0] - 0.463_535_923_618_141_9) < 1e-12)
    }

    @Test("with maxFeatures < 1 each tree splits on at most floor(maxFeatures × columns) features")
    func featureSubsets() throws {
        // Only the first column varies: a tree without it cannot split at all.
        var random = TestRandom(seed: 4)
        var values: [Double] = []
        for _ in 0..<200 { values += [random.normal(), 1, 2, 3] }
        let data = try FeatureMatrix(values: values, rows: 200, columns: 4, featureNames: ["a", "b", "c", "d"])
        let parameters = IsolationForestParameters(trees: 200, samples: 64, maxFeatures: 0.25, seed: 1)
        #expect(parameters.featuresPerTree(columns: 4) == 1)
        #expect(IsolationForestParameters(maxFeatures: 0.3, seed: 0).featuresPerTree(columns: 10) == 3)
        #expect(IsolationForestParameters(maxFeatures: 0.01, seed: 0).featuresPerTree(columns: 10) == 1)
        let model = try IsolationForest.train(data, parameters: parameters)
        let full = try IsolationForest.train(data, parameters: .init(trees: 200, samples: 64, seed: 1))
        // A tree that did not draw "a" is a single leaf of 64 samples and gives every row the same
        // path length, c(64): so the subset model's scores are pulled towards 0.5 and spread less.
        func spread(_ scores: [Double]) -> Double { (scores.max() ?? 0) - (scores.min() ?? 0) }
        let subsetScores = try model.scores(data)
        let fullScores = try full.scores(data)
        #expect(spread(subsetScores) < 0.6 * spread(fullScores))
        #expect(spread(subsetScores) > 0)
        // A single-leaf tree is 9 bytes (node count and leaf), so most of the 200 trees must be that.
        #expect(model.serialized().count < full.serialized().count / 2)
    }

    @Test("fewer rows than samples: ψ is the row count")
    func smallData() throws {
        let data = try gaussianMatrix(rows: 10, columns: 2, seed: 1)
        let model = try IsolationForest.train(data, parameters: .init(seed: 3))
        #expect(model.sampleSize == 10)
        #expect(try model.scores(data).count == 10)
    }

    @Test(
        "invalid parameters are refused",
        arguments: [
            IsolationForestParameters(trees: 0, seed: 0), IsolationForestParameters(trees: 10_001, seed: 0),
            IsolationForestParameters(samples: 1, seed: 0), IsolationForestParameters(samples: 16_777_217, seed: 0),
            IsolationForestParameters(maxFeatures: 0, seed: 0), IsolationForestParameters(maxFeatures: 1.01, seed: 0),
            IsolationForestParameters(maxFeatures: .nan, seed: 0),
        ]
    )
    func invalidParameters(parameters: IsolationForestParameters) throws {
        let data = try gaussianMatrix(rows: 10, columns: 2, seed: 1)
        expectMLError(MLError.parametersCode) { _ = try IsolationForest.train(data, parameters: parameters) }
    }

    @Test("bad threads, too few rows and mismatched columns are refused")
    func invalidUse() throws {
        let data = try gaussianMatrix(rows: 10, columns: 2, seed: 1)
        expectMLError(MLError.parametersCode) {
            _ = try IsolationForest.train(data, parameters: .init(seed: 0), threads: 0)
        }
        let one = try gaussianMatrix(rows: 1, columns: 2, seed: 1)
        expectMLError(MLError.inputCode) { _ = try IsolationForest.train(one, parameters: .init(seed: 0)) }
        let model = try IsolationForest.train(data, parameters: .init(trees: 3, seed: 0))
        expectMLError(MLError.parametersCode) { _ = try model.scores(data, threads: 0) }
        let wider = try gaussianMatrix(rows: 5, columns: 3, seed: 1)
        let error = expectMLError(MLError.inputCode) { _ = try model.scores(wider) }
        #expect(error?.reason == "the data has 3 feature columns but the model has 2")
        let renamed = try FeatureMatrix(values: data.values, rows: 10, columns: 2, featureNames: ["f0", "g"])
        let renamedError = expectMLError(MLError.inputCode) { _ = try model.scores(renamed) }
        #expect(renamedError?.reason == "feature column 2 is \"g\" but the model expects \"f1\"")
        #expect(try model.scores(FeatureMatrix(values: [], rows: 0, columns: 2, featureNames: ["f0", "f1"])) == [])
    }

    @Test("extreme but finite values train and score")
    func extremes() throws {
        let values: [Double] = [-.greatestFiniteMagnitude, .greatestFiniteMagnitude, 0, 1, -1, .leastNonzeroMagnitude]
        let data = try FeatureMatrix(values: values, rows: 6, columns: 1, featureNames: ["x"])
        let model = try IsolationForest.train(data, parameters: .init(trees: 50, seed: 2))
        let scores = try model.scores(data)
        #expect(scores.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(try IsolationForest(serialized: model.serialized()) == model)
    }
}
