import LedgerFuzzTargets

runLibFuzzer(.event)
