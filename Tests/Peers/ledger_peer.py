#!/usr/bin/env python3
"""ledger_peer: an independent verifier for ModelLedger exports.

Written from the format description alone, with no code shared with the
Swift implementation.  Third-party code used: `cryptography` (Ed25519, PEM),
`jsonschema` (Draft 2020-12) and `rfc8785` (JSON canonicalization).

Subcommands; each prints exactly one JSON object on stdout.  Exit 0 = verified,
1 = verification failure (a verdict), 2 = no verdict: usage error, unreadable
input, missing dependency, bad schema directory, or an internal error.

  verify-log EXPORT.jsonl [--trust GENESIS_LEAF_HASH_HEX] [--checkpoint FILE ...]
  validate-schemas EXPORT.jsonl --schemas DIR
  validate-data TYPE DATA.json --schemas DIR
  dsse-verify ENVELOPE.json --public-key HEX_OR_SPKI_PEM_FILE
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
from pathlib import Path

try:
    import rfc8785
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as _e:  # no verdict possible: exit 2, never 1
    print(json.dumps({"ok": False, "error": f"missing dependency: {_e}; "
                      f"pip install -r {Path(__file__).resolve().parent / 'requirements.txt'}"}))
    sys.exit(2)

# --------------------------------------------------------------------------
# Format constants
# --------------------------------------------------------------------------

PAYLOAD_TYPE = "application/vnd.modelledger.event.v1+json"
ZERO_HASH = "0" * 64
ROLES = frozenset({"admin", "log", "pipeline", "approver", "deployer"})
ANY_ACTIVE_KEY = None  # marker in EVENT_ROLES: any active (non-revoked) key may append

# Event type -> roles allowed to append it (the actor needs at least one).
# ANY_ACTIVE_KEY means every active key may.  Extend here when the Swift side
# adds event types; a type missing from this table is reported as "unknown type".
# Types with keyring effects or extra data checks also get a handler in
# DATA_CHECKS below; a type without a handler only needs `data` to be an object.
EVENT_ROLES: dict[str, frozenset[str] | None] = {
    "ledger.created": frozenset({"admin"}),
    "key.added": frozenset({"admin"}),
    "key.revoked": frozenset({"admin"}),
    "policy.set": frozenset({"admin"}),
    "note.added": ANY_ACTIVE_KEY,
    "data.extracted": frozenset({"pipeline"}),
    "dataset.built": frozenset({"pipeline"}),
    "model.trained": frozenset({"pipeline"}),
    "model.evaluated": frozenset({"pipeline"}),
    "model.registered": frozenset({"pipeline"}),
    "model.approved": frozenset({"approver"}),
    "model.rejected": frozenset({"approver"}),
    "model.deployed": frozenset({"deployer"}),
    "model.rolledBack": frozenset({"deployer"}),
    "model.retired": frozenset({"deployer"}),
    "run.started": frozenset({"pipeline"}),
    "step.failed": frozenset({"pipeline"}),
    "run.completed": frozenset({"pipeline"}),
    "run.failed": frozenset({"pipeline"}),
    "drift.measured": frozenset({"pipeline"}),
}

PAYLOAD_REQUIRED = ("v", "log", "seq", "prev", "time", "type", "actor", "data")
PAYLOAD_OPTIONAL = ("subject",)
HEX64 = re.compile(r"[0-9a-f]{64}")
TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
SIZE_RE = re.compile(r"0|[1-9][0-9]*")
EM_DASH = "\u2014"


class Failure(Exception):
    """A verification failure at a given seq (None when no entry is implicated)."""

    def __init__(self, seq, reason, **extra):
        super().__init__(reason)
        self.seq = seq
        self.reason = reason
        self.extra = extra

    def report(self):
        out = {"ok": False, "seq": self.seq, "reason": self.reason}
        out.update(self.extra)
        return out


class UsageError(Exception):
    pass


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_hex64(x) -> bool:
    return isinstance(x, str) and HEX64.fullmatch(x) is not None


def _reject_constant(name):
    raise ValueError(f"non-JSON number {name}")


MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 128  # the ledger refuses deeper nesting


def _no_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):  # code point equality: never normalised
        raise ValueError(f"duplicate member name in {sorted(names)[:5]}")
    return dict(pairs)


def _number(text):
    """Every JSON number is an IEEE double (I-JSON).  Integers the rfc8785 library can format exactly stay ints;
    larger ones become the double they denote, so 2**53+1 (which no double holds) fails the round trip while
    2**53+2 (which one does) passes, as in the ledger."""
    value = int(text)
    return value if abs(value) <= MAX_SAFE_INTEGER else float(value)


def parse_json_bytes(raw: bytes):
    """Strict JSON parse: UTF-8 only, no NaN/Infinity, no duplicate member names."""
    text = raw.decode("utf-8")  # raises UnicodeDecodeError
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates, parse_int=_number)


def _depth(value, level=0):
    if isinstance(value, (list, dict)):
        if level >= MAX_DEPTH:
            raise ValueError(f"nesting deeper than {MAX_DEPTH} levels")
        for item in value.values() if isinstance(value, dict) else value:
            _depth(item, level + 1)


def canonical(obj) -> bytes:
    return rfc8785.dumps(obj)


def b64_std_strict(s) -> bytes:
    """Standard, padded base64 whose encoding is canonical (round-trips)."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise ValueError(f"bad base64: {e}") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise ValueError("non-canonical base64")
    return raw


