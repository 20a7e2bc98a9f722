// MCP resources end to end with the official TypeScript client, over stdio and Streamable HTTP, on each storage: every
// template read with the URIs the tools hand out, every static resource, resources/list, get_resource, subscribe →
// notifications/resources/updated (stdio; refused over stateless HTTP), and one read through the MCP Inspector CLI.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { baseArgs, call, command, connect, here, ok, storages, textOf } from "./harness.mjs";

/** The resource_link blocks of a successful tool result: the URIs a client follows to read what a tool found. */
async function links(client, name, args) {
  const result = await call(client, name, args);
  assert.ok(!result.isError, `${name} failed: ${textOf(result)}`);
  return result.content.filter((c) => c.type === "resource_link");
}

const STATIC = ["quilt-mcp://buckets", "quilt-mcp://identity", "quilt-mcp://limits", "quilt-mcp://syntax"];
const TEMPLATES = ["quilt+s3://{bucket}#package={+name}", "quilt+s3://{bucket}#package={+name}&path={+key}",
  "quilt+s3://{bucket}#package={+name}@{hash}", "quilt+s3://{bucket}#package={+name}@{hash}&path={+key}", "s3://{bucket}/{+key}"];
const PNG = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 31 + 7) % 256));

const stores = await storages();

const one = async (client, uri) => {
  const { contents } = await client.readResource({ uri });
  assert.equal(contents.length, 1);
  assert.equal(contents[0].uri, uri);
  return contents[0];
};
const json = async (client, uri) => {
  const contents = await one(client, uri);
  assert.equal(contents.mimeType, "application/json");
  return JSON.parse(contents.text);
};

