#!/usr/bin/env python3
"""Self-test for ledger_peer.py; no pytest.  `python3 test_ledger_peer.py` exits 0 (all pass) or 1.

Builds a small ModelLedger log with `cryptography` + `rfc8785` (independently of the
peer's own code), exports it, runs the peer's CLI on it and on tampered copies,
and checks every failure names the right seq.
"""

import base64
import copy
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "ledger_peer.py"
AUDITOR_SCRIPT = HERE.parent.parent / "docs" / "auditor" / "verify_export.py"
REAL_SCHEMAS = HERE.parent.parent / "schemas"
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree

try:
    import rfc8785
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    import jsonschema  # noqa: F401  (the peer needs it)
    import ledger_peer
except ImportError as e:  # pragma: no cover
    print(f"FAIL: missing dependency ({e}); pip install -r {HERE / 'requirements.txt'}")
    sys.exit(1)

PT = "application/vnd.modelledger.event.v1+json"
ORIGIN = "example.com/modelledger/test"
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)

FAILURES = []
PASSES = 0


def check(name, cond, detail=""):
    global PASSES
    if cond:
        PASSES += 1
    else:
        FAILURES.append(name)
        print(f"FAIL {name}: {detail}")


# ---------------------------------------------------------------- building a log

class Signer:
    def __init__(self, name):
        self.name = name
        self.priv = Ed25519PrivateKey.generate()
        self.pub = self.priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.keyid = hashlib.sha256(self.pub).hexdigest()

    def record(self, roles):
        return {"keyid": self.keyid, "name": self.name, "publicKey": self.pub.hex(), "roles": roles}

    def pem(self):
        return self.priv.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def pae(ptype, body):
    t = ptype.encode()
    return b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(body)).encode() + b" " + body


def envelope(signer, body, ptype=PT, keyid=None):
    sig = signer.priv.sign(pae(ptype, body))
    return {"payload": base64.b64encode(body).decode(), "payloadType": ptype,
            "signatures": [{"keyid": keyid or signer.keyid, "sig": base64.b64encode(sig).decode()}]}


def leaf_hash(line):
    return hashlib.sha256(b"\x00" + line).digest()


