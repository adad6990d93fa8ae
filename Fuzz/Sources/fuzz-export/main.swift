import LedgerFuzzTargets

runLibFuzzer(.export)