def b64_lenient(s) -> bytes:
    """Standard or URL-safe alphabet, padding optional (DSSE accepts both)."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    body = s.rstrip("=")
    pad = len(s) - len(body)
    if pad and pad != -len(body) % 4:
        raise ValueError("bad base64 padding")
    if re.fullmatch(r"[A-Za-z0-9+/]*", body):
        pass
    elif re.fullmatch(r"[A-Za-z0-9_-]*", body):
        body = body.replace("-", "+").replace("_", "/")
    else:
        raise ValueError("bad base64 alphabet")
    if len(body) % 4 == 1:
        raise ValueError("bad base64 length")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as e:
        raise ValueError(f"bad base64: {e}") from None


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def keyid_of(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).hexdigest()


def ed25519_verify(public_key_raw: bytes, sig: bytes, message: bytes) -> bool:
    if len(public_key_raw) != 32 or len(sig) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(sig, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# --------------------------------------------------------------------------
# RFC 9162 Merkle tree
# --------------------------------------------------------------------------

def leaf_hash(leaf: bytes) -> bytes:
    return sha256(b"\x00" + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def mth(leaf_hashes) -> bytes:
    """Merkle Tree Hash over already-computed leaf hashes (RFC 9162 2.1.1)."""
    n = len(leaf_hashes)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


def mth_of_leaves(leaves) -> bytes:
    return mth([leaf_hash(x) for x in leaves])


# --------------------------------------------------------------------------
# Keyring replay
# --------------------------------------------------------------------------

class Key:
    def __init__(self, keyid, name, public_key, roles, added_seq):
        self.keyid = keyid
        self.name = name
        self.public_key = public_key  # raw 32 bytes
        self.roles = frozenset(roles)
        self.added_seq = added_seq
        self.revoked_seq = None

    @property
    def active(self):
        return self.revoked_seq is None


class Keyring:
    def __init__(self):
        self.keys: dict[str, Key] = {}

    def active_with_role_at(self, role, size):
        """Keys holding `role` that are active once the first `size` entries are applied."""
        return [k for k in self.keys.values()
                if role in k.roles and k.added_seq < size
                and (k.revoked_seq is None or k.revoked_seq >= size)]


def parse_key_record(obj, where):
    """{"keyid","name","publicKey","roles"} -> (keyid, name, raw pub, roles)."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: key record is not an object")
    if set(obj) != {"keyid", "name", "publicKey", "roles"}:
        raise ValueError(f"{where}: key record members {sorted(obj)} != keyid, name, publicKey, roles")
    keyid, name, pub_hex, roles = obj["keyid"], obj["name"], obj["publicKey"], obj["roles"]
    if not is_hex64(keyid):
        raise ValueError(f"{where}: keyid is not 64 lowercase hex")
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        raise ValueError(f"{where}: name must be a string of 1 to 128 characters")
    if not is_hex64(pub_hex):
        raise ValueError(f"{where}: publicKey is not 64 lowercase hex (32 raw bytes)")
    pub = bytes.fromhex(pub_hex)
    if keyid_of(pub) != keyid:
        raise ValueError(f"{where}: keyid != sha256(publicKey)")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValueError(f"{where}: roles must be a list of strings")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"{where}: unknown role(s) {unknown}")
    if len(set(roles)) != len(roles) or not 1 <= len(roles) <= 5:
        raise ValueError(f"{where}: roles must be 1 to 5 distinct roles")
    try:
        Ed25519PublicKey.from_public_bytes(pub)
    except ValueError:
        raise ValueError(f"{where}: publicKey is not a valid Ed25519 key") from None
    return keyid, name, pub, roles


