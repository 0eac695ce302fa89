#!/usr/bin/env bash
# Records what testssl.sh reports for every TLS endpoint of the sandbox, for docs/tls-grade.md
# and tests/data/tls-ratings/testssl.tsv. Slow (about a minute per endpoint): never run in CI.
#
#   build/tools/sandbox/deploycheck-sandboxctl up --state-dir /tmp/s ca nginx tls smtp
#   tests/data/tls-ratings/record-testssl.sh /tmp/s /tmp/testssl-out > tests/data/tls-ratings/testssl.tsv
#
# Debian 12's testssl.sh is 3.0.8, which predates testssl's SSL Labs-style rating (3.1): the
# table records the findings that rating is made of (protocols, cipher categories, forward
# secrecy, key, signature, chain of trust, HSTS) so each can be set against deploycheck's grade.
set -euo pipefail
state_dir=$1
out=$2
mkdir -p "$out"
env_file=$state_dir/sandbox.env
value() { grep "^$1=" "$env_file" | cut -d= -f2-; }
ca=$(value SANDBOX_CA_FILE)

endpoints=(ecdsa rsa stapled expired notyet wronghost nointermediate selfsigned tls10 weakcipher
           rsa1024 sha1 nohsts shorthsts noredirect expiring)
run_one() {
  local id=$1 port=$2 extra=("${@:3}")
  testssl --quiet --color 0 --warnings off --add-ca "$ca" --ip 127.0.0.1 \
    --jsonfile "$out/$id.json" "${extra[@]}" "localhost:$port" > "$out/$id.txt" 2>&1 || true
}
pids=()
for id in "${endpoints[@]}"; do
  run_one "$id" "$(value "SANDBOX_TLS_${id^^}_PORT")" &
  pids+=($!)
  # Three at a time: testssl is CPU-bound here and the handshakes must not time out.
  if (( ${#pids[@]} >= 3 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
run_one smtp "$(value SANDBOX_SMTP_PORT)" -t smtp &
wait

/usr/bin/python3 - "$out" "${endpoints[@]}" smtp <<'PY'
import json, subprocess, sys
out, ids = sys.argv[1], sys.argv[2:]
version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "testssl.sh"],
                         capture_output=True, text=True).stdout
print(f"# testssl.sh {version} (Debian 12), by tests/data/tls-ratings/record-testssl.sh")
cols = ["protocols", "weak_cipher_categories", "PFS", "cert_keySize",
        "cert_signatureAlgorithm", "cert_chain_of_trust", "cert_trust",
        "cert_expirationStatus", "HSTS_time"]
print("\t".join(["endpoint"] + cols))
for i in ids:
    try:
        findings = {f["id"]: f["finding"] for f in json.load(open(f"{out}/{i}.json"))}
    except (OSError, ValueError) as e:
        print(f"{i}\tno result: {e}")
        continue
    protocols = " ".join(p for p in ["SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"]
                         if findings.get(p, "").startswith("offered"))
    weak = " ".join(c for c in ["NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"]
                    if findings.get("cipherlist_" + c, "").startswith("offered"))
    row = [i, protocols, weak or "-"] + [findings.get(c, "-").replace("\t", " ") for c in cols[2:]]
    print("\t".join(row))
PY
