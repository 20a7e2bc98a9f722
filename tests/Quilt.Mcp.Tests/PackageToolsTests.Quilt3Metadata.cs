using System.Text.Json.Nodes;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// The package tools writing metadata as quilt3 writes it and reading Quilt+ URIs as the catalog does (issue 16): folder
/// metadata shown, set and kept by package_patch; JSON null kept; numbers quilt3 cannot read refused; ':tag', '@hash', '&amp;path='.
/// </summary>
public sealed class PackageToolsQuilt3MetadataTests : IAsyncLifetime
{
    private const string Bucket = "meta-bucket";
    private const string DirMeta = "dir_meta";
    private readonly TempDirectory _root = new();
    private LocalFolderStore _store = null!;
    private McpHarness _mcp = null!;
    private string _dataKey = null!;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, Bucket));
        _store = new LocalFolderStore(_root.Path);
        await _store.PutAsync(new PutRequest(Bucket, "data/x"), new MemoryStream("x"u8.ToArray()), null, TestContext.Current.CancellationToken);
        _dataKey = _store.ToPhysicalKey(new ObjectRef(Bucket, "data/x"));
        _mcp = await McpHarness.StartAsync(TestData.Settings(Bucket), _store);
    }

    public async ValueTask DisposeAsync()
    {
        await _mcp.DisposeAsync();
        _root.Dispose();
    }

    private string Install() => Quilt3DerivedFixtures.Install(Path.Join(_root.Path, Bucket), DirMeta, _dataKey);

    private string[] ManifestLines(string topHash) =>
        File.ReadAllText(Path.Join(_root.Path, Bucket, ".quilt", "packages", topHash)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string Args(JsonObject args) => args.ToJsonString();

    [Fact]
    public async Task Browse_shows_the_folders_metadata_and_that_of_each_sub_folder()
    {
        var package = Install();

        var root = await _mcp.CallOkAsync<PackageBrowseResult>("package_browse", Args(new() { ["package"] = package }));
        var sub = await _mcp.CallOkAsync<PackageBrowseResult>("package_browse", Args(new() { ["package"] = package, ["path"] = "sub" }));

        Assert.Null(root.FolderMetadata);
        var quilt3 = JsonNode.Parse("""{"k":1,"note":"größe","nested":{"b":[1,2.5,null]}}""");
        Assert.True(JsonNode.DeepEquals(quilt3, JsonNode.Parse(Assert.Single(root.Folders).Metadata!.Value.GetRawText())));
        Assert.True(JsonNode.DeepEquals(quilt3, JsonNode.Parse(sub.FolderMetadata!.Value.GetRawText())));
        Assert.Equal("""{"level":2}""", Assert.Single(sub.Folders).Metadata!.Value.GetRawText());
    }

    [Fact]
    public async Task Patch_keeps_quilt3s_lines_byte_for_byte_and_sets_a_folders_metadata()
    {
        var package = Install();
        var quilt3Lines = Quilt3DerivedFixtures.Lines(DirMeta, _dataKey);

        var added = await _mcp.CallOkAsync<PackageRevisionResult>("package_patch", Args(new()
        {
            ["package"] = package,
            ["add"] = new JsonArray(new JsonObject { ["text"] = "x", ["logicalKey"] = "zz.txt" }),
            ["message"] = "folders with metadata",
        }));
        Assert.Equal(quilt3Lines, ManifestLines(added.TopHash).Where(l => !l.Contains("\"zz.txt\"", StringComparison.Ordinal)));

        var set = await _mcp.CallOkAsync<PackageRevisionResult>("package_patch", Args(new()
        {
            ["package"] = package,
            ["directoryMetadata"] = new JsonObject { ["sub/deeper/"] = new JsonObject { ["level"] = 3 }, ["sub/"] = null },
            ["message"] = "m",
        }));
        var lines = ManifestLines(set.TopHash);
        Assert.Equal("{\"logical_key\": \"sub/deeper/\", \"meta\": {\"level\": 3}}", lines[1]);
        Assert.StartsWith("{\"logical_key\": \"a.txt\"", lines[2], StringComparison.Ordinal);

        var error = await _mcp.CallErrorAsync("package_patch", Args(new()
        {
            ["package"] = package,
            ["directoryMetadata"] = new JsonObject { ["nothing/"] = new JsonObject { ["k"] = 1 } },
        }));
        Assert.Contains("no entry of derived/dir_meta is in it", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_null_metadata_writes_quilt3s_null_and_its_top_hashes()
    {
        var package = await _mcp.CallOkAsync<PackageRevisionResult>("package_create", Args(new()
        {
            ["package"] = "team/pnull",
            ["sources"] = new JsonArray(new JsonObject { ["text"] = "x", ["logicalKey"] = "a.txt" }),
            ["message"] = "m",
            ["metadata"] = null,
        }));
        var entry = await _mcp.CallOkAsync<PackageRevisionResult>("package_create", Args(new()
        {
            ["package"] = "team/enull",
            ["sources"] = new JsonArray(new JsonObject { ["text"] = "x", ["logicalKey"] = "a.txt", ["metadata"] = null }),
            ["message"] = "m",
        }));
        var patched = await _mcp.CallOkAsync<PackageRevisionResult>("package_patch", Args(new()
        {
            ["package"] = "team/enull",
            ["entryMetadata"] = new JsonObject { ["a.txt"] = new JsonObject { ["k"] = 1 } },
            ["metadata"] = null,
            ["message"] = "m",
        }));

        Assert.Equal(Quilt3EdgeFixtures.TopHash("package_user_meta_null"), package.TopHash);
        Assert.Equal(Quilt3EdgeFixtures.TopHash("entry_user_meta_null"), entry.TopHash);
        // quilt3 patches the loaded dict: set_meta(None) adds user_meta after the message it read (json keeps insertion order).
        Assert.Equal("{\"version\": \"v0\", \"message\": \"m\", \"user_meta\": null}", ManifestLines(patched.TopHash)[0]);
        Assert.EndsWith("\"meta\": {\"user_meta\": {\"k\": 1}}}", ManifestLines(patched.TopHash)[1], StringComparison.Ordinal);
        var back = await _mcp.CallOkAsync<PackageRevisionResult>("package_patch", Args(new()
        {
            ["package"] = "team/enull",
            ["entryMetadata"] = new JsonObject { ["a.txt"] = null },
            ["message"] = "m",
        }));
        Assert.EndsWith("\"meta\": {\"user_meta\": null}}", ManifestLines(back.TopHash)[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_integer_quilt3_could_not_read_is_refused_naming_where_and_nothing_is_written()
    {
        var digits = Quilt3DerivedFixtures.Case("int_max_str_digits")["refused_digits"]!.GetValue<int>();
        var metadata = "{\"runs\": [{\"seed\": " + new string('9', digits) + "}]}";

        var error = await _mcp.CallErrorAsync("package_create",
            "{\"package\": \"team/big\", \"sources\": [{\"text\": \"x\", \"logicalKey\": \"a.txt\", \"metadata\": " + metadata + "}]}");

        Assert.Contains("The metadata of entry 'a.txt' holds an integer of 4,301 digits, more than the 4,300 Python reads", error, StringComparison.Ordinal);
        Assert.Contains("at $.runs[0].seed.", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Join(_root.Path, Bucket, ".quilt")));
        Assert.False(Directory.Exists(Path.Join(_root.Path, Bucket, "team")));
    }

    [Fact]
    public async Task A_uri_tag_names_a_pointer_file_an_at_names_a_hash_and_a_repeated_package_is_refused()
    {
        var package = Install();
        var first = Quilt3DerivedFixtures.TopHash(DirMeta);
        var second = await _mcp.CallOkAsync<PackageRevisionResult>("package_patch", Args(new() { ["package"] = package, ["message"] = "second" }));
        var uri = $"quilt+s3://{Bucket}#package={package}";

        async Task<string> BrowsedHash(string u) => (await _mcp.CallOkAsync<PackageBrowseResult>("package_browse", Args(new() { ["package"] = u }))).TopHash;

        Assert.Equal(first, await BrowsedHash(uri + ":" + Quilt3DerivedFixtures.TimestampTag));
        Assert.Equal(second.TopHash, await BrowsedHash(uri + ":latest"));
        Assert.Equal(first, await BrowsedHash(uri + "@" + first[..8]));
        Assert.Contains("has no tag '1700000001'",
            await _mcp.CallErrorAsync("package_browse", Args(new() { ["package"] = uri + ":1700000001" })), StringComparison.Ordinal);
        Assert.Contains("\"package=\" more than once",
            await _mcp.CallErrorAsync("package_browse", Args(new() { ["package"] = uri + "&package=team/other" })), StringComparison.Ordinal);
        // An object tool given the same URI reads the tagged revision's entry.
        var text = await _mcp.CallTextAsync("bucket_object_text",
            Args(new() { ["uri"] = uri + ":" + Quilt3DerivedFixtures.TimestampTag + "&path=sub/b.txt" }));
        Assert.Equal("x", text.Text);
    }

    [Fact]
    public async Task Browse_and_entry_tools_honour_a_uri_path_to_a_file_or_a_folder()
    {
        var package = Install();
        var uri = $"quilt+s3://{Bucket}#package={package}";

        var file = await _mcp.CallOkAsync<PackageBrowseResult>("package_browse", Args(new() { ["package"] = uri + "&path=sub/deeper/c.txt" }));
        var folder = await _mcp.CallOkAsync<PackageBrowseResult>("package_browse", Args(new() { ["package"] = uri + "&path=sub%2Fdeeper" }));
        var text = await _mcp.CallTextAsync("package_entry_text", Args(new() { ["package"] = uri + "&path=sub/b.txt" }));

        Assert.Equal("sub/deeper", file.Path);
        Assert.Equal(["sub/deeper/c.txt"], file.Files.Select(f => file.Prefix + f.Name));
        Assert.Empty(file.Folders);
        Assert.Equal("sub/deeper", folder.Path);
        Assert.Equal(["sub/deeper/c.txt"], folder.Files.Select(f => folder.Prefix + f.Name));
        Assert.Equal("""{"level":2}""", folder.FolderMetadata!.Value.GetRawText());
        Assert.Equal("x", text.Text);
        Assert.Contains("disagrees with the package URI's &path=",
            await _mcp.CallErrorAsync("package_entry_text", Args(new() { ["package"] = uri + "&path=sub/b.txt", ["path"] = "a.txt" })), StringComparison.Ordinal);
    }
}
