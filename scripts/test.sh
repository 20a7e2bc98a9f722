#!/usr/bin/env bash
# The whole test suite, as on a fresh Debian machine with the .NET SDK:
#   1. installs PostgreSQL and Node.js if missing, builds the solution (NuGet restore);
#   2. starts ONE real S3 server (Ceph Object Gateway on 127.0.0.1, installed from Debian if missing) for the run;
#   3. runs every .NET test project against it, then the end-to-end tests with the official TypeScript MCP client;
#   4. stops the server and prints one summary line: "tests: N passed, N failed, N skipped".
# Environment: QUILT_TEST_S3_PORT (default 7480) picks the server's port; QUILT_TEST_S3_ENDPOINT set by the caller
# reuses a server that is already running instead of starting one (then also set QUILT_TEST_S3_ROLE_ACCESS_KEY and
# QUILT_TEST_S3_ROLE_SECRET_KEY, the second S3 user that scripts/s3-server.sh creates and prints).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
log() { echo "test.sh: $*" >&2; }

results=$(mktemp -d)
server_dir=""
cleanup() {
  if [ -n "$server_dir" ]; then
    bash scripts/s3-server.sh stop "$server_dir" >/dev/null 2>&1 || true
  fi
  rm -rf "$results"
}
trap cleanup EXIT

# What the tests need beyond the .NET SDK, installed from Debian when missing (Ceph comes with scripts/s3-server.sh):
# PostgreSQL for the gateway's shared audit store, Node.js and npm for the official TypeScript MCP client.
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null
fi

log "building"
dotnet build QuiltMcp.sln -c Debug -nologo -v quiet -clp:ErrorsOnly

if [ -z "${QUILT_TEST_S3_ENDPOINT:-}" ]; then
  server_dir=$(mktemp -d /tmp/quilt-s3-XXXXXX)
  port=${QUILT_TEST_S3_PORT:-7480}
  log "starting the S3 server on 127.0.0.1:$port"
  eval "$(bash scripts/s3-server.sh start "$server_dir" "$port")"
  export QUILT_TEST_S3_ENDPOINT="$AWS_ENDPOINT_URL_S3"
fi

status=0
log ".NET tests"
dotnet test --solution QuiltMcp.sln --no-build 2>&1 | tee "$results/dotnet.log" || status=1

if [ -x tests/e2e/run.sh ] || [ -f tests/e2e/run.sh ]; then
  log "end-to-end tests (TypeScript MCP client)"
  bash tests/e2e/run.sh 2>&1 | tee "$results/e2e.log" || status=1
fi

# One closing line for the whole run, from the runners' own summaries.
passed=0 failed=0 skipped=0
while read -r kind n; do
  case "$kind" in
    succeeded:) passed=$((passed + n)) ;;
    failed:) failed=$((failed + n)) ;;
    skipped:) skipped=$((skipped + n)) ;;
  esac
done < <(grep -E '^\s+(succeeded|failed|skipped): [0-9]+$' "$results/dotnet.log" | tail -n 3 | sed 's/^ *//')
if [ -f "$results/e2e.log" ]; then
  e2e_pass=$(grep -E '^# pass [0-9]+' "$results/e2e.log" | awk '{s+=$3} END {print s+0}')
  e2e_fail=$(grep -E '^# fail [0-9]+' "$results/e2e.log" | awk '{s+=$3} END {print s+0}')
  e2e_skip=$(grep -E '^# skipped [0-9]+' "$results/e2e.log" | awk '{s+=$3} END {print s+0}')
  passed=$((passed + e2e_pass)); failed=$((failed + e2e_fail)); skipped=$((skipped + e2e_skip))
fi
if [ "$passed" -eq 0 ]; then
  log "no test ran"
  status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
