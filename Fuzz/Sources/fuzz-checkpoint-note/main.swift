import LedgerFuzzTargets

runLibFuzzer(.checkpointNote)
