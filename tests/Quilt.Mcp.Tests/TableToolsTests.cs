using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using Parquet.Serialization;
using Quilt.Storage;
using Quilt.Tables;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// The table tools of <see cref="Tools.TableTools"/> through a real MCP client, over the local folder store: each answers
/// with structured content that its own output schema accepts (null cells included), and bad SQL is a tool error.
/// </summary>
public sealed class TableToolsTests : IAsyncLifetime
{
    private readonly LocalToolTestStore _backing = new("table-bucket");
    private readonly TempDirectory _cache = new("quilt-table-tools-cache");
    private IObjectStore _store = null!;
    private string _bucket = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Row
    {
        public int Id { get; set; }
        public string? Name { get; set; }
        public DateTime At { get; set; }
    }

    public async ValueTask InitializeAsync()
    {
        (_store, _bucket, _) = await _backing.OpenAsync();
        using var parquet = new MemoryStream();
        await ParquetSerializer.SerializeAsync(
            Enumerable.Range(1, 5).Select(i => new Row { Id = i, Name = i % 2 == 0 ? null : $"n{i}", At = new DateTime(2024, 5, i, 0, 0, 0, DateTimeKind.Utc) }),
            parquet, cancellationToken: Ct);
        await PutAsync("rows.parquet", parquet.ToArray());
        await PutAsync("people.csv", "id,city\n1,Zürich\n2,\n3,Köln\n"u8.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        _cache.Dispose();
        await _backing.DisposeAsync();
    }

    private async Task PutAsync(string key, byte[] bytes)
    {
        using var content = new MemoryStream(bytes);
        await _store.PutAsync(new PutRequest(_bucket, key) { Length = bytes.Length }, content, cancellationToken: Ct);
    }

    private Task<McpHarness> StartAsync() =>
        // Whole output schemas, so that ValidAsync checks every field (the null-cell bug class), as a validating client would.
        McpHarness.StartAsync(TestData.Settings(_bucket) with { FullOutputSchemas = true }, _store, services => services.AddSingleton(new TableSettings { CacheFolder = _cache.Path }));

    /// <summary>The tool's structured content, checked against the output schema the server lists for it.</summary>
    private static async Task<JsonElement> ValidAsync(McpHarness mcp, string tool, string arguments)
    {
        var listed = (await mcp.Client.ListToolsAsync(cancellationToken: Ct)).Single(t => t.Name == tool).ProtocolTool;
        var result = await mcp.CallAsync(tool, arguments);
        Assert.False(result.IsError == true, $"{tool} failed: {McpHarness.Text(result)}");
        var structured = result.StructuredContent!.Value;
        var schema = JsonSchema.Build(listed.OutputSchema!.Value, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        var evaluation = schema.Evaluate(structured, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(evaluation.IsValid, $"{tool}'s structured content does not match its output schema: "
            + string.Join("; ", (evaluation.Details ?? []).Where(d => d.Errors is { Count: > 0 }).Select(d => $"{d.InstanceLocation}: {string.Join(", ", d.Errors!.Values)}")));
        return structured;
    }

    [Fact]
    public async Task The_table_tools_are_listed_as_read_only_with_output_schemas()
    {
        await using var mcp = await StartAsync();
        var tools = (await mcp.Client.ListToolsAsync(cancellationToken: Ct)).Where(t => t.Name.StartsWith("table_", StringComparison.Ordinal)).ToList();

        Assert.Equal(["table_describe", "table_query", "table_rows"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools, t =>
        {
            var a = t.ProtocolTool.Annotations!;
            Assert.Equal((true, null, null, false), (a.ReadOnlyHint, a.DestructiveHint, a.IdempotentHint, a.OpenWorldHint));
            Assert.NotNull(t.ProtocolTool.OutputSchema);
        });
    }

    [Fact]
    public async Task Every_table_tool_answers_with_content_its_output_schema_accepts_null_cells_included()
    {
        await using var mcp = await StartAsync();

        var query = await ValidAsync(mcp, "table_query",
            $$"""{"tables": [{"name": "r", "uri": "s3://{{_bucket}}/rows.parquet"}], "sql": "SELECT Id, Name, \"At\" FROM r ORDER BY Id", "limit": 2}""");
        Assert.Equal(JsonValueKind.Null, query.GetProperty("rows")[1][1].ValueKind);
        Assert.Equal("2", query.GetProperty("nextCursor").GetString());

        var rows = await ValidAsync(mcp, "table_rows", $$"""{"uri": "s3://{{_bucket}}/people.csv", "offset": 1, "limit": 1}""");
        Assert.Equal(JsonValueKind.Null, rows.GetProperty("rows")[0][1].ValueKind);
        Assert.Equal(2, rows.GetProperty("nextOffset").GetInt64());

        var described = await ValidAsync(mcp, "table_describe", $$"""{"uri": "s3://{{_bucket}}/rows.parquet"}""");
        Assert.Equal("parquet-footer", described.GetProperty("method").GetString());
        Assert.Equal(5, described.GetProperty("rows").GetInt64());

        var csv = await ValidAsync(mcp, "table_describe", $$"""{"uri": "s3://{{_bucket}}/people.csv"}""");
        Assert.Equal(",", csv.GetProperty("dialect").GetProperty("delimiter").GetString());
    }

    [Fact]
    public async Task Sql_that_writes_or_reads_outside_the_tables_is_a_tool_error_saying_why()
    {
        await using var mcp = await StartAsync();

        var write = await mcp.CallErrorAsync("table_query", $$"""{"tables": [{"uri": "s3://{{_bucket}}/people.csv"}], "sql": "CREATE TABLE x AS SELECT 1"}""");
        Assert.Contains("only a read-only query is allowed", write, StringComparison.Ordinal);

        var file = await mcp.CallErrorAsync("table_query", $$"""{"tables": [{"uri": "s3://{{_bucket}}/people.csv"}], "sql": "SELECT * FROM read_csv('/etc/passwd')"}""");
        Assert.Contains("refused by the sandbox", file, StringComparison.Ordinal);

        var column = await mcp.CallErrorAsync("table_rows", $$"""{"uri": "s3://{{_bucket}}/people.csv", "columns": ["town"]}""");
        Assert.Contains("has no column 'town'", column, StringComparison.Ordinal);
    }
}