class Log:
    def __init__(self, origin=ORIGIN):
        self.origin = origin
        self.lines = []  # leaf bytes, without "\n"

    def append(self, signer, etype, data, *, log=None, time=None, seq=None, prev=None,
               subject=None, keyid=None):
        n = len(self.lines)
        payload = {
            "v": 1, "log": log or self.origin, "seq": n if seq is None else seq,
            "prev": prev or (leaf_hash(self.lines[-1]).hex() if self.lines else "0" * 64),
            "time": time or (T0 + dt.timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "type": etype, "actor": signer.keyid, "data": data,
        }
        if subject is not None:
            payload["subject"] = subject
        self.lines.append(rfc8785.dumps(envelope(signer, rfc8785.dumps(payload), keyid=keyid)))
        return self

    def copy(self):
        c = Log(self.origin)
        c.lines = list(self.lines)
        return c

    def write(self, path, lines=None):
        Path(path).write_bytes(b"".join(x + b"\n" for x in (self.lines if lines is None else lines)))
        return str(path)


def independent_root(leaf_hashes):
    """RFC 9162 root by a different algorithm than the peer's (left-to-right stack)."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    stack = []  # (height, hash)
    for h in leaf_hashes:
        node = (0, h)
        while stack and stack[-1][0] == node[0]:
            left = stack.pop()
            node = (node[0] + 1, hashlib.sha256(b"\x01" + left[1] + node[1]).digest())
        stack.append(node)
    root = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        root = hashlib.sha256(b"\x01" + h + root).digest()
    return root


def sign_checkpoint(origin, size, root, signers):
    text = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"
    out = text + "\n"
    for name, signer, mangle in signers:
        kh = hashlib.sha256(name.encode() + b"\n\x01" + signer.pub).digest()[:4]
        sig = signer.priv.sign(text.encode())
        if mangle:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        out += f"\u2014 {name} {base64.b64encode(kh + sig).decode()}\n"
    return out.encode()


def run(*args, script=PEER):
    p = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = {"unparsed": p.stdout, "stderr": p.stderr}
    return p.returncode, out


def expect_ok(name, rc, out):
    check(name, rc == 0 and out.get("ok") is True, f"rc={rc} out={out}")


def expect_fail(name, rc, out, seq, word=None):
    good = rc == 1 and out.get("ok") is False and out.get("seq") == seq
    if word is not None:
        good = good and word.lower() in str(out.get("reason", "")).lower()
    check(name, good, f"want seq={seq} reason~{word!r}; rc={rc} out={out}")


# ---------------------------------------------------------------- tests

def test_merkle_vectors():
    leaves = [bytes.fromhex(x) for x in
              ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
               "606162636465666768696a6b6c6d6e6f"]]
    # transparency-dev/merkle (RFC 6962 / 9162) reference roots for sizes 0..8.
    want = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    for n in range(9):
        got = ledger_peer.mth_of_leaves(leaves[:n]).hex()
        check(f"merkle vector size {n}", got == want[n], got)
    for n in range(0, 70):
        hs = [hashlib.sha256(bytes([i])).digest() for i in range(n)]
        if ledger_peer.mth(hs) != independent_root(hs):
            check(f"merkle vs independent root size {n}", False)
            break
    else:
        check("merkle vs independent root 0..69", True)


def build_base():
    admin, logk, pipe, xkey = Signer("admin"), Signer("log"), Signer("ci"), Signer("x")
    log = Log()
    log.append(admin, "ledger.created", {
        "keys": [admin.record(["admin"]), logk.record(["log"])],
        "policy": {"requiredApprovals": 1}})
    log.append(admin, "key.added", pipe.record(["pipeline"]))
    log.append(pipe, "note.added", {"text": "hello from ci", "refs": [0, 1]})
    log.append(admin, "note.added", {"text": "second note"})
    log.append(admin, "key.added", xkey.record(["approver"]))
    log.append(xkey, "note.added", {"text": "by x, before revocation"})
    log.append(admin, "key.revoked", {"keyid": xkey.keyid, "reason": "rotated"})
    log.append(admin, "note.added", {"text": "model card"}, subject=[
        {"name": "model.safetensors", "digest": {"sha256": hashlib.sha256(b"weights").hexdigest()}}])
    return log, {"admin": admin, "log": logk, "pipe": pipe, "x": xkey}


def resign(line, signer, mutate_payload=None, mutate_env=None):
    env = json.loads(line)
    body = base64.b64decode(env["payload"])
    if mutate_payload:
        body = mutate_payload(body)
    env = envelope(signer, body) if mutate_payload else env
    if mutate_env:
        mutate_env(env)
    return rfc8785.dumps(env)


def test_verify_log(tmp):
    log, k = build_base()
    n = len(log.lines)
    path = log.write(tmp / "good.jsonl")
    hashes = [leaf_hash(x) for x in log.lines]
    root = independent_root(hashes)
    genesis = hashes[0].hex()

    rc, out = run("verify-log", path)
    expect_ok("good log verifies", rc, out)
    check("good log entries/root/genesis",
          out.get("entries") == n and out.get("root") == root.hex() and out.get("genesis") == genesis
          and out.get("checkpoints") == 0, str(out))

    rc, out = run("verify-log", path, "--trust", genesis)
    expect_ok("--trust right genesis", rc, out)
    rc, out = run("verify-log", path, "--trust", "ab" * 32)
    expect_fail("--trust wrong genesis", rc, out, 0, "genesis")

    # ---- checkpoints
    cp_full = tmp / "cp_full.txt"
    cp_full.write_bytes(sign_checkpoint(ORIGIN, n, root, [(ORIGIN, k["log"], False)]))
    cp_small = tmp / "cp_small.txt"
    cp_small.write_bytes(sign_checkpoint(ORIGIN, 3, independent_root(hashes[:3]),
                                         [("someone.else/witness", Signer("w"), False),
                                          (ORIGIN, k["log"], False)]))
    rc, out = run("verify-log", path, "--checkpoint", cp_full, "--checkpoint", cp_small)
    expect_ok("checkpoints (full, and smaller with an unknown witness) verify", rc, out)
    check("checkpoint count", out.get("checkpoints") == 2, str(out))

    bad = tmp / "cp_badsig.txt"
    bad.write_bytes(sign_checkpoint(ORIGIN, n, root, [(ORIGIN, k["log"], True)]))
    rc, out = run("verify-log", path, "--checkpoint", bad)
    expect_fail("checkpoint with corrupted log signature", rc, out, None, "invalid")

    bad = tmp / "cp_adminsig.txt"
    bad.write_bytes(sign_checkpoint(ORIGIN, n, root, [(ORIGIN, k["admin"], False)]))
    rc, out = run("verify-log", path, "--checkpoint", bad)
    expect_fail("checkpoint signed by non-log key", rc, out, None, "no valid signature")

    bad = tmp / "cp_wrongname.txt"
    bad.write_bytes(sign_checkpoint(ORIGIN, n, root, [("other-name", k["log"], False)]))
    rc, out = run("verify-log", path, "--checkpoint", bad)
    expect_fail("checkpoint signed under another key name", rc, out, None, "no valid signature")

    bad = tmp / "cp_origin.txt"
    bad.write_bytes(sign_checkpoint("other/log", n, root, [("other/log", k["log"], False)]))
    rc, out = run("verify-log", path, "--checkpoint", bad)
    expect_fail("checkpoint for another origin", rc, out, None, "origin")

    bad = tmp / "cp_malformed.txt"
    bad.write_bytes(cp_full.read_bytes().replace(b"\n\n", b"\n", 1))
    rc, out = run("verify-log", path, "--checkpoint", bad)
    expect_fail("malformed checkpoint", rc, out, None)

    # log-key rotation: a checkpoint counts only keys active at its size
    newlog = Signer("log2")
    rot = log.copy().append(k["admin"], "key.added", newlog.record(["log"]))      # seq n
    rot.append(k["admin"], "key.revoked", {"keyid": k["log"].keyid, "reason": "rotated"})  # n+1
    rot.append(k["admin"], "note.added", {"text": "after rotation"})             # n+2
    rotpath = rot.write(tmp / "rotated.jsonl")
    rh = [leaf_hash(x) for x in rot.lines]

    def cp(name, size, signer):
        f = tmp / name
        f.write_bytes(sign_checkpoint(ORIGIN, size, independent_root(rh[:size]), [(ORIGIN, signer, False)]))
        return f

    rc, out = run("verify-log", rotpath, "--checkpoint", cp("r1", n, k["log"]),
                  "--checkpoint", cp("r2", n + 3, newlog), "--checkpoint", cp("r3", n + 1, newlog))
    expect_ok("rotated log keys: old key before revocation, new key after adding", rc, out)
    rc, out = run("verify-log", rotpath, "--checkpoint", cp("r4", n, newlog))
    expect_fail("checkpoint by a log key not yet added at that size", rc, out, None, "no valid")
    rc, out = run("verify-log", rotpath, "--checkpoint", cp("r5", n + 2, k["log"]))
    expect_fail("checkpoint by a log key revoked within that size", rc, out, None, "no valid")

    # ---- attacks on entries
    def attack(name, lines, seq, word=None, extra=()):
        p = log.write(tmp / f"{name.replace(' ', '_')}.jsonl", lines)
        rc, out = run("verify-log", p, *extra)
        expect_fail(name, rc, out, seq, word)

    # flipped bit inside the signed payload (still canonical JSON, so it hits the signature)
    lines = list(log.lines)
    env = json.loads(lines[3])
    body = base64.b64decode(env["payload"])
    i = body.index(b"second note")
    body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
    env["payload"] = base64.b64encode(body).decode()
    lines[3] = rfc8785.dumps(env)
    attack("flipped bit in payload", lines, 3, "signature")

    # flipped bit somewhere in the raw exported line
    for pos in (40, len(log.lines[2]) // 2, len(log.lines[2]) - 5):
        lines = list(log.lines)
        lines[2] = lines[2][:pos] + bytes([lines[2][pos] ^ 0x04]) + lines[2][pos + 1:]
        attack(f"flipped bit in raw line at {pos}", lines, 2)

    lines = list(log.lines)
    env = json.loads(lines[4])
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[10] ^= 0x80
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    lines[4] = rfc8785.dumps(env)
    attack("flipped bit in signature", lines, 4, "signature")

    attack("deleted line", log.lines[:3] + log.lines[4:], 3, "seq")
    attack("deleted genesis", log.lines[1:], 0)
    lines = list(log.lines)
    lines[2], lines[3] = lines[3], lines[2]
    attack("swapped lines", lines, 2)

    attack("unknown key", log.copy().append(Signer("mallory"), "note.added", {"text": "hi"}).lines,
           n, "unknown key")
    attack("revoked key signs after revocation",
           log.copy().append(k["x"], "note.added", {"text": "still here"}).lines, n, "revoked")
    attack("pipeline key appends key.added",
           log.copy().append(k["pipe"], "key.added", Signer("evil").record(["admin"])).lines,
           n, "roles")
    attack("log key appends policy.set",
           log.copy().append(k["log"], "policy.set", {"policy": {"requiredApprovals": 2}}).lines,
           n, "roles")
    attack("entry from a different log origin",
           log.copy().append(k["admin"], "note.added", {"text": "x"}, log="other/log").lines,
           n, "origin")
    attack("unknown event type",
           log.copy().append(k["admin"], "model.teleported", {}).lines, n, "unknown type")
    attack("ledger.created after seq 0",
           log.copy().append(k["admin"], "ledger.created", {"keys": [k["admin"].record(["admin"])],
                                                            "policy": {"requiredApprovals": 1}}).lines,
           n, "seq 0")
    attack("time goes backwards",
           log.copy().append(k["admin"], "note.added", {"text": "x"},
                             time="2024-12-31T23:59:59.999Z").lines, n, "time")
    attack("bad time format",
           log.copy().append(k["admin"], "note.added", {"text": "x"},
                             time="2025-01-01T00:00:09Z").lines, n, "time")
    attack("wrong prev",
           log.copy().append(k["admin"], "note.added", {"text": "x"}, prev="11" * 32).lines, n, "prev")
    attack("signature keyid != actor",
           log.copy().append(k["admin"], "note.added", {"text": "x"}, keyid=k["pipe"].keyid).lines,
           n, "actor")
    ev = Signer("ev")
    rec = ev.record(["pipeline"])
    rec["keyid"] = k["pipe"].keyid
    attack("key.added with keyid != sha256(publicKey)",
           log.copy().append(k["admin"], "key.added", rec).lines, n, "sha256")
    attack("note refs a later entry",
           log.copy().append(k["admin"], "note.added", {"text": "x", "refs": [n + 3]}).lines, n, "refs")

    # non-canonical encodings of an otherwise valid entry
    lines = list(log.lines)
    lines[5] = json.dumps(json.loads(lines[5]), indent=None, separators=(", ", ": ")).encode()
    attack("non-canonical line", lines, 5, "canonical")
    lines = list(log.lines)
    env = json.loads(lines[5])
    body = json.dumps(json.loads(base64.b64decode(env["payload"])), sort_keys=False).encode()
    lines[5] = rfc8785.dumps(envelope(k["x"], body))
    attack("non-canonical payload (validly signed)", lines, 5, "canonical")

    p = tmp / "unterminated.jsonl"
    p.write_bytes(b"\n".join(log.lines))
    rc, out = run("verify-log", p)
    expect_fail("last line not newline-terminated", rc, out, n - 1, "terminated")
    p = tmp / "empty.jsonl"
    p.write_bytes(b"")
    rc, out = run("verify-log", p)
    expect_fail("empty export", rc, out, 0)

    # ---- attacks that only a checkpoint can catch
    rc, out = run("verify-log", log.write(tmp / "trunc.jsonl", log.lines[:6]), "--checkpoint", cp_full)
    expect_fail("tail truncated vs earlier checkpoint", rc, out, 6, "exceeds")
    rc, out = run("verify-log", tmp / "trunc.jsonl")
    expect_ok("truncated log alone still verifies (why checkpoints matter)", rc, out)

    # rewrite seq 3 and re-sign/re-chain everything after it with the real keys
    rw = Log()
    rw.lines = log.lines[:3]
    signers = {s.keyid: s for s in k.values()}
    for i in range(3, n):
        env = json.loads(log.lines[i])
        p = json.loads(base64.b64decode(env["payload"]))
        if i == 3:
            p["data"]["text"] = "history, rewritten"
        rw.append(signers[p["actor"]], p["type"], p["data"], time=p["time"], subject=p.get("subject"))
    rwpath = rw.write(tmp / "rewritten.jsonl")
    rc, out = run("verify-log", rwpath)
    expect_ok("rewritten-and-resigned log alone verifies", rc, out)
    rc, out = run("verify-log", rwpath, "--checkpoint", cp_small)
    expect_ok("rewritten log agrees with checkpoint before the rewrite", rc, out)
    rc, out = run("verify-log", rwpath, "--checkpoint", cp_full)
    expect_fail("rewritten history vs earlier checkpoint", rc, out, n - 1, "root")
    return log, k


# ---------------------------------------------------------------- the byte layer, shared with the auditor's script

def test_strict_bytes(tmp):
    """Both Python verifiers (this peer and docs/auditor/verify_export.py) refuse every spelling of an entry other
    than its one canonical form, even when validly signed, as `ledger verify` does; and accept what it accepts."""
    admin, logk = Signer("admin"), Signer("log")
    origin = "caf\u00e9.example/log"  # a log id with an NFC "é"
    log = Log(origin)
    log.append(admin, "ledger.created", {"keys": [admin.record(["admin"]), logk.record(["log"])],
                                         "policy": {"requiredApprovals": 1}})
    log.append(admin, "note.added", {"text": "Ax", "n": 1, "refs": [0]})
    genesis = leaf_hash(log.lines[0]).hex()

    def both(name, last_line, ok):
        lines = log.lines[:1] + [last_line]
        path = log.write(tmp / "strict.jsonl", lines)
        for script, extra in ((PEER, ("verify-log",)), (AUDITOR_SCRIPT, ())):
            rc, out = run(*extra, path, "--trust", genesis, script=script)
            if ok:
                expect_ok(f"{script.name}: {name}", rc, out)
            else:
                expect_fail(f"{script.name}: {name}", rc, out, 1)
            if script == AUDITOR_SCRIPT:
                check(f"{script.name}: {name}: names the rules it did not check",
                      "governance and model rules" in str(out.get("not_checked")), str(out))

    body = base64.b64decode(json.loads(log.lines[1])["payload"])

    def signed(payload):
        return rfc8785.dumps(envelope(admin, payload))

    both("the canonical entry", log.lines[1], True)
    edits = {
        "a space after the opening brace": lambda b: b"{ " + b[1:],
        "a \\u0041 escape": lambda b: b.replace(b'"Ax"', b'"\\u0041x"'),
        "a byte order mark": lambda b: b"\xef\xbb\xbf" + b,
        "a trailing newline": lambda b: b + b"\n",
        "a duplicate member": lambda b: b.replace(b'"v":1}', b'"v":1,"v":1}'),
        "an unknown member": lambda b: b.replace(b'"v":1}', b'"v":1,"zz":1}'),
        "members out of order": lambda b: b.replace(b'{"actor"', b'{"v":1,"actor"').replace(b',"v":1}', b"}"),
        "a lone surrogate": lambda b: b.replace(b'"Ax"', b'"\\ud800"'),
        "the number 1e400": lambda b: b.replace(b'"n":1', b'"n":1e400'),
        "the number 2^53+1": lambda b: b.replace(b'"n":1', b'"n":9007199254740993'),
        "the number -0": lambda b: b.replace(b'"n":1', b'"n":-0'),
        "the number 1.0": lambda b: b.replace(b'"n":1', b'"n":1.0'),
        "v written 1e0": lambda b: b.replace(b'"v":1}', b'"v":1e0}'),
        "a leap second": lambda b: b.replace(b':01.000Z"', b':60.000Z"'),
        "an NFD log id": lambda b: b.replace("caf\u00e9".encode(), "cafe\u0301".encode()),
    }
    for name, edit in edits.items():
        changed = edit(body)
        check(f"edit {name} changes the payload", changed != body)
        both(f"validly signed payload with {name}", signed(changed), False)
    both("nesting 128 deep", signed(body.replace(b'"data":{', b'"data":{"!":' + b"[" * 126 + b"]" * 126 + b",")), True)
    both("nesting 129 deep", signed(body.replace(b'"data":{', b'"data":{"!":' + b"[" * 127 + b"]" * 127 + b",")), False)
    astral, private = "\U0001F600".encode(), "\ue000".encode()  # UTF-16 D83D... sorts before E000
    both("member names in UTF-16 order", signed(body.replace(
        b'"text":"Ax"', b'"text":"Ax","' + astral + b'":1,"' + private + b'":1')), True)
    both("member names in code point order", signed(body.replace(
        b'"text":"Ax"', b'"text":"Ax","' + private + b'":1,"' + astral + b'":1')), False)
    both("an unescaped DEL and U+2028 (canonical)", signed(body.replace(b'"Ax"', '"A\x7f\u2028x"'.encode())), True)
    both("an escaped control in upper-case hex", signed(body.replace(b'"Ax"', b'"A\\u001Fx"')), False)
    both("the number 2^53+2 (a double, canonical)", signed(body.replace(b'"n":1', b'"n":9007199254740994')), True)
    both("the number 1e+21 (canonical)", signed(body.replace(b'"n":1', b'"n":1e+21')), True)

    env = json.loads(log.lines[1])
    sig = env["signatures"][0]["sig"]  # 64 bytes: the symbol before "==" has 4 unused bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    env["signatures"][0]["sig"] = sig[:-3] + alphabet[alphabet.index(sig[-3]) ^ 1] + "=="
    check("the changed signature decodes to the same bytes",
          base64.b64decode(env["signatures"][0]["sig"]) == base64.b64decode(sig))
    both("a signature whose unused base64 bits were changed", rfc8785.dumps(env), False)
    env["signatures"][0]["sig"] = sig.rstrip("=")
    both("a signature without its base64 padding", rfc8785.dumps(env), False)
    both("an envelope with an unknown member", rfc8785.dumps(dict(json.loads(log.lines[1]), extra=1)), False)


def flip_unused_bits(text):
    """The same bytes in another base64 spelling: the last character before the padding with an unused bit set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = text.rstrip("=")
    changed = body[:-1] + alphabet[alphabet.index(body[-1]) ^ 1] + text[len(body):]
    assert changed != text and base64.b64decode(changed) == base64.b64decode(text)
    return changed


def test_checkpoint_spellings(tmp):
    """Both Python verifiers read a checkpoint as `ledger verify` does: its root and signature blobs only in their
    one canonical base64 spelling (no key is needed to respell them), and C2SP extension lines allowed."""
    log, k = build_base()
    n = len(log.lines)
    path = log.write(tmp / "cp_spell.jsonl")
    root = independent_root([leaf_hash(x) for x in log.lines])
    genesis = leaf_hash(log.lines[0]).hex()
    good = sign_checkpoint(ORIGIN, n, root, [(ORIGIN, k["log"], False)]).decode()
    text, sigs = good.split("\n\n")
    origin, size, root_b64 = text.split("\n")
    sig_line = sigs.rstrip("\n")
    dash, name, blob = sig_line.split(" ")

    def both(label, checkpoint, ok):
        f = tmp / "cp_spell.txt"
        f.write_bytes(checkpoint.encode())
        for script, extra in ((PEER, ("verify-log",)), (AUDITOR_SCRIPT, ("--trust", genesis))):
            rc, out = run(*([extra[0]] if script == PEER else []), path, "--checkpoint", f,
                          *(extra if script == AUDITOR_SCRIPT else ()), script=script)
            if ok:
                expect_ok(f"{script.name}: {label}", rc, out)
            else:
                expect_fail(f"{script.name}: {label}", rc, out, None, "canonical")

    both("the checkpoint as signed", good, True)
    both("a signature line whose unused base64 bits were changed",
         f"{text}\n\n{dash} {name} {flip_unused_bits(blob)}\n", False)
    kh = hashlib.sha256(name.encode() + b"\n\x01" + k["log"].pub).digest()[:4]

    def signed(note_text):  # a checkpoint the log key really signed
        signature = k["log"].priv.sign(note_text.encode())
        return f"{note_text}\n\u2014 {name} {base64.b64encode(kh + signature).decode()}\n"

    both("a root whose unused base64 bits were changed (validly signed)",
         signed(f"{origin}\n{size}\n{flip_unused_bits(root_b64)}\n"), False)
    both("a C2SP extension line after the root", signed(f"{origin}\n{size}\n{root_b64}\nan extension line\n"), True)

    # note.added refs follow the event catalog of `ledger verify`: 1 to 1000 distinct earlier entries
    for label, refs in (("duplicate refs", [0, 0]), ("empty refs", [])):
        bad = log.copy().append(k["admin"], "note.added", {"text": "x", "refs": refs})
        rc, out = run("verify-log", bad.write(tmp / "refs.jsonl"))
        expect_fail(f"peer: note.added with {label}", rc, out, n, "refs")


# ---------------------------------------------------------------- schemas

HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
KEYREC = {"type": "object", "required": ["keyid", "name", "publicKey", "roles"],
          "additionalProperties": False,
          "properties": {"keyid": {"$ref": "../defs.json#/$defs/hex64"}, "name": {"type": "string"},
                         "publicKey": {"$ref": "../defs.json#/$defs/hex64"},
                         "roles": {"type": "array", "items": {"enum": [
                             "admin", "log", "pipeline", "approver", "deployer"]}}}}
POLICY = {"type": "object", "required": ["requiredApprovals"],
          "properties": {"requiredApprovals": {"type": "integer", "minimum": 1}}}
D = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS = {
    "defs.json": {"$schema": D, "$defs": {"hex64": HEX}},
    "envelope.schema.json": {
        "$schema": D, "type": "object", "additionalProperties": False,
        "required": ["payload", "payloadType", "signatures"],
        "properties": {
            "payload": {"type": "string"}, "payloadType": {"const": PT},
            "signatures": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "object", "required": ["keyid", "sig"], "additionalProperties": False,
                "properties": {"keyid": {"$ref": "defs.json#/$defs/hex64"},
                               "sig": {"type": "string"}}}}}},
    "payload.schema.json": {
        "$schema": D, "type": "object", "additionalProperties": False,
        "required": ["v", "log", "seq", "prev", "time", "type", "actor", "data"],
        "properties": {"v": {"const": 1}, "log": {"type": "string"},
                       "seq": {"type": "integer", "minimum": 0},
                       "prev": {"$ref": "defs.json#/$defs/hex64"},
                       "time": {"type": "string", "format": "date-time"},
                       "type": {"type": "string"}, "actor": {"$ref": "defs.json#/$defs/hex64"},
                       "subject": {"type": "array"}, "data": {"type": "object"}}},
    "events/ledger.created.schema.json": {
        "$schema": D, "type": "object", "required": ["keys", "policy"],
        "properties": {"keys": {"type": "array", "minItems": 1, "items": KEYREC}, "policy": POLICY}},
    "events/key.added.schema.json": dict(KEYREC, **{"$schema": D}),
    "events/key.revoked.schema.json": {
        "$schema": D, "type": "object", "required": ["keyid", "reason"],
        "properties": {"keyid": {"$ref": "../defs.json#/$defs/hex64"}, "reason": {"type": "string"}}},
    "events/policy.set.schema.json": {"$schema": D, "type": "object", "required": ["policy"],
                                      "properties": {"policy": POLICY}},
    "events/note.added.schema.json": {
        "$schema": D, "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {"text": {"type": "string"},
                       "refs": {"type": "array", "items": {"type": "integer", "minimum": 0}}}},
    "events/format.probe.schema.json": {"$schema": D, "type": "object",
                                        "properties": {"email": {"type": "string", "format": "email"}}},
}