def check_policy(policy, where):
    if not isinstance(policy, dict):
        raise ValueError(f"{where}: policy must be an object")
    ra = policy.get("requiredApprovals")
    if not is_int(ra) or ra < 1:
        raise ValueError(f"{where}: policy.requiredApprovals must be an integer >= 1")


# Per-type data checks / keyring effects.  Called after the signature and role
# checks passed.  Signature: (data, seq, keyring) -> None; raise ValueError.

def _data_ledger_created(data, seq, ring):
    # The keyring was already built from this data (see verify_entry).
    check_policy(data.get("policy"), "ledger.created")


def _data_key_added(data, seq, ring):
    keyid, name, pub, roles = parse_key_record(data, "key.added")
    if keyid in ring.keys:
        raise ValueError(f"key.added: key {keyid} already in keyring")
    ring.keys[keyid] = Key(keyid, name, pub, roles, seq)


def _data_key_revoked(data, seq, ring):
    if set(data) != {"keyid", "reason"}:
        raise ValueError(f"key.revoked: members {sorted(data)} != keyid, reason")
    keyid = data.get("keyid")
    if not is_hex64(keyid):
        raise ValueError("key.revoked: keyid is not 64 lowercase hex")
    if not isinstance(data.get("reason"), str) or not 1 <= len(data["reason"]) <= 1024:
        raise ValueError("key.revoked: reason must be a string of 1 to 1024 characters")
    key = ring.keys.get(keyid)
    if key is None:
        raise ValueError(f"key.revoked: key {keyid} is not in keyring")
    if not key.active:
        raise ValueError(f"key.revoked: key {keyid} already revoked at seq {key.revoked_seq}")
    for role in ("admin", "log"):  # the keyring must keep an active admin key and an active log key
        if role in key.roles and [k for k in ring.keys.values() if k.active and role in k.roles] == [key]:
            raise ValueError(f"key.revoked: {keyid} is the last active {role} key")
    key.revoked_seq = seq


def _data_policy_set(data, seq, ring):
    check_policy(data.get("policy"), "policy.set")


def _data_note_added(data, seq, ring):
    if not isinstance(data.get("text"), str):
        raise ValueError("note.added: text must be a string")
    if "refs" in data:
        refs = data["refs"]
        if not isinstance(refs, list) or not all(is_int(r) for r in refs):
            raise ValueError("note.added: refs must be a list of integers")
        if not 1 <= len(refs) <= 1000 or len(set(refs)) != len(refs):  # as `ledger verify`'s event catalog
            raise ValueError("note.added: refs must hold 1 to 1000 distinct entries")
        bad = [r for r in refs if not 0 <= r < seq]
        if bad:
            raise ValueError(f"note.added: refs {bad} do not name earlier entries")


DATA_CHECKS = {
    "ledger.created": _data_ledger_created,
    "key.added": _data_key_added,
    "key.revoked": _data_key_revoked,
    "policy.set": _data_policy_set,
    "note.added": _data_note_added,
}


# --------------------------------------------------------------------------
# Entry verification
# --------------------------------------------------------------------------

class LogState:
    def __init__(self):
        self.ring = Keyring()
        self.origin = None
        self.last_time = None
        self.leaf_hashes: list[bytes] = []


