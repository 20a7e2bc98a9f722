// package_diff as a new user meets it (issue 14): through the MCP Inspector CLI, one text block and no
// structuredContent, every change listed under its folder; and over both transports with the TypeScript client, an
// overwrite of an existing object asked for first when the client can be asked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { baseArgs, call, command, connect, here, ok, storages, textOf } from "./harness.mjs";

const [local] = await storages();
test.after(() => local.cleanup());

const inspector = (args) => new Promise((resolve, reject) =>
  execFile(join(here, "node_modules/.bin/mcp-inspector"), ["--cli", command, ...baseArgs, ...local.args, "--bucket", local.bucket, ...args],
    { timeout: 50_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)))));

test("package_diff through the MCP Inspector CLI: one text listing, no structuredContent", { timeout: 120_000 }, async () => {
  const session = await connect("stdio", local);
  let created, patched;
  try {
    const { client } = session;
    created = await ok(client, "package_create", {
      package: "e2e/diffed", message: "one",
      sources: [{ text: "a", logicalKey: "a.txt" }, { text: "1", logicalKey: "data/x.csv" }, { text: "gone", logicalKey: "data/old.csv" }],
    });
    patched = await ok(client, "package_patch", {
      package: "e2e/diffed", message: "two", add: [{ text: "22", logicalKey: "data/x.csv" }, { text: "n", logicalKey: "data/new.csv" }],
      remove: ["data/old.csv"],
    });
  } finally {
    await session.close();
  }

  const result = await inspector(["--method", "tools/call", "--tool-name", "package_diff", "--tool-arg", "package=e2e/diffed"]);
  assert.equal(result.structuredContent, undefined);
  assert.equal(result.content.length, 1);
  const lines = result.content[0].text.split("\n");
  assert.equal(lines[0], `e2e/diffed ${created.topHash.slice(0, 12)}..${patched.topHash.slice(0, 12)}: 1 added, 1 removed, 1 modified, 1 unchanged.`);
  assert.equal(lines[1], 'message "one" to "two"');
  assert.equal(lines[3], "data/");
  assert.deepEqual(lines.slice(4, 6), ["A new.csv", "D old.csv"]);
  assert.match(lines[6], /^M x\.csv 1\.\.2 #\S{8}\.\.\S{8}$/);

  const listed = await inspector(["--method", "tools/list"]);
  assert.equal(listed.tools.find((t) => t.name === "package_diff").outputSchema, undefined);
});

for (const transport of ["stdio", "http"]) {
  test(`over ${transport}: a put over an existing object${transport === "http" ? " is not asked (stateless HTTP)" : " is asked first, and declined writes nothing"}`, { timeout: 60_000 }, async () => {
    const session = await connect(transport, local, [], { capabilities: { elicitation: {} } });
    try {
      const { client } = session;
      const asked = [];
      client.setRequestHandler(ElicitRequestSchema, async (request) => {
        asked.push(request.params);
        return { action: "decline" };
      });
      const uri = `s3://${local.bucket}/replace-${transport}.txt`;
      await ok(client, "bucket_objects_put", { objects: [{ uri, text: "first" }] });
      assert.equal(asked.length, 0, "a new key is not asked about");

      const again = await call(client, "bucket_objects_put", { objects: [{ uri, text: "second" }] });
      if (transport === "stdio") {
        assert.equal(again.isError, true);
        assert.match(textOf(again), /declined by the user\. Nothing was done/);
        assert.equal(asked.length, 1);
        assert.ok(asked[0].message.includes(`Replace the existing object ${uri}?`), asked[0].message);
      } else {
        assert.ok(!again.isError, textOf(again));
        assert.equal(asked.length, 0);
      }
      const text = await call(client, "bucket_object_text", { uri });
      assert.equal(text.content[0].text, transport === "stdio" ? "first" : "second");
    } finally {
      await session.close();
    }
  });
}
