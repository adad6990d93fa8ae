import LedgerFuzzTargets

runLibFuzzer(.proof)
