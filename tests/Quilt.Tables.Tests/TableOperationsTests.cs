using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Tables.Tests;

/// <summary>
/// The table operations on files the tests write (CSV, TSV, JSON Lines, Parquet), once over a local folder and once
/// over the S3 server on loopback: queries, the sandbox's refusals, paging that resumes exactly, describe, rows and the cache.
/// </summary>
public abstract class TableOperationsTests : IAsyncLifetime
{
    private readonly TempDirectory _cache = new("quilt-tables-cache");
    private TestBucket _bucket = null!;
    private IObjectStore _store = null!;
    private QuiltOperations _ops = null!;

    protected string Bucket { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private protected abstract TestStorage Storage { get; }

    public async ValueTask InitializeAsync()
    {
        _bucket = await TestBucket.OpenAsync(Storage, "table-bucket", Ct);
        (_store, Bucket) = (_bucket.Store, _bucket.Bucket);
        var settings = new OperationSettings { Storage = new StorageSettings(), AllowedBuckets = [Bucket], DefaultRegistry = Bucket };
        _ops = new QuiltOperations(new StoreConnection(_store), settings, new PackageService(new ObjectLocator([_store], allowLocalFilesOutsideStores: false)));
        await PutAsync("people.csv", TableFiles.Utf8(TableFiles.Csv));
        await PutAsync("words.tsv", TableFiles.Utf8(TableFiles.Tsv));
        await PutAsync("events.jsonl", TableFiles.Utf8(TableFiles.JsonLines));
        await PutAsync("readings.parquet", await TableFiles.ParquetAsync(TableFiles.Readings(1, 10), 4, Ct));
    }

    public ValueTask DisposeAsync()
    {
        _cache.Dispose();
        _bucket?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private TableOperations Tables(TableSettings? settings = null)
    {
        var s = (settings ?? new TableSettings()) with { CacheFolder = _cache.Path };
        return new TableOperations(_ops.Objects, _ops.Packages, new TableCache(s.CacheFolder, s.CacheBytes), s);
    }

    private async Task PutAsync(string key, byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        await _store.PutAsync(new PutRequest(Bucket, key) { Length = bytes.Length }, stream, null, Ct);
    }

    private TableInput Object(string key, string? name = null) => new(name, $"s3://{Bucket}/{key}");

    private async Task<string> PackageAsync(string name, params (string Key, string Object)[] entries)
    {
        var input = new PackageCreateInput(entries.Select((e, i) => new PackageSourceSpec($"sources[{i}]") { Uri = $"s3://{Bucket}/{e.Object}", LogicalKey = e.Key }).ToList())
        {
            Copy = false,
        };
        var written = await _ops.Packages.CreateAsync(_ops.Packages.Target(name, Bucket, write: true), input, null, Ct);
        return written.Write.Manifest.TopHash;
    }

    // The copies, not the cache's own lock and reservation files (hidden, their names start with '.').
    private string[] CachedFiles() => Directory.Exists(_cache.Path) ? Directory.GetFiles(_cache.Path).Where(f => !Path.GetFileName(f).StartsWith('.')).ToArray() : [];

    private static string SniffOf(string copy) => Path.Join(Path.GetDirectoryName(copy), "." + Path.GetFileName(copy) + ".sniff");

    private Task<ObjectSource> SourceAsync(string key) => _ops.Objects.ReadableAsync($"s3://{Bucket}/{key}", "uri", Ct);

    [Fact]
    public async Task A_query_over_a_csv_keeps_quoted_commas_unicode_and_missing_values()
    {
        var result = await Tables().QueryAsync([Object("people.csv", "people")], "SELECT id, name, city, score FROM people ORDER BY id", 100, null, null, Ct);

        Assert.Equal(["id", "name", "city", "score"], result.Columns.Select(c => c.Name));
        Assert.Equal("BIGINT", result.Columns[0].Type);
        Assert.Equal(4, result.Rows.Count);
        Assert.Equal(["1", "Smith, Ann", "Zürich", "3.5"], result.Rows[0]);
        Assert.Equal("Bo \"the\" Best", result.Rows[1][1]);
        Assert.Null(result.Rows[1][3]);
        Assert.Null(result.Rows[3][2]);
        Assert.Null(result.NextCursor);
        var table = Assert.Single(result.Tables);
        Assert.Equal(("people", "csv", 1, 0), (table.Name, table.Format, table.Files, table.Cached));
    }

    [Fact]
    public async Task A_query_joins_an_object_with_every_parquet_entry_a_package_glob_matches()
    {
        await PutAsync("parts/a.parquet", await TableFiles.ParquetAsync(TableFiles.Readings(1, 5), 2, Ct));
        await PutAsync("parts/b.parquet", await TableFiles.ParquetAsync(TableFiles.Readings(6, 5), 2, Ct));
        await PackageAsync("team/readings", ("data/a.parquet", "parts/a.parquet"), ("data/b.parquet", "parts/b.parquet"), ("people.csv", "people.csv"));

        var result = await Tables().QueryAsync(
            [new TableInput("r", Package: "team/readings", Path: "data/*.parquet"), Object("people.csv", "p")],
            "SELECT count(*) AS n, count(Station) AS stations, max(\"At\") AS latest, (SELECT count(*) FROM p) AS people FROM r", 10, null, null, Ct);

        Assert.Equal(["10", "7", "2024-01-01 10:00:00", "4"], Assert.Single(result.Rows));
        Assert.Equal(2, result.Tables[0].Files);
        Assert.All(result.Tables[0].Uris, u => Assert.StartsWith($"quilt+s3://{Bucket}#package=team/readings@", u, StringComparison.Ordinal));

        // A quilt+s3 URI with a glob in its path names the same table.
        var byUri = await Tables().QueryAsync([new TableInput("r", $"quilt+s3://{Bucket}#package=team/readings&path=data/*.parquet")],
            "SELECT sum(Id) FROM r", 10, null, null, Ct);
        Assert.Equal("55", byUri.Rows[0][0]);
        Assert.Equal(2, byUri.Tables[0].Cached);
    }

    [Fact]
    public async Task Pages_of_a_query_resume_exactly_where_the_last_stopped()
    {
        var tables = Tables();
        var seen = new List<string?>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await tables.QueryAsync([Object("readings.parquet")], "SELECT Id FROM t ORDER BY Id DESC", 3, cursor, null, Ct);
            seen.AddRange(page.Rows.Select(r => r[0]));
            Assert.Equal(page.NextCursor is not null, page.Truncated);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);
        Assert.Equal(Enumerable.Range(1, 10).Reverse().Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen);
        Assert.Equal(4, pages);
    }

    [Theory]
    [InlineData("CREATE TABLE x AS SELECT 1", "only a read-only query is allowed")]
    [InlineData("INSERT INTO t VALUES (1)", "only a read-only query is allowed")]
    [InlineData("COPY (SELECT * FROM t) TO '/tmp/quilt-tables-copy.csv'", "only a read-only query is allowed")]
    [InlineData("ATTACH '/tmp/quilt-tables.db' AS other", "only a read-only query is allowed")]
    [InlineData("INSTALL httpfs", "only a read-only query is allowed")]
    [InlineData("LOAD httpfs", "only a read-only query is allowed")]
    [InlineData("SET enable_external_access = true", "only a read-only query is allowed")]
    [InlineData("SELECT 1; DROP VIEW t", "only a read-only query is allowed")]
    [InlineData("SELECT 1; SELECT 2", "holds 2 statements")]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')", "refused by the sandbox")]
    [InlineData("SELECT * FROM read_text('/etc/hostname')", "refused by the sandbox")]
    [InlineData("SELECT * FROM glob('/*')", "refused by the sandbox")]
    [InlineData("SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')", "refused by the sandbox")]
    [InlineData("SELEC 1", "DuckDB could not parse it")]
    public async Task Sql_that_writes_attaches_or_reads_outside_the_tables_is_refused(string sql, string reason)
    {
        var e = await Assert.ThrowsAsync<OperationException>(() => Tables().QueryAsync([Object("people.csv")], sql, 10, null, null, Ct));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("sql", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists("/tmp/quilt-tables-copy.csv"));
        Assert.False(File.Exists("/tmp/quilt-tables.db"));
    }

    [Fact]
    public async Task Sql_cannot_read_another_tables_cached_copy()
    {
        var tables = Tables();
        await tables.QueryAsync([Object("words.tsv")], "SELECT 1", 1, null, null, Ct);
        var other = Assert.Single(CachedFiles());

        var e = await Assert.ThrowsAsync<OperationException>(() =>
            tables.QueryAsync([Object("people.csv")], $"SELECT * FROM read_csv('{other}')", 10, null, null, Ct));
        Assert.Contains("refused by the sandbox", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_name_the_column_or_the_tables_of_the_call()
    {
        var column = await Assert.ThrowsAsync<OperationException>(() =>
            Tables().QueryAsync([Object("people.csv", "people")], "SELECT nope FROM people", 10, null, null, Ct));
        Assert.Contains("nope", column.Message, StringComparison.Ordinal);

        var table = await Assert.ThrowsAsync<OperationException>(() =>
            Tables().QueryAsync([Object("people.csv", "people")], "SELECT * FROM persons", 10, null, null, Ct));
        Assert.Contains("persons", table.Message, StringComparison.Ordinal);
        Assert.Contains("tables in this call: people", table.Message, StringComparison.Ordinal);

        await PutAsync("notes.txt", TableFiles.Utf8("just text"));
        var format = await Assert.ThrowsAsync<OperationException>(() =>
            Tables().QueryAsync([new TableInput("x", $"s3://{Bucket}/notes.txt")], "SELECT 1", 10, null, null, Ct));
        Assert.StartsWith("table 'x':", format.Message, StringComparison.Ordinal);

        var twice = await Assert.ThrowsAsync<OperationException>(() =>
            Tables().QueryAsync([Object("people.csv", "a"), Object("words.tsv", "A")], "SELECT 1", 10, null, null, Ct));
        Assert.Contains("tables[1].name 'A' is used twice", twice.Message, StringComparison.Ordinal);

        var unnamed = await Assert.ThrowsAsync<OperationException>(() =>
            Tables().QueryAsync([Object("people.csv"), Object("words.tsv")], "SELECT 1", 10, null, null, Ct));
        Assert.StartsWith("tables[0].name is required", unnamed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_over_the_time_limit_is_interrupted_with_a_clear_error()
    {
        var tables = Tables(new TableSettings { QueryTimeout = TimeSpan.FromSeconds(1) });

        var e = await Assert.ThrowsAsync<OperationException>(() => tables.QueryAsync([Object("people.csv")],
            "SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range * b.range = -1", 10, null, null, Ct));
        Assert.Contains("ran for longer than this server's limit of 1 s and was stopped", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_running_query_interrupts_it()
    {
        var tables = Tables();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var query = tables.QueryAsync([Object("people.csv")],
            "SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range * b.range = -1", 10, null, null, cancel.Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query);
    }

    [Fact]
    public async Task A_page_stops_at_the_byte_limit_and_the_cursor_goes_on_from_there()
    {
        var tables = Tables(new TableSettings { MaxResultBytes = 1000 });

        var page = await tables.QueryAsync([Object("people.csv")], "SELECT repeat('x', 300) AS wide FROM range(10)", 100, null, null, Ct);
        Assert.Equal(3, page.Rows.Count);
        Assert.Equal("3", page.NextCursor);
        Assert.Contains("stopped at 3 rows", page.Note, StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<OperationException>(() =>
            tables.QueryAsync([Object("people.csv")], "SELECT repeat('x', 5000) AS huge", 100, null, null, Ct));
        Assert.Contains("over the limit of 1,000 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jsonl_table_keeps_lists_and_nulls()
    {
        var result = await Tables().QueryAsync([Object("events.jsonl", "e")], "SELECT id, tags, v FROM e ORDER BY id", 10, null, null, Ct);

        Assert.Equal("VARCHAR[]", result.Columns[1].Type);
        Assert.Equal(["1", "[a, b]", "1.5"], result.Rows[0]);
        Assert.Equal(["2", "[]", null], result.Rows[1]);
    }

    [Fact]
    public async Task Rows_come_by_row_number_with_chosen_columns_and_a_filter_and_resume_exactly()
    {
        var tables = Tables();
        var first = await tables.RowsAsync(Object("readings.parquet"), 0, 4, ["Id", "Station"], [new TableRowFilter("Station", "not_null")], null, Ct);
        Assert.Equal(["Id", "Station"], first.Columns.Select(c => c.Name));
        Assert.Equal([["1", "st-1"], ["2", "st-2"], ["4", "st-0"], ["5", "st-1"]], first.Rows);
        Assert.Equal(4, first.NextOffset);

        var rest = await tables.RowsAsync(Object("readings.parquet"), first.NextOffset!.Value, 100, ["Id"], [new TableRowFilter("Station", "not_null")], null, Ct);
        Assert.Equal(["7", "8", "10"], rest.Rows.Select(r => r[0]));
        Assert.Null(rest.NextOffset);

        var filtered = await tables.RowsAsync(Object("people.csv"), 0, 10, null,
            [new TableRowFilter("city", "=", "Zürich"), new TableRowFilter("score", ">", "2")], null, Ct);
        Assert.Equal("Smith, Ann", Assert.Single(filtered.Rows)[1]);

        var contains = await tables.RowsAsync(Object("people.csv"), 0, 10, ["name"], [new TableRowFilter("name", "contains", "BEST")], null, Ct);
        Assert.Equal("Bo \"the\" Best", Assert.Single(contains.Rows)[0]);

        var missing = await Assert.ThrowsAsync<OperationException>(() =>
            tables.RowsAsync(Object("people.csv"), 0, 10, ["nmae"], null, null, Ct));
        Assert.Equal("columns[0]: table 't' has no column 'nmae'. Its columns: id, name, city, score.", missing.Message);

        var badValue = await Assert.ThrowsAsync<OperationException>(() =>
            tables.RowsAsync(Object("people.csv"), 0, 10, null, [new TableRowFilter("id", "=", "one")], null, Ct));
        Assert.Contains("one", badValue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parquet_file_is_described_from_its_footer_without_fetching_it()
    {
        var result = await Tables().DescribeAsync(Object("readings.parquet"), scan: false, null, Ct);

        Assert.Equal(("parquet-footer", 10L, 3), (result.Method, result.Rows, result.RowGroups));
        Assert.Empty(CachedFiles());
        var id = result.Columns.Single(c => c.Name == "Id");
        Assert.Equal(("INTEGER", "1", "10", 0L), (id.Type, id.Min, id.Max, id.Nulls));
        var station = result.Columns.Single(c => c.Name == "Station");
        Assert.Equal(("VARCHAR", "st-0", "st-3", 3L), (station.Type, station.Min, station.Max, station.Nulls));
        var value = result.Columns.Single(c => c.Name == "Value");
        Assert.Equal((2L, "1.25", "11.25"), (value.Nulls, value.Min, value.Max));
        var at = result.Columns.Single(c => c.Name == "At");
        Assert.Equal(("TIMESTAMP", "2024-01-01 01:00:00", "2024-01-01 10:00:00"), (at.Type, at.Min, at.Max));
        Assert.EndsWith("[]", result.Columns.Single(c => c.Name.StartsWith("Tags", StringComparison.Ordinal)).Type, StringComparison.Ordinal);

        var scanned = await Tables().DescribeAsync(Object("readings.parquet"), scan: true, null, Ct);
        Assert.Equal(("scan", 10L), (scanned.Method, scanned.Rows));
        Assert.Equal(3L, scanned.Columns.Single(c => c.Name == "Station").Nulls);
    }

    [Fact]
    public async Task A_csv_is_described_with_its_dialect_types_nulls_means_and_top_values()
    {
        var result = await Tables().DescribeAsync(Object("people.csv"), scan: false, null, Ct);

        Assert.Equal(("scan", 4L), (result.Method, result.Rows));
        Assert.Equal(new TableDialect(",", "\"", "\"", true, "sniffed"), result.Dialect);
        var score = result.Columns.Single(c => c.Name == "score");
        Assert.Equal(("DOUBLE", 1L, "1.5", "3.5"), (score.Type, score.Nulls, score.Min, score.Max));
        Assert.Equal(7.0 / 3, score.Mean!.Value, 6);
        var city = result.Columns.Single(c => c.Name == "city");
        Assert.Equal(1L, city.Nulls);
        Assert.Equal(new ValueCount("Zürich", 2), city.TopValues![0]);

        var tsv = await Tables().DescribeAsync(Object("words.tsv"), scan: false, null, Ct);
        Assert.Equal(("\t", "", "sniffed"), (tsv.Dialect!.Delimiter, tsv.Dialect.Quote, tsv.Dialect.DelimiterFrom));
        Assert.Equal(3L, tsv.Rows);
    }

    [Fact]
    public async Task A_tsv_is_described_with_the_dialect_the_sniffer_found_itself_and_where_its_delimiter_came_from()
    {
        await PutAsync("quoted.tsv", TableFiles.Utf8(TableFiles.QuotedTsvWithoutHeader));
        var quoted = await Tables().DescribeAsync(Object("quoted.tsv"), scan: false, null, Ct);

        // The sniffer, not told the delimiter, found the tab, the quotes and that there is no header.
        Assert.Equal(new TableDialect("\t", "\"", "\"", false, "sniffed"), quoted.Dialect);
        Assert.Null(quoted.Note);
        Assert.Equal(3L, quoted.Rows);
        Assert.Equal(["column0", "column1", "column2"], quoted.Columns.Select(c => c.Name));
        var rows = await Tables().RowsAsync(Object("quoted.tsv"), 0, 10, null, null, null, Ct);
        Assert.Equal(["1", "Smith\tAnn", "Zürich"], rows.Rows[0]);
        Assert.Equal("Bo \"the\" Best", rows.Rows[1][1]);

        // One column with commas in it: alone the sniffer would split on ','; the .tsv extension keeps it one column, and says so.
        await PutAsync("names.tsv", TableFiles.Utf8(TableFiles.OneColumnTsv));
        var names = await Tables().DescribeAsync(Object("names.tsv"), scan: false, null, Ct);
        Assert.Equal(("\t", "extension"), (names.Dialect!.Delimiter, names.Dialect.DelimiterFrom));
        Assert.Contains("sniffer alone found ','", names.Note, StringComparison.Ordinal);
        Assert.Equal(["name"], names.Columns.Select(c => c.Name));
        Assert.Equal(3L, names.Rows);
    }

    [Fact]
    public async Task A_csv_is_sniffed_once_and_later_calls_read_it_with_the_stored_dialect()
    {
        const string Sql = "SELECT * FROM t ORDER BY id";
        var first = await Tables().QueryAsync([Object("people.csv")], Sql, 10, null, null, Ct);
        var stored = SniffOf(Assert.Single(CachedFiles()));
        Assert.True(File.Exists(stored), "the sniff is stored beside the cached copy");

        // Another server on the same cache reads the file with the stored sniff: the same columns, types and rows.
        var again = await Tables().QueryAsync([Object("people.csv")], Sql, 10, null, null, Ct);
        Assert.Equal(first.Columns, again.Columns);
        Assert.Equal(first.Rows, again.Rows);
        var described = await Tables().DescribeAsync(Object("people.csv"), scan: false, null, Ct);
        Assert.Equal(new TableDialect(",", "\"", "\"", true, "sniffed"), described.Dialect);

        // The stored sniff, not a new one, is what a later call binds: a column name changed in it shows in the result.
        await File.WriteAllTextAsync(stored, (await File.ReadAllTextAsync(stored, Ct)).Replace("\"city\"", "\"town\"", StringComparison.Ordinal), Ct);
        var renamed = await Tables().QueryAsync([Object("people.csv")], "SELECT town FROM t ORDER BY id", 10, null, null, Ct);
        Assert.Equal(["Zürich", "Köln", "Zürich", null], renamed.Rows.Select(r => r[0]));

        // A stored sniff that cannot be read is ignored: the file is sniffed again and the sniff stored afresh.
        await File.WriteAllTextAsync(stored, "{not json", Ct);
        var resniffed = await Tables().QueryAsync([Object("people.csv")], Sql, 10, null, null, Ct);
        Assert.Equal(first.Rows, resniffed.Rows);
        Assert.Contains("\"city\"", await File.ReadAllTextAsync(stored, Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_csv_whose_header_holds_quotes_reads_the_same_through_its_stored_sniff()
    {
        // Names with both quote characters (they go into the view's SQL as literals), CRLF lines, day-first dates.
        await PutAsync("odd.csv", TableFiles.Utf8("a'b,\"x\"\"y\",d,t\r\n1,2,13/02/2024,14/03/2024 10:00:00\r\n3,4,15/06/2024,16/08/2024 11:30:00\r\n"));
        const string Sql = "SELECT \"a'b\", \"x\"\"y\", d, t FROM t ORDER BY 1";

        var first = await Tables().QueryAsync([Object("odd.csv")], Sql, 10, null, null, Ct);
        Assert.True(File.Exists(SniffOf(Assert.Single(CachedFiles()))));
        var again = await Tables().QueryAsync([Object("odd.csv")], Sql, 10, null, null, Ct);

        Assert.Equal(["a'b", "x\"y", "d", "t"], again.Columns.Select(c => c.Name));
        Assert.Equal(["BIGINT", "BIGINT", "DATE", "TIMESTAMP"], again.Columns.Select(c => c.Type));
        Assert.Equal(["1", "2", "2024-02-13", "2024-03-14 10:00:00"], again.Rows[0]);
        Assert.Equal(first.Rows, again.Rows);
    }

    [Fact]
    public async Task A_glob_of_csv_entries_reads_files_with_the_same_columns_and_files_with_different_ones()
    {
        await PutAsync("parts/a.csv", TableFiles.Utf8("id,name\n1,x\n"));
        await PutAsync("parts/b.csv", TableFiles.Utf8("id,name\n2,y\n"));
        await PutAsync("parts/c.csv", TableFiles.Utf8("id,score\n3,1.5\n"));
        await PackageAsync("team/same", ("data/a.csv", "parts/a.csv"), ("data/b.csv", "parts/b.csv"));
        await PackageAsync("team/mixed", ("data/a.csv", "parts/a.csv"), ("data/c.csv", "parts/c.csv"));

        for (var call = 0; call < 2; call++)
        {
            var same = await Tables().QueryAsync([new TableInput(null, Package: "team/same", Path: "data/*.csv")], "SELECT id, name FROM t ORDER BY id", 10, null, null, Ct);
            Assert.Equal([["1", "x"], ["2", "y"]], same.Rows);
            var mixed = await Tables().QueryAsync([new TableInput(null, Package: "team/mixed", Path: "data/*.csv")], "SELECT id, name, score FROM t ORDER BY id", 10, null, null, Ct);
            Assert.Equal([["1", "x", null], ["3", null, "1.5"]], mixed.Rows);
        }
    }

    [Fact]
    public async Task Entries_are_cached_by_their_hash_and_reused_across_packages_and_calls()
    {
        await PackageAsync("team/one", ("people.csv", "people.csv"));
        await PackageAsync("team/two", ("in/renamed.csv", "people.csv"));
        var tables = Tables();

        var one = await tables.QueryAsync([new TableInput(null, Package: "team/one", Path: "people.csv")], "SELECT count(*) FROM t", 1, null, null, Ct);
        var two = await tables.QueryAsync([new TableInput(null, Package: "team/two", Path: "in/renamed.csv")], "SELECT count(*) FROM t", 1, null, null, Ct);

        Assert.Equal(0, one.Tables[0].Cached);
        Assert.Equal(1, two.Tables[0].Cached);
        Assert.StartsWith("entry-", Path.GetFileName(Assert.Single(CachedFiles())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_whose_bytes_do_not_match_its_manifest_is_refused_and_nothing_is_cached()
    {
        var bytes = TableFiles.Utf8(TableFiles.Csv);
        var wrong = ObjectHashing.Compute(TableFiles.Utf8("something else")).Value;
        await CraftedPackages.PublishAsync(_store, Bucket, "evil/table",
            [CraftedPackages.EntryLine("people.csv", _store.ToPhysicalKey(new ObjectRef(Bucket, "people.csv")), bytes.Length, ObjectHash.Sha256ChunkedType, wrong)], Ct);

        var e = await Assert.ThrowsAsync<OperationException>(() =>
            Tables().QueryAsync([new TableInput("p", Package: "evil/table", Path: "people.csv")], "SELECT * FROM p", 10, null, null, Ct));
        Assert.StartsWith("table 'p':", e.Message, StringComparison.Ordinal);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public async Task The_cache_evicts_the_least_recently_used_files_past_its_bound()
    {
        var csv = TableFiles.Utf8(TableFiles.Csv).Length;
        var tsv = TableFiles.Utf8(TableFiles.Tsv).Length;
        var jsonl = TableFiles.Utf8(TableFiles.JsonLines).Length;
        var tables = Tables(new TableSettings { CacheBytes = csv + tsv + jsonl - 1 });

        await tables.QueryAsync([Object("people.csv")], "SELECT 1", 1, null, null, Ct);
        await tables.QueryAsync([Object("words.tsv")], "SELECT 1", 1, null, null, Ct);
        // Used again: the csv is now more recent than the tsv.
        var again = await tables.QueryAsync([Object("people.csv")], "SELECT 1", 1, null, null, Ct);
        Assert.Equal(1, again.Tables[0].Cached);
        await tables.QueryAsync([Object("events.jsonl")], "SELECT 1", 1, null, null, Ct);

        Assert.Equal([".csv", ".jsonl"], CachedFiles().Select(Path.GetExtension).Order(StringComparer.Ordinal));
        // The evicted tsv's stored sniff went with it; the csv's stays.
        Assert.Equal([SniffOf(CachedFiles().Single(f => f.EndsWith(".csv", StringComparison.Ordinal)))],
            Directory.GetFiles(_cache.Path, ".*.sniff"));

        var small = Tables(new TableSettings { CacheBytes = 10 });
        var e = await Assert.ThrowsAsync<OperationException>(() => small.QueryAsync([Object("people.csv")], "SELECT 1", 1, null, null, Ct));
        Assert.Contains("more than the table cache holds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_copy_another_cache_on_the_same_folder_is_reading_is_not_evicted_and_goes_once_released()
    {
        var csv = TableFiles.Utf8(TableFiles.Csv).Length;
        var tsv = TableFiles.Utf8(TableFiles.Tsv).Length;
        var jsonl = TableFiles.Utf8(TableFiles.JsonLines).Length;
        // Two caches on one folder, as two servers sharing it: the bound holds one of the files at a time.
        var bound = Math.Max(csv, Math.Max(tsv, jsonl));
        var reader = new TableCache(_cache.Path, bound);
        var other = new TableCache(_cache.Path, bound);

        var held = await reader.GetAsync(_store, await SourceAsync("people.csv"), ".csv", "p", null, Ct);
        using (var filled = await other.GetAsync(_store, await SourceAsync("words.tsv"), ".tsv", "w", null, Ct))
        {
            // The csv is the least recently used copy and the bound is passed, but it is being read: it stays, whole.
            Assert.True(File.Exists(held.Path));
            Assert.Equal(TableFiles.Csv, await File.ReadAllTextAsync(held.Path, Ct));
            Assert.False(filled.Hit);
        }
        held.Dispose();

        using (await other.GetAsync(_store, await SourceAsync("events.jsonl"), ".jsonl", "e", null, Ct))
        {
            // Nothing is read now but the new copy: both older ones went, and the cache is within its bound again.
            Assert.Equal([".jsonl"], CachedFiles().Select(Path.GetExtension));
        }
        Assert.True(CachedFiles().Sum(f => new FileInfo(f).Length) <= bound);
    }

    [Fact]
    public async Task A_fill_in_flight_in_one_cache_counts_against_the_bound_of_another_on_the_same_folder()
    {
        var csv = TableFiles.Utf8(TableFiles.Csv).Length;
        var tsv = TableFiles.Utf8(TableFiles.Tsv).Length;
        var bound = csv + tsv - 1;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gated = new GatedStore(_store, "people.csv", gate.Task);
        var first = new TableCache(_cache.Path, bound);
        var second = new TableCache(_cache.Path, bound);

        var slow = first.GetAsync(gated, await SourceAsync("people.csv"), ".csv", "p", null, Ct);
        await gated.Opened.WaitAsync(Ct);
        // The csv's fill is in flight and the tsv does not fit beside it: the second cache waits for it instead of
        // filling at the same time (which would put the folder over its bound by two entries).
        var waiting = second.GetAsync(gated, await SourceAsync("words.tsv"), ".tsv", "w", null, Ct);
        await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(1), Ct));
        var openedBeforeRelease = gated.OpenedKeys.Contains("words.tsv");
        gate.SetResult();
        using var csvCopy = await slow;
        using var tsvCopy = await waiting;

        Assert.False(openedBeforeRelease);
        Assert.True(File.Exists(csvCopy.Path) && File.Exists(tsvCopy.Path));
    }

    [Fact]
    public async Task A_reservation_left_by_a_fill_whose_process_died_is_removed_by_the_next_fill()
    {
        Directory.CreateDirectory(_cache.Path);
        var dead = Path.Join(_cache.Path, $".entry-{new string('0', 64)}.csv.{Guid.NewGuid():N}.reserve");
        await using (var file = File.Create(dead))
            file.SetLength(1_000_000);
        var cache = new TableCache(_cache.Path, 100_000);

        using var copy = await cache.GetAsync(_store, await SourceAsync("people.csv"), ".csv", "p", null, Ct);

        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(copy.Path));
    }

    /// <summary>Holds the read of one key until the gate opens; records the keys opened for reading.</summary>
    private sealed class GatedStore(IObjectStore inner, string gatedKey, Task gate) : DelegatingObjectStore(inner)
    {
        private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Opened => _opened.Task;

        public System.Collections.Concurrent.ConcurrentBag<string> OpenedKeys { get; } = [];

        public override async Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            OpenedKeys.Add(obj.Key);
            if (obj.Key == gatedKey)
            {
                _opened.TrySetResult();
                await gate.WaitAsync(cancellationToken);
            }
            return await base.OpenReadAsync(obj, range, cancellationToken);
        }
    }

    [Fact]
    public async Task Two_fills_of_the_same_object_at_once_leave_one_whole_copy()
    {
        var tables = Tables();
        var other = Tables();
        var results = await Task.WhenAll(
            tables.QueryAsync([Object("readings.parquet")], "SELECT count(*) FROM t", 1, null, null, Ct),
            other.QueryAsync([Object("readings.parquet")], "SELECT count(*) FROM t", 1, null, null, Ct));

        Assert.All(results, r => Assert.Equal("10", r.Rows[0][0]));
        Assert.Single(CachedFiles());
    }
}

public sealed class LocalTableOperationsTests : TableOperationsTests
{
    private protected override TestStorage Storage => TestStorage.LocalFolder;
}

public sealed class S3TableOperationsTests : TableOperationsTests
{
    private protected override TestStorage Storage => TestStorage.S3;
}
