"""Verifies receipts with pyHanko, an independent PAdES validator: one JSON line per file.

usage: python3 verify_receipts.py CA.pem FILE.pdf...

Each line: the file, whether its signature is intact, valid and trusted under CA.pem, what it
covers, its timestamp's verdict (or null), and the register number and SHA-256 its embedded XML
(potwierdzenie.xml) states. A file pyHanko cannot read gets "error".
"""

import json
import re
import sys

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def anchor(path):
    data = open(path, "rb").read()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def attachment(reader):
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    for i in range(0, len(names), 2):
        if str(names[i]) == "potwierdzenie.xml":
            return names[i + 1].get_object()["/EF"]["/F"].get_object().data.decode("utf-8")
    return ""


def field(xml, name):
    found = re.search(r"<%s[^>]*>([^<]*)</%s>" % (name, name), xml)
    # An element with no text states nothing, as an absent one.
    return (found.group(1) or None) if found else None


def verify(path, ca):
    with open(path, "rb") as f:
        reader = PdfFileReader(f, strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return {"signatures": len(signatures)}
        context = ValidationContext(trust_roots=[ca], allow_fetching=False)
        status = validate_pdf_signature(
            signatures[0], context, ts_validation_context=context
        )
        ts = status.timestamp_validity
        xml = attachment(reader)
        return {
            "intact": status.intact,
            "valid": status.valid,
            "trusted": status.trusted,
            "coverage": status.coverage.name,
            "timestamp": None
            if ts is None
            else {"intact": ts.intact, "valid": ts.valid, "trusted": ts.trusted},
            "register_number": field(xml, "NumerRejestru"),
            "sha256": field(xml, "SkrotSHA256"),
        }


def main():
    ca = anchor(sys.argv[1])
    for path in sys.argv[2:]:
        try:
            line = verify(path, ca)
        except Exception as e:  # a file pyHanko refuses is a verdict too
            line = {"error": type(e).__name__}
        line["file"] = path
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
