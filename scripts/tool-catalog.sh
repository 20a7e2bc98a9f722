#!/usr/bin/env bash
# Rewrites src/Quilt.Mcp/Tools/ToolCatalog.json (the tools/list descriptions the server starts with) from the tool
# classes, by the SDK's own reflection. Run after changing a tool, a parameter or a [Description]; review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
QUILT_UPDATE_TOOL_CATALOG=1 dotnet test --project tests/Quilt.Mcp.Tests -- --filter-class "*ToolCatalogTests" >/dev/null
# The rewritten file is embedded at build: check it now matches.
dotnet test --project tests/Quilt.Mcp.Tests -- --filter-class "*ToolCatalogTests"
git --no-pager diff --stat -- src/Quilt.Mcp/Tools/ToolCatalog.json