for (const storage of stores) {
  for (const transport of ["stdio", "http"]) {
    test(`resources over ${transport} on ${storage.name}`, { timeout: 180_000 }, async () => {
      const session = await connect(transport, storage);
      const { client } = session;
      try {
        const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort();
        assert.deepEqual(templates, TEMPLATES);

        // s3://{bucket}/{+key}: the URIs of bucket_objects_list's resource links, text and binary.
        const prefix = `res/${transport}/`;
        await ok(client, "bucket_objects_put", { objects: [
          { uri: `s3://${storage.bucket}/${prefix}notes one.md`, text: "# Notes\nwörld\n", contentType: "text/markdown" },
          { uri: `s3://${storage.bucket}/${prefix}pic.png`, base64: PNG.toString("base64"), contentType: "image/png" },
        ] });
        const listed = await links(client, "bucket_objects_list", { bucket: storage.bucket, prefix });
        const md = listed.find((l) => l.name === "notes one.md").uri;
        const png = listed.find((l) => l.name === "pic.png").uri;
        const text = await one(client, md);
        assert.equal(text.text, "# Notes\nwörld\n");
        assert.equal(text.mimeType, "text/markdown");
        const blob = await one(client, png);
        assert.equal(blob.mimeType, "image/png");
        assert.deepEqual(Buffer.from(blob.blob, "base64"), PNG);

        // Package templates: the entry URIs of package_browse's links (pinned), the latest form, and the summaries.
        const name = `res/${transport}`;
        const created = await ok(client, "package_create", {
          package: name, message: "resources e2e", metadata: { team: "e2e" }, overwrite: true,
          sources: [{ text: "a,b\n1,2\n", logicalKey: "data/t.csv" }, { text: "read me", logicalKey: "README.md" }],
        });
        const browsed = await links(client, "package_browse", { package: name, registry: storage.bucket, path: "data" });
        const pinned = browsed.find((l) => l.name === "data/t.csv").uri;
        assert.match(pinned, /@[0-9a-f]{64}&path=data\/t\.csv$/);
        assert.equal((await one(client, pinned)).text, "a,b\n1,2\n");
        const latestEntry = `quilt+s3://${storage.bucket}#package=${name}&path=README.md`;
        assert.equal((await one(client, latestEntry)).text, "read me");
        const summary = await json(client, created.uri);
        assert.equal(summary.topHash, created.topHash);
        assert.equal(summary.message, "resources e2e");
        assert.deepEqual(summary.metadata, { team: "e2e" });
        assert.equal(summary.entries, 2);
        assert.deepEqual(summary.folders.map((f) => f.name), ["data/"]);
        assert.deepEqual(summary.topLevelFileKeys, ["README.md"]);
        const latest = await json(client, `quilt+s3://${storage.bucket}#package=${name}`);
        assert.equal(latest.topHash, created.topHash);

        // The static resources, listed and read.
        const listedResources = (await client.listResources()).resources.map((r) => r.uri);
        assert.deepEqual(listedResources.slice(0, 4), STATIC);
        assert.ok(listedResources.includes(`quilt+s3://${storage.bucket}#package=${name}`));
        const buckets = await json(client, "quilt-mcp://buckets");
        assert.deepEqual(buckets.buckets.buckets.map((b) => b.name), [storage.bucket]);
        const identity = await json(client, "quilt-mcp://identity");
        assert.equal(identity.storage, storage.name);
        const identityText = JSON.stringify(identity);
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
          if (storage.env[key]) assert.ok(!identityText.includes(storage.env[key]), `identity shows no ${key}`);
        }
        const limits = await json(client, "quilt-mcp://limits");
        assert.equal(limits.maxPageSize, 1000);
        assert.equal(limits.maxSubscriptions, transport === "stdio" ? 32 : 0);
        const syntax = await one(client, "quilt-mcp://syntax");
        assert.equal(syntax.mimeType, "text/markdown");
        assert.match(syntax.text, /quilt\+s3:\/\/bucket#package=user\/name/);

        // get_resource: what resources/read returns, for clients without resource support.
        const tool = await client.callTool({ name: "get_resource", arguments: { uri: md } });
        assert.ok(!tool.isError, textOf(tool));
        assert.equal(textOf(tool), "# Notes\nwörld\n");
        assert.equal(tool.structuredContent.mimeType, "text/markdown");
        const toolBlob = await client.callTool({ name: "get_resource", arguments: { uri: png } });
        assert.equal(toolBlob.content[0].type, "resource");
        assert.deepEqual(Buffer.from(toolBlob.content[0].resource.blob, "base64"), PNG);

        // Errors say what to do, and the allow-list holds.
        await assert.rejects(client.readResource({ uri: "s3://not-this-bucket/x" }), /not one this server may use/);
        await assert.rejects(client.readResource({ uri: "ftp://x/y" }), /not a resource this server serves/);

        // Subscriptions: stdio notifies when the object changes; stateless HTTP says it cannot.
        if (transport === "stdio") {
          assert.equal(client.getServerCapabilities().resources.subscribe, true);
          const updated = new Promise((resolvePromise) =>
            client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolvePromise(n.params.uri)));
          await client.subscribeResource({ uri: md });
          await ok(client, "bucket_objects_put", { objects: [{ uri: md, text: "# Notes\nchanged\n", contentType: "text/markdown" }], overwrite: true });
          assert.equal(await updated, md);
          await client.unsubscribeResource({ uri: md });
        } else {
          assert.notEqual(client.getServerCapabilities().resources.subscribe, true);
          await assert.rejects(client.subscribeResource({ uri: md }), /stateless HTTP/);
        }
      } finally {
        await session.close();
      }
    });
  }
}

test("the MCP Inspector CLI reads a resource", { timeout: 120_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), "quilt-mcp-e2e-inspector-"));
  try {
    await mkdir(join(root, "inspector-bucket"));
    await writeFile(join(root, "inspector-bucket", "hello.txt"), "hello inspector\n");
    const inspector = resolve(here, "node_modules/.bin/mcp-inspector");
    const { stdout } = await promisify(execFile)(inspector, ["--cli", "--method", "resources/read", "--uri", "s3://inspector-bucket/hello.txt",
      "--", command, ...baseArgs, "--storage", "local", "--root", root, "--bucket", "inspector-bucket"], { timeout: 100_000 });
    const result = JSON.parse(stdout);
    assert.deepEqual(result.contents, [{ uri: "s3://inspector-bucket/hello.txt", mimeType: "text/plain", text: "hello inspector\n" }]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.after(async () => {
  for (const storage of stores) await storage.cleanup();
});