def write_schemas(d):
    for rel, doc in SCHEMAS.items():
        f = d / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(doc, indent=2))


def test_schemas(tmp, log, k):
    sd = tmp / "schemas"
    write_schemas(sd)
    path = log.write(tmp / "schema_good.jsonl")
    rc, out = run("validate-schemas", path, "--schemas", sd)
    expect_ok("validate-schemas good log", rc, out)
    check("validate-schemas count", out.get("validated") == len(log.lines), str(out))

    lines = list(log.lines)
    env = json.loads(lines[2])
    env["extra"] = 1
    lines[2] = rfc8785.dumps(env)
    rc, out = run("validate-schemas", log.write(tmp / "s1.jsonl", lines), "--schemas", sd)
    expect_fail("validate-schemas envelope extra field", rc, out, 2, "envelope")

    bad = log.copy().append(k["admin"], "note.added", {"text": 42})
    rc, out = run("validate-schemas", bad.write(tmp / "s2.jsonl"), "--schemas", sd)
    expect_fail("validate-schemas bad note data", rc, out, len(log.lines), "data")

    bad = log.copy().append(k["admin"], "note.added", {"text": "x"}, time="not-a-date")
    rc, out = run("validate-schemas", bad.write(tmp / "s3.jsonl"), "--schemas", sd)
    expect_ok("validate-schemas ignores format (format checking off)", rc, out)

    bad = log.copy().append(k["admin"], "note.added", {"text": "x"}, prev="XYZ")
    rc, out = run("validate-schemas", bad.write(tmp / "s4.jsonl"), "--schemas", sd)
    expect_fail("validate-schemas bad prev via cross-file $ref", rc, out, len(log.lines), "payload")

    sd2 = tmp / "schemas_missing"
    shutil.copytree(sd, sd2)
    (sd2 / "events" / "note.added.schema.json").unlink()
    rc, out = run("validate-schemas", path, "--schemas", sd2)
    expect_fail("validate-schemas missing event schema", rc, out, 2, "no schema")

    rc, out = run("validate-schemas", path, "--schemas", tmp / "nope")
    check("validate-schemas missing dir is usage error", rc == 2, str(out))

    def vd(etype, data):
        f = tmp / "data.json"
        f.write_text(json.dumps(data))
        return run("validate-data", etype, f, "--schemas", sd)

    rc, out = vd("note.added", {"text": "ok", "refs": [1]})
    check("validate-data good", rc == 0 and out == {"ok": True, "reason": None}, str(out))
    rc, out = vd("note.added", {"text": "ok", "refs": [-1]})
    check("validate-data bad refs", rc == 1 and out.get("ok") is False and out.get("reason"), str(out))
    rc, out = vd("key.revoked", {"keyid": "AB" * 32, "reason": "x"})
    check("validate-data bad keyid", rc == 1 and out.get("ok") is False, str(out))
    rc, out = vd("format.probe", {"email": "not an email"})
    check("validate-data format off", rc == 0 and out.get("ok") is True, str(out))
    rc, out = vd("no.such.type", {})
    check("validate-data missing schema", rc == 1 and out.get("ok") is False, str(out))

    if (REAL_SCHEMAS / "envelope.schema.json").is_file():
        rc, out = run("validate-schemas", path, "--schemas", REAL_SCHEMAS)
        expect_ok(f"validate-schemas against real {REAL_SCHEMAS}", rc, out)
    else:
        print(f"note: {REAL_SCHEMAS}/envelope.schema.json not present; real-schema run skipped")


