#!/usr/bin/env python3
"""Verify a ModelLedger export on your own, with Python and the `cryptography` package only.

    python verify_export.py EXPORT.jsonl (--trust GENESIS_LEAF_HASH | --trust-key ADMIN_KEYID) [--checkpoint FILE]...

Prints one JSON object. Exit 0: {"ok": true, "entries": N, "root": ..., "not_checked": ...}; exit 1: {"ok": false,
"seq": n, "reason": ...}, seq being the first bad entry (null if no single entry is to blame); exit 2: bad usage or
an unreadable file. It applies the rules of `ledger verify` to the bytes (RFC 8785 canonical JSON, canonical
base64, one newline after every line), the signatures, the chain, the keyring, revocations and roles, and to
checkpoints. It does NOT check the data schemas nor the governance and model rules, and says so in "not_checked"
(and on standard error): `ledger verify` checks those. See docs/auditor-guide.md.
"""
import argparse
import base64
import hashlib
import json
import math
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PAYLOAD_TYPE = "application/vnd.modelledger.event.v1+json"
NOT_CHECKED = "not checked: data schemas, governance and model rules; run `ledger verify` for those"
HEX64 = re.compile(r"[0-9a-f]{64}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")  # RFC 3339, UTC, ms
ROLES = {"admin", "log", "pipeline", "approver", "deployer"}
# The role a key needs to sign each event type (README, "What is in the log"); None: any active key.
ROLE = dict.fromkeys("ledger.created key.added key.revoked policy.set".split(), "admin")
ROLE |= dict.fromkeys(("run.started data.extracted dataset.built drift.measured model.trained model.evaluated "
                       "model.registered step.failed run.completed run.failed").split(), "pipeline")
ROLE |= dict.fromkeys("model.approved model.rejected".split(), "approver")
ROLE |= dict.fromkeys("model.deployed model.rolledBack model.retired".split(), "deployer")
ROLE["note.added"] = None
PAYLOAD_MEMBERS = {"v", "log", "seq", "prev", "time", "type", "actor", "data"}  # and "subject", optional


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


def ecma_number(x):
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3), from Python's shortest round-trip repr."""
    if x == 0:
        return "0"
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    n = len(whole) - (len(whole + fraction) - len(digits)) + int(exponent or 0)  # x = 0.DIGITS × 10^n
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if n > 0 else "-") + str(abs(n - 1))
    return ("-" if x < 0 else "") + text


def parse_number(text):
    """A JSON number is an IEEE double written in its one RFC 8785 form: 1e400, -0, 1.0 and 2^53+1 are refused."""
    value = float(text)
    if not math.isfinite(value) or ecma_number(value) != text:
        raise ValueError(f"the number {text[:40]} is not in its one I-JSON form")
    return int(text) if text.lstrip("-").isdigit() else value


def members(pairs):
    if len({name for name, _ in pairs}) != len(pairs):  # names compare by code points, never normalised
        raise ValueError("a member name appears twice")
    return dict(pairs)


def jcs(value, depth=0):
    """The RFC 8785 bytes of a parsed value; a lone surrogate or nesting deeper than 128 raises ValueError."""
    if value is None or value is True or value is False:
        return json.dumps(value).encode()
    if isinstance(value, (int, float)):
        return ecma_number(float(value)).encode()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).encode()  # JCS escaping; UnicodeEncodeError for a surrogate
    if depth >= 128:
        raise ValueError("nesting deeper than 128 levels")
    if isinstance(value, list):
        return b"[" + b",".join(jcs(item, depth + 1) for item in value) + b"]"
    names = sorted(value, key=lambda name: name.encode("utf-16-be"))  # by UTF-16 code units
    return b"{" + b",".join(jcs(name) + b":" + jcs(value[name], depth + 1) for name in names) + b"}"


def canonical_json(seq, raw, what):
    """The value of `raw` if `raw` is exactly its RFC 8785 form (strict UTF-8, no duplicate names, I-JSON numbers)."""
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=members, parse_int=parse_number,
                           parse_float=parse_number, parse_constant=parse_number)
        if jcs(value) == raw:
            return value
        reason = "it is not in RFC 8785 canonical form"
    except (ValueError, RecursionError) as error:  # UnicodeError and json.JSONDecodeError are ValueErrors
        reason = f"{type(error).__name__}: {error}"
    raise Failure(seq, f"{what} is not canonical JSON ({reason})")


def canonical_base64(seq, text, what):
    """Standard padded base64 in its one spelling: decode, re-encode, compare (changed unused bits are refused)."""
    try:
        data = base64.b64decode(text, validate=True)
        if base64.b64encode(data).decode() == text:
            return data
    except (ValueError, TypeError):
        pass
    raise Failure(seq, f"{what} is not canonical base64")


