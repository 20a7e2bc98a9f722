#!/usr/bin/env bash
# Publishes the quilt-mcp server/CLI as a standalone build for this machine (linux-x64 unless RID is set):
#   bash scripts/publish.sh aot [OUT]   Native AOT: one native file, fastest start (needs a C toolchain and zlib: installed if missing)
#   bash scripts/publish.sh r2r [OUT]   ReadyToRun: precompiled IL, needs the .NET runtime
#   bash scripts/publish.sh jit [OUT]   plain framework-dependent build (what `dotnet tool install` gives)
# OUT defaults to artifacts/quilt-mcp-<kind>; the executable is OUT/quilt-mcp. Prints that path on stdout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-aot}
out=${2:-$repo/artifacts/quilt-mcp-$kind}
rid=${RID:-linux-x64}
project="$repo/src/Quilt.Cli/Quilt.Cli.csproj"
common=(-c Release -o "$out" -nologo -v quiet -clp:ErrorsOnly)
case "$kind" in
  aot)
    # The native linker (clang or gcc) and zlib come from Debian when missing.
    if { ! command -v clang >/dev/null && ! command -v gcc >/dev/null; } || [ ! -e /usr/include/zlib.h ]; then
      echo "publish.sh: installing clang and zlib1g-dev for Native AOT" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang zlib1g-dev) >/dev/null
    fi
    dotnet publish "$project" "${common[@]}" -r "$rid" -p:PublishAot=true >&2 ;;
  r2r) dotnet publish "$project" "${common[@]}" -r "$rid" --self-contained false -p:PublishReadyToRun=true >&2 ;;
  jit) dotnet publish "$project" "${common[@]}" >&2 ;;
  *) echo "usage: $0 aot|r2r|jit [OUT]" >&2; exit 2 ;;
esac
echo "$out/quilt-mcp"
