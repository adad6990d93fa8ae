#!/usr/bin/env python3
"""differential_corpus: hostile variants of real ModelLedger exports, judged by both Python verifiers.

    python differential_corpus.py CONFIG.json

CONFIG is {"seed": S, "perSource": N, "out": DIR, "sources": [{"export": FILE, "keys": [PEM, ...], "checkpoint":
FILE?}, ...]}: real exports, the PKCS#8 private keys of (some of) their signers, and optionally a checkpoint of the
whole export, which every third variant is then checked against too. For each source it writes N variants to DIR, each
made by one seeded mutation (the same seed gives the same bytes):

- bytes: bit flips, byte insertions and deletions, truncations, newline changes (no final newline, CRLF, blank
  lines, joined lines), lines swapped, duplicated or dropped;
- the envelope, not re-signed: whitespace, reordered or duplicate or unknown members, escapes, a byte order mark,
  base64 whose unused bits or padding changed, the URL-safe alphabet;
- the payload, re-signed with the actor's own key and the entries after it re-chained and re-signed (so only the
  edit can make the log fail): whitespace, reordered, duplicate and unknown members, \\u escapes, a byte order mark,
  a trailing newline, lone surrogates, numbers beyond I-JSON or in another spelling (1e400, 2^53+1, -0, 1.0),
  NFC/NFD forms of the log id and of names, and data edits that break (or keep) the schemas and governance rules;
- re-signed by another key of the log (a key the log trusts, maybe without the role) or by a key it never added.

Then it runs docs/auditor/verify_export.py and ledger_peer.py verify-log, in this process, on every variant (with
--trust set to the source's genesis leaf hash) and writes DIR/manifest.json: {"variants": [{"file", "source",
"trust", "checkpoint" (a path or null), "mutation", "script": {"status", "output"}, "peer": {"status", "output"}}]}. The Swift test
(Tests/LedgerCLITests/DifferentialCorpusTests.swift) runs `ledger verify` on the same files and compares verdicts.
"""

import base64
import contextlib
import hashlib
import importlib.util
import io
import json
import random
import sys
import unicodedata
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
HERE = Path(__file__).resolve().parent
PAYLOAD_TYPE = "application/vnd.modelledger.event.v1+json"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def leaf_hash(line):
    return hashlib.sha256(b"\x00" + line).digest()


def canonical(value):
    """RFC 8785 for the values these logs hold (no numbers beyond 2^53): sorted by UTF-16 code units, no spaces."""
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
        return b"{" + b",".join(canonical(n) + b":" + canonical(value[n]) for n in names) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(canonical(item) for item in value) + b"]"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value)).encode()
    if isinstance(value, float):
        return repr(value).encode()  # the sources' fractions are short: repr is their ECMAScript form
    return json.dumps(value, ensure_ascii=False).encode()


def pae(body):
    return b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(body), body)


def envelope(body, key, keyid):
    return canonical({"payload": base64.b64encode(body).decode(), "payloadType": PAYLOAD_TYPE,
                      "signatures": [{"keyid": keyid, "sig": base64.b64encode(key.sign(pae(body))).decode()}]})


class Source:
    def __init__(self, index, spec, foreign):
        self.index = index
        self.lines = Path(spec["export"]).read_bytes().split(b"\n")[:-1]
        self.envelopes = [json.loads(line) for line in self.lines]
        self.payloads = [base64.b64decode(env["payload"]) for env in self.envelopes]
        self.events = [json.loads(body) for body in self.payloads]
        self.keys = {}
        for path in spec["keys"]:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), None)
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.keys[hashlib.sha256(raw).hexdigest()] = key
        self.foreign = foreign
        self.genesis = leaf_hash(self.lines[0]).hex()

    def file(self, lines):
        return b"".join(line + b"\n" for line in lines)

    def resigned(self, k, body, key=None, keyid=None, rechain=True):
        """The lines with entry k's payload replaced by `body`, signed by `key` (the actor's by default), and every
        later entry re-chained onto it and re-signed by its own actor."""
        lines = list(self.lines)
        actor = self.events[k]["actor"]
        lines[k] = envelope(body, key or self.keys[actor], keyid or actor)
        for i in range(k + 1, len(lines) if rechain else k + 1):
            event = dict(self.events[i], prev=leaf_hash(lines[i - 1]).hex())
            lines[i] = envelope(canonical(event), self.keys[event["actor"]], event["actor"])
        return lines


