import LedgerFuzzTargets

runLibFuzzer(.csv)
