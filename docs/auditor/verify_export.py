#!/usr/bin/env python3
"""Verify a ModelLedger export on your own, with Python and the `cryptography` package only.

    python verify_export.py EXPORT.jsonl (--trust GENESIS_LEAF_HASH | --trust-key ADMIN_KEYID) [--checkpoint FILE]...

Prints one JSON object. Exit 0: {"ok": true, "entries": N, "root": ...}; exit 1: {"ok": false, "seq": n,
"reason": ...}, seq being the first bad entry (null if no single entry is to blame); exit 2: bad usage or
an unreadable file. It checks signatures, the chain, keys and roles, and checkpoints, not the governance
rules (`ledger verify` checks those). See docs/auditor-guide.md.
"""
import argparse
import base64
import hashlib
import json
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.modelledger.event.v1+json"
HEX64 = re.compile(r"[0-9a-f]{64}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")  # RFC 3339, UTC, ms
# The role a key needs to sign each event type (README, "What is in the log"); None: any active key.
ROLE = dict.fromkeys("ledger.created key.added key.revoked policy.set".split(), "admin")
ROLE |= dict.fromkeys(("run.started data.extracted dataset.built drift.measured model.trained model.evaluated "
                       "model.registered step.failed run.completed run.failed").split(), "pipeline")
ROLE |= dict.fromkeys("model.approved model.rejected".split(), "approver")
ROLE |= dict.fromkeys("model.deployed model.rolledBack model.retired".split(), "deployer")
ROLE["note.added"] = None


class Failure(Exception):
    """Failure(seq, reason): the first bad entry (None if no single entry is to blame) and why."""


def sha256(data):
    return hashlib.sha256(data).digest()


def merkle_root(hashes):
    """RFC 9162 §2.1.1: the tree hash of the leaf hashes, split at the largest power of two below n."""
    if len(hashes) <= 1:
        return hashes[0] if hashes else sha256(b"")
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return sha256(b"\x01" + merkle_root(hashes[:k]) + merkle_root(hashes[k:]))


def signature_ok(public_key, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def add_key(keys, rec, seq):
    """Adds a {"keyid","name","publicKey","roles"} object; the keyid must be the SHA-256 of the key."""
    public_key, keyid = bytes.fromhex(rec["publicKey"]), rec["keyid"]
    if len(public_key) != 32 or keyid != hashlib.sha256(public_key).hexdigest():
        raise Failure(seq, f"key {keyid} is not the SHA-256 of a 32-byte public key")
    if keyid in keys:
        raise Failure(seq, f"key {keyid} is already in the keyring")
    keys[keyid] = {"name": rec["name"], "key": public_key, "roles": set(rec["roles"]), "added": seq, "revoked": None}


def check_entry(seq, line, state, trust, trust_key):
    """Checks one line against everything before it, then adds it to `state`."""
    hashes, keys = state["hashes"], state["keys"]
    leaf_hash = sha256(b"\x00" + line)  # RFC 9162 leaf hash of the line's exact bytes
    if seq == 0 and trust and leaf_hash.hex() != trust:
        raise Failure(0, f"the genesis leaf hash {leaf_hash.hex()} is not the trusted {trust}")
    env = json.loads(line)
    if set(env) != {"payload", "payloadType", "signatures"} or env["payloadType"] != PAYLOAD_TYPE:
        raise Failure(seq, "the line is not a ModelLedger DSSE envelope")
    if len(env["signatures"]) != 1 or set(env["signatures"][0]) != {"keyid", "sig"}:
        raise Failure(seq, "the envelope must carry exactly one signature {keyid, sig}")
    # All its strings are ASCII, so sorted keys without spaces is exactly its RFC 8785 form.
    if json.dumps(env, sort_keys=True, separators=(",", ":")).encode() != line:
        raise Failure(seq, "the line is not the canonical JSON of its envelope")
    keyid, sig = env["signatures"][0]["keyid"], base64.b64decode(env["signatures"][0]["sig"], validate=True)
    body = base64.b64decode(env["payload"], validate=True)
    event = json.loads(body)

    if event["v"] != 1:
        raise Failure(seq, f"the payload format is v{event['v']!r}, not v1")
    if type(event["seq"]) is not int or event["seq"] != seq:
        raise Failure(seq, f"expected seq {seq}, found {event['seq']!r}: an entry is missing, added or moved")
    if event["prev"] != (hashes[-1].hex() if hashes else "0" * 64):
        raise Failure(seq, "prev is not the leaf hash of the entry before: the chain is broken")
    if seq > 0 and event["log"] != state["log"]:
        raise Failure(seq, f"the event belongs to log {event['log']!r}, not {state['log']!r}")
    if not TIME.fullmatch(event["time"]) or event["time"] < state["time"]:
        raise Failure(seq, f"time {event['time']} is malformed or before the previous {state['time']}")
    if event["type"] not in ROLE or (event["type"] == "ledger.created") != (seq == 0):
        raise Failure(seq, f"event type {event['type']!r} is unknown or out of place")
    if keyid != event["actor"]:
        raise Failure(seq, "the signature's keyid is not the event's actor")

    if seq == 0:  # the genesis names the log and its first keys, and one of them signs it
        state["log"] = event["log"]
        for rec in event["data"]["keys"]:
            add_key(keys, rec, 0)
        if trust_key and (keyid != trust_key or "admin" not in keys[keyid]["roles"]):
            raise Failure(0, f"the genesis is not signed by the trusted admin key {trust_key}")
    signer = keys.get(keyid)
    if signer is None:
        raise Failure(seq, f"key {keyid} is not in the log's keyring")
    if signer["revoked"] is not None and signer["revoked"] < seq:
        raise Failure(seq, f"key {signer['name']} was revoked at seq {signer['revoked']}")
    pae = b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(body), body)
    if not signature_ok(signer["key"], sig, pae):
        raise Failure(seq, f"the signature does not verify under key {signer['name']} ({keyid})")
    if ROLE[event["type"]] and ROLE[event["type"]] not in signer["roles"]:
        raise Failure(seq, f"key {signer['name']} lacks the {ROLE[event['type']]} role for {event['type']}")

    if event["type"] == "key.added":
        add_key(keys, event["data"], seq)
    elif event["type"] == "key.revoked":
        target = keys.get(event["data"]["keyid"])
        if target is None or target["revoked"] is not None:
            raise Failure(seq, "the revoked key is unknown or already revoked")
        target["revoked"] = seq
    hashes.append(leaf_hash)
    state["time"] = event["time"]