def valid_time(text):
    """YYYY-MM-DDTHH:MM:SS.mmmZ naming a real instant (years 0000 to 9999, no leap second)."""
    if not isinstance(text, str) or not TIME.fullmatch(text):
        return False
    year, month, day, hour, minute, second = (int(text[a:b]) for a, b in ((0, 4), (5, 7), (8, 10), (11, 13),
                                                                          (14, 16), (17, 19)))
    leap = year % 4 == 0 and year % 100 != 0 or year % 400 == 0
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= month <= 12 and 1 <= day <= days[month - 1] and hour < 24 and minute < 60 and second < 60


def is_hex64(value):
    return isinstance(value, str) and HEX64.fullmatch(value) is not None


def signature_ok(public_key, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def add_key(keys, rec, seq):
    """Adds a {"keyid","name","publicKey","roles"} object; the keyid must be the SHA-256 of the key."""
    if not (isinstance(rec, dict) and set(rec) == {"keyid", "name", "publicKey", "roles"}
            and is_hex64(rec["keyid"]) and is_hex64(rec["publicKey"])
            and isinstance(rec["name"], str) and 1 <= len(rec["name"]) <= 128 and isinstance(rec["roles"], list)
            and 1 <= len(rec["roles"]) <= 5 and all(isinstance(role, str) and role in ROLES for role in rec["roles"])
            and len(set(rec["roles"])) == len(rec["roles"])):
        raise Failure(seq, "a key is not {keyid, name (1 to 128 characters), publicKey, roles (1 to 5 distinct)}")
    public_key, keyid = bytes.fromhex(rec["publicKey"]), rec["keyid"]
    if keyid != hashlib.sha256(public_key).hexdigest():
        raise Failure(seq, f"key {keyid} is not the SHA-256 of its public key")
    if keyid in keys:
        raise Failure(seq, f"key {keyid} is already in the keyring")
    keys[keyid] = {"name": rec["name"], "key": public_key, "roles": set(rec["roles"]), "added": seq, "revoked": None}


def revoke_key(keys, data, seq):
    if not (isinstance(data, dict) and set(data) == {"keyid", "reason"} and is_hex64(data["keyid"])
            and isinstance(data["reason"], str) and 1 <= len(data["reason"]) <= 1024):
        raise Failure(seq, "key.revoked data is not {keyid, reason (1 to 1024 characters)}")
    target = keys.get(data["keyid"])
    if target is None or target["revoked"] is not None:
        raise Failure(seq, "the revoked key is unknown or already revoked")
    for role in ("admin", "log"):
        if role in target["roles"] and [k["revoked"] for k in keys.values() if role in k["roles"]].count(None) == 1:
            raise Failure(seq, f"the last active {role} key cannot be revoked")
    target["revoked"] = seq


def check_payload(seq, event):
    """The payload's members and their forms, as `ledger verify` decodes them."""
    if not isinstance(event, dict) or not PAYLOAD_MEMBERS <= set(event) <= PAYLOAD_MEMBERS | {"subject"}:
        raise Failure(seq, "the payload's members are not v, log, seq, prev, time, type, actor, data [, subject]")
    if type(event["v"]) is not int or event["v"] != 1:
        raise Failure(seq, f"the payload format is v{event['v']!r}, not v1")
    if not (isinstance(event["log"], str) and event["log"] and is_hex64(event["prev"]) and valid_time(event["time"])
            and isinstance(event["type"], str) and event["type"] and is_hex64(event["actor"])
            and isinstance(event["data"], dict)):
        raise Failure(seq, "the payload's log, prev, time, type, actor or data is malformed")
    subjects = event.get("subject", [])  # optional; when present, a non-empty list of {name, digest: {sha256}}
    if "subject" in event and (not isinstance(subjects, list) or not subjects):
        raise Failure(seq, "the payload's subject is not a non-empty list")
    for item in subjects:
        if not (isinstance(item, dict) and set(item) == {"name", "digest"} and isinstance(item["name"], str)
                and 1 <= len(item["name"]) <= 256 and isinstance(item["digest"], dict)
                and set(item["digest"]) == {"sha256"} and is_hex64(item["digest"]["sha256"])):
            raise Failure(seq, "a subject is not {name (1 to 256 characters), digest: {sha256}}")


def check_entry(seq, line, state, trust, trust_key):
    """Checks one line against everything before it, then adds it to `state`."""
    hashes, keys = state["hashes"], state["keys"]
    leaf_hash = sha256(b"\x00" + line)  # RFC 9162 leaf hash of the line's exact bytes
    if seq == 0 and trust and leaf_hash.hex() != trust:
        raise Failure(0, f"the genesis leaf hash {leaf_hash.hex()} is not the trusted {trust}")
    env = canonical_json(seq, line, "the line")
    if not isinstance(env, dict) or set(env) != {"payload", "payloadType", "signatures"} \
            or env["payloadType"] != PAYLOAD_TYPE:
        raise Failure(seq, "the line is not a ModelLedger DSSE envelope")
    signatures = env["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1 or not isinstance(signatures[0], dict) \
            or set(signatures[0]) != {"keyid", "sig"}:
        raise Failure(seq, "the envelope must carry exactly one signature {keyid, sig}")
    keyid = signatures[0]["keyid"]
    sig = canonical_base64(seq, signatures[0]["sig"], "the signature")
    body = canonical_base64(seq, env["payload"], "the payload")
    event = canonical_json(seq, body, "the payload")
    check_payload(seq, event)

    if type(event["seq"]) is not int or event["seq"] != seq:
        raise Failure(seq, f"expected seq {seq}, found {event['seq']!r}: an entry is missing, added or moved")
    if event["prev"] != (hashes[-1].hex() if hashes else "0" * 64):
        raise Failure(seq, "prev is not the leaf hash of the entry before: the chain is broken")
    if seq > 0 and event["log"] != state["log"]:  # code point for code point: never normalised
        raise Failure(seq, f"the event belongs to log {event['log']!r}, not {state['log']!r}")
    if event["time"] < state["time"]:
        raise Failure(seq, f"time {event['time']} is before the previous {state['time']}")
    if event["type"] not in ROLE or (event["type"] == "ledger.created") != (seq == 0):
        raise Failure(seq, f"event type {event['type']!r} is unknown or out of place")
    if keyid != event["actor"]:
        raise Failure(seq, "the signature's keyid is not the event's actor")

    if seq == 0:  # the genesis names the log and its first keys, and one of them signs it
        state["log"] = event["log"]
        records = event["data"].get("keys")
        if not isinstance(records, list) or not 1 <= len(records) <= 100:
            raise Failure(0, "the genesis names no keys")
        for rec in records:
            add_key(keys, rec, 0)
        if not any("admin" in key["roles"] for key in keys.values()):
            raise Failure(0, "the genesis names no admin key")
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
        revoke_key(keys, event["data"], seq)
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
    size, root = int(size), canonical_base64(None, root, f"checkpoint {path}: the root")
    log_keys = [k["key"] for k in state["keys"].values() if "log" in k["roles"] and k["added"] < size
                and (k["revoked"] is None or k["revoked"] >= size)]
    signed = False
    for line in lines[:-1]:  # "— <name> base64(key hash || signature)"; other signers' lines are ignored
        dash, name, blob = line.split(" ")
        if dash != "\u2014":
            fail("a signature line does not start with an em dash")
        blob = canonical_base64(None, blob, f"checkpoint {path}: a signature line")
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="the JSON Lines file from `ledger export`")
    parser.add_argument("--trust", metavar="GENESIS_LEAF_HASH",
                        help="the genesis leaf hash (`ledger init` prints it as the trust anchor)")
    parser.add_argument("--trust-key", metavar="ADMIN_KEYID",
                        help="the keyid of the admin key that must have signed the genesis")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                        help="a signed checkpoint (repeatable)")
    args = parser.parse_args(argv)
    trust, trust_key = (value and value.lower() for value in (args.trust, args.trust_key))
    if not all(HEX64.fullmatch(value) for value in (trust, trust_key) if value is not None):
        parser.error("--trust and --trust-key take 64 hex characters")
    if trust is None and trust_key is None:
        parser.error("give --trust or --trust-key: without a trust anchor any self-consistent log would verify")
    try:
        with open(args.export, "rb") as file:
            export = file.read()
        checkpoints = []
        for path in args.checkpoint:
            with open(path, "rb") as file:
                checkpoints.append((path, file.read()))
    except OSError as error:
        parser.error(str(error))

    state = {"hashes": [], "keys": {}, "log": None, "time": ""}
    try:
        if not export:
            raise Failure(0, "the export is empty: it has no genesis")
        lines = export.split(b"\n")
        if lines.pop() != b"":  # every line, the last included, ends with exactly one "\n"
            raise Failure(len(lines), "the last line lacks its final newline: the file is cut short")
        for seq, line in enumerate(lines):
            try:
                check_entry(seq, line, state, trust, trust_key)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as error:
                raise Failure(seq, f"malformed entry ({type(error).__name__}: {error})") from None
        sizes = []
        for path, raw in checkpoints:
            try:
                sizes.append(check_checkpoint(path, raw, state))
            except (ValueError, UnicodeError, IndexError) as error:
                raise Failure(None, f"checkpoint {path}: malformed ({error})") from None
    except Failure as failure:
        print(json.dumps({"ok": False, "seq": failure.args[0], "reason": failure.args[1], "not_checked": NOT_CHECKED}))
        print(f"refused: {failure.args[1]}\n{NOT_CHECKED}", file=sys.stderr)
        return 1
    print(json.dumps({"ok": True, "log": state["log"], "entries": len(state["hashes"]),
                      "root": merkle_root(state["hashes"]).hex(), "genesis": state["hashes"][0].hex(),
                      "keys": len(state["keys"]), "checkpoints": sizes, "not_checked": NOT_CHECKED}))
    print(f"verified {len(state['hashes'])} entries (bytes, signatures, chain, keys, revocations, roles) and "
          f"{len(sizes)} checkpoint{'' if len(sizes) == 1 else 's'}\n{NOT_CHECKED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
