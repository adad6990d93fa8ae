import LedgerFuzzTargets

runLibFuzzer(.scoringRequest)