# ---------------------------------------------------------------- mutations: each returns (description, file bytes)

def bit_flip(rng, src):
    data = bytearray(src.file(src.lines))
    at, bit = rng.randrange(len(data)), rng.randrange(8)
    data[at] ^= 1 << bit
    return f"bit {bit} of byte {at} flipped", bytes(data)


def byte_insert(rng, src):
    data = src.file(src.lines)
    at = rng.randrange(len(data) + 1)
    byte = rng.choice([0x20, 0x0A, 0x0D, 0x22, 0x5C, 0x30, 0x00, 0xFF, 0xC3, 0x80, 0x7B, rng.randrange(256)])
    return f"byte {byte:#04x} inserted at {at}", data[:at] + bytes([byte]) + data[at:]


def byte_delete(rng, src):
    data = src.file(src.lines)
    at, count = rng.randrange(len(data)), rng.randint(1, 3)
    return f"{count} bytes deleted at {at}", data[:at] + data[at + count:]


def truncation(rng, src):
    data = src.file(src.lines)
    if rng.random() < 0.5:
        keep = rng.randrange(1, len(src.lines))
        return f"only the first {keep} lines kept", src.file(src.lines[:keep])
    at = rng.randrange(1, len(data) - 1)
    return f"cut after byte {at}", data[:at]


def newline_change(rng, src):
    data = src.file(src.lines)
    ends = [i for i, byte in enumerate(data) if byte == 0x0A]
    at = rng.choice(ends[:-1] or ends)
    choices = {
        "no final newline": data[:-1],
        "two final newlines": data + b"\n",
        "CRLF after one line": data[:at] + b"\r" + data[at:],
        "CRLF after every line": data.replace(b"\n", b"\r\n"),
        "a blank line inside": data[:at] + b"\n" + data[at:],
        "two lines joined": data[:at] + data[at + 1:],
        "a space before a newline": data[:at] + b" " + data[at:],
    }
    name = rng.choice(sorted(choices))
    return name, choices[name]


def line_order(rng, src):
    lines = list(src.lines)
    i, j = rng.sample(range(len(lines)), 2)
    kind = rng.choice(["swapped", "duplicated", "dropped"])
    if kind == "swapped":
        lines[i], lines[j] = lines[j], lines[i]
        return f"lines {i} and {j} swapped", src.file(lines)
    if kind == "duplicated":
        lines.insert(i, lines[i])
        return f"line {i} duplicated", src.file(lines)
    del lines[i]
    return f"line {i} dropped", src.file(lines)


def envelope_edit(rng, src):
    """The envelope spelled another way; its signature still covers the same payload."""
    k = rng.randrange(len(src.lines))
    env, line = src.envelopes[k], src.lines[k]
    sig, payload = env["signatures"][0]["sig"], env["payload"]
    edits = {
        "envelope with spaces": json.dumps(env, separators=(", ", ": ")).encode(),
        "envelope members reordered": json.dumps({n: env[n] for n in ("signatures", "payloadType", "payload")},
                                                 separators=(",", ":")).encode(),
        "envelope payloadType with a \\u0061 escape": line.replace(b'"application/', b'"\\u0061pplication/'),
        "envelope payloadType with an escaped slash": line.replace(b"application/vnd", b"application\\/vnd"),
        "envelope with a duplicate payloadType": line.replace(b'"payloadType":', b'"payloadType":"x","payloadType":'),
        "envelope with an unknown member": line[:-1] + b',"x":1}',
        "envelope with a byte order mark": b"\xef\xbb\xbf" + line,
        "envelope with a trailing space": line + b" ",
        "signature whose unused base64 bits changed":
            line.replace(sig.encode(), (sig[:-3] + ALPHABET[ALPHABET.index(sig[-3]) ^ rng.randint(1, 3)] + "==")
                         .encode()),
        "signature without base64 padding": line.replace(sig.encode(), sig.rstrip("=").encode()),
        "keyid in upper case": line.replace(env["signatures"][0]["keyid"].encode(),
                                            env["signatures"][0]["keyid"].upper().encode()),
        "two signatures": line.replace(b"}]}", b"}," + json.dumps(env["signatures"][0], separators=(",", ":"))
                                       .encode() + b"]}"),
    }
    if payload.endswith("="):  # the symbol before the padding has unused bits
        pad = len(payload) - len(payload.rstrip("="))
        at = len(payload) - pad - 1
        flipped = payload[:at] + ALPHABET[ALPHABET.index(payload[at]) ^ 1] + payload[at + 1:]
        edits["payload whose unused base64 bits changed"] = line.replace(payload.encode(), flipped.encode())
        edits["payload without base64 padding"] = line.replace(payload.encode(), payload.rstrip("=").encode())
    if "+" in payload or "/" in payload:
        urlsafe = payload.replace("+", "-").replace("/", "_")
        edits["payload in the URL-safe base64 alphabet"] = line.replace(payload.encode(), urlsafe.encode())
    name = rng.choice(sorted(edits))
    lines = list(src.lines)
    lines[k] = edits[name]
    return f"seq {k}: {name}", src.file(lines)


