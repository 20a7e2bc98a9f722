using System.Globalization;
using System.Text.RegularExpressions;
using Quilt.Core;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Tables;

/// <summary>
/// Describe, page and query tables (CSV, TSV, JSON Lines, JSON, Parquet) named by object URIs, package entries or globs
/// of a package's entries. Names and the bucket policy are checked by the object and package operations; entries and
/// objects are read through the store in use (local folder, S3, or a registry server's browsing sessions) into the
/// <see cref="TableCache"/>, and SQL runs in a <see cref="TableSandbox"/> over the cached copies only.
/// </summary>
public sealed partial class TableOperations(ObjectOperations objects, PackageOperations packages, TableCache cache, TableSettings settings)
{
    private const int ListedUris = 20;
    private const int TopValueColumns = 50;
    private const int TopValues = 5;

    public TableSettings Settings { get; } = settings;

    /// <summary>The table operations over the object and package operations of <paramref name="operations"/>, with the cache <paramref name="settings"/> name.</summary>
    public static TableOperations Create(QuiltOperations operations, TableSettings settings)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(settings);
        return new TableOperations(operations.Objects, operations.Packages, new TableCache(settings.CacheFolder, settings.CacheBytes), settings);
    }

    public TableCache Cache { get; } = cache;

    /// <summary>A page of the rows of one read-only SQL query over the tables given.</summary>
    public async Task<TableQueryResult> QueryAsync(IReadOnlyList<TableInput?>? tables, string? sql, int limit, string? cursor,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var text = ObjectUriResolver.Require(sql, "sql").TrimEnd().TrimEnd(';').TrimEnd();
        if (tables is null || tables.Count == 0)
            throw new OperationException("tables is empty: name at least one table, such as { name: 'sales', uri: 's3://bucket/sales.parquet' }.");
        CheckLimit(limit);
        var offset = Offset(cursor, "cursor");
        var resolved = new List<ResolvedTable>();
        for (var i = 0; i < tables.Count; i++)
        {
            var table = tables[i] ?? throw new OperationException($"tables[{i}] is null: give {{ name, uri }} or {{ name, package, path }}.");
            var name = NameOf(table.Name, tables.Count == 1 ? "t" : null, $"tables[{i}].name");
            if (resolved.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
                throw new OperationException($"tables[{i}].name '{name}' is used twice (names are case-insensitive): give each table its own name.");
            resolved.Add(await ResolveAsync(table, name, $"tables[{i}]", cancellationToken).ConfigureAwait(false));
        }
        var views = new List<TableView>();
        var infos = new List<TableSourceInfo>();
        using var leases = new CacheLeases();
        foreach (var table in resolved)
        {
            var (view, info) = await FetchAsync(table, leases, progress, cancellationToken).ConfigureAwait(false);
            views.Add(view);
            infos.Add(info);
        }
        using var sandbox = TableSandbox.Open(views, Settings);
        sandbox.EnsureSelect(text, "sql");
        var page = await sandbox.PageAsync(text, [], offset, limit, "sql", cancellationToken).ConfigureAwait(false);
        return new TableQueryResult(infos, Columns(page), page.Rows, offset,
            page.More ? (offset + page.Rows.Count).ToString(CultureInfo.InvariantCulture) : null, page.More, page.Note);
    }

    /// <summary>Rows of one table by row number (file order), some columns, rows passing a simple filter.</summary>
    public async Task<TableRowsResult> RowsAsync(TableInput table, long offset, int limit, IReadOnlyList<string>? columns, IReadOnlyList<TableRowFilter?>? filter,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        CheckLimit(limit);
        if (offset < 0)
            throw new OperationException($"offset {offset} is negative: give a row number from 0.");
        var resolved = await ResolveAsync(table, "t", "table", cancellationToken).ConfigureAwait(false);
        using var leases = new CacheLeases();
        var (view, info) = await FetchAsync(resolved, leases, progress, cancellationToken).ConfigureAwait(false);
        using var sandbox = TableSandbox.Open([view], Settings);
        var all = sandbox.Columns("SELECT * FROM t", [], "table");
        string Column(string name, string argument) =>
            all.FirstOrDefault(c => c.Name == name)?.Name ?? all.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))?.Name
            ?? throw new OperationException($"{argument}: table '{info.Name}' has no column '{name}'. Its columns: {string.Join(", ", all.Select(c => c.Name))}.");

        var selected = columns is { Count: > 0 }
            ? string.Join(", ", columns.Select((c, i) => TableSandbox.Identifier(Column(c, $"columns[{i}]"))))
            : "*";
        var conditions = new List<string>();
        var parameters = new List<object?>();
        for (var i = 0; i < (filter?.Count ?? 0); i++)
        {
            var f = filter![i] ?? throw new OperationException($"filter[{i}] is null: give {{ column, op, value }}.");
            var name = Column(f.Column, $"filter[{i}].column");
            var column = TableSandbox.Identifier(name);
            var type = all.First(c => c.Name == name).Type;
            var op = (f.Op ?? "").Trim().ToLowerInvariant();
            if (op is "is_null" or "not_null")
            {
                conditions.Add($"{column} IS {(op == "is_null" ? "" : "NOT ")}NULL");
                continue;
            }
            if (f.Value is null)
                throw new OperationException($"filter[{i}].value is required with op '{f.Op}': give the value to compare with, as text.");
            parameters.Add(f.Value);
            var p = "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
            conditions.Add(op switch
            {
                "=" or "==" or "!=" or "<>" or "<" or "<=" or ">" or ">=" => $"{column} {(op == "==" ? "=" : op)} CAST({p} AS {type})",
                "contains" => $"contains(lower(CAST({column} AS VARCHAR)), lower({p}))",
                _ => throw new OperationException($"filter[{i}].op '{f.Op}' is not one of: =, !=, <, <=, >, >=, contains, is_null, not_null."),
            });
        }
        var select = $"SELECT {selected} FROM t" + (conditions.Count > 0 ? " WHERE " + string.Join(" AND ", conditions) : "");
        var page = await sandbox.PageAsync(select, parameters, offset, limit, "table", cancellationToken).ConfigureAwait(false);
        return new TableRowsResult(info, Columns(page), page.Rows, offset, page.More ? offset + page.Rows.Count : null, page.Note);
    }

    /// <summary>
    /// Row count and a summary of every column. One Parquet file is described from its footer statistics, read by byte
    /// ranges without fetching it (unless <paramref name="scan"/>); anything else is fetched and summarized by DuckDB.
    /// </summary>
    public async Task<TableDescribeResult> DescribeAsync(TableInput table, bool scan, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        var resolved = await ResolveAsync(table, "t", "table", cancellationToken).ConfigureAwait(false);
        if (!scan && resolved.Format == TableFormat.Parquet && resolved.Sources.Count == 1)
        {
            var source = resolved.Sources[0];
            var info = await objects.Store.HeadAsync(source.Object, cancellationToken).ConfigureAwait(false);
            var read = info.VersionId is { Length: > 0 } v && v != "null" && source.Object.VersionId is null ? source.Object with { VersionId = v } : source.Object;
            var footer = await ParquetFooter.ReadAsync(objects.Store, read, info.Size, resolved.Name, cancellationToken).ConfigureAwait(false);
            var sourceInfo = new TableSourceInfo(resolved.Name, "parquet", 1, info.Size, resolved.Uris, 0);
            return new TableDescribeResult(sourceInfo, footer.Rows, "parquet-footer", footer.RowGroups, null, footer.Columns,
                $"From the footer ({footer.BytesRead:N0} of {info.Size:N0} bytes read): means, distinct counts and top values need every row; "
                + "call again with scan=true, or use table_query.");
        }
        using var leases = new CacheLeases();
        var (view, fetched) = await FetchAsync(resolved, leases, progress, cancellationToken).ConfigureAwait(false);
        using var sandbox = TableSandbox.Open([view], Settings);
        var summary = await sandbox.RowsAsync("SUMMARIZE SELECT * FROM t", "table", cancellationToken).ConfigureAwait(false);
        // SUMMARIZE: column_name, column_type, min, max, approx_unique, avg, std, q25, q50, q75, count, null_percentage.
        long rows = summary.Count > 0 ? Convert.ToInt64(summary[0][10], CultureInfo.InvariantCulture) : 0;
        var columns = new List<ColumnSummary>();
        foreach (var row in summary)
        {
            var name = (string)row[0]!;
            var type = (string)row[1]!;
            var nullPercent = row[11] is null ? 0.0 : Convert.ToDouble(row[11], CultureInfo.InvariantCulture);
            IReadOnlyList<ValueCount>? top = null;
            if (type == "VARCHAR" && columns.Count(c => c.TopValues is not null) < TopValueColumns)
            {
                var column = TableSandbox.Identifier(name);
                var counted = await sandbox.RowsAsync(
                    $"SELECT left({column}, 200), count(*) FROM t WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TopValues}",
                    "table", cancellationToken).ConfigureAwait(false);
                top = counted.Select(r => new ValueCount((string)r[0]!, Convert.ToInt64(r[1], CultureInfo.InvariantCulture))).ToList();
            }
            columns.Add(new ColumnSummary(name, type, (long)Math.Round(rows * nullPercent / 100), row[4] is null ? null : Convert.ToInt64(row[4], CultureInfo.InvariantCulture),
                Cell(row[2]), Cell(row[3]), row[5] is { } mean && double.TryParse(Cell(mean), NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m : null, top));
        }
        var (dialect, note) = resolved.Format is TableFormat.Csv or TableFormat.Tsv
            ? await DialectAsync(sandbox, view, cancellationToken).ConfigureAwait(false)
            : (null, null);
        return new TableDescribeResult(fetched, rows, "scan", null, dialect, columns, note);
    }

    /// <summary>
    /// The dialect the view reads the file with. The sniffer detects everything it can, the delimiter too; a TSV is
    /// read tab-separated whatever it finds (a one-column TSV with commas in it would otherwise split on them), so when
    /// the sniffer alone picks another delimiter, the tab is reported as the extension's choice and the note says so.
    /// </summary>
    private static async Task<(TableDialect? Dialect, string? Note)> DialectAsync(TableSandbox sandbox, TableView view, CancellationToken cancellationToken)
    {
        var file = TableSandbox.Literal(view.Files[0]);
        // What the view was created with: the file's stored sniff (for a .tsv, the one with the tab fixed).
        var stored = CsvSniff.Load(view.Files[0], view.Format) is { Auto: false } s ? s.Dialect : null;
        if (view.Format != TableFormat.Tsv)
            return (stored ?? await SniffAsync(sandbox, file, cancellationToken).ConfigureAwait(false), null);
        var sniffed = await SniffAsync(sandbox, file, cancellationToken).ConfigureAwait(false);
        if (sniffed is null || sniffed.Delimiter == "\t")
            return (sniffed, null);
        // Quote, escape and header as the view reads them: sniffed with the tab fixed.
        var read = stored ?? await SniffAsync(sandbox, file + ", delim = '\\t'", cancellationToken).ConfigureAwait(false);
        if (read is null)
            return (null, null);
        var alone = sniffed.Delimiter.Length == 0 ? "no delimiter" : $"'{sniffed.Delimiter}'";
        return (read with { DelimiterFrom = "extension" },
            $"Read tab-separated because of the .tsv extension; DuckDB's sniffer alone found {alone}. If the file is not tab-separated, name it with a .csv key.");
    }

    private static async Task<TableDialect?> SniffAsync(TableSandbox sandbox, string arguments, CancellationToken cancellationToken)
    {
        var sniffed = await sandbox.RowsAsync($"SELECT Delimiter, Quote, Escape, HasHeader FROM sniff_csv({arguments})", "table", cancellationToken)
            .ConfigureAwait(false);
        if (sniffed.Count == 0)
            return null;
        // The sniffer says "(empty)" for a character the file does not use.
        static string Character(object? value) => Cell(value) is { } text && text != "(empty)" ? text : "";
        return new TableDialect(Character(sniffed[0][0]), Character(sniffed[0][1]), Character(sniffed[0][2]), sniffed[0][3] is true, "sniffed");
    }

    private static string? Cell(object? value) => value switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static IReadOnlyList<TableColumn> Columns(SandboxPage page) => page.Columns.Select(c => new TableColumn(c.Name, c.Type)).ToList();

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > TableSettings.MaxRowsPerPage)
            throw new OperationException($"limit {limit} is out of range: use 1 to {TableSettings.MaxRowsPerPage}.");
    }

    private static long Offset(string? cursor, string argument)
    {
        if (string.IsNullOrEmpty(cursor))
            return 0;
        return long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? offset
            : throw new OperationException($"{argument} '{cursor}' is not one this tool returned: pass nextCursor unchanged, or leave it out for the first page.");
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex TableName();

    private static string NameOf(string? name, string? fallback, string argument)
    {
        var text = string.IsNullOrWhiteSpace(name) ? fallback : name.Trim();
        if (text is null)
            throw new OperationException($"{argument} is required when a query names several tables: the name the SQL uses for it, such as 'sales'.");
        if (!TableName().IsMatch(text))
            throw new OperationException($"{argument} '{text}' is not a table name: use letters, digits and '_', not starting with a digit (at most 63).");
        return text;
    }

    private sealed record ResolvedTable(string Name, TableFormat Format, IReadOnlyList<ObjectSource> Sources, IReadOnlyList<string> Uris);

    private async Task<ResolvedTable> ResolveAsync(TableInput table, string name, string argument, CancellationToken cancellationToken)
    {
        var hasUri = !string.IsNullOrWhiteSpace(table.Uri);
        var hasPackage = !string.IsNullOrWhiteSpace(table.Package);
        if (hasUri == hasPackage)
        {
            throw new OperationException(hasUri
                ? $"{argument} gives both uri and package: give one (a uri, or a package with path)."
                : $"{argument} names no table: give uri (s3://bucket/key or a quilt+s3 entry URI), or package with path.");
        }
        if (hasUri && !IsPackageGlob(table.Uri!))
        {
            if (table.Path is not null || table.Registry is not null || table.Revision is not null)
                throw new OperationException($"{argument}: path, registry and revision go with package, not with uri.");
            var source = await objects.ReadableAsync(table.Uri, $"{argument}.uri", cancellationToken).ConfigureAwait(false);
            var format = await FormatOfAsync(name, source, cancellationToken).ConfigureAwait(false);
            return new ResolvedTable(name, format, [source], [table.Uri!.Trim()]);
        }

        var target = packages.Target(hasUri ? table.Uri : table.Package, table.Registry, table.Revision);
        var key = PackageOperations.PathOf(table.Path, target);
        if (key.Length == 0)
            throw new OperationException($"{argument}.path is required with a package: an entry's logical key, or a glob such as data/*.parquet.");
        var content = await packages.RevisionAsync(target, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> keys;
        if (IsGlob(key))
        {
            var pattern = PythonFnmatch.Compile(key);
            keys = content.Manifest.Entries.Select(e => e.LogicalKey).Where(k => pattern.IsMatch(k)).Order(StringComparer.Ordinal).ToList();
            if (keys.Count == 0)
                throw new OperationException($"{argument}: '{key}' matches no entry of {target.Name}@{content.TopHash[..10]}. Use package_browse to see its keys.");
            if (keys.Count > Settings.MaxFilesPerTable)
                throw new OperationException($"{argument}: '{key}' matches {keys.Count:N0} entries, more than {Settings.MaxFilesPerTable:N0} for one table. Narrow the glob.");
        }
        else
        {
            var entry = content.Manifest.Find(key) ?? content.Manifest.Find(key.Trim('/'))
                ?? throw new OperationException($"{argument}: {target.Name}@{content.TopHash[..10]} has no entry '{key}'. Use package_browse to see its keys.");
            keys = [entry.LogicalKey];
        }
        var sources = new List<ObjectSource>();
        var uris = new List<string>();
        TableFormat? common = null;
        foreach (var logicalKey in keys)
        {
            // Pinned to the top hash resolved above, and read as any entry URI is: under the bucket policy, checked against its manifest.
            var uri = target.Uri(content.TopHash, logicalKey);
            var source = await objects.ReadableAsync(uri, argument, cancellationToken).ConfigureAwait(false);
            var format = TableFormats.Detect(name, logicalKey, null);
            if (common is { } first && first != format)
            {
                throw new OperationException($"{argument}: '{key}' matches entries of different formats ({TableFormats.Name(first)} and {TableFormats.Name(format)}, "
                    + $"such as {logicalKey}). One table is one format: narrow the glob (data/*.parquet).");
            }
            common = format;
            sources.Add(source);
            uris.Add(uri);
        }
        return new ResolvedTable(name, common!.Value, sources, uris);
    }

    private static bool IsGlob(string key) => key.AsSpan().IndexOfAny('*', '?', '[') >= 0;

    private static bool IsPackageGlob(string uri)
    {
        var text = uri.Trim();
        if (!QuiltUri.IsQuiltUri(text))
            return false;
        try
        {
            var parsed = QuiltUri.Parse(text);
            return parsed.PackageName is not null && parsed.Path is { } path && IsGlob(path);
        }
        catch (FormatException)
        {
            return false; // the object resolver says what is wrong with it
        }
    }

    private async Task<TableFormat> FormatOfAsync(string name, ObjectSource source, CancellationToken cancellationToken)
    {
        var key = source.Entry?.LogicalKey ?? source.Object.Key;
        try
        {
            return TableFormats.Detect(name, key, null);
        }
        catch (OperationException) when (source.Entry is null)
        {
            // No telling extension: the stored content type may still say what it is.
            var info = await objects.Store.HeadAsync(source.Object, cancellationToken).ConfigureAwait(false);
            return TableFormats.Detect(name, key, info.ContentType);
        }
    }

    /// <summary>The table's files in the cache, each leased in <paramref name="leases"/> (so no cache evicts it) until the call is done.</summary>
    private async Task<(TableView View, TableSourceInfo Info)> FetchAsync(ResolvedTable table, CacheLeases leases, IProgress<ProgressUpdate>? progress,
        CancellationToken cancellationToken)
    {
        var files = new List<string>();
        long bytes = 0;
        var hits = 0;
        foreach (var source in table.Sources)
        {
            var key = source.Entry?.LogicalKey ?? source.Object.Key;
            var file = await Cache.GetAsync(objects.Store, source, TableFormats.Extension(table.Format, key), table.Name, progress, cancellationToken)
                .ConfigureAwait(false);
            leases.Add(file);
            files.Add(file.Path);
            bytes += file.Size;
            hits += file.Hit ? 1 : 0;
        }
        return (new TableView(table.Name, table.Format, files),
            new TableSourceInfo(table.Name, TableFormats.Name(table.Format), files.Count, bytes, table.Uris.Take(ListedUris).ToList(), hits));
    }
}
