// package_diff (why entries changed, renames), package_list (each package's latest revision) and package_link (pinned
// URI, catalog page, entry download) through the official TypeScript client, on each storage, with every
// structuredContent checked against the tool's outputSchema by ajv (package_diff answers in text only).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import { call, connect, ok, storages, textOf } from "./harness.mjs";

const stores = await storages();
const CATALOG = "catalog.example.com";

for (const storage of stores) {
  test(`${storage.name} storage: package_diff reasons and renames, package_list details, package_link`, { timeout: 120_000 }, async () => {
    const session = await connect("stdio", storage, ["--catalog", CATALOG]);
    try {
      const { client } = session;
      const { tools } = await client.listTools();
      const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
      // package_diff answers in text only, with no output schema.
      const validators = Object.fromEntries(tools.filter((t) => t.outputSchema).map((t) => [t.name, ajv.compile(t.outputSchema)]));
      const checked = async (name, args) => {
        const result = await ok(client, name, args);
        assert.ok(validators[name](result), `${name}: ${ajv.errorsText(validators[name].errors)}`);
        return result;
      };

      const created = await checked("package_create", {
        package: "e2e/fixes", message: "one", metadata: { stage: "raw", owner: "e2e" },
        sources: [{ text: "alpha", logicalKey: "a.txt", metadata: { v: 1 } }, { text: "beta", logicalKey: "b.txt" }],
      });
      const patched = await checked("package_patch", {
        package: "e2e/fixes", message: "two", metadata: { stage: "clean", owner: "e2e" },
        add: [{ text: "alpha!!", logicalKey: "a.txt", metadata: { v: 2, checked: true } }],
        rename: { "b.txt": "moved/b.txt" },
      });
      assert.deepEqual(patched.changes.renamed, [{ from: "b.txt", to: "moved/b.txt", metadata: null }]);

      // package_diff: one text block (no structuredContent), every change with why; hashes cut, whole in package_browse.
      const result = await call(client, "package_diff", { package: "e2e/fixes" });
      assert.ok(!result.isError, textOf(result));
      assert.equal(result.structuredContent, undefined);
      assert.equal(tools.find((t) => t.name === "package_diff").outputSchema, undefined);
      const cut = async (revision) =>
        (await checked("package_browse", { package: "e2e/fixes", revision })).files.find((f) => f.name === "a.txt").hash.split(":")[1].slice(0, 8);
      assert.equal(textOf(result),
        `e2e/fixes ${created.topHash.slice(0, 12)}..${patched.topHash.slice(0, 12)}: 1 renamed, 1 modified, 0 unchanged.\n`
        + `message "one" to "two"\nmetadata changed stage "raw".."clean"\nR renamed, M modified: size old..new #hash old..new\n`
        + `M a.txt 5..7 #${await cut(created.topHash.slice(0, 12))}..${await cut(patched.topHash.slice(0, 12))} metadata changed v 1..2; added checked true\n`
        + `R b.txt to moved/b.txt\n`);
      assert.ok(!textOf(result).includes("quilt+s3://"), "no URI per entry");

      const list = await checked("package_list", { filter: "e2e/fixes" });
      assert.equal(list.packages.length, 1);
      const [item] = list.packages;
      assert.equal(item.name, "e2e/fixes");
      assert.equal(item.topHash, patched.topHash);
      assert.equal(item.message, "two");
      assert.deepEqual(item.metadata, { stage: "clean", owner: "e2e" });
      assert.equal(item.metadataTruncated, false);
      assert.deepEqual([item.entries, item.size], [2, 11]);
      const history = await checked("package_revisions", { package: "e2e/fixes" });
      assert.equal(item.time, history.revisions[0].time);

      const link = await checked("package_link", { package: "e2e/fixes", path: "a.txt", expiresInSeconds: 300 });
      assert.equal(link.topHash, patched.topHash);
      assert.equal(link.uri, `quilt+s3://${storage.bucket}#package=e2e/fixes@${patched.topHash}&path=a.txt`);
      assert.equal(link.catalogUrl, `https://${CATALOG}/b/${storage.bucket}/packages/e2e/fixes/tree/${patched.topHash}/a.txt`);
      const url = new URL(link.download.url);
      const bytes = url.protocol === "file:" ? await readFile(fileURLToPath(url), "utf8") : await (await fetch(url)).text();
      assert.equal(bytes, "alpha!!");
      if (url.protocol === "file:") assert.match(link.download.note, /cannot be shared/);
      else assert.equal(link.download.note, null);
      const revisionLink = await checked("package_link", { package: "e2e/fixes" });
      assert.deepEqual([revisionLink.path, revisionLink.download], [null, null]);

      // Catalog pages of objects: S3 objects have one, a local folder's do not.
      const objectUri = `s3://${storage.bucket}/e2e/fixes/a.txt`;
      const info = await checked("bucket_object_info", { uri: objectUri });
      assert.equal(info.catalogUrl, storage.name === "s3" ? `https://${CATALOG}/b/${storage.bucket}/tree/e2e/fixes/a.txt` : null);
    } finally {
      await session.close();
    }
  });
}
