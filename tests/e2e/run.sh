#!/usr/bin/env bash
# End-to-end tests with the official TypeScript MCP client (npm @modelcontextprotocol/sdk).
# Runs the server at $QUILT_MCP_SERVER (a quilt-mcp.dll or an executable); by default the Debug build of src/Quilt.Cli,
# built here if missing. With QUILT_TEST_S3_ENDPOINT set (and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), S3 is tested too,
# and registry mode through quilt-gateway ($QUILT_GATEWAY_SERVER, by default the Debug build of src/Quilt.Gateway).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ -z "${QUILT_MCP_SERVER:-}" ] && [ ! -f "$here/../../src/Quilt.Cli/bin/Debug/net10.0/quilt-mcp.dll" ]; then
  dotnet build "$here/../../src/Quilt.Cli" -c Debug -nologo -v quiet -clp:ErrorsOnly
fi
if [ -z "${QUILT_GATEWAY_SERVER:-}" ] && [ ! -f "$here/../../src/Quilt.Gateway/bin/Debug/net10.0/quilt-gateway.dll" ]; then
  dotnet build "$here/../../src/Quilt.Gateway" -c Debug -nologo -v quiet -clp:ErrorsOnly
fi
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-reporter=tap ./*.test.mjs
