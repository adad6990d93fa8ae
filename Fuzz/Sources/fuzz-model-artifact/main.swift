import LedgerFuzzTargets

runLibFuzzer(.modelArtifact)
