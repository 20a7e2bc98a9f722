// Search (issue 12) through the official TypeScript client on each storage: search_packages and search_objects find
// what was just written (the embedded index builds on first use and refreshes), their structuredContent validates
// against the tool's whole outputSchema with ajv, the resource links they carry open, and a bad search string is a tool
// error that says what is wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import { call, connect, ok, okText, storages, textOf } from "./harness.mjs";

const ajv = new Ajv({ strict: false, allErrors: true });
// The index goes to a folder of this run's, not the user's cache.
const indexFolder = await mkdtemp(join(tmpdir(), "quilt-e2e-search-"));
process.env.QUILT_MCP_SEARCH_INDEX = indexFolder;

const stores = await storages();
test.after(async () => {
  for (const storage of stores) await storage.cleanup();
  await rm(indexFolder, { recursive: true, force: true });
});

function valid(tools, name, structured) {
  const tool = tools.find((t) => t.name === name);
  assert.ok(tool?.outputSchema?.properties, `${name} lists its whole output schema`);
  const validate = ajv.compile(tool.outputSchema);
  assert.ok(validate(structured), `${name}: ${ajv.errorsText(validate.errors)}`);
  return structured;
}

const links = (result) => result.content.filter((c) => c.type === "resource_link");

for (const storage of stores) {
  test(`search packages and objects (${storage.name})`, { timeout: 300_000 }, async () => {
    const { client, close } = await connect("stdio", storage);
    try {
      const { tools } = await client.listTools();
      const word = `zq${Math.random().toString(36).slice(2, 10)}`;
      const base = `s3://${storage.bucket}/search-e2e/`;
      await ok(client, "bucket_objects_put", {
        objects: [
          { uri: `${base}notes-${word}.md`, text: `field notes about ${word}` },
          { uri: `${base}other.txt`, text: "nothing to see" },
        ],
      });
      const pkg = `e2e/search-${word}`;
      await ok(client, "package_create", {
        package: pkg,
        message: `first run of ${word}`,
        metadata: { project: "atlas", samples: 12 },
        sources: [{ logicalKey: "README.md", text: "read me" }],
      });

      const packages = await call(client, "search_packages", { query: word, buckets: [storage.bucket] });
      assert.ok(!packages.isError, textOf(packages));
      const found = valid(tools, "search_packages", packages.structuredContent);
      assert.deepEqual(found.hits.map((h) => h.package), [pkg]);
      assert.ok(found.hits[0].uri.startsWith(`quilt+s3://${storage.bucket}#package=${pkg}@`), found.hits[0].uri);
      const packageLink = links(packages).find((l) => l.uri === found.hits[0].uri);
      assert.ok(packageLink, "the hit comes with a resource link");
      const summary = await client.readResource({ uri: packageLink.uri });
      assert.ok(summary.contents[0].text.includes("README.md"), summary.contents[0].text.slice(0, 200));

      const byMetadata = await ok(client, "search_packages", {
        buckets: [storage.bucket], name: pkg, metadata: [{ path: "/samples", type: "number", gte: 10, lte: 20 }],
      });
      assert.deepEqual(valid(tools, "search_packages", byMetadata).hits.map((h) => h.package), [pkg]);

      // By text only: the package's own copy (e2e/search-<word>/README.md) has the word in its key.
      const objects = await call(client, "search_objects", { query: `content:${word}`, buckets: [storage.bucket] });
      assert.ok(!objects.isError, textOf(objects));
      const hits = valid(tools, "search_objects", objects.structuredContent).hits;
      assert.equal(hits.length, 1, JSON.stringify(hits));
      assert.ok(hits[0].uri.startsWith(`${base}notes-${word}.md`), hits[0].uri);
      const objectLink = links(objects).find((l) => l.uri === hits[0].uri);
      assert.ok(objectLink, "the object hit comes with a resource link");
      assert.equal((await okText(client, "bucket_object_text", { uri: objectLink.uri })).text, `field notes about ${word}`);

      const bad = await call(client, "search_packages", { query: '"unclosed', buckets: [storage.bucket] });
      assert.ok(bad.isError, "a bad search string is a tool error");
      assert.match(textOf(bad), /quote/i);
    } finally {
      await close();
    }
  });
}