def check_canonical(raw: bytes, what: str):
    try:
        obj = parse_json_bytes(raw)
        _depth(obj)
    except (UnicodeDecodeError, ValueError, OverflowError, RecursionError) as e:
        raise ValueError(f"{what} is not valid UTF-8 JSON: {e}") from None
    try:
        canon = canonical(obj)
    except Exception as e:  # rfc8785 domain errors (huge ints, lone surrogates...)
        raise ValueError(f"{what} cannot be canonicalized: {e}") from None
    if canon != raw:
        raise ValueError(f"{what} is not RFC 8785 canonical JSON")
    return obj


def parse_envelope(env):
    if not isinstance(env, dict):
        raise ValueError("envelope is not an object")
    if set(env) != {"payload", "payloadType", "signatures"}:
        raise ValueError(f"envelope fields {sorted(env)} != payload, payloadType, signatures")
    if env["payloadType"] != PAYLOAD_TYPE:
        raise ValueError(f"payloadType is {env['payloadType']!r}, want {PAYLOAD_TYPE!r}")
    sigs = env["signatures"]
    if not isinstance(sigs, list) or len(sigs) != 1:
        raise ValueError("envelope must carry exactly one signature")
    s = sigs[0]
    if not isinstance(s, dict) or set(s) != {"keyid", "sig"}:
        raise ValueError("signature must be an object with exactly keyid and sig")
    if not is_hex64(s["keyid"]):
        raise ValueError("signature keyid is not 64 lowercase hex")
    try:
        body = b64_std_strict(env["payload"])
    except ValueError as e:
        raise ValueError(f"payload: {e}") from None
    try:
        sig = b64_std_strict(s["sig"])
    except ValueError as e:
        raise ValueError(f"sig: {e}") from None
    if len(sig) != 64:
        raise ValueError(f"sig is {len(sig)} bytes, Ed25519 needs 64")
    return body, s["keyid"], sig


