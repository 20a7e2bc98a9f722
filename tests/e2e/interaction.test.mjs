// Prompts, completions, elicitation and honest capabilities, driven by the official TypeScript client over stdio and
// Streamable HTTP (a local-folder store). Stateless HTTP cannot send the client a request: there, elicitation and
// roots behave as for a client without them, and logging is not advertised.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { call, connect, ok, storages, textOf } from "./harness.mjs";

const WRITE_TOOLS = ["bucket_object_copy", "bucket_object_delete", "bucket_objects_put", "package_create", "package_patch", "package_promote",
  "package_revision_delete", "role_switch"];
const PROMPTS = {
  explore_bucket: [{ bucket: "e2e-bucket" }, ["bucket_objects_list", "bucket_object_text", "package_list"]],
  summarize_package: [{ package: "team/e2e" }, ["package_revisions", "package_browse", "package_entry_text"]],
  publish_package: [{ package: "team/e2e", sources: "/tmp/a.csv", message: "Run 1", metadata: '{"run": 1}' }, ["package_revisions", "package_create", "package_browse"]],
  compare_revisions: [{ package: "team/e2e" }, ["package_revisions", "package_diff", "package_entry_text"]],
};

const [local] = await storages();
const work = await mkdtemp(join(tmpdir(), "quilt-mcp-e2e-interaction-"));
test.after(async () => {
  await rm(work, { recursive: true, force: true });
  await local.cleanup();
});

