import LedgerFuzzTargets

runLibFuzzer(.json)
