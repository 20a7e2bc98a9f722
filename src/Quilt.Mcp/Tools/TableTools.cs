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
    private const string UriArgument = "s3://bucket/key or quilt+s3://bucket#package=user/name&path=key; or give package and path.";
    private const string PackageArgument = "Package (user/name or quilt+s3 URI), with path.";
    private const string PathArgument = "With package: logical key, or a glob (data/*.parquet) read as one table.";
    private const string RegistryArgument = "With package: registry bucket.";
    private const string RevisionArgument = "With package: top hash or tag; default latest.";

    [McpServerTool(Name = "table_query", Title = "Query tables with SQL", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Run one read-only DuckDB SELECT over named tables (CSV, TSV, JSON, JSONL, Parquet objects or package entries). "
        + "More: cursor = nextCursor. Columns: table_describe.")]
    public async Task<TableQueryResult> Query(
        [Description("Each {name, uri} or {name, package, path, registry?, revision?}; path may be a glob (data/*.parquet); a lone "
            + "table may omit name ('t').")] TableInput[] tables,
        [Description("One SELECT, e.g. SELECT city, count(*) FROM people GROUP BY 1.")] string sql,
        [Description("Rows per page, 1-1000.")] int limit = 100,
        [Description(BucketReadTools.PageCursorDescription)] string? cursor = null,
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
    [Description("Summarize a table: row count and per column type, nulls, distinct, min/max/mean, top values (Parquet: from the "
        + "footer unless scan).")]
    public async Task<TableDescribeResult> Describe(
        [Description(UriArgument)] string? uri = null,
        [Description(PackageArgument)] string? package = null,
        [Description(PathArgument)] string? path = null,
        [Description(RegistryArgument)] string? registry = null,
        [Description(RevisionArgument)] string? revision = null,
        [Description("Parquet: read all rows for full statistics.")] bool scan = false,
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
    [Description("Rows of a table by row number, with chosen columns and a simple filter; go on with offset = nextOffset. "
        + "Aggregates or joins: table_query.")]
    public async Task<TableRowsResult> Rows(
        [Description(UriArgument)] string? uri = null,
        [Description(PackageArgument)] string? package = null,
        [Description(PathArgument)] string? path = null,
        [Description(RegistryArgument)] string? registry = null,
        [Description(RevisionArgument)] string? revision = null,
        [Description("First row (0-based; among rows passing the filter).")] long offset = 0,
        [Description("1-1000.")] int limit = 100,
        [Description("Columns to return; default all.")] string[]? columns = null,
        [Description("Each {column, op, value}: op =, !=, <, <=, >, >=, contains, is_null, not_null; value as text.")] TableRowFilter[]? filter = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var progress = ProgressNotifier.For(context);
        var result = await operations.RowsAsync(new TableInput(null, uri, package, path, registry, revision), offset, limit, columns, filter, progress, cancellationToken);
        await progress.FlushAsync();
        return result;
    }
}