for (const transport of ["stdio", "http"]) {
  test(`over ${transport}: read-only lists no write tool and refuses one by name`, { timeout: 60_000 }, async () => {
    const session = await connect(transport, local, ["--read-only"]);
    try {
      const { tools } = await session.client.listTools();
      assert.ok(tools.length > 0);
      for (const tool of tools) assert.equal(tool.annotations?.readOnlyHint, true, `${tool.name} is listed by a read-only server`);
      assert.deepEqual(tools.filter((t) => WRITE_TOOLS.includes(t.name)), []);
      const result = await call(session.client, "bucket_object_delete", { uri: `s3://${local.bucket}/x.txt` });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /bucket_object_delete .*read-only.*Nothing was written/s);
    } finally {
      await session.close();
    }
  });

  test(`over ${transport}: capabilities claim no listChanged${transport === "http" ? " and no logging" : ""}; every prompt is got`, { timeout: 60_000 }, async () => {
    const session = await connect(transport, local);
    try {
      const capabilities = session.client.getServerCapabilities();
      assert.equal(capabilities.tools?.listChanged, undefined);
      assert.equal(capabilities.prompts?.listChanged, undefined);
      assert.ok(capabilities.completions);
      assert.equal(Boolean(capabilities.logging), transport === "stdio");

      const { prompts } = await session.client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name).sort(), Object.keys(PROMPTS).sort());
      for (const [name, [args, tools]] of Object.entries(PROMPTS)) {
        const { messages } = await session.client.getPrompt({ name, arguments: args });
        assert.equal(messages.length, 1);
        const text = messages[0].content.text;
        const at = tools.map((t) => text.indexOf(t));
        assert.ok(at.every((i) => i >= 0), `${name} does not name ${tools}`);
        assert.deepEqual([...at].sort((a, b) => a - b), at, `${name} names its tools out of order`);
      }
      await assert.rejects(session.client.getPrompt({ name: "publish_package", arguments: { package: "a/b", sources: "/x", message: "m", metadata: "[1]" } }),
        /metadata must be a JSON object/);
    } finally {
      await session.close();
    }
  });

  test(`over ${transport}: completions for buckets, packages, revisions and keys`, { timeout: 60_000 }, async () => {
    const session = await connect(transport, local);
    try {
      const { client } = session;
      const name = `team/complete-${transport}`;
      const created = await ok(client, "package_create", { package: name, sources: [{ text: "a", logicalKey: "data/x.csv" }, { text: "b", logicalKey: "readme.md" }] });
      const complete = async (ref, argument, value, context) =>
        (await client.complete({ ref, argument: { name: argument, value }, ...(context ? { context: { arguments: context } } : {}) })).completion.values;
      const prompt = (n) => ({ type: "ref/prompt", name: n });

      assert.deepEqual(await complete(prompt("explore_bucket"), "bucket", "e2e"), [local.bucket]);
      assert.deepEqual(await complete(prompt("summarize_package"), "package", `team/complete-${transport}`), [name]);
      assert.deepEqual(await complete(prompt("compare_revisions"), "from", "", { package: name }), ["latest", created.topHash]);
      assert.deepEqual(await complete(prompt("summarize_package"), "path", "", { package: name }), ["data/", "readme.md"]);
      const template = { type: "ref/resource", uri: "quilt+s3://{bucket}#package={name}&path={+key}" };
      assert.deepEqual(await complete(template, "key", "data/", { bucket: local.bucket, name }), ["data/x.csv"]);
      assert.deepEqual(await complete(prompt("compare_revisions"), "from", "", { package: "nobody/none" }), []);
    } finally {
      await session.close();
    }
  });

  test(`over ${transport}: elicitation before a delete${transport === "http" ? " is not sent (stateless HTTP)" : ", declined then accepted"}`, { timeout: 60_000 }, async () => {
    const session = await connect(transport, local, [], { capabilities: { elicitation: {} } });
    try {
      const { client } = session;
      const asked = [];
      let answer = { action: "decline" };
      client.setRequestHandler(ElicitRequestSchema, async (request) => {
        asked.push(request.params);
        return answer;
      });
      const uri = `s3://${local.bucket}/elicit-${transport}.txt`;
      await ok(client, "bucket_objects_put", { objects: [{ uri, text: "keep me" }] });

      if (transport === "stdio") {
        const declined = await call(client, "bucket_object_delete", { uri });
        assert.equal(declined.isError, true);
        assert.match(textOf(declined), /declined by the user\. Nothing was done/);
        assert.equal(asked.length, 1);
        assert.match(asked[0].message, new RegExp(uri.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
        await ok(client, "bucket_object_info", { uri });
        answer = { action: "accept", content: { confirm: true } };
      }
      const deleted = await ok(client, "bucket_object_delete", { uri });
      assert.equal(deleted.existed, true);
      assert.equal(asked.length, transport === "stdio" ? 2 : 0);
      assert.equal((await call(client, "bucket_object_info", { uri })).isError, true);
    } finally {
      await session.close();
    }
  });
}

test("over stdio: client roots limit a fetch destination, and are asked again when they change", { timeout: 60_000 }, async () => {
  const inside = join(work, "inside");
  const outside = join(work, "outside");
  await mkdir(inside, { recursive: true });
  await mkdir(outside, { recursive: true });
  const session = await connect("stdio", local, [], { capabilities: { roots: { listChanged: true } } });
  try {
    const { client } = session;
    const roots = [{ uri: pathToFileURL(inside).href, name: "inside" }];
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots }));
    const uri = `s3://${local.bucket}/rooted.txt`;
    await ok(client, "bucket_objects_put", { objects: [{ uri, text: "rooted" }] });

    const refused = await call(client, "bucket_object_fetch", { uri, destination: join(outside, "r.txt") });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /outside the folders the client shares/);
    assert.ok(textOf(refused).includes(inside));
    await ok(client, "bucket_object_fetch", { uri, destination: join(inside, "r.txt") });
    assert.equal(await readFile(join(inside, "r.txt"), "utf8"), "rooted");

    roots.push({ uri: pathToFileURL(outside).href });
    await client.sendRootsListChanged();
    let result;
    for (let i = 0; i < 100 && (result === undefined || result.isError); i++) result = await call(client, "bucket_object_fetch", { uri, destination: join(outside, "r.txt") });
    assert.equal(result.isError, undefined, textOf(result));
    assert.equal(await readFile(join(outside, "r.txt"), "utf8"), "rooted");
  } finally {
    await session.close();
  }
});

test("over stdio: log messages at the level the client sets", { timeout: 60_000 }, async () => {
  const session = await connect("stdio", local);
  try {
    const { client } = session;
    const messages = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => messages.push(n.params));
    await client.setLoggingLevel("error");
    await call(client, "bucket_object_info", { uri: `s3://${local.bucket}/missing-1.txt` });
    await client.setLoggingLevel("info");
    await call(client, "bucket_object_info", { uri: `s3://${local.bucket}/missing-2.txt` });
    for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(messages.length, 1);
    assert.equal(messages[0].level, "info");
    assert.match(String(messages[0].data), /missing-2\.txt/);
  } finally {
    await session.close();
  }
});

test("a prompt through the MCP Inspector CLI", { timeout: 60_000 }, async () => {
  // The Inspector's CLI as a user would run it against the server.
  const { execFile } = await import("node:child_process");
  const { command, baseArgs, here } = await import("./harness.mjs");
  const output = await new Promise((resolve, reject) =>
    execFile(join(here, "node_modules/.bin/mcp-inspector"),
      ["--cli", command, ...baseArgs, ...local.args, "--bucket", local.bucket, "--method", "prompts/get", "--prompt-name", "explore_bucket",
        "--prompt-args", `bucket=${local.bucket}`],
      { timeout: 50_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))));
  const result = JSON.parse(output);
  assert.match(result.messages[0].content.text, /bucket_objects_list/);
});
