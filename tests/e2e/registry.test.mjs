// Registry mode end to end: the built quilt-gateway on 127.0.0.1 in front of the real S3 server, a Quilt JWT minted
// here (HS256, the gateway's shared secret), and the quilt-mcp server in registry mode over stdio, driven by the
// official TypeScript MCP client. The MCP server never gets AWS credentials: everything goes through the gateway.
// Needs QUILT_TEST_S3_ENDPOINT (run.sh passes it on); skipped without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createBucket, s3Settings } from "./s3.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const server = process.env.QUILT_MCP_SERVER ?? resolve(here, "../../src/Quilt.Cli/bin/Debug/net10.0/quilt-mcp.dll");
const gateway = process.env.QUILT_GATEWAY_SERVER ?? resolve(here, "../../src/Quilt.Gateway/bin/Debug/net10.0/quilt-gateway.dll");
const run = (path) => (path.endsWith(".dll") ? ["dotnet", [path]] : [path, []]);
const s3 = s3Settings();
const ISSUER = "https://quilt.e2e";
const AUDIENCE = "quilt-gateway";
const SIZE = 30 * 1024 * 1024;

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const textOf = (result) => result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
const b64url = (data) => Buffer.from(data).toString("base64url");

/** An HS256 JWT as the Quilt registry signs them. */
function jwt(secret, subject, role) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({
    sub: subject, email: `${subject}@example.test`, name: subject, roles: [role], role,
    iss: ISSUER, aud: AUDIENCE, iat: now - 60, nbf: now - 60, exp: now + 3600,
  }));
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

async function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/** Starts quilt-gateway with a config for `bucket` and waits until it answers GraphQL. */
async function startGateway(work, bucket, secret, token, { uploads }) {
  const port = await freePort();
  const name = uploads ? "gateway" : "stock";
  const config = join(work, `${name}.json`);
  await writeFile(config, JSON.stringify({
    listen: `http://127.0.0.1:${port}`,
    jwt: { issuers: [ISSUER], audiences: [AUDIENCE] },
    s3: { endpoint: s3.endpoint, region: s3.region },
    roles: {
      writer: { grants: [{ bucket, prefix: "", read: true, write: true, maxUploadBytes: 1073741824 }] },
      reader: { grants: [{ bucket, prefix: "", read: true }] },
    },
    buckets: { [bucket]: { title: "e2e" } },
    uploads: { enabled: uploads },
    audit: { sqlitePath: `${name}.db`, sqliteDurable: false },
  }));
  const [command, args] = run(gateway);
  const child = spawn(command, [...args, "--config", config], {
    env: {
      ...process.env,
      QUILT_GATEWAY_JWT__HS256SECRET: secret,
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
      AWS_REGION: s3.region,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (exited !== null) throw new Error(`quilt-gateway exited (${exited}):\n${stderr}`);
    try {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ me { name } }" }),
      });
      if (response.ok) return { url, stop: () => child.kill("SIGTERM") };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGTERM");
  throw new Error(`quilt-gateway did not answer within 60 s:\n${stderr}`);
}

/** The MCP server in registry mode over stdio; the token comes from the environment, and no AWS credentials at all. */
async function connectMcp(registryUrl, bucket, token) {
  const env = { ...process.env, QUILT_REGISTRY_TOKEN: token };
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "QUILT_MCP_STORAGE"]) delete env[name];
  const [command, args] = run(server);
  const transport = new StdioClientTransport({ command, args: [...args, "--registry-url", registryUrl, "--bucket", bucket], env, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk) => (stderr += chunk));
  const client = new Client({ name: "quilt-mcp-registry-e2e", version: "1.0.0" });
  await client.connect(transport);
  await client.listTools(); // so the client checks every result against its tool's outputSchema
  return { client, stderr: () => stderr, close: () => client.close() };
}

async function call(client, name, args) {
  return client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 });
}

async function ok(client, name, args) {
  const result = await call(client, name, args);
  assert.ok(!result.isError, `${name} failed: ${textOf(result)}`);
  assert.ok(result.structuredContent, `${name} returned no structured content`);
  return result.structuredContent;
}

