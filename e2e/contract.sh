#!/usr/bin/env bash
# OpenAPI contract test of `govcap serve`: schemathesis generates requests from
# BASE_URL/api/openapi.json and checks that no response is a server error (5xx) and that every
# response matches the schema the document gives for its status code. Two passes: anonymous,
# then with an API token (`Authorization: Bearer …`) of an admin account, which reaches every
# operation. Bounded: a few examples per operation, a wall-clock limit per pass.
#
#   BASE_URL=http://127.0.0.1:PORT/ CONTRACT_USER=admin CONTRACT_PASSWORD=... e2e/contract.sh
#
# Environment:
#   BASE_URL            the server (loopback only), required
#   CONTRACT_USER       account whose token the second pass uses (default: admin)
#   CONTRACT_PASSWORD   its password; without it only the anonymous pass runs
#   CONTRACT_TOKEN      an existing API token instead of user and password
#   CONTRACT_EXAMPLES   examples per operation and phase (default: 20)
#   CONTRACT_TIMEOUT    seconds per pass before it is stopped and counted failed (default: 80)
#   CONTRACT_CHECKS     schemathesis checks (default: not_a_server_error,response_schema_conformance)
#   CONTRACT_OUT        where the JUnit reports go (default: a new temp dir)
#   SCHEMATHESIS        the schemathesis command (default: schemathesis)
#
# The token pass changes data (it may create and disable accounts, revoke tokens, publish and
# unpublish runs), so run it against a throw-away database only. The token is created before
# the anonymous pass, whose random logins may trip the login throttle.
#
# Exit status: 0 when both passes passed, 1 when one found a failure or ran out of time,
# 2 when the test could not run.
set -uo pipefail

base="${BASE_URL:?set BASE_URL, e.g. http://127.0.0.1:8080/}"
base="${base%/}"
case "$base" in
  http://127.0.0.1:* | http://localhost:* | "http://[::1]:"*) ;;
  *) echo "contract.sh: BASE_URL must be a loopback http:// address, not $base" >&2; exit 2 ;;
esac
st="${SCHEMATHESIS:-schemathesis}"
if ! "$st" --version >/dev/null 2>&1; then
  echo "contract.sh: $st is not installed (pip install schemathesis)" >&2
  exit 2
fi
examples="${CONTRACT_EXAMPLES:-20}"
limit="${CONTRACT_TIMEOUT:-80}"
checks="${CONTRACT_CHECKS:-not_a_server_error,response_schema_conformance}"
out="${CONTRACT_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/govcap-contract-XXXXXX")}"
mkdir -p "$out"
schema="$base/api/openapi.json"
echo "contract: $("$st" --version) against $schema; checks $checks; $examples examples; reports in $out"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }

token="${CONTRACT_TOKEN:-}"
if [ -z "$token" ] && [ -n "${CONTRACT_PASSWORD:-}" ]; then
  jar="$out/cookies.txt"
  body=$(python3 -c 'import json,sys; print(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}))' \
    "${CONTRACT_USER:-admin}" "$CONTRACT_PASSWORD")
  csrf=$(curl -sf -c "$jar" -H 'Content-Type: application/json' -d "$body" "$base/api/v1/session" | json_field csrf_token) || csrf=""
  if [ -z "$csrf" ]; then
    echo "contract.sh: could not sign in as ${CONTRACT_USER:-admin} (POST /api/v1/session)" >&2
    exit 2
  fi
  token=$(curl -sf -b "$jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" \
    -d '{"label":"contract test"}' "$base/api/v1/tokens" | json_field token) || token=""
  curl -sf -o /dev/null -b "$jar" -X DELETE -H "X-CSRF-Token: $csrf" "$base/api/v1/session" || true
  rm -f "$jar"
  if [ -z "$token" ]; then
    echo "contract.sh: could not create an API token (POST /api/v1/tokens)" >&2
    exit 2
  fi
fi

# One pass; its name goes into the report file name. Extra arguments go to schemathesis.
pass() {
  local name="$1"; shift
  local t0=$SECONDS rc
  echo "== contract: $name"
  # From an empty directory: schemathesis writes nothing into the clone.
  (cd "$out" && timeout --kill-after=10 "$limit" "$st" run "$schema" \
    --checks "$checks" \
    --max-examples "$examples" \
    --workers 2 \
    --seed 20211 \
    --generation-database none \
    --request-timeout 10 \
    --max-redirects 0 \
    --no-color \
    --report junit --report-junit-path "$out/$name.junit.xml" \
    "$@")
  rc=$?
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "contract: $name stopped after ${limit}s (CONTRACT_TIMEOUT)"
  echo "contract: $name exit $rc in $((SECONDS - t0))s"
  return $rc
}

# A pass whose failure is schemathesis's own crash (a Python traceback in the tool, not a
# check that failed) is run once more and says so; a failed check is never retried.
pass_once_more_on_crash() {
  local name="$1"; shift
  local log="$out/$name.log"
  pass "$name" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ] && grep -q "KeyError\|Traceback (most recent call last)" "$log" \
      && ! grep -q "FAILURES" "$log"; then
    echo "contract: $name: schemathesis itself crashed (see above); running the pass once more"
    pass "$name-retry" "$@"
    return $?
  fi
  return "$rc"
}

failed=0
pass_once_more_on_crash anonymous || failed=1
if [ -n "$token" ]; then
  # The token must stay valid to the end: no revoking it (DELETE /api/v1/tokens/{id} with a
  # guessed id) and no disabling its account (the stateful phase feeds the names listed by
  # GET /api/v1/users into POST /api/v1/users/{name}/disable); everything else is fair game.
  pass_once_more_on_crash token -H "Authorization: Bearer $token" \
    --exclude-path-regex '^/api/v1/(tokens/\{id\}|users/\{name\}/disable)$' || failed=1
else
  echo "contract: no CONTRACT_PASSWORD or CONTRACT_TOKEN: the token pass is skipped"
fi
if [ $failed -ne 0 ]; then
  echo "contract: FAILED (reports in $out)"
  exit 1
fi
echo "contract: passed"
