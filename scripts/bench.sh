#!/usr/bin/env bash
# The benchmarks of docs/benchmarks.md in one run, on a fresh Debian machine with the .NET SDK:
#
#   bash scripts/bench.sh            full sizes (about 15 minutes on 2 cores, a third of it publishing the server)
#   bash scripts/bench.sh --quick    smaller sizes and a 10 s gateway load: a smoke run, not the issue's figures
#   bash scripts/bench.sh manifest mcp   only the suites named
#
# Builds bench/Quilt.Bench in Release, publishes the quilt-mcp server three ways (scripts/publish.sh jit, r2r, aot)
# for the start-up, round-trip and transfer figures, starts one S3 server (scripts/s3-server.sh, Ceph on 127.0.0.1) on
# QUILT_BENCH_S3_PORT (default 7490), runs every suite (hashing, package, manifest, s3, browse, gateway, mcp, size, tables), prints
# the machine and one markdown table per suite (the tables of docs/benchmarks.md), and stops the server.
# Environment: QUILT_BENCH_S3_PORT, QUILT_BENCH_GATEWAY_SECONDS (default 60), QUILT_BENCH_GATEWAY_CLIENTS (default 50),
# QUILT_BENCH_AOT=0 (skip the Native AOT build, several minutes), QUILT_BENCH_TRANSFER_MB (default 1024),
# QUILT_BENCH_TABLES_MB (each table file of the tables suite, default 1000), QUILT_S3_MEMORY_BYTES (the server's store).
set -euo pipefail

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

quick=0
suites=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) usage ;;
    hashing|package|manifest|s3|browse|gateway|mcp|size|tables) suites+=("$arg") ;;
    *) echo "bench.sh: unknown argument '$arg'" >&2; usage ;;
  esac
done
[ ${#suites[@]} -gt 0 ] || suites=(all)

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
port=${QUILT_BENCH_S3_PORT:-7490}
s3dir=${TMPDIR:-/tmp}/quilt-bench-s3-$port
command -v dotnet >/dev/null || { echo "bench.sh: the .NET SDK (dotnet) is not installed; install .NET 10 and run again." >&2; exit 1; }

echo "bench.sh: building bench/Quilt.Bench (Release)" >&2
dotnet build bench/Quilt.Bench/Quilt.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly >&2

# The server as users run it: the dotnet tool's plain build, ReadyToRun, and Native AOT (the first listed is used
# for the round-trip and transfer figures). aws (the peer in the transfer table) comes from Debian when missing.
kinds=(jit r2r)
[ "${QUILT_BENCH_AOT:-1}" = 0 ] || kinds=(aot "${kinds[@]}")
servers=""
for kind in "${kinds[@]}"; do
  echo "bench.sh: publishing quilt-mcp ($kind)" >&2
  servers+="$kind=$(bash scripts/publish.sh "$kind" "$repo/artifacts/bench/quilt-mcp-$kind");"
done
export QUILT_BENCH_SERVERS=$servers
if ! command -v aws >/dev/null; then
  echo "bench.sh: installing awscli" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends awscli) >/dev/null
fi

# The tables suite's peer: DuckDB's own engine through its Node.js API, pinned by bench/duckdb-peer/package-lock.json.
if command -v npm >/dev/null; then
  echo "bench.sh: installing the DuckDB peer (bench/duckdb-peer)" >&2
  npm ci --prefix bench/duckdb-peer --no-audit --no-fund --loglevel=error >&2
fi

echo "bench.sh: starting the S3 server on 127.0.0.1:$port" >&2
# The transfers alone write about 6.5 GB (three tools, two runs, 1 GiB each way), more than the test server's default.
env_lines=$(QUILT_S3_MEMORY_BYTES=${QUILT_S3_MEMORY_BYTES:-12884901888} bash scripts/s3-server.sh start "$s3dir" "$port")
trap 'bash scripts/s3-server.sh stop "$s3dir" || true' EXIT
eval "$env_lines"
export QUILT_TEST_S3_ENDPOINT=$AWS_ENDPOINT_URL_S3
if [ $quick = 1 ]; then export QUILT_BENCH_QUICK=1; else unset QUILT_BENCH_QUICK; fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "# Quilt MCP for .NET benchmarks$([ $quick = 1 ] && echo ' (quick smoke run: reduced sizes)')"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
start=$SECONDS
dotnet bench/Quilt.Bench/bin/Release/net10.0/Quilt.Bench.dll "${suites[@]}"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); benchmark run took $((SECONDS - start)) s."
