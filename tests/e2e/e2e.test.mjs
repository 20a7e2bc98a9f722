// The quilt-mcp server driven by a client nobody here wrote: the official TypeScript MCP SDK.
// For each storage (a local folder; S3 too when QUILT_TEST_S3_ENDPOINT is set) and each transport (stdio, Streamable
// HTTP): list tools, put a 20 MiB file, list it, read its text, fetch it to a path, get a link and download through
// it with a plain client, and compare bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assertProgress, baseArgs, call, command, connect, here, ok, okText, sha256, storages, textBytes, textOf } from "./harness.mjs";

const SIZE = 20 * 1024 * 1024; // a float-exact size: MCP progress values are floats on the server side
const TOOLS = ["bucket_object_copy", "bucket_object_delete", "bucket_object_fetch", "bucket_object_info", "bucket_object_link",
  "bucket_object_text", "bucket_objects_list", "bucket_objects_put", "buckets_list", "get_resource",
  "package_browse", "package_create", "package_diff", "package_entry_fetch", "package_entry_text", "package_link", "package_list",
  "package_patch", "package_promote", "package_revision_delete", "package_revisions", "role_switch", "search_objects", "search_packages",
  "table_describe", "table_query", "table_rows"];

const stores = await storages();
const work = await mkdtemp(join(tmpdir(), "quilt-mcp-e2e-files-"));
const data = textBytes(SIZE);
const source = join(work, "big.txt");
await writeFile(source, data);

for (const storage of stores) {
  for (const transport of ["stdio", "http"]) {
    test(`${storage.name} storage over ${transport}: put 20 MiB, list, read text, fetch, link, compare bytes`, { timeout: 300_000 }, async () => {
      const session = await connect(transport, storage);
      try {
        const { client } = session;
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
        for (const tool of tools) {
          // package_diff answers in text only (no structuredContent), so it alone has no output schema.
          assert.ok(tool.description && tool.annotations && (tool.outputSchema || tool.name === "package_diff"), `${tool.name} lacks a description, annotations or output schema`);
        }

        const prefix = `e2e/${transport}/`;
        const uri = `s3://${storage.bucket}/${prefix}big.txt`;
        session.progress.length = 0;
        const put = await ok(client, "bucket_objects_put", { objects: [{ uri, localPath: source }] }, []);
        assert.equal(put.totalBytes, SIZE);
        assert.equal(put.objects[0].uri, uri);
        assertProgress(session.progress, SIZE);

        const listing = await ok(client, "bucket_objects_list", { bucket: `s3://${storage.bucket}/${prefix}`, delimiter: "/" });
        assert.deepEqual(listing.objects.map((o) => [listing.prefix + o.name, o.size]), [[`${prefix}big.txt`, SIZE]]);

        const info = await ok(client, "bucket_object_info", { uri });
        assert.equal(info.size, SIZE);
        assert.match(info.contentType, /^text\/plain/);

        const first = await okText(client, "bucket_object_text", { uri, maxBytes: 4096 });
        assert.equal(first.text, data.subarray(0, 4096).toString("utf8"));
        assert.equal(first.nextOffset, 4096);
        assert.equal(first.truncated, true);
        const middle = await okText(client, "bucket_object_text", { uri, format: "text", offset: 10_000_000, maxBytes: 1000 });
        assert.equal(middle.text, data.subarray(10_000_000, 10_001_000).toString("utf8"));

        const tooBig = await call(client, "bucket_object_fetch", { uri });
        assert.equal(tooBig.isError, true);
        assert.match(textOf(tooBig), /inline limit.*destination/s);

        session.progress.length = 0;
        const target = join(work, `${storage.name}-${transport}-fetched.txt`);
        const fetched = await ok(client, "bucket_object_fetch", { uri, destination: target }, []);
        assert.equal(fetched.path, target);
        assert.equal(fetched.sha256, sha256(data));
        assert.ok((await readFile(target)).equals(data), "fetched file differs");
        assertProgress(session.progress, SIZE);

        const link = await ok(client, "bucket_object_link", { uri, expiresInSeconds: 300 });
        let viaLink;
        if (link.url.startsWith("file://")) {
          viaLink = await readFile(fileURLToPath(link.url));
        } else {
          const response = await fetch(link.url);
          assert.equal(response.status, 200, `GET ${link.url} answered ${response.status}`);
          viaLink = Buffer.from(await response.arrayBuffer());
        }
        assert.ok(viaLink.equals(data), "bytes downloaded through the link differ");

        const missing = await call(client, "bucket_object_info", { uri: `s3://${storage.bucket}/${prefix}missing.txt` });
        assert.equal(missing.isError, true);
        assert.match(textOf(missing), /No object at/);

        const outside = await call(client, "bucket_objects_list", { bucket: "not-allowed-bucket" });
        assert.equal(outside.isError, true);
        assert.match(textOf(outside), /not one this server may use/);
      } catch (e) {
        e.message += `\n--- server stderr ---\n${session.stderr()}`;
        throw e;
      } finally {
        const exit = await session.close();
        if (transport === "http") assert.equal(exit.code, 0, `the HTTP server did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}`);
      }
    });
  }
}

