using System.Text.Json;

namespace Quilt.Cli.Tests;

/// <summary>`table …` commands run the table tools' operations: the same results, sandbox and refusals, as text or --json.</summary>
public sealed class TableCommandTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "quilt-cli-tables-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly CliRunner _cli;

    public TableCommandTests()
    {
        Directory.CreateDirectory(_scratch);
        _cli = new CliRunner(Path.Combine(_scratch, "root"));
        _cli.Environment["QUILT_MCP_TABLE_CACHE"] = Path.Combine(_scratch, "cache");
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private async Task PutCsvAsync()
    {
        var file = Path.Combine(_scratch, "people.csv");
        await File.WriteAllTextAsync(file, "id,name,city\n1,\"Smith, Ann\",Zürich\n2,Bo,\n3,Chloé,Zürich\n", TestContext.Current.CancellationToken);
        await _cli.OkAsync("object", "put", file, "s3://bucket-a/people.csv");
    }

    [Fact]
    public async Task Table_query_prints_rows_and_the_cursor_and_json_gives_the_tools_result()
    {
        await PutCsvAsync();

        var page = await _cli.RunAsync("table", "query", "SELECT city, count(*) AS n FROM t GROUP BY city ORDER BY n DESC, city", "--table", "s3://bucket-a/people.csv",
            "--limit", "1");
        Assert.Equal(0, page.ExitCode);
        Assert.Equal("city\tn\nZürich\t2\n", page.Stdout.ReplaceLineEndings("\n"));
        Assert.Contains("more rows: --cursor 1", page.Stderr, StringComparison.Ordinal);

        var json = await _cli.OkAsync("table", "query", "SELECT p.name FROM p WHERE p.city IS NULL", "--table", "p=s3://bucket-a/people.csv", "--json");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("Bo", doc.RootElement.GetProperty("rows")[0][0].GetString());
        Assert.Equal("p", doc.RootElement.GetProperty("tables")[0].GetProperty("name").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("tables")[0].GetProperty("cached").GetInt32());
    }

    [Fact]
    public async Task Table_describe_and_rows_print_the_summary_and_filtered_rows()
    {
        await PutCsvAsync();

        var described = await _cli.OkAsync("table", "describe", "s3://bucket-a/people.csv");
        Assert.StartsWith("csv, 3 rows (scan)", described, StringComparison.Ordinal);
        Assert.Contains("dialect: delimiter ',', quote '\"'", described, StringComparison.Ordinal);
        Assert.Contains("city: VARCHAR; nulls 1", described, StringComparison.Ordinal);

        var rows = await _cli.RunAsync("table", "rows", "s3://bucket-a/people.csv", "--columns", "id,name", "--filter", "city = Zürich", "--limit", "1");
        Assert.Equal(0, rows.ExitCode);
        Assert.Equal("id\tname\n1\tSmith, Ann\n", rows.Stdout.ReplaceLineEndings("\n"));
        Assert.Contains("more rows: --offset 1", rows.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Table_query_refuses_sql_that_writes_with_the_tools_message()
    {
        await PutCsvAsync();

        var refused = await _cli.RunAsync("table", "query", "COPY t TO '/tmp/out.csv'", "--table", "s3://bucket-a/people.csv");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error: sql: only a read-only query is allowed", refused.Stderr, StringComparison.Ordinal);
    }
}