def check_payload_shape(p, seq):
    if not isinstance(p, dict):
        raise ValueError("payload is not an object")
    missing = [f for f in PAYLOAD_REQUIRED if f not in p]
    if missing:
        raise ValueError(f"payload lacks {missing}")
    extra = sorted(set(p) - set(PAYLOAD_REQUIRED) - set(PAYLOAD_OPTIONAL))
    if extra:
        raise ValueError(f"payload has unexpected fields {extra}")
    if not (is_int(p["v"]) and p["v"] == 1):
        raise ValueError(f"payload v is {p['v']!r}, want 1")
    if not isinstance(p["log"], str) or not p["log"]:
        raise ValueError("payload log must be a non-empty string")
    if not is_int(p["seq"]):
        raise ValueError("payload seq is not an integer")
    if not is_hex64(p["prev"]):
        raise ValueError("payload prev is not 64 lowercase hex")
    if not isinstance(p["time"], str) or not TIME_RE.fullmatch(p["time"]):
        raise ValueError(f"payload time {p['time']!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
    if not real_time(p["time"]):
        raise ValueError(f"payload time {p['time']!r} is not a real date/time")
    if not isinstance(p["type"], str) or not p["type"]:
        raise ValueError("payload type must be a non-empty string")
    if not is_hex64(p["actor"]):
        raise ValueError("payload actor is not 64 lowercase hex")
    if not isinstance(p["data"], dict):
        raise ValueError("payload data is not an object")
    if "subject" in p:
        subj = p["subject"]
        if not isinstance(subj, list) or not subj:
            raise ValueError("payload subject must be a non-empty list")
        for i, s in enumerate(subj):
            if not isinstance(s, dict) or set(s) != {"name", "digest"}:
                raise ValueError(f"subject[{i}] must have exactly name and digest")
            if not isinstance(s["name"], str) or not 1 <= len(s["name"]) <= 256:
                raise ValueError(f"subject[{i}] needs a name of 1 to 256 characters")
            d = s["digest"]
            if not isinstance(d, dict) or set(d) != {"sha256"} or not is_hex64(d["sha256"]):
                raise ValueError(f"subject[{i}].digest must be exactly {{sha256: 64 lowercase hex}}")


def real_time(text) -> bool:
    """YYYY-MM-DDTHH:MM:SS.mmmZ that names a real instant: years 0000-9999, no leap second (datetime
    would refuse year 0 and strptime accepts seconds 60 and 61, so the calendar is checked here)."""
    if not isinstance(text, str) or not TIME_RE.fullmatch(text):
        return False
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and 1 <= day <= days[month - 1] and hour < 24 and minute < 60 and second < 60


def verify_entry(state: LogState, seq: int, line: bytes):
    """Verify one export line; raises ValueError with a reason."""
    env = check_canonical(line, "line")
    body, sig_keyid, sig = parse_envelope(env)
    p = check_canonical(body, "payload")
    check_payload_shape(p, seq)

    if p["seq"] != seq:
        raise ValueError(f"payload seq {p['seq']} at line {seq} (entry missing, inserted or reordered)")
    want_prev = state.leaf_hashes[-1].hex() if seq > 0 else ZERO_HASH
    if p["prev"] != want_prev:
        raise ValueError(f"prev {p['prev']} != leaf hash of previous entry {want_prev}")
    if seq == 0:
        if p["type"] != "ledger.created":
            raise ValueError(f"seq 0 must be ledger.created, got {p['type']!r}")
        state.origin = p["log"]
    elif p["log"] != state.origin:
        raise ValueError(f"log origin {p['log']!r} != genesis origin {state.origin!r}")
    if state.last_time is not None and p["time"] < state.last_time:
        raise ValueError(f"time {p['time']} is before previous entry's {state.last_time}")

    etype = p["type"]
    if etype not in EVENT_ROLES:
        raise ValueError(f"unknown type {etype!r}")
    if etype == "ledger.created" and seq != 0:
        raise ValueError("ledger.created is only allowed at seq 0")

    if sig_keyid != p["actor"]:
        raise ValueError(f"signature keyid {sig_keyid} != actor {p['actor']}")

    data = p["data"]
    if seq == 0:
        # Genesis: the keyring comes from the entry itself.
        keys = data.get("keys")
        if not isinstance(keys, list) or not 1 <= len(keys) <= 100:
            raise ValueError("ledger.created: keys must be a list of 1 to 100 keys")
        for i, rec in enumerate(keys):
            keyid, name, pub, roles = parse_key_record(rec, f"ledger.created keys[{i}]")
            if keyid in state.ring.keys:
                raise ValueError(f"ledger.created: duplicate key {keyid}")
            state.ring.keys[keyid] = Key(keyid, name, pub, roles, 0)
        if not any("admin" in k.roles for k in state.ring.keys.values()):
            raise ValueError("ledger.created: no key has the admin role")

    actor = state.ring.keys.get(p["actor"])
    if actor is None:
        raise ValueError(f"signer {p['actor']} is not in the keyring (unknown key)")
    if not actor.active:
        raise ValueError(f"signer {p['actor']} was revoked at seq {actor.revoked_seq}")
    if not ed25519_verify(actor.public_key, sig, pae(PAYLOAD_TYPE, body)):
        raise ValueError("bad signature")
    allowed = EVENT_ROLES[etype]
    if allowed is not ANY_ACTIVE_KEY and not (actor.roles & allowed):
        raise ValueError(
            f"signer {actor.keyid} ({actor.name}) has roles {sorted(actor.roles)}, "
            f"{etype} needs one of {sorted(allowed)}")

    check = DATA_CHECKS.get(etype)
    if check is not None:
        check(data, seq, state.ring)

    state.last_time = p["time"]
    state.leaf_hashes.append(leaf_hash(line))


def read_lines(path):
    """-> list of (line_bytes_without_newline, terminated)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e}") from None
    if not data:
        return []
    parts = data.split(b"\n")
    out = [(x, True) for x in parts[:-1]]
    if parts[-1] != b"":
        out.append((parts[-1], False))
    return out


# --------------------------------------------------------------------------
# Checkpoints (C2SP tlog-checkpoint signed note)
# --------------------------------------------------------------------------

def note_key_hash(name: str, pub: bytes) -> bytes:
    return sha256(name.encode("utf-8") + b"\n" + b"\x01" + pub)[:4]


def parse_checkpoint(raw: bytes):
    """-> (signed_text_bytes, origin, size, root_bytes, [(name, keyhash, sig)])."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("checkpoint is not UTF-8") from None
    sep = text.find("\n\n")
    if sep < 0:
        raise ValueError("checkpoint has no blank line before signatures")
    body, sigblock = text[: sep + 1], text[sep + 2:]
    lines = body.split("\n")[:-1]
    if len(lines) < 3:  # C2SP tlog-checkpoint: origin, size, root, then optional extension lines (ignored here)
        raise ValueError(f"checkpoint body has {len(lines)} lines, want origin, size, root")
    origin, size_s, root_s = lines[:3]
    if not origin:
        raise ValueError("checkpoint origin is empty")
    if not SIZE_RE.fullmatch(size_s):
        raise ValueError(f"checkpoint size {size_s!r} is not a decimal")
    try:
        root = b64_std_strict(root_s)
    except ValueError as e:
        raise ValueError(f"checkpoint root: {e}") from None
    if len(root) != 32:
        raise ValueError("checkpoint root is not 32 bytes")
    if not sigblock.endswith("\n"):
        raise ValueError("checkpoint signature block must end with a newline")
    sigs = []
    for sl in sigblock[:-1].split("\n"):
        parts = sl.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH or not parts[1]:
            raise ValueError(f"malformed signature line {sl!r}")
        try:
            blob = b64_std_strict(parts[2])
        except ValueError as e:
            raise ValueError(f"signature line {sl!r}: {e}") from None
        if len(blob) < 5:
            raise ValueError(f"signature line {sl!r} too short")
        sigs.append((parts[1], blob[:4], blob[4:]))
    if not sigs:
        raise ValueError("checkpoint has no signatures")
    return body.encode("utf-8"), origin, int(size_s), root, sigs


def verify_checkpoint(state: LogState, path: str):
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e}") from None
    n = len(state.leaf_hashes)
    try:
        msg, origin, size, root, sigs = parse_checkpoint(raw)
    except ValueError as e:
        raise Failure(None, str(e), checkpoint=path) from None
    if origin != state.origin:
        raise Failure(None, f"checkpoint origin {origin!r} != log origin {state.origin!r}",
                      checkpoint=path)
    # Log-role keys active once the first `size` entries are applied.
    known = {}
    for k in state.ring.active_with_role_at("log", min(size, n)):
        known.setdefault(note_key_hash(origin, k.public_key), []).append(k)
    verified = False
    for name, kh, sig in sigs:
        if name != origin or kh not in known:
            continue  # unknown signer: ignored
        if any(ed25519_verify(k.public_key, sig, msg) for k in known[kh]):
            verified = True
        else:
            raise Failure(None, f"checkpoint signature by known log key {kh.hex()} is invalid",
                          checkpoint=path)
    if not verified:
        raise Failure(None, "checkpoint has no valid signature by a log key of this log",
                      checkpoint=path)
    if size > n:
        raise Failure(n, f"checkpoint size {size} exceeds the {n} entries exported "
                         f"(log truncated?)", checkpoint=path)
    mine = mth(state.leaf_hashes[:size])
    if mine != root:
        raise Failure(max(size - 1, 0),
                      f"checkpoint root {root.hex()} != recomputed root {mine.hex()} over "
                      f"{size} entries (history rewritten?)", checkpoint=path)


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

