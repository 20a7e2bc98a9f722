using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Quilt.Core;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests;

/// <summary>The write tools of <see cref="Tools.PackageWriteTools"/> (create, patch, revision delete), on each store.</summary>
public abstract class PackageWriteToolsTests : PackageToolsTests
{
    private protected PackageWriteToolsTests(ToolTestStore backing) : base(backing)
    {
    }

    [Fact]
    public async Task A_package_made_from_the_metadata_fixture_gets_quilt3s_top_hash()
    {
        var files = FixturePath("metadata", "files");
        var manifestLines = File.ReadAllLines(Directory.GetFiles(FixturePath("metadata", "registry", ".quilt", "packages")).Single());
        var package = JsonNode.Parse(manifestLines[0])!;
        var sources = new JsonArray();
        foreach (var file in Directory.GetFiles(files, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(files, file).Replace('\\', '/');
            var item = new JsonObject { ["logicalKey"] = key, ["text"] = File.ReadAllText(file) };
            var entryMeta = manifestLines.Skip(1).Select(l => JsonNode.Parse(l)!).Single(e => e["logical_key"]!.GetValue<string>() == key)["meta"]!["user_meta"];
            if (entryMeta is not null)
                item["metadata"] = entryMeta.DeepClone();
            sources.Add(item);
        }
        var args = new JsonObject
        {
            ["package"] = "fixtures/metadata",
            ["sources"] = sources,
            ["message"] = package["message"]!.DeepClone(),
            ["metadata"] = package["user_meta"]!.DeepClone(),
        };
        var result = await Mcp.CallOkAsync<PackageRevisionResult>("package_create", args.ToJsonString());
        var expected = JsonNode.Parse(File.ReadAllText(FixturePath("metadata", "case.json")))!["top_hash"]!.GetValue<string>();
        Assert.Equal(expected, result.TopHash);
        Assert.Equal($"quilt+s3://{Bucket}#package=fixtures/metadata@{expected}", result.Uri);
    }

    [Fact]
    public async Task Create_browse_read_patch_diff_history_and_delete()
    {
        await PutAsync("raw/a.csv", "x,y\n1,2\n3,4\n");
        await PutAsync("raw/deep/b.json", """{"k": [1, 2]}""");
        await PutAsync("single.txt", "one object");
        var progress = new ProgressLog();
        var created = await Mcp.CallOkAsync<PackageRevisionResult>("package_create", $$$"""
            {"package": "team/data", "message": "first",
             "metadata": {"project": "demo", "n": 1.0},
             "sources": [
               {"uri": "s3://{{{Bucket}}}/raw/", "logicalKey": "data"},
               {"uri": "s3://{{{Bucket}}}/single.txt", "logicalKey": "docs/single.txt", "metadata": {"kind": "note"}},
               {"text": "# Readme", "logicalKey": "README.md"}
             ]}
            """, progress);
        Assert.Equal(4, created.Entries);
        Assert.Null(created.Changes);
        Assert.NotEmpty(progress.Values);

        var root = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/data"}""");
        Assert.Equal(created.TopHash, root.TopHash);
        Assert.Equal(["data/", "docs/"], root.Folders.Select(f => f.Name));
        Assert.Equal(3, root.Folders[0].Entries + root.Folders[1].Entries);
        Assert.Equal(["README.md"], root.Files.Select(f => f.Name));
        Assert.Equal("demo", root.Metadata!.Value.GetProperty("project").GetString());
        Assert.Equal("1.0", root.Metadata!.Value.GetProperty("n").GetRawText());

        var docs = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", $$"""{"package": "quilt+s3://{{Bucket}}#package=team/data@{{created.TopHash[..8]}}", "path": "docs"}""");
        var single = Assert.Single(docs.Files);
        Assert.Equal("note", single.Metadata!.Value.GetProperty("kind").GetString());

        var text = await Mcp.CallAsync("package_entry_text", """{"package": "team/data", "path": "data/a.csv"}""");
        Assert.Contains("3", McpHarness.Text(text), StringComparison.Ordinal);
        // The object tools read package entries by quilt+s3 URI too.
        var entryUri = (QuiltUri.Parse(docs.Uri) with { Path = docs.Prefix + single.Name }).ToString();
        var viaObjects = await Mcp.CallAsync("bucket_object_text", JsonSerializer.Serialize(new { uri = entryUri, format = "text" }));
        Assert.Contains("one object", McpHarness.Text(viaObjects), StringComparison.Ordinal);
        var fetched = await Mcp.CallAsync("package_entry_fetch", """{"package": "team/data", "path": "README.md"}""");
        var resource = Assert.IsType<TextResourceContents>(fetched.Content.OfType<EmbeddedResourceBlock>().Single().Resource);
        Assert.Equal("# Readme", resource.Text);

        // The source object changes afterwards; the package keeps what it was made from (copied, or pinned by version).
        await PutAsync("raw/a.csv", "changed");
        var patched = await Mcp.CallOkAsync<PackageRevisionResult>("package_patch", """
            {"package": "team/data", "message": "second",
             "add": [{"text": "new", "logicalKey": "data/new.txt"}],
             "remove": ["docs"],
             "rename": {"README.md": "README.txt"},
             "entryMetadata": {"data/a.csv": {"checked": true}}}
            """);
        Assert.Equal(["data/new.txt"], patched.Changes!.Added);
        Assert.Equal(["docs/single.txt"], patched.Changes.Removed);
        Assert.Equal(("README.md", "README.txt"), Assert.Single(patched.Changes.Renamed) is var r ? (r.From, r.To) : default);
        Assert.Equal(["data/a.csv"], patched.Changes.Modified);
        var entry = await Mcp.CallAsync("package_entry_text", """{"package": "team/data", "path": "data/a.csv", "format": "text"}""");
        Assert.Contains("1,2", McpHarness.Text(entry), StringComparison.Ordinal);

        var diff = McpHarness.Text(await Mcp.CallAsync("package_diff", """{"package": "team/data"}"""));
        Assert.StartsWith($"team/data {created.TopHash[..12]}..{patched.TopHash[..12]}: ", diff, StringComparison.Ordinal);
        Assert.Contains("\nmessage \"first\" to \"second\"\n", diff, StringComparison.Ordinal);
        Assert.Contains("\nR README.md to README.txt\n", diff, StringComparison.Ordinal);

        var history = await Mcp.CallOkAsync<PackageRevisionList>("package_revisions", """{"package": "team/data"}""");
        Assert.Equal([patched.TopHash, created.TopHash], history.Revisions.Select(r => r.TopHash));
        Assert.Equal(["second", "first"], history.Revisions.Select(r => r.Message));

        var list = await Mcp.CallOkAsync<PackageNameList>("package_list", """{"filter": "team"}""");
        Assert.Equal(["team/data"], list.Packages.Select(p => p.Name));

        var deleted = await Mcp.CallOkAsync<PackageDeleteResult>("package_revision_delete", $$"""{"package": "team/data", "topHash": "{{patched.TopHash[..12]}}"}""");
        Assert.Equal(created.TopHash, deleted.Latest);
        var tool = (await Mcp.Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Single(t => t.Name == "package_revision_delete");
        Assert.True(tool.ProtocolTool.Annotations?.DestructiveHint);
        // Not idempotent, as annotated: the same call again is an error, since that revision no longer exists.
        Assert.False(tool.ProtocolTool.Annotations?.IdempotentHint);
        var again = await Mcp.CallErrorAsync("package_revision_delete", $$"""{"package": "team/data", "topHash": "{{patched.TopHash[..12]}}"}""");
        Assert.Contains(patched.TopHash[..12], again, StringComparison.Ordinal);

        // Deleting the last revision deletes the package, as the tool's description says.
        var last = await Mcp.CallOkAsync<PackageDeleteResult>("package_revision_delete", $$"""{"package": "team/data", "topHash": "{{created.TopHash}}"}""");
        Assert.Null(last.Latest);
        Assert.Contains("deletes the package", tool.ProtocolTool.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("team/data", (await Mcp.CallOkAsync<PackageNameList>("package_list", """{"filter": "team"}""")).Packages.Select(p => p.Name));
    }

    [Fact]
    public async Task Create_refuses_an_existing_package_unless_overwrite_and_then_reports_changes()
    {
        await Mcp.CallOkAsync<PackageRevisionResult>("package_create", """{"package": "team/x", "sources": [{"text": "1", "logicalKey": "a.txt"}, {"text": "2", "logicalKey": "b.txt"}]}""");
        var error = await Mcp.CallErrorAsync("package_create", """{"package": "team/x", "sources": [{"text": "1", "logicalKey": "a.txt"}]}""");
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Contains("overwrite", error, StringComparison.Ordinal);
        var second = await Mcp.CallOkAsync<PackageRevisionResult>("package_create", """{"package": "team/x", "overwrite": true, "sources": [{"text": "1", "logicalKey": "a.txt"}, {"text": "3", "logicalKey": "c.txt"}]}""");
        Assert.Equal(["c.txt"], second.Changes!.Added);
        Assert.Equal(["b.txt"], second.Changes.Removed);
        Assert.Equal(1, second.Changes.Unchanged);
    }

    [Fact]
    public async Task Two_creates_at_once_both_leave_complete_revisions()
    {
        var calls = Enumerable.Range(0, 2).Select(i => Mcp.CallOkAsync<PackageRevisionResult>("package_create",
            $$"""{"package": "team/race", "overwrite": true, "sources": [{"text": "writer {{i}}", "logicalKey": "w.txt"}]}"""));
        var results = await Task.WhenAll(calls);
        var history = await Mcp.CallOkAsync<PackageRevisionList>("package_revisions", """{"package": "team/race"}""");
        Assert.Equal(results.Select(r => r.TopHash).Order(StringComparer.Ordinal), history.Revisions.Select(r => r.TopHash).Order(StringComparer.Ordinal));
        var latest = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/race"}""");
        Assert.Contains(latest.TopHash, results.Select(r => r.TopHash));
    }

    [Theory]
    [InlineData("package_create", """{"package": "bad name", "sources": [{"text": "x", "logicalKey": "a"}]}""", "not a valid name")]
    [InlineData("package_create", """{"package": "team/y"}""", "sources")]
    [InlineData("package_create", """{"package": "team/y", "sources": []}""", "sources is required")]
    [InlineData("package_create", """{"package": "team/y", "sources": [{"text": "x"}]}""", "needs a logicalKey")]
    [InlineData("package_create", """{"package": "team/y", "sources": [{"text": "x", "logicalKey": "../up"}]}""", "Invalid logical key")]
    [InlineData("package_create", """{"package": "team/y", "sources": [{"text": "x", "base64": "eA==", "logicalKey": "a"}]}""", "exactly one")]
    [InlineData("package_create", """{"package": "team/y", "metadata": [1], "sources": [{"text": "x", "logicalKey": "a"}]}""", "must be a JSON object")]
    [InlineData("package_create", """{"package": "team/y", "registry": "not-allowed-bucket", "sources": [{"text": "x", "logicalKey": "a"}]}""", "not one this server may use")]
    [InlineData("package_create", """{"package": "team/y", "sources": [{"uri": "s3://not-allowed-bucket/k"}]}""", "not one this server may use")]
    [InlineData("package_create", """{"package": "team/y", "sources": [{"uri": "relative/path.txt"}]}""", "not an absolute path")]
    [InlineData("package_browse", """{"package": "team/none"}""", "No package 'team/none'")]
    [InlineData("package_browse", """{"package": "team/none", "revision": "zz"}""", "No package")]
    [InlineData("package_patch", """{"package": "team/none", "message": "m"}""", "No package")]
    [InlineData("package_revision_delete", """{"package": "team/none", "topHash": "latest"}""", "not a top hash")]
    [InlineData("package_diff", """{"package": "quilt+s3://b#package=a"}""", "invalid package name")]
    public async Task Bad_input_is_a_tool_error_and_writes_nothing(string tool, string args, string expected)
    {
        var error = await Mcp.CallErrorAsync(tool, args.Replace("not-allowed-bucket", "elsewhere-bucket", StringComparison.Ordinal).Replace("not-allowed", "elsewhere", StringComparison.Ordinal));
        Assert.Contains(expected.Replace("not-allowed", "elsewhere", StringComparison.Ordinal), error, StringComparison.OrdinalIgnoreCase);
        var listing = await Store.ListAsync(new ListRequest(Bucket, ".quilt/"), TestContext.Current.CancellationToken);
        Assert.Empty(listing.Objects);
    }

    [Fact]
    public async Task A_read_only_server_refuses_package_writes()
    {
        await using var readOnly = await McpHarness.StartAsync(TestData.Settings(Bucket, readOnly: true), Store);
        var error = await readOnly.CallErrorAsync("package_create", """{"package": "team/ro", "sources": [{"text": "x", "logicalKey": "a"}]}""");
        Assert.Contains("read-only", error, StringComparison.Ordinal);
        Assert.Empty((await Store.ListAsync(new ListRequest(Bucket, ""), TestContext.Current.CancellationToken)).Objects);
    }
}
