using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tests;

/// <summary>The read tools of <see cref="Tools.PackageReadTools"/> (list, revisions, browse, entry text and fetch, diff), on each store.</summary>
public abstract class PackageReadToolsTests : PackageToolsTests
{
    private protected PackageReadToolsTests(ToolTestStore backing) : base(backing)
    {
    }

    [Fact]
    public async Task Browse_pages_through_a_large_folder()
    {
        var sources = new JsonArray(Enumerable.Range(0, 250).Select(i => (JsonNode)new JsonObject { ["text"] = $"{i}", ["logicalKey"] = $"many/f{i:D3}.txt" }).ToArray());
        sources.Add(new JsonObject { ["text"] = "x", ["logicalKey"] = "many/sub/x.txt" });
        await Mcp.CallOkAsync<PackageRevisionResult>("package_create", new JsonObject { ["package"] = "team/many", ["sources"] = sources }.ToJsonString());
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var args = new JsonObject { ["package"] = "team/many", ["path"] = "many", ["pageSize"] = 100 };
            if (cursor is not null)
                args["cursor"] = cursor;
            var page = await Mcp.CallOkAsync<PackageBrowseResult>("package_browse", args.ToJsonString());
            seen.AddRange(page.Folders.Select(f => page.Prefix + f.Name));
            seen.AddRange(page.Files.Select(f => page.Prefix + f.Name));
            Assert.Equal(251, page.Total);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(251, seen.Count);
        Assert.Equal("many/sub/", seen[0]);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task Browse_gives_the_revision_once_names_relative_to_the_folder_and_links_to_its_files()
    {
        var create = await Mcp.CallAsync("package_create", """
            {"package": "team/linked", "message": "first", "metadata": {"project": "links"},
             "sources": [{"text": "alpha", "logicalKey": "data/a.txt"}, {"text": "id\n1\n", "logicalKey": "data/b.csv", "metadata": {"k": 1}},
                         {"text": "deep", "logicalKey": "data/sub/c.txt"}]}
            """);
        Assert.False(create.IsError == true, McpHarness.Text(create));
        var created = (PackageRevisionResult)create.StructuredContent!.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(PackageRevisionResult)))!;
        // The new revision links to itself and to the entries it added.
        var createLinks = create.Content.OfType<ResourceLinkBlock>().ToList();
        Assert.Equal(created.Uri, createLinks[0].Uri);
        Assert.Equal(["data/a.txt", "data/b.csv", "data/sub/c.txt"], createLinks.Skip(1).Select(l => l.Name));

        var result = await Mcp.CallAsync("package_browse", """{"package": "team/linked", "path": "data"}""");
        Assert.False(result.IsError == true, McpHarness.Text(result));
        var page = (PackageBrowseResult)result.StructuredContent!.Value.Deserialize(ToolJson.Options.GetTypeInfo(typeof(PackageBrowseResult)))!;
        Assert.Equal(("data", "data/", created.Uri), (page.Path, page.Prefix, page.Uri));
        Assert.Equal(["sub/"], page.Folders.Select(f => f.Name));
        Assert.Equal(["a.txt", "b.csv"], page.Files.Select(f => f.Name));
        // The top hash is given once, not again per file.
        var raw = result.StructuredContent.Value.GetRawText();
        Assert.Equal(2, raw.Split(created.TopHash).Length - 1); // topHash and uri
        Assert.All(result.StructuredContent.Value.GetProperty("files").EnumerateArray(), f => Assert.False(f.TryGetProperty("uri", out _)));

        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.StartsWith($"{created.Uri} (3 entries, ", text, StringComparison.Ordinal);
        Assert.Contains("metadata {\"project\":\"links\"}\n", text, StringComparison.Ordinal);
        Assert.Contains("folder sub/ (1 entries, 4 bytes)\n", text, StringComparison.Ordinal);
        Assert.Contains("\n5 a.txt\n5 b.csv {\"k\":1}\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(created.TopHash, text[created.Uri.Length..], StringComparison.Ordinal);

        // Links: the revision, then each file on the page; each file's link reads that entry.
        var links = result.Content.OfType<ResourceLinkBlock>().ToList();
        Assert.Equal(created.Uri, links[0].Uri);
        Assert.Equal($"team/linked@{created.TopHash[..10]}", links[0].Name);
        Assert.Equal(["data/a.txt", "data/b.csv"], links.Skip(1).Select(l => l.Name));
        Assert.Equal(($"{created.Uri}&path=data/b.csv", ContentTypes.Guess("b.csv"), 5L), (links[2].Uri, links[2].MimeType, links[2].Size));
        var entry = await Mcp.CallTextAsync("package_entry_text", JsonSerializer.Serialize(new { package = links[1].Uri, format = "text" }));
        Assert.Equal("alpha", entry.Text);
        Assert.True(entry.Verified);
    }

    [Fact]
    public async Task Browse_links_at_most_25_items_of_a_large_page()
    {
        var sources = new JsonArray(Enumerable.Range(0, 60).Select(i => (JsonNode)new JsonObject { ["text"] = $"{i}", ["logicalKey"] = $"f{i:D2}.txt" }).ToArray());
        await Mcp.CallOkAsync<PackageRevisionResult>("package_create", new JsonObject { ["package"] = "team/wide", ["sources"] = sources }.ToJsonString());
        var result = await Mcp.CallAsync("package_browse", """{"package": "team/wide"}""");
        var links = result.Content.OfType<ResourceLinkBlock>().ToList();
        Assert.Equal(25, links.Count);
        Assert.Equal("f23.txt", links[^1].Name);
        Assert.Equal(60, result.StructuredContent!.Value.GetProperty("files").GetArrayLength());
    }
}

public sealed class LocalPackageReadToolsTests() : PackageReadToolsTests(new LocalToolTestStore("pkg-bucket"));

public sealed class S3PackageReadToolsTests() : PackageReadToolsTests(new S3ToolTestStore(versioned: true));