def cmd_verify_log(args):
    trust = None
    if args.trust is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", args.trust):
            raise UsageError("--trust must be 64 hex characters")
        trust = args.trust.lower()
    lines = read_lines(args.export)
    for cp in args.checkpoint or []:
        if not os.path.isfile(cp):
            raise UsageError(f"cannot read checkpoint {cp}")
    if not lines:
        raise Failure(0, "empty export: no genesis entry")
    state = LogState()
    for seq, (line, terminated) in enumerate(lines):
        if not terminated:
            raise Failure(seq, "line is not terminated by \\n")
        try:
            verify_entry(state, seq, line)
        except ValueError as e:
            raise Failure(seq, str(e)) from None
        except Exception as e:  # malformed input must not crash the peer
            raise Failure(seq, f"malformed entry ({type(e).__name__}: {e})") from None
    genesis = state.leaf_hashes[0].hex()
    if trust is not None and genesis != trust:
        raise Failure(0, f"genesis leaf hash {genesis} != trusted {trust}")
    for cp in args.checkpoint or []:
        verify_checkpoint(state, cp)
    return {"ok": True, "entries": len(state.leaf_hashes), "root": mth(state.leaf_hashes).hex(),
            "genesis": genesis, "checkpoints": len(args.checkpoint or [])}


