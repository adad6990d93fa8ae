#!/usr/bin/env python3
"""intoto_peer: checks a `ledger export --attestations` file with the in-toto project's own libraries.

    intoto_peer.py verify ATTESTATION.json --public-key KEY [--subject-digest HEX]

KEY is 64 hex characters (the raw Ed25519 public key), or a file holding them or an SPKI PEM
(`-----BEGIN PUBLIC KEY-----`, as `ledger init` writes keys/pipeline.key.pub).

What it checks, sharing no code with the Swift implementation:
- the file is a DSSE envelope, read with securesystemslib's `dsse.Envelope`, of payload type
  `application/vnd.in-toto+json`;
- its signature verifies under KEY with securesystemslib (`Envelope.verify` with an Ed25519
  `SSlibKey` whose keyid is the ledger's: the lowercase hex SHA-256 of the raw public key);
- the payload is RFC 8785 canonical JSON (the `rfc8785` package) without duplicate members;
- it parses as an in-toto Statement v1 with in-toto-attestation's protobuf types (unknown fields
  refused) and passes that library's `Statement.validate()`, with `_type`
  https://in-toto.io/Statement/v1, one subject with a sha256 digest (equal to --subject-digest if
  given), and `predicateType` https://slsa.dev/provenance/v1;
- the predicate parses as SLSA Provenance v1 (in-toto-attestation's `provenance_pb2`, unknown
  fields refused), with a buildType, a builder id, valid resource descriptors, and a `dataset`
  dependency with a sha256 digest.

Prints one JSON object on standard output: {"ok": true, ...what it read...} or
{"ok": false, "reason": ...}. Exit codes: 0 = verified, 1 = verification failed, 2 = no verdict
(usage, unreadable file or key, missing dependency).

Tested with securesystemslib==1.6.0, in-toto-attestation==0.9.3, protobuf==7.36.2,
rfc8785==0.1.4 and cryptography==50.0.2.
"""

import argparse
import hashlib
import json
import re
import sys

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Failed(Exception):
    """The attestation does not verify: exit 1."""


class NoVerdict(Exception):
    """The check could not run: exit 2."""


def load_dependencies():
    try:
        import rfc8785
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from google.protobuf import json_format
        from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
        from in_toto_attestation.v1 import statement_pb2
        from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
        from in_toto_attestation.v1.statement import Statement
        from securesystemslib import dsse, exceptions
        from securesystemslib.signer import SSlibKey
    except ImportError as error:
        raise NoVerdict(f"a dependency is missing ({error}); pip install -r Tests/Peers/requirements.txt") from error
    return {
        "rfc8785": rfc8785,
        "serialization": serialization,
        "Ed25519PublicKey": Ed25519PublicKey,
        "json_format": json_format,
        "provenance_pb2": provenance_pb2,
        "statement_pb2": statement_pb2,
        "ResourceDescriptor": ResourceDescriptor,
        "Statement": Statement,
        "dsse": dsse,
        "exceptions": exceptions,
        "SSlibKey": SSlibKey,
    }


def load_public_key(argument, deps):
    """The raw 32 bytes of KEY: hex, or a file with hex or an SPKI PEM."""
    text = argument
    if not re.fullmatch(r"[0-9a-fA-F]{64}", argument):
        try:
            with open(argument, encoding="utf-8") as handle:
                text = handle.read().strip()
        except OSError as error:
            raise NoVerdict(f"cannot read the public key {argument}: {error.strerror}") from error
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raw = bytes.fromhex(text)
    else:
        try:
            key = deps["serialization"].load_pem_public_key(text.encode("utf-8"))
        except ValueError as error:
            raise NoVerdict(f"the public key is neither 64 hex characters nor an SPKI PEM: {error}") from error
        if not isinstance(key, deps["Ed25519PublicKey"]):
            raise NoVerdict("the public key is not an Ed25519 key")
        raw = key.public_bytes(deps["serialization"].Encoding.Raw, deps["serialization"].PublicFormat.Raw)
    try:
        deps["Ed25519PublicKey"].from_public_bytes(raw)
    except ValueError as error:
        raise NoVerdict(f"the public key is not a valid Ed25519 key: {error}") from error
    return raw


def reject_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise Failed("the statement has a duplicate member")
    return dict(pairs)


