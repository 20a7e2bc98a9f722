// The table tools (table_describe, table_rows, table_query) through the official TypeScript client, on a local folder
// and (with QUILT_TEST_S3_ENDPOINT) on S3: files the test writes (CSV with quoting, unicode and missing values; TSV;
// JSON Lines; Parquet with nulls and lists), a package glob, paging, and the sandbox's refusals. Every structuredContent
// is validated against the tool's listed outputSchema with ajv, explicitly (the null-cell bug class), not only by the SDK.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { call, connect, here, ok, storages, textOf } from "./harness.mjs";

// The server's table cache: a folder of this run, not the user's ~/.cache.
const cache = await mkdtemp(join(tmpdir(), "quilt-mcp-e2e-tables-"));
process.env.QUILT_MCP_TABLE_CACHE = cache;
const stores = await storages();
const ajv = new Ajv2020({ strict: false, allErrors: true });

const CSV = 'id,name,city,score\n1,"Smith, Ann",Zürich,3.5\n2,"Bo ""the"" Best",Köln,\n3,Chloé,Zürich,1.5\n4,Dan,,2\n';

/** Calls a tool that must succeed and checks its structuredContent against the outputSchema tools/list gave for it. */
async function valid(client, schemas, name, args) {
  const result = await ok(client, name, args);
  const validate = schemas.get(name);
  assert.ok(validate, `${name} has no outputSchema`);
  assert.ok(validate(result), `${name}: structuredContent does not match its outputSchema: ${ajv.errorsText(validate.errors)}`);
  return result;
}

for (const storage of stores) {
  test(`${storage.name}: table_describe, table_rows and table_query answer within their output schemas`, { timeout: 180_000 }, async () => {
    const session = await connect("stdio", storage);
    const base = `s3://${storage.bucket}/tables`;
    try {
      const { client } = session;
      const { tools } = await client.listTools();
      const schemas = new Map(tools.filter((t) => t.name.startsWith("table_")).map((t) => [t.name, ajv.compile(t.outputSchema)]));
      assert.deepEqual([...schemas.keys()].sort(), ["table_describe", "table_query", "table_rows"]);
      for (const tool of tools.filter((t) => t.name.startsWith("table_"))) {
        assert.deepEqual([tool.annotations.readOnlyHint, tool.annotations.destructiveHint, tool.annotations.idempotentHint, tool.annotations.openWorldHint],
          [true, undefined, undefined, false], `${tool.name} hints`);
      }

      const parquet = await readFile(join(here, "data", "sample.parquet"));
      await ok(client, "bucket_objects_put", { objects: [
        { uri: `${base}/people.csv`, text: CSV },
        { uri: `${base}/words.tsv`, text: "id\tword\n1\tälpha\n2\t\n" },
        { uri: `${base}/events.jsonl`, text: '{"id":1,"tags":["a","b"]}\n{"id":2,"tags":[],"v":null}\n' },
        { uri: `${base}/parts/a.parquet`, base64: parquet.toString("base64") },
        { uri: `${base}/parts/b.parquet`, base64: parquet.toString("base64") },
      ] });
      await ok(client, "package_create", { package: "e2e/tables", message: "tables", sources: [{ uri: `${base}/parts/`, logicalKey: "data" }] });

      // describe: Parquet from its footer (nulls from statistics), CSV and TSV with the sniffed dialect.
      const footer = await valid(client, schemas, "table_describe", { uri: `${base}/parts/a.parquet` });
      assert.equal(footer.method, "parquet-footer");
      assert.equal(footer.rows, 3);
      assert.equal(footer.columns.find((c) => c.name === "Name").nulls, 1);
      const csv = await valid(client, schemas, "table_describe", { uri: `${base}/people.csv` });
      assert.deepEqual([csv.rows, csv.dialect.delimiter, csv.dialect.header], [4, ",", true]);
      assert.deepEqual(csv.columns.find((c) => c.name === "city").topValues[0], { value: "Zürich", count: 2 });
      const tsv = await valid(client, schemas, "table_describe", { uri: `${base}/words.tsv` });
      assert.equal(tsv.dialect.delimiter, "\t");

      // rows: by row number with a filter; the continuation resumes exactly; a null cell stays null.
      const first = await valid(client, schemas, "table_rows", { uri: `${base}/people.csv`, columns: ["id", "score"], limit: 2 });
      assert.deepEqual(first.rows, [["1", "3.5"], ["2", null]]);
      const next = await valid(client, schemas, "table_rows", { uri: `${base}/people.csv`, columns: ["id", "score"], offset: first.nextOffset, limit: 10 });
      assert.deepEqual(next.rows, [["3", "1.5"], ["4", "2.0"]]);
      assert.equal(next.nextOffset, null);
      const zurich = await valid(client, schemas, "table_rows", { uri: `${base}/people.csv`, filter: [{ column: "city", op: "=", value: "Zürich" }] });
      assert.deepEqual(zurich.rows.map((r) => r[1]), ["Smith, Ann", "Chloé"]);

      // query: a package glob joined with an object, and a JSON Lines table; pages resume with the cursor.
      const joined = await valid(client, schemas, "table_query", {
        tables: [{ name: "s", package: "e2e/tables", path: "data/*.parquet" }, { name: "p", uri: `${base}/people.csv` }],
        sql: "SELECT count(*) AS n, count(Name) AS named, (SELECT count(*) FROM p) AS people FROM s",
      });
      assert.deepEqual(joined.rows, [["6", "4", "4"]]);
      assert.equal(joined.tables[0].files, 2);
      const page1 = await valid(client, schemas, "table_query", { tables: [{ uri: `${base}/events.jsonl` }], sql: "SELECT id, tags, v FROM t ORDER BY id", limit: 1 });
      assert.deepEqual(page1.rows, [["1", "[a, b]", null]]);
      const page2 = await valid(client, schemas, "table_query", { tables: [{ uri: `${base}/events.jsonl` }], sql: "SELECT id, tags, v FROM t ORDER BY id", limit: 1, cursor: page1.nextCursor });
      assert.deepEqual(page2.rows, [["2", "[]", null]]);
      assert.equal(page2.nextCursor, null);

      // The sandbox: writes, other files and extensions are refused as tool errors that say why.
      for (const [sql, reason] of [
        ["CREATE TABLE x AS SELECT 1", /only a read-only query is allowed/],
        ["COPY (SELECT 1) TO '/tmp/quilt-e2e-copy.csv'", /only a read-only query is allowed/],
        ["ATTACH '/tmp/quilt-e2e.db'", /only a read-only query is allowed/],
        ["INSTALL httpfs", /only a read-only query is allowed/],
        ["SELECT * FROM read_csv('/etc/passwd')", /refused by the sandbox/],
      ]) {
        const refused = await call(client, "table_query", { tables: [{ uri: `${base}/people.csv` }], sql });
        assert.equal(refused.isError, true, `${sql} should be refused`);
        assert.match(textOf(refused), reason);
      }
      const column = await call(client, "table_rows", { uri: `${base}/people.csv`, columns: ["town"] });
      assert.equal(column.isError, true);
      assert.match(textOf(column), /has no column 'town'/);
    } finally {
      await session.close();
    }
  });
}

test.after(async () => {
  await rm(cache, { recursive: true, force: true });
  for (const storage of stores) await storage.cleanup();
});