class Schemas:
    """Schema files from a directory, validated with Draft 2020-12, formats off.

    Every *.json under DIR is registered (by file URI and by its $id) so that
    schemas may $ref one another; a schema without $id gets its file URI as base.
    """

    DRAFT = "https://json-schema.org/draft/2020-12/schema"

    def __init__(self, directory):
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.dir = Path(directory)
        if not self.dir.is_dir():
            raise UsageError(f"--schemas {directory} is not a directory")
        self._validators = {}
        self._docs = {}
        self._broken = {}
        resources = []
        for f in sorted(self.dir.rglob("*.json")):
            key = f.resolve()
            try:
                doc = json.loads(f.read_text("utf-8"))
            except (OSError, ValueError) as e:
                self._broken[key] = str(e)  # only an error if someone uses it
                continue
            if isinstance(doc, dict) and "$id" not in doc:
                doc = dict(doc, **{"$id": key.as_uri()})
            self._docs[key] = doc
            res = Resource.from_contents(doc, default_specification=DRAFT202012)
            resources.append((key.as_uri(), res))
            if isinstance(doc, dict) and isinstance(doc.get("$id"), str) and doc["$id"] != key.as_uri():
                resources.append((doc["$id"], res))
        self.registry = Registry().with_resources(resources)

    def validator(self, path: Path):
        """Validator for the schema file at `path`, or None if there is no such file."""
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        key = path.resolve()
        if key in self._broken:
            raise UsageError(f"schema {path} is not readable JSON: {self._broken[key]}")
        if key not in self._validators:
            doc = self._docs.get(key)
            if doc is None:
                return None
            decl = doc.get("$schema") if isinstance(doc, dict) else None
            if decl is not None and str(decl).rstrip("#") != self.DRAFT:
                raise UsageError(f"schema {path} declares {decl}; this peer validates with "
                                 f"Draft 2020-12 only")
            try:
                Draft202012Validator.check_schema(doc)
            except SchemaError as e:
                raise UsageError(f"schema {path} is not a valid 2020-12 schema: {e.message}") from None
            # No format_checker: "format" stays an annotation, as agreed with the Swift side.
            self._validators[key] = Draft202012Validator(doc, registry=self.registry)
        return self._validators[key]

    def required(self, name):
        v = self.validator(self.dir / name)
        if v is None:
            raise UsageError(f"missing schema {self.dir / name}")
        return v

    def event(self, etype):
        if not isinstance(etype, str) or not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", etype):
            raise ValueError(f"type {etype!r} cannot name a schema file")
        v = self.validator(self.dir / "events" / f"{etype}.schema.json")
        if v is None:
            raise ValueError(f"no schema events/{etype}.schema.json for type {etype!r}")
        return v


def schema_error(validator, instance, what):
    from jsonschema.exceptions import best_match

    err = best_match(validator.iter_errors(instance))
    if err is None:
        return None
    loc = err.json_path if hasattr(err, "json_path") else "$"
    return f"{what}: {loc}: {err.message}"


def cmd_validate_schemas(args):
    schemas = Schemas(args.schemas)
    env_v = schemas.required("envelope.schema.json")
    pay_v = schemas.required("payload.schema.json")
    lines = read_lines(args.export)
    for seq, (line, _terminated) in enumerate(lines):
        try:
            env = parse_json_bytes(line)
        except (UnicodeDecodeError, ValueError) as e:
            raise Failure(seq, f"line is not JSON: {e}") from None
        msg = schema_error(env_v, env, "envelope")
        if msg:
            raise Failure(seq, msg)
        try:
            body = b64_std_strict(env["payload"])
            payload = parse_json_bytes(body)
        except (KeyError, TypeError, UnicodeDecodeError, ValueError) as e:
            raise Failure(seq, f"payload cannot be decoded: {e}") from None
        msg = schema_error(pay_v, payload, "payload")
        if msg:
            raise Failure(seq, msg)
        if not isinstance(payload, dict) or "data" not in payload:
            raise Failure(seq, "payload has no data")
        try:
            ev = schemas.event(payload.get("type"))
        except ValueError as e:
            raise Failure(seq, str(e)) from None
        msg = schema_error(ev, payload["data"], f"data ({payload.get('type')})")
        if msg:
            raise Failure(seq, msg)
    return {"ok": True, "validated": len(lines)}