def payload_spelling(rng, src):
    """Entry k's payload spelled another way (the same value, or one no canonical text has), validly re-signed."""
    k = rng.randrange(1, len(src.lines))
    body, event = src.payloads[k], src.events[k]
    seq = str(k).encode()
    edits = {
        "payload with spaces": json.dumps(event, separators=(", ", ": "), ensure_ascii=False).encode(),
        "payload members reordered": json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        if list(event) != sorted(event) else body.replace(b'{"actor"', b'{"v":1,"actor"').replace(b',"v":1}', b"}"),
        "payload with a byte order mark": b"\xef\xbb\xbf" + body,
        "payload with a trailing newline": body + b"\n",
        "payload with a leading space": b" " + body,
        "payload with a duplicate v": body.replace(b'"v":1}', b'"v":1,"v":1}'),
        "payload with an unknown member": body.replace(b'"v":1}', b'"v":1,"zz":1}'),
        "type with a \\u escape": body.replace(b'"type":"' + event["type"][0].encode(),
                                               b'"type":"\\u%04x' % ord(event["type"][0])),
        "type with an upper-case \\u escape": body.replace(b'"type":"' + event["type"][0].encode(),
                                                           b'"type":"\\u%04X' % ord(event["type"][0])),
        "seq written with a fraction": body.replace(b'"seq":' + seq + b",", b'"seq":' + seq + b".0,"),
        "seq written with an exponent": body.replace(b'"seq":' + seq + b",", b'"seq":' + seq + b"e0,"),
        "seq with a leading zero": body.replace(b'"seq":' + seq + b",", b'"seq":0' + seq + b","),
        "v written 1.0": body.replace(b'"v":1}', b'"v":1.0}'),
        "v written -0": body.replace(b'"v":1}', b'"v":-0}'),
        "v as a string": body.replace(b'"v":1}', b'"v":"1"}'),
        "v as true": body.replace(b'"v":1}', b'"v":true}'),
        "data with a lone surrogate member": body.replace(b'"data":{', b'"data":{"\\ud800":1,', 1),
        "data with 1e400": body.replace(b'"data":{', b'"data":{"!":1e400,', 1),
        "data with 2^53+1": body.replace(b'"data":{', b'"data":{"!":9007199254740993,', 1),
        "data with -0": body.replace(b'"data":{', b'"data":{"!":-0,', 1),
        "data with NaN": body.replace(b'"data":{', b'"data":{"!":NaN,', 1),
        "data nested 129 deep": body.replace(b'"data":{', b'"data":{"!":' + b"[" * 129 + b"]" * 129 + b",", 1),
        "an invalid UTF-8 byte in the log id": body.replace(b'"log":"', b'"log":"\xc3', 1),
        "an overlong UTF-8 slash in the log id": body.replace(b'"log":"', b'"log":"\xc0\xaf', 1),
        "an unescaped tab in the log id": body.replace(b'"log":"', b'"log":"\t', 1),
        "an escaped solidus in the log id": body.replace(b"/", b"\\/", 1) if b"/" in body else body + b" ",
    }
    strings = [text for text in _strings(event["data"]) if any(c.isalpha() for c in text)]
    if strings:
        text = rng.choice(strings)
        letter = next(c for c in text if c.isalpha())
        edits["a data string with a \\u escape"] = body.replace(
            json.dumps(text, ensure_ascii=False).encode(),
            json.dumps(text, ensure_ascii=False).replace(letter, "\\u%04x" % ord(letter), 1).encode(), 1)
        edits["a data string replaced by a lone surrogate"] = body.replace(
            json.dumps(text, ensure_ascii=False).encode(), b'"\\udc00"', 1)
    name = rng.choice(sorted(edits))
    return f"seq {k}: {name}, re-signed by its actor", src.file(src.resigned(k, edits[name]))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def canonical_extremes(rng, src):
    """Values whose one canonical spelling is unusual (so a verifier must accept it): astral characters, DEL, U+2028,
    escaped controls, member names in UTF-16 order, 2^53+2, 1e-7, 1e+21; or the same in a non-canonical spelling.
    Put where the schemas allow them: model.trained's free-form parameters, or a data string."""
    free = [k for k in range(1, len(src.lines)) if src.events[k]["type"] == "model.trained"]
    strings = [k for k in range(1, len(src.lines)) if any(_strings(src.events[k]["data"]))]
    canonical_form = rng.random() < 0.7
    if free and rng.random() < 0.5:
        k = rng.choice(free)
        event = json.loads(src.payloads[k])
        extra = {"\U0001F600": 2, "\ue000": 1, "big": 2**53 + 2, "tiny": 1e-7, "huge": 1e21, "neg": -0.5}
        event["data"]["parameters"] = dict(event["data"]["parameters"], **extra)
        body = canonical(event).replace(b"1e-07", b"1e-7")
        if not canonical_form:
            body = rng.choice([
                body.replace("\U0001F600".encode() + b'":2,"' + "\ue000".encode() + b'":1',
                             "\ue000".encode() + b'":1,"' + "\U0001F600".encode() + b'":2'),
                body.replace(b"1e-7", b"1E-7"), body.replace(b"1e+21", b"1e21"),
                body.replace(b"9007199254740994", b"9007199254740994.0")])
        what = "free-form parameters with extreme values"
    elif strings:
        k = rng.choice(strings)
        text = rng.choice(list(_strings(src.events[k]["data"])))
        spelled = json.dumps(text + "\x7f\u2028\U0001F600\x01\x1f\"\\", ensure_ascii=False)
        if not canonical_form:
            spelled = rng.choice([spelled.replace("\\u001f", "\\u001F"), spelled.replace("\x7f", "\\u007f"),
                                  spelled.replace("\U0001F600", "\\ud83d\\ude00")])
        body = src.payloads[k].replace(json.dumps(text, ensure_ascii=False).encode(), spelled.encode(), 1)
        what = f"a data string with DEL, U+2028, an astral character and escapes ({text[:12]!r})"
    else:
        return payload_spelling(rng, src)
    spelling = "canonical" if canonical_form else "not canonical"
    return f"seq {k}: {what}, {spelling}, re-signed by its actor", src.file(src.resigned(k, body))


