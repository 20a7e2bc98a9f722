using System.Text;
using System.Text.Json;
using Json.Schema;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using Quilt.Operations.Search;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// search_packages and search_objects through a real MCP client over the local folder store: the index is built on the
/// first call (with progress), hits carry URIs as resource links, structured content matches the output schema, and bad
/// queries are tool errors naming the problem.
/// </summary>
public sealed class SearchToolsTests : IAsyncLifetime
{
    private readonly LocalToolTestStore _backing = new("search-bucket");
    private readonly TempDirectory _indexFolder = new("quilt-search-tools-index");
    private IObjectStore _store = null!;
    private string _bucket = null!;
    private string _hash = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        (_store, _bucket, _) = await _backing.OpenAsync();
        _hash = await CraftedPackages.PublishAsync(_store, _bucket, "lab/zebrafish-atlas",
            [CraftedPackages.EntryLine("fins/counts.csv", "s3://elsewhere/fins/counts.csv", 3, "SHA256", new string('b', 64))], Ct);
        foreach (var (key, text) in new[] { ("notes/zebrafish.md", "Zebrafish fin regrowth notes"), ("notes/mouse.md", "Mouse notes"), ("data/x.bin", "\0\0") })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            using var content = new MemoryStream(bytes);
            await _store.PutAsync(new PutRequest(_bucket, key) { Length = bytes.Length }, content, cancellationToken: Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _indexFolder.Dispose();
        await _backing.DisposeAsync();
    }

    private Task<McpHarness> StartAsync() =>
        McpHarness.StartAsync(TestData.Settings(_bucket), _store, services => services.AddSingleton(new SearchSettings { IndexFolder = _indexFolder.Path }));

    private static async Task<(CallToolResult Result, JsonElement Structured)> ValidAsync(McpHarness mcp, string tool, string arguments)
    {
        var listed = (await mcp.Client.ListToolsAsync(cancellationToken: Ct)).Single(t => t.Name == tool).ProtocolTool;
        var result = await mcp.CallAsync(tool, arguments);
        Assert.False(result.IsError == true, $"{tool} failed: {McpHarness.Text(result)}");
        var structured = result.StructuredContent!.Value;
        var schema = JsonSchema.Build(listed.OutputSchema!.Value, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        var evaluation = schema.Evaluate(structured, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(evaluation.IsValid, $"{tool}'s structured content does not match its output schema: "
            + string.Join("; ", (evaluation.Details ?? []).Where(d => d.Errors is { Count: > 0 }).Select(d => $"{d.InstanceLocation}: {string.Join(", ", d.Errors!.Values)}")));
        return (result, structured);
    }

    [Fact]
    public async Task Search_tools_find_packages_and_objects_with_links_and_valid_structured_content()
    {
        await using var mcp = await StartAsync();

        var (packages, found) = await ValidAsync(mcp, "search_packages", """{"query": "zebrafish counts"}""");
        var hit = Assert.Single(found.GetProperty("hits").EnumerateArray());
        var uri = $"quilt+s3://{_bucket}#package=lab/zebrafish-atlas@{_hash}";
        Assert.Equal(uri, hit.GetProperty("uri").GetString());
        Assert.Equal(["name", "entries"], hit.GetProperty("matched").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("fins/counts.csv", hit.GetProperty("matchingEntries")[0].GetString());
        Assert.Contains(packages.Content, block => block is ResourceLinkBlock link && link.Uri == uri);
        Assert.Contains("1 package revision found", McpHarness.Text(packages), StringComparison.Ordinal);

        var (objects, objectHits) = await ValidAsync(mcp, "search_objects", """{"query": "regrowth OR key:mouse", "order": "LEX_ASC"}""");
        Assert.Equal([$"s3://{_bucket}/notes/mouse.md", $"s3://{_bucket}/notes/zebrafish.md"],
            objectHits.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("uri").GetString()));
        Assert.Equal(2, objects.Content.OfType<ResourceLinkBlock>().Count());
        Assert.Equal(".md", objectHits.GetProperty("facets").GetProperty("extensions")[0].GetString());
    }

    [Theory]
    [InlineData("search_packages", """{"query": "colour:red"}""", "query: Unknown field 'colour'")]
    [InlineData("search_packages", """{"query": "\"open"}""", "Unbalanced quotes")]
    [InlineData("search_packages", """{"metadata": [{"path": "/t", "gte": 5, "lte": 1}]}""", "gte 5 is above lte 1")]
    [InlineData("search_packages", """{"metadata": [{"path": "/t", "gte": 5, "terms": ["a"]}]}""", "give one kind of condition")]
    [InlineData("search_objects", """{"buckets": ["not-allowed-bucket"]}""", "not-allowed-bucket")]
    [InlineData("search_objects", """{"cursor": "garbage"}""", "not one this search gave")]
    public async Task Bad_searches_are_tool_errors_naming_the_problem(string tool, string arguments, string expected)
    {
        await using var mcp = await StartAsync();
        var result = await mcp.CallAsync(tool, arguments);
        Assert.True(result.IsError);
        Assert.Contains(expected, McpHarness.Text(result), StringComparison.Ordinal);
    }
}
