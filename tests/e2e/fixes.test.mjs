// package_diff (why entries changed, renames), package_list (each package's latest revision) and package_link (pinned
// URI, catalog page, entry download) through the official TypeScript client, on each storage, with every
// structuredContent checked against the tool's outputSchema by ajv.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import { connect, ok, storages } from "./harness.mjs";

const stores = await storages();
const CATALOG = "catalog.example.com";

for (const storage of stores) {
  test(`${storage.name} storage: package_diff reasons and renames, package_list details, package_link`, { timeout: 120_000 }, async () => {
    const session = await connect("stdio", storage, ["--catalog", CATALOG]);
    try {
      const { client } = session;
      const { tools } = await client.listTools();
      const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
      const validators = Object.fromEntries(tools.map((t) => [t.name, ajv.compile(t.outputSchema)]));
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

      const diff = await checked("package_diff", { package: "e2e/fixes" });
      assert.equal(diff.from, created.topHash);
      assert.equal(diff.to, patched.topHash);
      assert.deepEqual([diff.added, diff.removed], [[], []]);
      assert.deepEqual(diff.renamed, [{ from: "b.txt", to: "moved/b.txt", metadata: null }]);
      assert.equal(diff.modified.length, 1);
      const [a] = diff.modified;
      assert.equal(a.path, "a.txt");
      assert.deepEqual(a.size, { from: 5, to: 7 });
      assert.notEqual(a.hash.from, a.hash.to);
      assert.deepEqual(a.metadata, { added: ["checked"], removed: [], changed: ["v"] });
      assert.deepEqual(diff.message, { from: "one", to: "two" });
      assert.deepEqual(diff.metadata, { added: [], removed: [], changed: ["stage"] });
      assert.ok(!JSON.stringify(diff).includes("quilt+s3://"), "no URI per entry");

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