def unicode_form(rng, src):
    """NFC and NFD of the log id and of names: identities compare as bytes, so only data strings may change."""
    k = rng.randrange(len(src.lines))
    event = json.loads(src.payloads[k])
    form = rng.choice(["NFD", "NFC", "NFKD"])
    where = rng.choice(["log id", "data strings", "subject names"])
    if where == "log id":
        event["log"] = unicodedata.normalize(form, event["log"])
    elif where == "subject names" and "subject" in event:
        for item in event["subject"]:
            item["name"] = unicodedata.normalize(form, item["name"])
    else:
        event["data"] = json.loads(unicodedata.normalize(form, json.dumps(event["data"], ensure_ascii=False)))
    body = canonical(event)
    same = " (no change)" if body == src.payloads[k] else ""
    return f"seq {k}: {form} of the {where}{same}, re-signed by its actor", src.file(src.resigned(k, body))


def data_edit(rng, src):
    """A change to what an event says, validly re-signed and re-chained: the rules may hold or not."""
    k = rng.randrange(1, len(src.lines))
    event = json.loads(src.payloads[k])
    paths = list(_paths(event["data"], ("data",)))
    path = rng.choice(paths) if paths else ("data",)
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    value = parent[path[-1]]
    if isinstance(value, bool):
        new, what = not value, "negated"
    elif isinstance(value, int):
        new = rng.choice([value + 1, value - 1, 0, -1, 2**53, 2**53 + 2, 10**6])
        what = f"set to {new}"
    elif isinstance(value, float):
        new = rng.choice([value / 2, -value, 1.5, 0.1, 1e21, 2.0])
        what = f"set to {new!r}"
    elif isinstance(value, str):
        new = rng.choice(["", value + "x", value.upper(), "é" + value, "0" * 64])
        what = f"set to {new[:20]!r}"
    elif isinstance(value, list) and value:
        new, what = value[1:], "without its first item"
    elif isinstance(value, dict) and value:
        drop = rng.choice(sorted(value))
        new, what = {n: v for n, v in value.items() if n != drop}, f"without {drop!r}"
    else:
        new, what = {"extra": 1}, "given a member"
    if rng.random() < 0.15 and isinstance(parent, dict):
        parent["zextra"] = 1
        what = "given an unknown member"
    else:
        parent[path[-1]] = new
    where = ".".join(map(str, path))
    return f"seq {k} ({event['type']}): {where} {what}, re-signed", src.file(src.resigned(k, canonical(event)))


