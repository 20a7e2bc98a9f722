#!/usr/bin/env bash
# The main job on the embedded default: a local folder as storage, no AWS account.
# Builds the quilt-mcp tool, then, in a fresh local root (kept so you can look at it), creates a Quilt package from this
# repository's docs, publishes a second revision, and shows browse, revisions, diff and verify, plus the MCP server's
# answer to an MCP client (initialize + tools/list) over stdio.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
dotnet build src/Quilt.Cli -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
tool="dotnet $repo/src/Quilt.Cli/bin/Release/net10.0/quilt-mcp.dll"

export QUILT_MCP_ROOT=${QUILT_MCP_ROOT:-$(mktemp -d /tmp/quilt-mcp-demo-XXXXXX)}
echo "== storage: local folder $QUILT_MCP_ROOT (registry bucket 'local')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r docs "$work/docs"
cp README.md "$work/README.md"

echo; echo "== quilt-mcp package create demo/docs README.md docs/=docs -m 'first revision' --meta '{\"source\": \"demo\"}'"
$tool package create demo/docs "$work/README.md" "docs/=$work/docs" -m "first revision" --meta '{"source": "demo"}' --overwrite
echo "revision two" > "$work/docs/NEW.md"
echo; echo "== a second revision with one file more"
$tool package create demo/docs "$work/README.md" "docs/=$work/docs" -m "second revision" --meta '{"source": "demo"}' --overwrite
echo; echo "== quilt-mcp package list"; $tool package list
echo; echo "== quilt-mcp package revisions demo/docs"; $tool package revisions demo/docs
first=$($tool package revisions demo/docs --json | grep -o '"top_hash": "[0-9a-f]*"' | tail -1 | cut -d'"' -f4)
echo; echo "== quilt-mcp package diff demo/docs ${first:0:8}"; $tool package diff demo/docs "${first:0:8}"
echo; echo "== quilt-mcp package browse demo/docs"; $tool package browse demo/docs
echo; echo "== quilt-mcp package verify demo/docs"; $tool package verify demo/docs
echo; echo "== the MCP server over stdio: initialize, then tools/list (tool names)"
{
  printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}'
  printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  printf '%s\n' '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
  sleep 2
} | $tool serve 2>/dev/null | grep -o '"name":"[a-z_]*"' | cut -d'"' -f4 | grep -v '^quilt-mcp$' | sort -u | tr '\n' ' '
echo
echo; echo "Next: point an MCP client at the server (docs/mcp.md), e.g. Claude Code:"
echo "  claude mcp add quilt -e QUILT_MCP_ROOT=$QUILT_MCP_ROOT -- dotnet $repo/src/Quilt.Cli/bin/Release/net10.0/quilt-mcp.dll"