test("read-only mode hides the write tools and refuses a call to one with a tool error", { timeout: 60_000 }, async () => {
  const session = await connect("stdio", stores[0], ["--read-only"]);
  try {
    const { tools } = await session.client.listTools();
    assert.ok(!tools.some((t) => t.name === "bucket_objects_put"), "a read-only server lists bucket_objects_put");
    const result = await call(session.client, "bucket_objects_put", { objects: [{ uri: `s3://${stores[0].bucket}/ro.txt`, text: "x" }] });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /read-only/);
  } finally {
    await session.close();
  }
});

test("bad configuration stops the server with a clear message and a nonzero exit", { timeout: 60_000 }, async () => {
  const child = spawn(command, [...baseArgs, "--storage", "ftp", "--bucket", "Bad_Name"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  const code = await new Promise((r) => child.on("exit", r));
  assert.notEqual(code, 0);
  assert.match(stderr, /storage 'ftp'.*local, s3/);
  assert.match(stderr, /not a valid bucket name/);
});

test("the stdio server exits when its input closes", { timeout: 60_000 }, async () => {
  const child = spawn(command, [...baseArgs, ...stores[0].args], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end();
  const code = await new Promise((r) => child.on("exit", r));
  assert.equal(code, 0);
});

// Previews go through the most library code (CSV, JSON Lines, Parquet); run against a Native AOT build
// (QUILT_MCP_SERVER=<published binary>) this shows they survive trimming. data/sample.parquet holds 3 rows
// {Id int, Name string?, Score double?, Tags list<string>} written by Parquet.Net.
test("previews of CSV, JSON Lines and Parquet objects", { timeout: 60_000 }, async () => {
  const session = await connect("stdio", stores[0]);
  const base = `s3://${stores[0].bucket}/previews`;
  try {
    const { client } = session;
    const parquet = await readFile(join(here, "data", "sample.parquet"));
    await ok(client, "bucket_objects_put", { objects: [
      { uri: `${base}/table.csv`, text: "id,name\n1,alpha\n2,beta\n3,gamma\n" },
      { uri: `${base}/events.jsonl`, text: '{"a":1}\n{"a":2,"b":[true,null]}\n' },
      { uri: `${base}/sample.parquet`, base64: parquet.toString("base64") },
    ] });

    const csv = await ok(client, "bucket_object_text", { uri: `${base}/table.csv`, rows: 2 });
    assert.equal(csv.format, "csv");
    assert.deepEqual(csv.columns.map((c) => c.name), ["id", "name"]);
    assert.deepEqual(csv.rows, [["1", "alpha"], ["2", "beta"]]);

    const jsonl = await okText(client, "bucket_object_text", { uri: `${base}/events.jsonl` });
    assert.equal(jsonl.format, "jsonl");
    assert.match(jsonl.text, /"b"/);

    const table = await ok(client, "bucket_object_text", { uri: `${base}/sample.parquet`, rows: 2 });
    assert.equal(table.format, "parquet");
    assert.equal(table.rowCount, 3);
    assert.deepEqual(table.columns.map((c) => c.name), ["Id", "Name", "Score", "Tags/list/element"]);
    assert.equal(table.rows.length, 2);
    assert.deepEqual(table.rows[0], ["1", "alpha", "0.5", "[x, y]"]);
    assert.deepEqual(table.rows[1], ["2", null, "1.25", "[]"]);
  } finally {
    await session.close();
  }
});

test.after(async () => {
  await rm(work, { recursive: true, force: true });
  for (const storage of stores) await storage.cleanup();
});

// Issue 5's path over stdio: create a package from uploaded objects and inline text, browse it, patch it, diff the two
// revisions and read the history; the package's entries are read back through the object tools by quilt+s3 URI.
for (const storage of await storages()) {
  test(`${storage.name} storage over stdio: package create, browse, patch, diff, history`, { timeout: 300_000 }, async () => {
    const session = await connect("stdio", storage);
    try {
      const { client } = session;
      const csv = "id,value\n1,alpha\n2,beta\n";
      await ok(client, "bucket_objects_put", { objects: [
        { uri: `s3://${storage.bucket}/raw/table.csv`, text: csv },
        { uri: `s3://${storage.bucket}/raw/notes/readme.md`, text: "# notes" },
      ] });
      const created = await ok(client, "package_create", {
        package: "e2e/demo",
        message: "first",
        metadata: { owner: "e2e", version: 1 },
        sources: [
          { uri: `s3://${storage.bucket}/raw/`, logicalKey: "data" },
          { text: "hello", logicalKey: "hello.txt", metadata: { lang: "en" } },
        ],
      });
      assert.match(created.topHash, /^[0-9a-f]{64}$/);
      assert.equal(created.entries, 3);
      assert.equal(created.uri, `quilt+s3://${storage.bucket}#package=e2e/demo@${created.topHash}`);

      const root = await ok(client, "package_browse", { package: "e2e/demo" });
      assert.deepEqual(root.folders.map((f) => f.name), ["data/"]);
      assert.deepEqual(root.files.map((f) => f.name), ["hello.txt"]);
      assert.deepEqual(root.files[0].metadata, { lang: "en" });
      const data = await call(client, "package_browse", { package: created.uri, path: "data" });
      assert.ok(data.structuredContent.files.some((f) => data.structuredContent.prefix + f.name === "data/table.csv"), "data/table.csv is in the package");
      const table = data.content.find((c) => c.type === "resource_link" && c.name === "data/table.csv");
      assert.ok(table, "browse links data/table.csv");
      const preview = await call(client, "bucket_object_text", { uri: table.uri, format: "text" });
      assert.ok(!preview.isError, textOf(preview));
      assert.match(textOf(preview), /2,beta/);

      const patched = await ok(client, "package_patch", {
        package: "e2e/demo",
        message: "second",
        add: [{ text: "id,value\n3,gamma\n", logicalKey: "data/more.csv" }],
        remove: ["hello.txt"],
        rename: { "data/notes/readme.md": "README.md" },
      });
      assert.deepEqual(patched.changes.added, ["data/more.csv"]);
      assert.deepEqual(patched.changes.removed, ["hello.txt"]);
      assert.deepEqual(patched.changes.renamed, [{ from: "data/notes/readme.md", to: "README.md", metadata: null }]);
      assert.equal(patched.changes.unchanged, 1);

      const diff = textOf(await call(client, "package_diff", { package: "e2e/demo" }));
      assert.ok(diff.startsWith(`e2e/demo ${created.topHash.slice(0, 12)}..${patched.topHash.slice(0, 12)}: `), diff);
      assert.ok(diff.includes('\nmessage "first" to "second"\n'), diff);

      const history = await ok(client, "package_revisions", { package: "e2e/demo" });
      assert.deepEqual(history.revisions.map((r) => r.topHash), [patched.topHash, created.topHash]);
      assert.deepEqual(history.revisions.map((r) => r.message), ["second", "first"]);
      const entry = await call(client, "package_entry_text", { package: "e2e/demo", path: "data/more.csv", format: "text" });
      assert.match(textOf(entry), /3,gamma/);
    } finally {
      await session.close();
    }
  });
}