def _paths(value, prefix):
    if isinstance(value, dict):
        for name, item in value.items():
            yield prefix + (name,)
            yield from _paths(item, prefix + (name,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield prefix + (index,)
            yield from _paths(item, prefix + (index,))


def header_edit(rng, src):
    """A change to the payload's own members (time, type, seq, prev, v, subject), validly re-signed."""
    k = rng.randrange(1, len(src.lines))
    event = json.loads(src.payloads[k])
    previous = src.events[k - 1]["time"]
    edits = {
        "time before the previous entry's": dict(event, time="2000-01-01T00:00:00.000Z"),
        "time equal to the previous entry's": dict(event, time=previous),
        "time on February 30": dict(event, time=event["time"][:5] + "02-30" + event["time"][10:]),
        "time with second 60": dict(event, time=event["time"][:17] + "60" + event["time"][19:]),
        "time without milliseconds": dict(event, time=event["time"][:19] + "Z"),
        "time with an offset": dict(event, time=event["time"][:23] + "+00:00"),
        "time in the year 9999": dict(event, time="9999" + event["time"][4:]),
        "an unknown type": dict(event, type=event["type"] + "x"),
        "type ledger.created": dict(event, type="ledger.created"),
        "type note.added": dict(event, type="note.added"),
        "type policy.set": dict(event, type="policy.set"),
        "seq plus one": dict(event, seq=k + 1),
        "prev of the entry two before": dict(event, prev=leaf_hash(src.lines[k - 2]).hex() if k >= 2 else "0" * 64),
        "prev in upper case": dict(event, prev=event["prev"].upper()),
        "v 2": dict(event, v=2),
        "no data": {n: v for n, v in event.items() if n != "data"},
        "an empty subject": dict(event, subject=[]),
        "a subject": dict(event, subject=[{"digest": {"sha256": "ab" * 32}, "name": "model"}]),
        "a subject with an extra member": dict(event, subject=[{"digest": {"sha256": "ab" * 32}, "name": "m",
                                                                "x": 1}]),
        "a subject with a 257-character name": dict(event, subject=[{"digest": {"sha256": "ab" * 32},
                                                                     "name": "n" * 257}]),
        "an empty log id": dict(event, log=""),
        "another log id": dict(event, log=event["log"] + "x"),
    }
    name = rng.choice(sorted(edits))
    return f"seq {k}: {name}, re-signed by its actor", src.file(src.resigned(k, canonical(edits[name])))


def other_signer(rng, src):
    """Entry k re-signed by another key of the log, or by a key the log never added (as actor, or as impostor)."""
    k = rng.randrange(1, len(src.lines))
    event = json.loads(src.payloads[k])
    choice = rng.choice(["trusted", "trusted", "foreign actor", "foreign impostor"])
    if choice == "trusted":
        keyid = rng.choice(sorted(src.keys))
        event["actor"] = keyid
        lines = src.resigned(k, canonical(event), src.keys[keyid], keyid)
        return f"seq {k} ({event['type']}): re-signed by log key {keyid[:12]}", src.file(lines)
    raw = src.foreign.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    keyid = hashlib.sha256(raw).hexdigest()
    if choice == "foreign actor":
        event["actor"] = keyid
        return f"seq {k}: re-signed by a key the log never added", src.file(
            src.resigned(k, canonical(event), src.foreign, keyid))
    return f"seq {k}: signed by a foreign key in its actor's name", src.file(
        src.resigned(k, src.payloads[k], src.foreign, event["actor"]))


def appended(rng, src):
    """A new last entry, signed by a key of the log: a note, a key change or a policy change."""
    last = src.events[-1]
    keyid = rng.choice(sorted(src.keys))
    data = rng.choice([
        ("note.added", {"text": rng.choice(["appended", "é", "e\u0301", "\U0001F600", "\\", "\u2028"])}),
        ("note.added", {"text": "refs", "refs": [len(src.lines) - 1]}),
        ("note.added", {"text": "refs", "refs": [len(src.lines)]}),
        ("policy.set", {"policy": {"requiredApprovals": rng.choice([1, 2, 0, 101])}}),
        ("key.revoked", {"keyid": rng.choice(sorted(src.keys)), "reason": "rotation"}),
        ("key.revoked", {"keyid": keyid, "reason": ""}),
    ])
    event = {"v": 1, "log": last["log"], "seq": len(src.lines), "prev": leaf_hash(src.lines[-1]).hex(),
             "time": last["time"], "type": data[0], "actor": keyid, "data": data[1]}
    line = envelope(canonical(event), src.keys[keyid], keyid)
    return f"appended {data[0]} {json.dumps(data[1], ensure_ascii=True)[:60]} by {keyid[:12]}", \
        src.file(src.lines + [line])


MUTATIONS = [bit_flip, byte_insert, byte_delete, truncation, newline_change, line_order, envelope_edit,
             envelope_edit, payload_spelling, payload_spelling, canonical_extremes, unicode_form, data_edit, data_edit,
             header_edit, header_edit, other_signer, appended]


def judge(module_main, argv):
    """Runs a verifier's main() in this process; returns its exit status and its one JSON object (or raw text)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = module_main(argv)
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 2
    try:
        output = json.loads(out.getvalue())
    except ValueError:
        output = {"unparsed": out.getvalue(), "stderr": err.getvalue()}
    return {"status": status, "output": output}


def main():
    config = json.loads(Path(sys.argv[1]).read_text())
    out = Path(config["out"])
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config["seed"])
    foreign = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"differential-corpus-foreign-key").digest())
    script = load_module("verify_export", HERE.parent.parent / "docs" / "auditor" / "verify_export.py")
    peer = load_module("ledger_peer", HERE / "ledger_peer.py")
    variants = []
    for index, spec in enumerate(config["sources"]):
        source = Source(index, spec, foreign)
        for number in range(config["perSource"]):
            mutate = MUTATIONS[number % len(MUTATIONS)]
            mutation, data = mutate(rng, source)
            name = f"s{index}-v{number:04d}.jsonl"
            (out / name).write_bytes(data)
            path = str(out / name)
            checkpoint = spec.get("checkpoint") if number % 3 == 2 else None
            extra = ["--checkpoint", checkpoint] if checkpoint else []
            variants.append({
                "file": path, "source": index, "trust": source.genesis, "checkpoint": checkpoint,
                "kind": mutate.__name__, "mutation": mutation,
                "script": judge(script.main, [path, "--trust", source.genesis] + extra),
                "peer": judge(peer.main, ["verify-log", path, "--trust", source.genesis] + extra),
            })
    (out / "manifest.json").write_text(json.dumps({"variants": variants}, ensure_ascii=False))
    print(f"{len(variants)} variants in {out}")


if __name__ == "__main__":
    main()