# ---------------------------------------------------------------- dsse-verify

def test_dsse(tmp, log, k):
    env_file = tmp / "env.json"
    env_file.write_bytes(log.lines[3])
    pem = tmp / "admin.pem"
    pem.write_bytes(k["admin"].pem())
    rc, out = run("dsse-verify", env_file, "--public-key", k["admin"].pub.hex())
    expect_ok("dsse-verify hex key", rc, out)
    rc, out = run("dsse-verify", env_file, "--public-key", pem)
    expect_ok("dsse-verify PEM key", rc, out)
    rc, out = run("dsse-verify", env_file, "--public-key", k["pipe"].pub.hex())
    check("dsse-verify wrong key", rc == 1 and out.get("ok") is False, str(out))

    # another payloadType, URL-safe unpadded base64
    body = b'{"_type":"https://in-toto.io/Statement/v1","x":"\xff\xfe?>"}'
    while not any(c in base64.b64encode(body) for c in b"+/"):
        body += b" "
    e = envelope(k["admin"], body, ptype="application/vnd.in-toto+json")
    e["payload"] = base64.urlsafe_b64encode(body).decode().rstrip("=")
    e["signatures"][0]["sig"] = base64.urlsafe_b64encode(
        base64.b64decode(e["signatures"][0]["sig"])).decode().rstrip("=")
    e["signatures"][0].pop("keyid")
    env_file.write_text(json.dumps(e, indent=2))
    rc, out = run("dsse-verify", env_file, "--public-key", pem)
    expect_ok("dsse-verify url-safe unpadded, other payloadType", rc, out)
    e["payloadType"] = "application/json"
    env_file.write_text(json.dumps(e))
    rc, out = run("dsse-verify", env_file, "--public-key", pem)
    check("dsse-verify payloadType is signed", rc == 1 and out.get("ok") is False, str(out))


def test_usage(tmp):
    rc, _ = run()
    check("no arguments -> exit 2", rc == 2)
    rc, _ = run("verify-log", tmp / "does-not-exist.jsonl")
    check("missing export -> exit 2", rc == 2)
    rc, _ = run("verify-log", tmp / "good.jsonl", "--trust", "xyz")
    check("bad --trust -> exit 2", rc == 2)


def main():
    test_merkle_vectors()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        log, k = test_verify_log(tmp)
        test_strict_bytes(tmp)
        test_checkpoint_spellings(tmp)
        test_schemas(tmp, log, k)
        test_dsse(tmp, log, k)
        test_usage(tmp)
    print(f"{PASSES} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
