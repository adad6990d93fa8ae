import LedgerFuzzTargets

runLibFuzzer(.envelope)
