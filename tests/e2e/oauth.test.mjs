// MCP authorization end to end: quilt-mcp serve --http as an OAuth protected resource, the gateway's built-in
// authorization server on loopback, and the official TypeScript client's OAuth support (an OAuthClientProvider given
// to StreamableHTTPClientTransport, which discovers the server's metadata, registers dynamically, sends the user to the
// consent page and finishes with finishAuth). The consent step is driven here by posting the page's form with fetch,
// as the user's browser would. Needs QUILT_TEST_S3_ENDPOINT (the gateway serves S3); skipped without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { here, server, startHttpServer, textOf } from "./harness.mjs";
import { createBucket, s3Settings } from "./s3.mjs";

const gateway = process.env.QUILT_GATEWAY_SERVER ?? resolve(here, "../../src/Quilt.Gateway/bin/Debug/net10.0/quilt-gateway.dll");
const s3 = s3Settings();
const ISSUER = "https://quilt.e2e";
const AUDIENCE = "quilt-gateway";
const EXCHANGE_ID = "quilt-mcp";
const EXCHANGE_SECRET = randomBytes(32).toString("hex");
const REDIRECT = "http://127.0.0.1:33419/callback";

const b64url = (data) => Buffer.from(data).toString("base64url");
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

/** A Quilt JWT (HS256 with the gateway's secret), what the user signs in with on the consent page. */
function quiltJwt(secret, subject, role) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ sub: subject, name: subject, roles: [role], role, iss: ISSUER, aud: AUDIENCE, iat: now - 60, exp: now + 3600 }));
  return `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;
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

async function startGateway(work, bucket, secret) {
  const port = await freePort();
  const config = join(work, "gateway.json");
  await writeFile(config, JSON.stringify({
    listen: `http://127.0.0.1:${port}`,
    jwt: { issuers: [ISSUER], audiences: [AUDIENCE] },
    s3: { endpoint: s3.endpoint, region: s3.region },
    roles: { writer: { grants: [{ bucket, prefix: "", read: true, write: true }] } },
    audit: { sqlitePath: join(work, "gateway.db"), sqliteDurable: false },
    oauth: { enabled: true, exchangeClients: { [EXCHANGE_ID]: {} } },
  }));
  const [command, args] = gateway.endsWith(".dll") ? ["dotnet", [gateway]] : [gateway, []];
  const child = spawn(command, [...args, "--config", config], {
    env: {
      ...process.env,
      QUILT_GATEWAY_JWT__HS256SECRET: secret,
      [`QUILT_GATEWAY_OAUTH__EXCHANGECLIENTS__${EXCHANGE_ID}__SECRET`]: EXCHANGE_SECRET,
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
      if ((await fetch(`${url}/.well-known/oauth-authorization-server`)).ok) return { url, stop: () => child.kill("SIGTERM") };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGTERM");
  throw new Error(`quilt-gateway did not answer within 60 s:\n${stderr}`);
}

/** An OAuthClientProvider kept in memory: what a remote MCP client (Claude.ai, ChatGPT) keeps per user. */
class MemoryProvider {
  constructor() {
    this.authorizations = [];
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return { client_name: "quilt-mcp e2e", redirect_uris: [REDIRECT], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizations.push(new URL(url));
  }
  saveCodeVerifier(verifier) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The user at the consent page: reads the form, signs in with their Quilt token, allows; returns the code. */
async function consent(authorizationUrl, quiltToken, { scope } = {}) {
  const url = new URL(authorizationUrl);
  if (scope) url.searchParams.set("scope", scope); // the user (or the client) asks for less
  const page = await fetch(url, { redirect: "manual" });
  assert.equal(page.status, 200, await page.clone().text());
  const cookie = page.headers.get("set-cookie").split(";")[0];
  const html = await page.text();
  assert.match(html, /quilt-mcp e2e/);
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)) form.set(name, value.replaceAll("&amp;", "&"));
  form.set("quilt_token", quiltToken);
  form.set("decision", "allow");
  const approved = await fetch(new URL("/oauth/authorize", url), { method: "POST", body: form, headers: { cookie }, redirect: "manual" });
  assert.equal(approved.status, 302, await approved.text());
  const back = new URL(approved.headers.get("location"));
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
  assert.equal(back.searchParams.get("state"), url.searchParams.get("state"));
  return back.searchParams.get("code");
}

/** Connects with the provider, going through authorization when the server asks for it. */
async function connectWithOAuth(endpoint, provider, quiltToken, options = {}) {
  const first = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider });
  const client = new Client({ name: "quilt-mcp-oauth-e2e", version: "1.0.0" });
  try {
    await client.connect(first);
    return client;
  } catch (error) {
    assert.ok(error instanceof UnauthorizedError, `expected the client to be sent to authorization, got ${error}`);
  }
  const code = await consent(provider.authorizations.at(-1), quiltToken, options);
  await first.finishAuth(code);
  const again = new Client({ name: "quilt-mcp-oauth-e2e", version: "1.0.0" });
  await again.connect(new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider }));
  return again;
}

