#!/usr/bin/env python3
"""cosignature_peer: an independent check of C2SP tlog-cosignature `cosignature/v1` (Ed25519) signatures.

Written from the specifications alone (c2sp.org/tlog-cosignature, c2sp.org/signed-note), sharing no code with the
Swift implementation; Ed25519 comes from `cryptography`.

    cosignature_peer.py verify NOTE_FILE --vkey VKEY [--vkey VKEY ...]

NOTE_FILE is a checkpoint signed note. Each VKEY is a cosigner verifier key, `<name>+<8 hex key ID>+base64(0x04 ||
32-byte Ed25519 public key)`. For each vkey, every signature line with the vkey's name and key ID must be a valid
cosignature of the note's text: the signed message is

    "cosignature/v1\n" + "time " + decimal(timestamp) + "\n" + <note text, final newline included>

and the line's signature is big-endian u64 timestamp || 64-byte Ed25519 signature. Each vkey needs at least one such
line. Prints one JSON object on stdout. Exit codes: 0 = all verified ({"ok":true,"cosignatures":[{"name","keyID",
"timestamp"}]}), 1 = a verification failure ({"ok":false,"reason":...}), 2 = no verdict (usage, unreadable input,
a malformed vkey or note, missing dependency).
"""

import base64
import binascii
import hashlib
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    print(json.dumps({"ok": False, "error": "the Python package cryptography is missing"}))
    sys.exit(2)

EM_DASH_PREFIX = "\u2014 "
COSIGNATURE_V1 = 0x04


class NoVerdict(Exception):
    pass


class Refused(Exception):
    pass


def b64decode_strict(text):
    """Standard, padded base64; anything else (URL-safe symbols, missing padding, stray characters) is refused."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise NoVerdict("not standard base64: %s" % error)
    if base64.b64encode(data).decode("ascii") != text:
        raise NoVerdict("not the canonical base64 spelling")
    return data


def key_id(name, typed_key):
    """signed-note: SHA-256(name || 0x0A || type || key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + typed_key).digest()[:4]


def parse_vkey(vkey):
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoVerdict("a vkey is <name>+<key ID>+<key>: %r" % vkey)
    name, hex_id, key_b64 = parts
    if not name or any(c.isspace() for c in name):
        raise NoVerdict("bad key name in vkey")
    if len(hex_id) != 8:
        raise NoVerdict("the key ID of a vkey has 8 hex digits")
    typed = b64decode_strict(key_b64)
    if len(typed) != 33 or typed[0] != COSIGNATURE_V1:
        raise NoVerdict("not an Ed25519 cosigner vkey (type 0x04, 32 bytes)")
    if key_id(name, typed) != bytes.fromhex(hex_id):
        raise NoVerdict("the vkey's key ID does not match its name and key")
    return name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(typed[1:])


def parse_note(data):
    """Splits a signed note into its text and its (name, blob) signature lines."""
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NoVerdict("the note is not UTF-8")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoVerdict("no blank line before the signatures, or no final newline")
    text = note[: split + 1]
    lines = note[split + 2 :].split("\n")[:-1]
    signatures = []
    for line in lines:
        if not line.startswith(EM_DASH_PREFIX):
            raise NoVerdict("a line after the blank line is not a signature line")
        name, _, blob = line[len(EM_DASH_PREFIX) :].partition(" ")
        signatures.append((name, b64decode_strict(blob)))
    return text, signatures


def cosignature_message(text, timestamp):
    return b"cosignature/v1\ntime " + str(timestamp).encode("ascii") + b"\n" + text.encode("utf-8")


def verify(note_bytes, vkeys):
    text, signatures = parse_note(note_bytes)
    results = []
    for vkey in vkeys:
        name, wanted_id, public_key = parse_vkey(vkey)
        found = False
        for line_name, blob in signatures:
            if line_name != name or blob[:4] != wanted_id:
                continue
            found = True
            body = blob[4:]
            if len(body) != 8 + 64:
                raise Refused("the cosignature of %s is %d bytes, not 8 + 64" % (name, len(body)))
            timestamp = int.from_bytes(body[:8], "big")
            if timestamp > 2**63 - 1:
                raise Refused("the cosignature of %s has a timestamp above 2^63 - 1" % name)
            try:
                public_key.verify(body[8:], cosignature_message(text, timestamp))
            except InvalidSignature:
                raise Refused("the cosignature of %s does not verify" % name)
            results.append({"name": name, "keyID": wanted_id.hex(), "timestamp": timestamp})
        if not found:
            raise Refused("no cosignature by %s" % name)
    return results


def main(argv):
    if len(argv) < 4 or argv[1] != "verify" or len(argv) % 2 != 1:
        print(json.dumps({"ok": False, "error": "usage: cosignature_peer.py verify NOTE_FILE --vkey VKEY ..."}))
        return 2
    vkeys = []
    for flag, value in zip(argv[3::2], argv[4::2]):
        if flag != "--vkey":
            print(json.dumps({"ok": False, "error": "unknown option %s" % flag}))
            return 2
        vkeys.append(value)
    try:
        with open(argv[2], "rb") as handle:
            note = handle.read()
        results = verify(note, vkeys)
    except OSError as error:
        print(json.dumps({"ok": False, "error": str(error)}))
        return 2
    except NoVerdict as error:
        print(json.dumps({"ok": False, "error": str(error)}))
        return 2
    except Refused as error:
        print(json.dumps({"ok": False, "reason": str(error)}))
        return 1
    print(json.dumps({"ok": True, "cosignatures": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