def check_checkpoint(path, raw, state):
    """A C2SP signed note, signed by a log key in force at its size, whose root is our first `size` entries."""
    def fail(reason, seq=None):
        raise Failure(seq, f"checkpoint {path}: {reason}")

    cut = raw.rfind(b"\n\n")  # the note text ends at the last blank line; the signature lines follow
    text, lines = raw[: cut + 1], raw[cut + 2:].decode().split("\n")
    origin, size, root = (text.decode().split("\n") + ["", ""])[:3]
    if cut < 0 or not re.fullmatch(r"0|[1-9][0-9]*", size) or lines[-1] != "":
        fail("malformed")
    if origin != state["log"]:
        fail(f"it is for log {origin!r}, not {state['log']!r}")
    size, root = int(size), base64.b64decode(root, validate=True)
    log_keys = [k["key"] for k in state["keys"].values() if "log" in k["roles"] and k["added"] < size
                and (k["revoked"] is None or k["revoked"] >= size)]
    signed = False
    for line in lines[:-1]:  # "— <name> base64(key hash || signature)"; other signers' lines are ignored
        dash, name, blob = line.split(" ")
        blob = base64.b64decode(blob, validate=True)
        if dash != "\u2014":
            fail("a signature line does not start with an em dash")
        for key in log_keys:
            if name == origin and blob[:4] == sha256(name.encode() + b"\n\x01" + key)[:4]:
                if not signature_ok(key, blob[4:], text):
                    fail(f"the signature of log key {blob[:4].hex()} does not verify")
                signed = True
    if not signed:
        fail(f"not signed by a log key of this log in force at size {size}")
    if size > len(state["hashes"]):
        fail(f"it signs {size} entries but the export has {len(state['hashes'])}: truncated", len(state["hashes"]))
    if merkle_root(state["hashes"][:size]) != root:
        fail(f"the first {size} entries do not have the signed root: history was rewritten")
    return size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="the JSON Lines file from `ledger export`")
    parser.add_argument("--trust", metavar="GENESIS_LEAF_HASH",
                        help="the genesis leaf hash (`ledger init` prints it as the trust anchor)")
    parser.add_argument("--trust-key", metavar="ADMIN_KEYID",
                        help="the keyid of the admin key that must have signed the genesis")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                        help="a signed checkpoint (repeatable)")
    args = parser.parse_args()
    trust, trust_key = (value and value.lower() for value in (args.trust, args.trust_key))
    if not all(HEX64.fullmatch(value) for value in (trust, trust_key) if value is not None):
        parser.error("--trust and --trust-key take 64 hex characters")
    if trust is None and trust_key is None:
        parser.error("give --trust or --trust-key: without a trust anchor any self-consistent log would verify")
    try:
        export = open(args.export, "rb")
        checkpoints = [(path, open(path, "rb").read()) for path in args.checkpoint]
    except OSError as error:
        parser.error(str(error))

    state = {"hashes": [], "keys": {}, "log": None, "time": ""}
    try:
        for seq, line in enumerate(export):  # one entry per line, read as it goes
            if not line.endswith(b"\n"):
                raise Failure(seq, "the line is cut short: it has no final newline")
            try:
                check_entry(seq, line[:-1], state, trust, trust_key)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
                raise Failure(seq, f"malformed entry ({type(error).__name__}: {error})") from None
        if not state["hashes"]:
            raise Failure(0, "the export is empty: it has no genesis")
        sizes = []
        for path, raw in checkpoints:
            try:
                sizes.append(check_checkpoint(path, raw, state))
            except (ValueError, UnicodeError, IndexError) as error:
                raise Failure(None, f"checkpoint {path}: malformed ({error})") from None
    except Failure as failure:
        print(json.dumps({"ok": False, "seq": failure.args[0], "reason": failure.args[1]}))
        return 1
    print(json.dumps({"ok": True, "log": state["log"], "entries": len(state["hashes"]),
                      "root": merkle_root(state["hashes"]).hex(), "genesis": state["hashes"][0].hex(),
                      "keys": len(state["keys"]), "checkpoints": sizes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
