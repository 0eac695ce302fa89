#!/usr/bin/python3
"""Reference SigV4 signer for tests/unit/backups_s3_test.cpp: botocore (Debian's
python3-botocore, under /usr/bin/python3 — pyenv's python3 cannot import it) computes the
Authorization header for a request deploycheck's S3 client sent, at the same X-Amz-Date.

Input: a JSON file (argv[1]) with method, url, region, access_key_id, secret_access_key and
headers (the ones the client meant to sign, X-Amz-Date among them). Output: the Authorization
header value botocore would send."""
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(open(sys.argv[1]))
request = AWSRequest(method=spec["method"], url=spec["url"], headers=spec["headers"])
auth = S3SigV4Auth(Credentials(spec["access_key_id"], spec["secret_access_key"]), "s3", spec["region"])
request.context["timestamp"] = spec["headers"]["X-Amz-Date"]
canonical = auth.canonical_request(request)
string_to_sign = auth.string_to_sign(request, canonical)
signature = auth.signature(string_to_sign, request)
signed = auth.signed_headers(auth.headers_to_sign(request))
print("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
      % (spec["access_key_id"], auth.scope(request).split("/", 1)[1], signed, signature))
