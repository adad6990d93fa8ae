import LedgerFuzzTargets

runLibFuzzer(.cron)
