using System.Text.Json.Nodes;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>Packages quilt3 wrote with odd manifests, through the package tools: every entry is listed, reached and read.</summary>
public sealed class PackageToolsQuilt3EdgeTests : IAsyncLifetime
{
    private const string Bucket = "edge-bucket";
    private readonly TempDirectory _root = new();
    private LocalFolderStore _store = null!;
    private McpHarness _mcp = null!;

    public static TheoryData<string> Cases => new(Quilt3EdgeFixtures.Names);

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, Bucket));
        _store = new LocalFolderStore(_root.Path);
        await _store.PutAsync(new PutRequest(Bucket, "data/x"), new MemoryStream("x"u8.ToArray()), null, TestContext.Current.CancellationToken);
        _mcp = await McpHarness.StartAsync(TestData.Settings(Bucket), _store);
    }

    public async ValueTask DisposeAsync()
    {
        await _mcp.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Metadata_with_a_repeated_key_keeps_its_last_value_as_pythons_json_does()
    {
        var created = await _mcp.CallOkAsync<PackageRevisionResult>("package_create",
            $$$"""{"package": "team/dup", "sources": [{"uri": "s3://{{{Bucket}}}/data/x", "logicalKey": "x.txt"}], "metadata": {"a": 1, "b": 2, "a": 3}}""");

        var browsed = await _mcp.CallOkAsync<PackageBrowseResult>("package_browse", """{"package": "team/dup"}""");

        Assert.Equal(created.TopHash, browsed.TopHash);
        Assert.Equal("""{"a":3,"b":2}""", browsed.Metadata!.Value.GetRawText());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Browse_reaches_every_entry_quilt3_lists_and_each_reads_back(string name)
    {
        var package = Quilt3EdgeFixtures.Install(Path.Join(_root.Path, Bucket), name, _store.ToPhysicalKey(new ObjectRef(Bucket, "data/x")));

        // Walk the folders as a client would: each folder exactly as listed (prefix + name).
        var found = new List<string>();
        var folders = new Queue<string>([""]);
        string? topHash = null;
        while (folders.TryDequeue(out var folder))
        {
            Assert.True(found.Count + folders.Count < 20, "browsing went round in circles");
            var page = await _mcp.CallOkAsync<PackageBrowseResult>("package_browse",
                new JsonObject { ["package"] = package, ["path"] = folder }.ToJsonString());
            topHash = page.TopHash;
            Assert.Equal(Quilt3EdgeFixtures.LogicalKeys(name).Count, page.PackageEntries);
            found.AddRange(page.Files.Select(f => page.Prefix + f.Name));
            foreach (var sub in page.Folders)
                folders.Enqueue(page.Prefix + sub.Name);
        }

        Assert.Equal(Quilt3EdgeFixtures.TopHash(name), topHash);
        Assert.Equal(Quilt3EdgeFixtures.LogicalKeys(name).Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
        foreach (var key in found)
        {
            var text = await _mcp.CallTextAsync("package_entry_text", new JsonObject { ["package"] = package, ["path"] = key }.ToJsonString());
            Assert.Equal("x", text.Text);
        }
    }
}