def verify(path, public_key, subject_digest, deps):
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise NoVerdict(f"cannot read {path}: {error.strerror}") from error

    # 1. The DSSE envelope and its signature, with securesystemslib.
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=reject_duplicates)
        envelope = deps["dsse"].Envelope.from_dict(document)
    except Failed:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, deps["exceptions"].FormatError) as error:
        raise Failed(f"not a DSSE envelope: {type(error).__name__}: {error}") from error
    if envelope.payload_type != PAYLOAD_TYPE:
        raise Failed(f"payloadType is {envelope.payload_type!r}, not {PAYLOAD_TYPE}")
    keyid = hashlib.sha256(public_key).hexdigest()
    key = deps["SSlibKey"](keyid, "ed25519", "ed25519", {"public": public_key.hex()})
    try:
        envelope.verify([key], 1)
    except deps["exceptions"].VerificationError as error:
        raise Failed(f"the DSSE signature does not verify under keyid {keyid}: {error}") from error

    # 2. The statement: canonical JSON, then in-toto-attestation's Statement v1.
    try:
        statement = json.loads(envelope.payload.decode("utf-8"), object_pairs_hook=reject_duplicates)
    except ValueError as error:
        raise Failed(f"the payload is not JSON: {error}") from error
    if deps["rfc8785"].dumps(statement) != envelope.payload:
        raise Failed("the payload is not RFC 8785 canonical JSON")
    json_format = deps["json_format"]
    try:
        parsed = json_format.ParseDict(statement, deps["statement_pb2"].Statement())
        deps["Statement"].copy_from_pb(parsed).validate()
    except (json_format.ParseError, ValueError) as error:
        raise Failed(f"not an in-toto Statement v1: {error}") from error
    if parsed.type != STATEMENT_TYPE:
        raise Failed(f"_type is {parsed.type!r}, not {STATEMENT_TYPE}")
    if parsed.predicate_type != PREDICATE_TYPE:
        raise Failed(f"predicateType is {parsed.predicate_type!r}, not {PREDICATE_TYPE}")
    if len(parsed.subject) != 1:
        raise Failed(f"expected one subject, found {len(parsed.subject)}")
    subject = parsed.subject[0]
    digest = subject.digest.get("sha256", "")
    if not HEX64.match(digest):
        raise Failed("the subject has no lowercase hex sha256 digest")
    if subject_digest is not None and digest != subject_digest:
        raise Failed(f"the subject digest is {digest}, expected {subject_digest}")

    # 3. The predicate: SLSA Provenance v1.
    try:
        provenance = json_format.ParseDict(statement["predicate"], deps["provenance_pb2"].Provenance())
    except json_format.ParseError as error:
        raise Failed(f"the predicate is not SLSA Provenance v1: {error}") from error
    definition = provenance.build_definition
    details = provenance.run_details
    if not definition.build_type:
        raise Failed("the provenance has no buildDefinition.buildType")
    if not details.builder.id:
        raise Failed("the provenance has no runDetails.builder.id")
    descriptors = list(definition.resolved_dependencies) + list(details.byproducts)
    try:
        for descriptor in descriptors:
            deps["ResourceDescriptor"].copy_from_pb(descriptor).validate()
    except ValueError as error:
        raise Failed(f"a resource descriptor is invalid: {error}") from error
    dependencies = [
        {"name": item.name, "digest": dict(item.digest)} for item in definition.resolved_dependencies
    ]
    datasets = [item for item in dependencies if item["name"] == "dataset"]
    if len(datasets) != 1 or not HEX64.match(datasets[0]["digest"].get("sha256", "")):
        raise Failed("the provenance has no dataset dependency with a sha256 digest")
    # The byproducts as written (protobuf's Struct would turn every number into a float).
    byproducts = statement["predicate"].get("runDetails", {}).get("byproducts", [])
    decisions = [
        {
            "kind": item["name"],
            "keyid": item.get("annotations", {}).get("keyid"),
            "seq": item.get("annotations", {}).get("seq"),
        }
        for item in byproducts
        if item.get("name") in ("approval", "rejection")
    ]
    return {
        "ok": True,
        "keyid": keyid,
        "subject": {"name": subject.name, "sha256": digest},
        "predicateType": parsed.predicate_type,
        "buildType": definition.build_type,
        "builder": details.builder.id,
        "invocationId": details.metadata.invocation_id,
        "resolvedDependencies": dependencies,
        "decisions": decisions,
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("verify", help="verify one attestation file")
    command.add_argument("attestation")
    command.add_argument("--public-key", required=True, help="64 hex characters, or a file with hex or an SPKI PEM")
    command.add_argument("--subject-digest", help="the sha256 hex the subject must have")
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit:
        return 2 if exit.code else 0
    if arguments.subject_digest is not None and not HEX64.match(arguments.subject_digest):
        print(json.dumps({"ok": False, "reason": "--subject-digest must be 64 lowercase hex characters"}))
        return 2
    try:
        deps = load_dependencies()
        public_key = load_public_key(arguments.public_key, deps)
        result = verify(arguments.attestation, public_key, arguments.subject_digest, deps)
    except Failed as failure:
        print(json.dumps({"ok": False, "reason": str(failure)}))
        return 1
    except NoVerdict as problem:
        print(json.dumps({"ok": False, "reason": str(problem)}))
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