// The text tools send their text once, as the first content block: the structured result with the text put back.
async function okText(client, name, args) {
  const result = await call(client, name, args);
  assert.ok(!result.isError, `${name} failed: ${textOf(result)}`);
  return { ...result.structuredContent, text: result.content[0].text };
}

test("registry mode through quilt-gateway: put 30 MB, list, read, link, package create and browse; stock registry refuses put with workarounds",
  { timeout: 600_000, skip: s3 ? false : "QUILT_TEST_S3_ENDPOINT is not set" }, async () => {
    for (const path of [server, gateway]) {
      assert.ok(existsSync(path), `No build at ${path}: build the solution (or set QUILT_MCP_SERVER / QUILT_GATEWAY_SERVER).`);
    }
    const work = await mkdtemp(join(tmpdir(), "quilt-registry-e2e-"));
    const bucket = `e2e-reg-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    await createBucket(s3, bucket);
    const secret = randomBytes(48).toString("base64");
    const token = jwt(secret, `e2e-${Date.now().toString(36)}`, "writer");
    const gw = await startGateway(work, bucket, secret, token, { uploads: true });
    const stock = await startGateway(work, bucket, secret, token, { uploads: false });
    const session = await connectMcp(gw.url, bucket, token);
    try {
      const { client } = session;
      const data = Buffer.alloc(SIZE);
      for (let i = 0; i < SIZE; i++) data[i] = (i * 31 + 7) % 256;
      const source = join(work, "big.bin");
      await writeFile(source, data);

      const bigUri = `s3://${bucket}/uploads/big.bin`;
      const put = await ok(client, "bucket_objects_put", { objects: [
        { uri: bigUri, localPath: source },
        { uri: `s3://${bucket}/uploads/notes.txt`, text: "hello from registry mode\nsecond line\n" },
      ] });
      assert.equal(put.totalBytes, SIZE + 37);

      const listing = await ok(client, "bucket_objects_list", { bucket: `s3://${bucket}/uploads/`, delimiter: "/" });
      assert.deepEqual(listing.objects.map((o) => [listing.prefix + o.name, o.size]), [["uploads/big.bin", SIZE], ["uploads/notes.txt", 37]]);

      const text = await okText(client, "bucket_object_text", { uri: `s3://${bucket}/uploads/notes.txt`, format: "text" });
      assert.equal(text.text, "hello from registry mode\nsecond line\n");

      const link = await ok(client, "bucket_object_link", { uri: bigUri });
      assert.ok(!link.url.includes(token), "the link carries no token");
      const downloaded = Buffer.from(await (await fetch(link.url)).arrayBuffer());
      assert.equal(downloaded.length, SIZE);
      assert.equal(sha256(downloaded), sha256(data));

      const created = await ok(client, "package_create", {
        package: "e2e/registry",
        message: "made through the registry",
        metadata: { source: "e2e" },
        sources: [
          { uri: bigUri, logicalKey: "data/big.bin" },
          { text: "# About\n", logicalKey: "README.md" },
        ],
      });
      assert.match(created.topHash, /^[0-9a-f]{64}$/);
      assert.equal(created.entries, 2);

      const root = await ok(client, "package_browse", { package: "e2e/registry" });
      assert.deepEqual(root.files.map((f) => f.name), ["README.md"]);
      assert.deepEqual(root.folders.map((f) => f.name), ["data/"]);
      const folder = await ok(client, "package_browse", { package: "e2e/registry", path: "data" });
      assert.equal(folder.files[0].size, SIZE);
      const readme = await call(client, "package_entry_text", { package: "e2e/registry", path: "README.md", format: "text" });
      assert.match(textOf(readme), /# About/);

      // Deleting has no registry operation: a clear tool error, not a crash.
      const deleted = await call(client, "bucket_object_delete", { uri: `s3://${bucket}/uploads/notes.txt` });
      assert.ok(deleted.isError);
      assert.match(textOf(deleted), /not possible through a registry/);
    } finally {
      await session.close();
    }

    // A stock Quilt registry (no generateUploadUrl): put answers with the design note's structured error.
    const stockSession = await connectMcp(stock.url, bucket, token);
    try {
      const refused = await call(stockSession.client, "bucket_objects_put", { objects: [{ uri: `s3://${bucket}/stock/x.txt`, text: "x" }] });
      assert.ok(refused.isError, "put through a stock registry is a tool error");
      const message = textOf(refused);
      assert.match(message, /no upload API/);
      assert.match(message, /aws s3 cp/);
      assert.match(message, /"backend_feature_needed"/);
      assert.doesNotMatch(message, /Cannot query field/);
      const listing = await ok(stockSession.client, "bucket_objects_list", { bucket: `s3://${bucket}/stock/` });
      assert.deepEqual(listing.objects, []);
    } finally {
      await stockSession.close();
      gw.stop();
      stock.stop();
      await rm(work, { recursive: true, force: true });
    }
  });