async function postToolsList(endpoint, token) {
  return fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

test("OAuth end to end: discovery, registration, consent, scopes with step-up, audience, and registry mode by token exchange",
  { timeout: 600_000, skip: s3 ? false : "QUILT_TEST_S3_ENDPOINT is not set" }, async () => {
    for (const path of [server, gateway]) assert.ok(existsSync(path), `No build at ${path}: build the solution.`);
    const work = await mkdtemp(join(tmpdir(), "quilt-oauth-e2e-"));
    const bucket = `e2e-oauth-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    await createBucket(s3, bucket);
    const secret = randomBytes(48).toString("base64");
    const user = `oauth-${Date.now().toString(36)}`;
    const quiltToken = quiltJwt(secret, user, "writer");
    const gw = await startGateway(work, bucket, secret);
    const root = join(work, "root");
    await mkdir(join(root, "local-bucket"), { recursive: true });
    await writeFile(join(root, "local-bucket", "hello.txt"), "hello\n");
    const local = startHttpServer(["--storage", "local", "--root", root, "--bucket", "local-bucket", "--auth-issuer", gw.url], {});
    const other = startHttpServer(["--storage", "local", "--root", root, "--bucket", "local-bucket", "--auth-issuer", gw.url], {});
    const registryEnv = { QUILT_MCP_AUTH_EXCHANGE_CLIENT_ID: EXCHANGE_ID, QUILT_MCP_AUTH_EXCHANGE_CLIENT_SECRET: EXCHANGE_SECRET };
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "QUILT_REGISTRY_TOKEN"]) registryEnv[name] = "";
    const registry = startHttpServer(["--registry-url", gw.url, "--bucket", bucket, "--auth-issuer", gw.url], registryEnv);
    const clients = [];
    try {
      const endpoint = await local.endpoint;

      // Without a token: 401 pointing at the protected resource metadata, which names the gateway.
      const bare = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
      assert.equal(bare.status, 401);
      const metadataUrl = /resource_metadata="([^"]+)"/.exec(bare.headers.get("www-authenticate"))[1];
      const metadata = await (await fetch(metadataUrl)).json();
      assert.deepEqual(metadata.authorization_servers, [gw.url]);
      assert.equal(metadata.resource, endpoint);

      // The user grants reading only; reading works.
      const provider = new MemoryProvider();
      const client = await connectWithOAuth(endpoint, provider, quiltToken, { scope: "quilt.read" });
      clients.push(client);
      assert.ok(provider.client.client_id.startsWith("qc_"), "registered dynamically");
      const claims = claimsOf(provider.saved.access_token);
      assert.equal(claims.aud, endpoint, "the token is for this server (RFC 8707 resource)");
      assert.equal(claims.sub, user);
      assert.equal(claims.scope, "quilt.read");
      const listed = await client.callTool({ name: "bucket_objects_list", arguments: { bucket: "local-bucket" } });
      assert.ok(!listed.isError, textOf(listed));
      assert.deepEqual(listed.structuredContent.objects.map((o) => o.name), ["hello.txt"]);

      // A write tool: 403 insufficient_scope; the client steps up (authorization again, asking for quilt.write too).
      await assert.rejects(client.callTool({ name: "bucket_objects_put", arguments: { objects: [{ uri: "s3://local-bucket/new.txt", text: "new" }] } }), UnauthorizedError);
      const stepUp = provider.authorizations.at(-1);
      assert.deepEqual(stepUp.searchParams.get("scope").split(" ").sort(), ["quilt.read", "quilt.write"]);
      const code = await consent(stepUp, quiltToken);
      const transport = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider });
      await transport.finishAuth(code);
      const writer = new Client({ name: "quilt-mcp-oauth-e2e", version: "1.0.0" });
      await writer.connect(transport);
      clients.push(writer);
      const put = await writer.callTool({ name: "bucket_objects_put", arguments: { objects: [{ uri: "s3://local-bucket/new.txt", text: "new" }] } });
      assert.ok(!put.isError, textOf(put));

      // A token minted for this server is refused by another one (audience), and by the registry (no passthrough).
      const refused = await postToolsList(await other.endpoint, provider.saved.access_token);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get("www-authenticate"), /error="invalid_token"/);
      const graph = await fetch(`${gw.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${provider.saved.access_token}` },
        body: JSON.stringify({ query: "{ me { name } }" }),
      });
      assert.equal(graph.status, 401);

      // Registry mode: the MCP server exchanges the user's token for a registry token at the gateway and acts as them.
      const registryEndpoint = await registry.endpoint;
      const registryProvider = new MemoryProvider();
      const registryClient = await connectWithOAuth(registryEndpoint, registryProvider, quiltToken);
      clients.push(registryClient);
      assert.equal(claimsOf(registryProvider.saved.access_token).aud, registryEndpoint);
      const uploaded = await registryClient.callTool({ name: "bucket_objects_put", arguments: { objects: [{ uri: `s3://${bucket}/oauth/a.txt`, text: "through the registry" }] } });
      assert.ok(!uploaded.isError, textOf(uploaded));
      const read = await registryClient.callTool({ name: "bucket_object_text", arguments: { uri: `s3://${bucket}/oauth/a.txt`, format: "text" } });
      assert.ok(!read.isError, textOf(read));
      assert.equal(read.content[0].text, "through the registry");
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      for (const s of [local, other, registry]) s.child.kill("SIGTERM");
      gw.stop();
      await rm(work, { recursive: true, force: true });
    }
  });
