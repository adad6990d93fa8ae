import LedgerFuzzTargets

runLibFuzzer(.ledgerLeaf)
