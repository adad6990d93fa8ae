// The feature spec this version implements: its exact bytes, and the parameters the builder reads from them.

import LedgerCore

/// The feature spec this version of ModelLedger implements.
extension DatasetBuilder {
    /// `audit/features.v1.json`, byte for byte (a test keeps them equal): the spec `ledger dataset build` uses
    /// and whose SHA-256 it records.
    public static let featureSpecV1: [UInt8] = Array(featureSpecV1Text.utf8)

    static let featureSpecV1Text = """
        {
          "name": "modelledger.audit.features",
          "version": 1,
          "description": "Per-actor, per-hour features computed from the rows of audit/extract.sql. ModelLedger records the SHA-256 of this file's exact bytes as the feature spec digest; any change, even to whitespace, is a new version in a new file.",
          "window": {
            "key": "actor_id",
            "length": "PT1H",
            "definition": "A window is one actor's events with window_start <= occurred_at < window_start + 1 hour, where window_start is a whole UTC hour (HH:00:00.000Z).",
            "rows": "One row for each (actor_id, window_start) that holds at least one extracted event and whose window_start is at least history.lookbackDays after the extract's :from, ordered by window_start, then by actor_id compared as UTF-8 bytes."
          },
          "history": {
            "lookbackDays": 14,
            "minimumEvents": 20,
            "definition": "An actor's history for a window is the actor's extracted events with window_start - 14 days <= occurred_at < window_start; events in or after the window never count."
          },
          "adminActions": [
            "audit.export",
            "key.rotate",
            "policy.update",
            "role.grant",
            "role.revoke",
            "user.create",
            "user.delete"
          ],
          "types": {
            "count": "A non-negative integer.",
            "ratio": "A real number from 0 to 1; a numerator over the window's event count, which is never 0.",
            "flag": "0 or 1.",
            "bytes": "A non-negative integer number of bytes."
          },
          "features": [
            {
              "name": "event_count",
              "type": "count",
              "definition": "The number of the actor's events in the window."
            },
            {
              "name": "distinct_actions",
              "type": "count",
              "definition": "The number of distinct action values among the window's events, compared as exact strings."
            },
            {
              "name": "distinct_resources",
              "type": "count",
              "definition": "The number of distinct resource values among the window's events, compared as exact strings."
            },
            {
              "name": "failure_ratio",
              "type": "ratio",
              "definition": "The number of the window's events whose outcome is 'failure', divided by event_count."
            },
            {
              "name": "denial_ratio",
              "type": "ratio",
              "definition": "The number of the window's events whose outcome is 'denied', divided by event_count."
            },
            {
              "name": "off_hours_share",
              "type": "ratio",
              "definition": "The share of the window's events that fall in a quarter-hour of the UTC day (00:00-00:15, 00:15-00:30, ..., 23:45-24:00) holding fewer than 1/192 of the actor's history events (half the share an even spread over the 96 quarter-hours would give), and 0 when the history holds fewer than history.minimumEvents events."
            },
            {
              "name": "new_ip",
              "type": "flag",
              "definition": "1 if at least one of the window's events has a source_ip that no event of the actor's history has, else 0."
            },
            {
              "name": "new_country",
              "type": "flag",
              "definition": "1 if at least one of the window's events has a country that no event of the actor's history has, else 0."
            },
            {
              "name": "total_bytes",
              "type": "bytes",
              "definition": "The sum of bytes over the window's events."
            },
            {
              "name": "admin_actions_by_non_admin",
              "type": "count",
              "definition": "The number of the window's events whose action is listed in adminActions and whose actor_role is not 'admin', whatever their outcome."
            }
          ],
          "label": {
            "definition": "anomalous if at least one of the window's events has the label 'anomalous'; benign if at least one has a label and none has 'anomalous'; empty (unlabeled) if none of its events has a label."
          }
        }

        """
}

/// The parameters of `audit/features.v1.json` that the builder reads; the definitions themselves are code.
struct FeatureSpecV1 {
    let lookbackDays: Int64
    let minimumEvents: Int
    let adminActions: [[UInt8]]

    init(_ bytes: [UInt8]) throws(LedgerError) {
        func fail(_ reason: String) -> LedgerError {
            LedgerError(.invalidArgument, "the feature spec is not modelledger.audit.features version 1: \(reason)")
        }
        let spec: JSONValue
        do { spec = try CanonicalJSON.parse(bytes) } catch { throw fail("\(error)") }
        guard spec["name"]?.stringValue == "modelledger.audit.features" else { throw fail("another name") }
        guard spec["version"]?.integerValue == 1 else { throw fail("another version") }
        guard spec["window"]?["key"]?.stringValue == "actor_id", spec["window"]?["length"]?.stringValue == "PT1H"
        else { throw fail("another window") }
        let names = spec["features"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }
        guard names == DatasetBuilder.featureNames else { throw fail("other features") }
        guard let lookback = spec["history"]?["lookbackDays"]?.integerValue, lookback >= 1, lookback <= 3660,
            let minimum = spec["history"]?["minimumEvents"]?.integerValue, minimum >= 0, minimum <= 1_000_000
        else { throw fail("another history") }
        guard let actions = spec["adminActions"]?.arrayValue?.compactMap(\.stringValue),
            actions.count == spec["adminActions"]?.arrayValue?.count
        else { throw fail("adminActions is not a list of strings") }
        lookbackDays = lookback
        minimumEvents = Int(minimum)
        adminActions = actions.map { Array($0.utf8) }
    }
}
