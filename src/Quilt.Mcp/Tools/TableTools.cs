using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Services;
using Quilt.Tables;

namespace Quilt.Mcp.Tools;

/// <summary>The table tools (describe, rows, SQL query) over CSV/TSV/JSONL/JSON/Parquet objects and package entries. They only read.</summary>
[McpServerToolType]
public sealed class TableTools(TableOperations operations)
{
    private const string UriArgument = "An object s3://bucket/key, or a package entry quilt+s3://bucket#package=user/name&path=key. Or give package and path.";
    private const string PackageArgument = "A package (user/name or a quilt+s3 package URI), with path; instead of uri.";
    private const string PathArgument = "With package: the entry's logical key, or a glob (data/*.parquet) taking every matching entry as one table.";
    private const string RegistryArgument = "With package: the registry bucket; default the server's.";
    private const string RevisionArgument = "With package: a top hash or tag; default latest.";

    [McpServerTool(Name = "table_query", Title = "Query tables with SQL", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Run one read-only SQL SELECT (DuckDB dialect) over named tables: objects, package entries or globs of entries (CSV, TSV, JSONL, JSON, Parquet). "
        + "Required: tables, sql. Page on with cursor = nextCursor; use table_describe first to see columns.")]
    public async Task<TableQueryResult> Query(
        [Description("Required. The tables the SQL names: [{ name, uri } or { name, package, path }]; name may be left out for a single table (then 't').")] TableInput[] tables,
        [Description("Required. One SELECT over the tables, such as SELECT city, count(*) FROM people GROUP BY city ORDER BY 2 DESC.")] string sql,
        [Description("Rows per page, 1 to 1000; default 100.")] int limit = 100,
        [Description("The nextCursor of the previous page (same sql and tables); leave out for the first page.")] string? cursor = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var progress = ProgressNotifier.For(context);
        var result = await operations.QueryAsync(tables, sql, limit, cursor, progress, cancellationToken);
        await progress.FlushAsync();
        return result;
    }

    [McpServerTool(Name = "table_describe", Title = "Describe a table", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Summarize a table: format, row count, and per column its type, nulls, distinct estimate, min/max/mean and top values; "
        + "Parquet from its footer (no full read) unless scan=true; CSV/TSV with the sniffed dialect. Required: uri, or package and path.")]
    public async Task<TableDescribeResult> Describe(
        [Description(UriArgument)] string? uri = null,
        [Description(PackageArgument)] string? package = null,
        [Description(PathArgument)] string? path = null,
        [Description(RegistryArgument)] string? registry = null,
        [Description(RevisionArgument)] string? revision = null,
        [Description("Parquet: read every row for means, distinct counts and top values instead of the footer alone. Default false.")] bool scan = false,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var progress = ProgressNotifier.For(context);
        var result = await operations.DescribeAsync(new TableInput(null, uri, package, path, registry, revision), scan, progress, cancellationToken);
        await progress.FlushAsync();
        return result;
    }

    [McpServerTool(Name = "table_rows", Title = "Read table rows", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Rows of a table by row number (offset, limit), with chosen columns and a simple filter; continue exactly with offset = nextOffset. "
        + "Required: uri, or package and path. For aggregates or joins use table_query.")]
    public async Task<TableRowsResult> Rows(
        [Description(UriArgument)] string? uri = null,
        [Description(PackageArgument)] string? package = null,
        [Description(PathArgument)] string? path = null,
        [Description(RegistryArgument)] string? registry = null,
        [Description(RevisionArgument)] string? revision = null,
        [Description("The row number to start at (from 0; with a filter, among the rows that pass it); default 0.")] long offset = 0,
        [Description("Rows to return, 1 to 1000; default 100.")] int limit = 100,
        [Description("The columns to return, by name; default all.")] string[]? columns = null,
        [Description("Conditions every row must pass, such as [{ column: 'city', op: '=', value: 'Zürich' }].")] TableRowFilter[]? filter = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var progress = ProgressNotifier.For(context);
        var result = await operations.RowsAsync(new TableInput(null, uri, package, path, registry, revision), offset, limit, columns, filter, progress, cancellationToken);
        await progress.FlushAsync();
        return result;
    }
}
