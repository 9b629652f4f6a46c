"""Sign requests with botocore for sigv4's differential tests.

stdin: {"now": "2024-05-01T12:00:00", "requests": [{"kind": "header"|"presign", "method", "url",
        "headers": {..}, "body", "service", "region", "akid", "secret", "token", "expires"}]}
stdout: [{"url": signed url, "headers": {name: value}}] in the same order.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    spec = json.load(sys.stdin)
    now = datetime.datetime.fromisoformat(spec["now"]).replace(tzinfo=datetime.timezone.utc)
    # botocore reads the clock through this module-level helper; pin it so Go can verify deterministically.
    botocore.auth.get_current_datetime = lambda *a, **k: now
    out = []
    for r in spec["requests"]:
        creds = Credentials(r["akid"], r["secret"], r.get("token") or None)
        req = AWSRequest(method=r["method"], url=r["url"], data=r.get("body", "").encode(),
                         headers=r.get("headers", {}))
        # S3 has its own signer classes (single path encoding), as botocore picks them for s3 clients.
        s3 = r["service"] == "s3"
        if r["kind"] == "presign":
            cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
            cls(creds, r["service"], r["region"], expires=r["expires"]).add_auth(req)
        else:
            cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
            cls(creds, r["service"], r["region"]).add_auth(req)
        out.append({"url": req.url, "headers": {k: v for k, v in req.headers.items()}})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