def cmd_validate_data(args):
    schemas = Schemas(args.schemas)
    try:
        raw = Path(args.data).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {args.data}: {e}") from None
    try:
        data = parse_json_bytes(raw)
    except (UnicodeDecodeError, ValueError) as e:
        return {"ok": False, "reason": f"data is not JSON: {e}"}
    try:
        v = schemas.event(args.type)
    except ValueError as e:
        return {"ok": False, "reason": str(e)}
    msg = schema_error(v, data, f"data ({args.type})")
    return {"ok": msg is None, "reason": msg}


def load_public_key(arg) -> bytes:
    if re.fullmatch(r"[0-9a-fA-F]{64}", arg):
        return bytes.fromhex(arg)
    try:
        raw = Path(arg).read_bytes()
    except OSError as e:
        raise UsageError(f"--public-key is neither 64 hex chars nor a readable file: {e}") from None
    stripped = raw.strip()
    if re.fullmatch(rb"[0-9a-fA-F]{64}", stripped):
        return bytes.fromhex(stripped.decode())
    try:
        key = serialization.load_pem_public_key(raw)
    except ValueError as e:
        raise UsageError(f"--public-key file is not an SPKI PEM public key: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError("--public-key is not an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def cmd_dsse_verify(args):
    pub = load_public_key(args.public_key)
    try:
        raw = Path(args.envelope).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {args.envelope}: {e}") from None
    try:
        env = parse_json_bytes(raw)
        if not isinstance(env, dict):
            raise ValueError("envelope is not an object")
        ptype, payload_s, sigs = env["payloadType"], env["payload"], env["signatures"]
        if not isinstance(ptype, str):
            raise ValueError("payloadType is not a string")
        body = b64_lenient(payload_s)
        if not isinstance(sigs, list) or not sigs:
            raise ValueError("no signatures")
    except (KeyError, UnicodeDecodeError, ValueError) as e:
        return {"ok": False, "reason": f"malformed envelope: {e}"}
    message = pae(ptype, body)
    for s in sigs:
        if not isinstance(s, dict):
            continue
        try:
            sig = b64_lenient(s.get("sig"))
        except ValueError:
            continue
        if ed25519_verify(pub, sig, message):
            return {"ok": True, "keyid": keyid_of(pub)}
    return {"ok": False, "reason": "no signature verifies with the given key"}


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(json.dumps({"ok": False, "error": f"usage: {message}"}))
        sys.exit(2)


def build_parser():
    p = _Parser(prog="ledger_peer.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    v = sub.add_parser("verify-log", help="verify an exported log")
    v.add_argument("export")
    v.add_argument("--trust", metavar="GENESIS_LEAF_HASH_HEX")
    v.add_argument("--checkpoint", action="append", metavar="FILE")
    v.set_defaults(fn=cmd_verify_log)

    s = sub.add_parser("validate-schemas", help="validate an export against JSON Schemas")
    s.add_argument("export")
    s.add_argument("--schemas", required=True, metavar="DIR")
    s.set_defaults(fn=cmd_validate_schemas)

    d = sub.add_parser("validate-data", help="validate one event data object")
    d.add_argument("type")
    d.add_argument("data")
    d.add_argument("--schemas", required=True, metavar="DIR")
    d.set_defaults(fn=cmd_validate_data)

    e = sub.add_parser("dsse-verify", help="verify one DSSE envelope")
    e.add_argument("envelope")
    e.add_argument("--public-key", required=True, metavar="HEX_OR_SPKI_PEM_FILE")
    e.set_defaults(fn=cmd_dsse_verify)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        result = args.fn(args)
    except UsageError as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return 2
    except Failure as f:
        print(json.dumps(f.report()))
        return 1
    except Exception as e:  # a bug here must never look like a verdict
        print(json.dumps({"ok": False, "error": f"internal error: {type(e).__name__}: {e}"}))
        return 2
    print(json.dumps(result))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
