// Compact results (issue 14) through the official TypeScript client, over stdio and HTTP, on each storage: list and
// browse give their base once and names relative to it, their structuredContent validates against the tool's
// outputSchema (checked here with ajv as well as by the SDK), the text is a listing rather than the JSON again, and
// the resource links they carry open with the read tools.
import { test } from "node:test";
import assert from "node:assert/strict";
import Ajv from "ajv";
import { call, connect, ok, okText, storages, textOf } from "./harness.mjs";

const ajv = new Ajv({ strict: false, allErrors: true });

function assertMatchesSchema(tools, name, structured) {
  const tool = tools.find((t) => t.name === name);
  assert.ok(tool?.outputSchema, `${name} has an output schema`);
  const validate = ajv.compile(tool.outputSchema);
  assert.ok(validate(structured), `${name}: ${ajv.errorsText(validate.errors)}`);
}

const links = (result) => result.content.filter((c) => c.type === "resource_link");

const stores = await storages();
test.after(async () => {
  for (const storage of stores) await storage.cleanup();
});

for (const storage of stores) {
  for (const transport of ["stdio", "http"]) {
    test(`compact list and browse with resource links (${storage.name}, ${transport})`, { timeout: 300_000 }, async () => {
      const session = await connect(transport, storage);
      const { client } = session;
      try {
        const { tools } = await client.listTools();
        const prefix = `compact-${transport}/`;
        const base = `s3://${storage.bucket}/${prefix}`;
        await ok(client, "bucket_objects_put", {
          objects: Array.from({ length: 30 }, (_, i) => ({ uri: `${base}f${String(i).padStart(2, "0")}.txt`, text: `object ${i}` })),
        });

        const listed = await call(client, "bucket_objects_list", { bucket: base });
        assert.ok(!listed.isError, textOf(listed));
        const listing = listed.structuredContent;
        assertMatchesSchema(tools, "bucket_objects_list", listing);
        assert.equal(listing.base, base);
        assert.equal(listing.prefix, prefix);
        assert.deepEqual(listing.objects.map((o) => o.name).slice(0, 2), ["f00.txt", "f01.txt"]);
        assert.ok(listing.objects.every((o) => !("uri" in o) && !o.name.includes(prefix)), "no object repeats the base");
        const listText = listed.content[0].text;
        assert.ok(listText.startsWith(`${base}: 30 objects.`), listText.slice(0, 80));
        assert.ok(!listText.includes("{"), "the text is a listing, not the JSON again");
        const objectLinks = links(listed);
        assert.equal(objectLinks.length, 25);
        assert.equal(objectLinks[3].uri, `${base}f03.txt`);
        assert.equal(objectLinks[3].size, 8);
        const read = await okText(client, "bucket_object_text", { uri: objectLinks[3].uri });
        assert.equal(read.text, "object 3");

        const pkg = `e2e/compact-${transport}`;
        const created = await call(client, "package_create", {
          package: pkg,
          copy: false,
          sources: [{ uri: base, logicalKey: "data" }, { text: "# readme", logicalKey: "README.md" }],
        });
        assert.ok(!created.isError, textOf(created));
        assertMatchesSchema(tools, "package_create", created.structuredContent);
        const revision = created.structuredContent.uri;
        assert.equal(links(created)[0].uri, revision, "the new revision links to itself");
        assert.ok(links(created).length <= 25);

        const browsed = await call(client, "package_browse", { package: pkg, path: "data" });
        assert.ok(!browsed.isError, textOf(browsed));
        const page = browsed.structuredContent;
        assertMatchesSchema(tools, "package_browse", page);
        assert.equal(page.uri, revision);
        assert.equal(page.prefix, "data/");
        assert.equal(page.files[0].name, "f00.txt");
        assert.ok(page.files.every((f) => !("uri" in f)), "no file repeats the revision");
        assert.equal(JSON.stringify(page).split(page.topHash).length - 1, 2, "the top hash appears once, and in the revision's uri");
        const browseLinks = links(browsed);
        assert.equal(browseLinks[0].uri, revision);
        assert.equal(browseLinks.length, 25, "the revision and the first 24 files");
        assert.equal(browseLinks[1].uri, `${revision}&path=data/f00.txt`);
        const entry = await okText(client, "package_entry_text", { package: browseLinks[2].uri });
        assert.equal(entry.text, "object 1");
        assert.equal(entry.verified, true);
        const viaObjects = await okText(client, "bucket_object_text", { uri: browseLinks[2].uri });
        assert.equal(viaObjects.text, "object 1");
        // A text read validates too, with its text only in the content.
        const text = await call(client, "bucket_object_text", { uri: objectLinks[0].uri });
        assertMatchesSchema(tools, "bucket_object_text", text.structuredContent);
        assert.equal(text.structuredContent.text, null);
      } finally {
        await session.close();
      }
    });
  }
}