/** Starts `quilt-mcp --http --port 0` in registry mode (no token of its own) and resolves with its endpoint. */
function startHttpMcp(registryUrl, bucket) {
  const env = { ...process.env };
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "QUILT_REGISTRY_TOKEN", "QUILT_MCP_STORAGE"]) delete env[name];
  const [command, args] = run(server);
  // The deprecated --registry spelling (still accepted, with a note): kept here so one end-to-end run covers it.
  const child = spawn(command, [...args, "--registry", registryUrl, "--bucket", bucket, "--http", "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const endpoint = new Promise((resolveEndpoint, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolveEndpoint(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`quilt-mcp exited (${code}) before listening:\n${stderr}`)));
  });
  return { endpoint, stop: () => child.kill("SIGTERM") };
}

test("registry mode over Streamable HTTP: each caller acts with their own token; none gets 401",
  { timeout: 300_000, skip: s3 ? false : "QUILT_TEST_S3_ENDPOINT is not set" }, async () => {
    const work = await mkdtemp(join(tmpdir(), "quilt-registry-http-e2e-"));
    const bucket = `e2e-regh-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    await createBucket(s3, bucket);
    const secret = randomBytes(48).toString("base64");
    const writerToken = jwt(secret, `writer-${Date.now().toString(36)}`, "writer");
    const readerToken = jwt(secret, `reader-${Date.now().toString(36)}`, "reader");
    const gw = await startGateway(work, bucket, secret, writerToken, { uploads: true });
    const mcp = startHttpMcp(gw.url, bucket);
    const clients = [];
    try {
      const url = new URL(await mcp.endpoint);
      const connectAs = async (token) => {
        const client = new Client({ name: "quilt-mcp-registry-http-e2e", version: "1.0.0" });
        await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
        clients.push(client);
        return client;
      };
      const writer = await connectAs(writerToken);
      const reader = await connectAs(readerToken);

      await ok(writer, "bucket_objects_put", { objects: [{ uri: `s3://${bucket}/shared/by-writer.txt`, text: "written by the writer" }] });
      const read = await okText(reader, "bucket_object_text", { uri: `s3://${bucket}/shared/by-writer.txt`, format: "text" });
      assert.equal(read.text, "written by the writer");

      const refused = await call(reader, "bucket_objects_put", { objects: [{ uri: `s3://${bucket}/shared/by-reader.txt`, text: "no" }] });
      assert.ok(refused.isError, "the reader's role may not write");
      assert.match(textOf(refused), /refused/);
      const listing = await ok(writer, "bucket_objects_list", { bucket: `s3://${bucket}/shared/` });
      assert.deepEqual(listing.objects.map((o) => listing.prefix + o.name), ["shared/by-writer.txt"]);

      const anonymous = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      assert.equal(anonymous.status, 401);
    } finally {
      for (const client of clients) await client.close();
      mcp.stop();
      gw.stop();
      await rm(work, { recursive: true, force: true });
    }
  });
