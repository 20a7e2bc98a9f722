// Shared by the end-to-end suites: where the server is, the storages to test (a local folder; S3 too when
// QUILT_TEST_S3_ENDPOINT is set), a client session over stdio or Streamable HTTP, and call helpers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createBucket, s3Settings } from "./s3.mjs";

export const here = dirname(fileURLToPath(import.meta.url));
// Every server these tests start lists whole output schemas (by default tools/list gives only each one's type, to stay
// small), so that each structuredContent is validated field by field: the SDK client's and ajv's checks can then fail.
process.env.QUILT_MCP_OUTPUT_SCHEMAS ??= "full";

export const server = process.env.QUILT_MCP_SERVER ?? resolve(here, "../../src/Quilt.Cli/bin/Debug/net10.0/quilt-mcp.dll");
if (!existsSync(server)) throw new Error(`No server at ${server}: build it (dotnet build src/Quilt.Cli) or set QUILT_MCP_SERVER.`);
export const [command, baseArgs] = server.endsWith(".dll") ? ["dotnet", [server]] : [server, []];

export function textBytes(size) {
  const lines = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `line ${i}: the quick brown fox jumps over the lazy dog\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, size);
}

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
export const textOf = (result) => result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");

export async function storages() {
  const local = await mkdtemp(join(tmpdir(), "quilt-mcp-e2e-root-"));
  await mkdir(join(local, "e2e-bucket"));
  const list = [{ name: "local", bucket: "e2e-bucket", args: ["--storage", "local", "--root", local], env: {}, cleanup: () => rm(local, { recursive: true, force: true }) }];
  const s3 = s3Settings();
  if (s3) {
    const bucket = `e2e-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    await createBucket(s3, bucket);
    list.push({
      name: "s3",
      bucket,
      args: ["--storage", "s3", "--endpoint", s3.endpoint, "--path-style"],
      env: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: s3.region },
      cleanup: async () => {},
    });
  }
  return list;
}

/** Starts `quilt-mcp --http --port 0` and resolves with the endpoint it prints on stderr. */
export function startHttpServer(args, env) {
  const child = spawn(command, [...baseArgs, ...args, "--http", "--port", "0"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const endpoint = new Promise((resolvePromise, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolvePromise(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${stderr}`)));
  });
  const exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  return { child, endpoint, exited, stderr: () => stderr };
}

/**
 * Records progress notifications as the transport delivers them. The client's own onprogress callbacks run in a later
 * microtask and are dropped once the result has been handled, so a notification that arrives in the same read as the
 * result never reaches them; the raw record shows what the server sent, and in which order.
 */
export function recordProgress(transport) {
  const seen = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method === "notifications/progress") seen.push(message.params);
    deliver?.(message, extra);
  };
  return seen;
}

// Every session lists the tools first: the SDK client then checks each call's structuredContent against the tool's
// outputSchema (it validates only for tools it has listed), as a client that validates results does.
export async function connect(transportName, storage, extraArgs = [], clientOptions = {}) {
  const args = [...storage.args, "--bucket", storage.bucket, ...extraArgs];
  const client = new Client({ name: "quilt-mcp-e2e", version: "1.0.0" }, clientOptions);
  if (transportName === "stdio") {
    const transport = new StdioClientTransport({ command, args: [...baseArgs, ...args], env: { ...process.env, ...storage.env }, stderr: "pipe" });
    let stderr = "";
    transport.stderr?.on("data", (chunk) => (stderr += chunk));
    await client.connect(transport);
    await client.listTools();
    const progress = recordProgress(transport);
    return { client, progress, stderr: () => stderr, close: async () => { await client.close(); return { code: 0 }; } };
  }
  const http = startHttpServer(args, storage.env);
  const url = await http.endpoint;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  await client.listTools();
  const progress = recordProgress(transport);
  return {
    client,
    progress,
    stderr: http.stderr,
    close: async () => {
      await client.close();
      http.child.kill("SIGTERM");
      return http.exited;
    },
  };
}

/** Checks the notifications one call produced: each with the total, the last (sent before the result) at the total. */
export function assertProgress(seen, total) {
  assert.ok(seen.length >= 2, `expected progress notifications, got ${seen.length}`);
  assert.ok(seen.every((p) => p.total === total), "every notification carries the total");
  assert.ok(seen.every((p, i) => i === 0 || p.progress >= seen[i - 1].progress), "progress never goes back");
  assert.equal(seen.at(-1).progress, total, "the last notification, before the result, reaches the total");
}

export async function call(client, name, args, progress) {
  const options = { timeout: 300_000 };
  if (progress) Object.assign(options, { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true });
  return client.callTool({ name, arguments: args }, undefined, options);
}

export async function ok(client, name, args, progress) {
  const result = await call(client, name, args, progress);
  assert.ok(!result.isError, `${name} failed: ${textOf(result)}`);
  assert.ok(result.structuredContent, `${name} returned no structured content`);
  return result.structuredContent;
}

// bucket_object_text / package_entry_text send their text once, as the first content block (structuredContent.text is
// null): the structured result with the text put back.
export async function okText(client, name, args) {
  const result = await call(client, name, args);
  assert.ok(!result.isError, `${name} failed: ${textOf(result)}`);
  assert.equal(result.structuredContent?.text, null, `${name} repeats its text in structuredContent`);
  return { ...result.structuredContent, text: result.content[0].text };
}
