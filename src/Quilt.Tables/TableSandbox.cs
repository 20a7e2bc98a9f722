using System.Globalization;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Quilt.Operations;

namespace Quilt.Tables;

/// <summary>A table as the sandbox sees it: the name SQL uses, its format, and the cached files that hold it.</summary>
internal sealed record TableView(string Name, TableFormat Format, IReadOnlyList<string> Files);

/// <summary>A column of a result: its name and DuckDB type.</summary>
internal sealed record SandboxColumn(string Name, string Type);

/// <summary>One page of a result: cells as text (null as null), and whether more rows follow.</summary>
internal sealed record SandboxPage(IReadOnlyList<SandboxColumn> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows, bool More, string? Note);

/// <summary>
/// An in-memory DuckDB that sees only the tables it was opened with. Views over the cached files are created first;
/// then the files they name become the only paths DuckDB may open (<c>allowed_paths</c>), external access is turned off
/// (no network, no other file, no extension install or load, no COPY or ATTACH) and the configuration is locked, so SQL
/// cannot turn any of it back on. A caller's SQL must be one SELECT, as DuckDB's own parser judges it
/// (<c>json_serialize_sql</c> serializes nothing else), and runs inside a read-only transaction. Every run is interrupted
/// (DuckDB's interrupt) on cancellation or when the time limit passes.
/// </summary>
internal sealed class TableSandbox : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly TableSettings _settings;
    private readonly IReadOnlyList<TableView> _views;

    private TableSandbox(DuckDBConnection connection, TableSettings settings, IReadOnlyList<TableView> views) =>
        (_connection, _settings, _views) = (connection, settings, views);

    public static TableSandbox Open(IReadOnlyList<TableView> views, TableSettings settings)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
            foreach (var setting in new[]
                     {
                         "SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false",
                         $"SET memory_limit = {Literal(settings.MemoryLimit)}", "SET temp_directory = ''", "SET preserve_insertion_order = true",
                     })
            {
                Execute(connection, setting);
            }
            foreach (var view in views)
            {
                try
                {
                    Execute(connection, $"CREATE VIEW {Identifier(view.Name)} AS SELECT * FROM {Reader(connection, view)}");
                }
                catch (DuckDBException e)
                {
                    throw new OperationException($"table '{view.Name}' could not be read as {TableFormats.Name(view.Format)}: {Tidy(e.Message)}");
                }
            }
            var allowed = string.Join(", ", views.SelectMany(v => v.Files).Distinct(StringComparer.Ordinal).Select(Literal));
            Execute(connection, $"SET allowed_paths = [{allowed}]");
            Execute(connection, "SET enable_external_access = false");
            Execute(connection, "SET lock_configuration = true");
            return new TableSandbox(connection, settings, views);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>
    /// Refuses anything but one SELECT statement, with DuckDB's reason; <paramref name="argument"/> names the SQL in messages.
    /// </summary>
    public void EnsureSelect(string sql, string argument)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT json_serialize_sql(CAST($1 AS VARCHAR))";
        command.Parameters.Add(new DuckDBParameter(sql));
        var serialized = command.ExecuteScalar() as string ?? "{}";
        using var json = JsonDocument.Parse(serialized);
        var root = json.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
        {
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() ?? "" : "";
            var type = root.TryGetProperty("error_type", out var t) ? t.GetString() : null;
            if (type == "not implemented")
            {
                throw new OperationException($"{argument}: only a read-only query is allowed: one SELECT (WITH, FROM and VALUES forms too). "
                    + "Statements that write, attach, copy, install, load or set options are refused.");
            }
            throw new OperationException($"{argument}: DuckDB could not parse it: {Tidy(message)}. Put double quotes around names that are SQL keywords (\"At\", \"order\").");
        }
        var statements = root.TryGetProperty("statements", out var s) && s.ValueKind == JsonValueKind.Array ? s.GetArrayLength() : 0;
        if (statements != 1)
            throw new OperationException($"{argument} holds {statements} statements: give exactly one SELECT.");
    }

    /// <summary>
    /// A page of the rows of <paramref name="select"/> (checked by <see cref="EnsureSelect"/> or built here): at most
    /// <paramref name="limit"/> rows from <paramref name="offset"/>, and no more cell text than the byte limit.
    /// </summary>
    public Task<SandboxPage> PageAsync(string select, IReadOnlyList<object?> parameters, long offset, int limit, string argument,
        CancellationToken cancellationToken) =>
        RunAsync(command =>
        {
            var columns = Columns(select, parameters, argument);
            command.CommandText = $"SELECT COLUMNS(*)::VARCHAR FROM (\n{select}\n) LIMIT {limit + 1} OFFSET {offset.ToString(CultureInfo.InvariantCulture)}";
            Bind(command, parameters);
            var rows = new List<IReadOnlyList<string?>>();
            var more = false;
            string? note = null;
            long bytes = 0;
            using var reader = Read(command, argument);
            while (reader.Read())
            {
                if (rows.Count == limit)
                {
                    more = true;
                    break;
                }
                var row = new string?[reader.FieldCount];
                long rowBytes = 0;
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
                    rowBytes += row[i] is { } cell ? Encoding.UTF8.GetByteCount(cell) : 4;
                }
                if (bytes + rowBytes > _settings.MaxResultBytes)
                {
                    if (rows.Count == 0)
                    {
                        throw new OperationException($"{argument}: row {offset.ToString(CultureInfo.InvariantCulture)} alone holds {rowBytes:N0} bytes of cells, "
                            + $"over the limit of {_settings.MaxResultBytes:N0} bytes for one result. Select fewer columns, or shorten long ones (left(column, 200)).");
                    }
                    more = true;
                    note = $"This page stopped at {rows.Count} rows: the next row would take it over {_settings.MaxResultBytes:N0} bytes of cells. "
                        + "Continue with the cursor, or select fewer columns.";
                    break;
                }
                bytes += rowBytes;
                rows.Add(row);
            }
            return new SandboxPage(columns, rows, more, note);
        }, argument, cancellationToken);

    /// <summary>Rows of internal SQL (a summary, a sniff) read whole: they are a handful.</summary>
    public Task<List<object?[]>> RowsAsync(string sql, string argument, CancellationToken cancellationToken) =>
        RunAsync(command =>
        {
            command.CommandText = sql;
            var rows = new List<object?[]>();
            using var reader = Read(command, argument);
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                rows.Add(row);
            }
            return rows;
        }, argument, cancellationToken);

    /// <summary>The names and types of what <paramref name="select"/> returns (DuckDB binds it; nothing is read).</summary>
    public IReadOnlyList<SandboxColumn> Columns(string select, IReadOnlyList<object?> parameters, string argument)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"DESCRIBE (\n{select}\n)";
        Bind(command, parameters);
        var columns = new List<SandboxColumn>();
        using var reader = Read(command, argument);
        while (reader.Read())
            columns.Add(new SandboxColumn(reader.GetString(0), reader.GetString(1)));
        return columns;
    }

    private DuckDBDataReader Read(DuckDBCommand command, string argument)
    {
        try
        {
            return command.ExecuteReader();
        }
        catch (DuckDBException e) when (!e.Message.StartsWith("INTERRUPT", StringComparison.Ordinal))
        {
            throw Explain(e, argument);
        }
    }

    private async Task<T> RunAsync<T>(Func<DuckDBCommand, T> run, string argument, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.QueryTimeout);
        using var command = _connection.CreateCommand();
        command.UseStreamingMode = true;
        // DuckDB's interrupt: the running statement stops at its next check and the call fails.
        using var registration = timeout.Token.Register(command.Cancel);
        try
        {
            return await Task.Run(() =>
            {
                // A read-only transaction around each run: DuckDB itself refuses any write inside it.
                Execute(_connection, "BEGIN TRANSACTION READ ONLY");
                try
                {
                    return run(command);
                }
                finally
                {
                    Execute(_connection, "ROLLBACK");
                }
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DuckDBException or OperationCanceledException && timeout.IsCancellationRequested)
        {
            // DuckDB.NET reports an interrupted statement as a cancellation: the caller's, or the time limit's.
            cancellationToken.ThrowIfCancellationRequested();
            throw new OperationException($"{argument} ran for longer than this server's limit of {_settings.QueryTimeout.TotalSeconds:0.#} s and was stopped. "
                + "Narrow it (a WHERE, fewer columns, a LIMIT, an aggregate), or query fewer files.");
        }
        catch (DuckDBException e)
        {
            throw Explain(e, argument);
        }
    }

    private OperationException Explain(DuckDBException e, string argument)
    {
        var tables = string.Join(", ", _views.Select(v => v.Name));
        var message = Tidy(e.Message);
        if (message.StartsWith("Out of Memory", StringComparison.Ordinal))
            return new OperationException($"{argument} needs more memory than this server's limit of {_settings.MemoryLimit}: {message} Aggregate, filter or select fewer columns.");
        if (message.Contains("Permission Error", StringComparison.Ordinal) || message.Contains("disabled by configuration", StringComparison.Ordinal))
        {
            return new OperationException($"{argument}: refused by the sandbox ({message}). SQL sees only the tables named in this call ({tables}); "
                + "it cannot read other files or the network, or change settings.");
        }
        if (message.Contains("read-only mode", StringComparison.Ordinal))
            return new OperationException($"{argument}: only reads are allowed ({message}).");
        return new OperationException($"{argument}: {message} (tables in this call: {tables}).");
    }

    private static void Bind(DuckDBCommand command, IReadOnlyList<object?> parameters)
    {
        command.Parameters.Clear();
        foreach (var value in parameters)
            command.Parameters.Add(new DuckDBParameter(value ?? DBNull.Value));
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Reader(DuckDBConnection connection, TableView view)
    {
        var files = "[" + string.Join(", ", view.Files.Select(Literal)) + "]";
        return view.Format switch
        {
            TableFormat.Csv or TableFormat.Tsv => CsvReader(connection, view, files),
            TableFormat.JsonLines => $"read_json({files}, format = 'newline_delimited', union_by_name = true)",
            TableFormat.Json => $"read_json({files}, format = 'auto', union_by_name = true)",
            _ => $"read_parquet({files}, union_by_name = true)",
        };
    }

    /// <summary>
    /// A CSV/TSV table read with the dialect and columns sniffed once per cached file (<see cref="CsvSniff"/>) when every
    /// file has the same; else (files that differ, a file the sniffer cannot read) with DuckDB's detection, which then
    /// reports what is wrong.
    /// </summary>
    private static string CsvReader(DuckDBConnection connection, TableView view, string files)
    {
        // A .tsv is always read tab-separated (see TableOperations.DialectAsync for why).
        var arguments = view.Format == TableFormat.Tsv ? ", delim = '\\t'" : "";
        var sniffs = view.Files.Select(f => SniffOnce(connection, f, view.Format, arguments)).ToList();
        var options = sniffs.Select(s => s is { Auto: false } ? s.ReaderOptions() : null).Distinct(StringComparer.Ordinal).ToList();
        return options is [{ } same] ? $"read_csv({files}, {same})" : $"read_csv({files}{arguments}, union_by_name = true)";
    }

    /// <summary>The stored sniff of <paramref name="file"/>, else a new one, checked and stored; null when the sniffer cannot read the file.</summary>
    private static CsvSniff? SniffOnce(DuckDBConnection connection, string file, TableFormat format, string arguments)
    {
        if (CsvSniff.Load(file, format) is { } stored)
            return stored;
        CsvSniff sniff;
        try
        {
            sniff = CsvSniff.Detect(connection, file, arguments);
        }
        catch (DuckDBException)
        {
            return null;
        }
        // Read as sniffed, the file must bind to the very columns DuckDB's detection gives it; if not, it keeps being detected.
        var single = "[" + Literal(file) + "]";
        var detected = BoundColumns(connection, $"read_csv({single}{arguments}, union_by_name = true)");
        if (detected is null)
            return null;
        var sniffed = BoundColumns(connection, $"read_csv({single}, {sniff.ReaderOptions()})");
        if (sniffed is null || !sniffed.SequenceEqual(detected))
            sniff = sniff with { Auto = true };
        sniff.Save(file, format);
        return sniff;
    }

    /// <summary>The columns <paramref name="reader"/> binds to, or null when it does not bind.</summary>
    private static List<SandboxColumn>? BoundColumns(DuckDBConnection connection, string reader)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"DESCRIBE SELECT * FROM {reader}";
            using var result = command.ExecuteReader();
            var columns = new List<SandboxColumn>();
            while (result.Read())
                columns.Add(new SandboxColumn(result.GetString(0), result.GetString(1)));
            return columns;
        }
        catch (DuckDBException)
        {
            return null;
        }
    }

    /// <summary>A SQL string literal.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A quoted SQL identifier.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>DuckDB's message on one line, without the caret diagram it draws under the SQL.</summary>
    private static string Tidy(string message)
    {
        var lines = message.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0 && !l.TrimStart().StartsWith('^') && !l.StartsWith("LINE ", StringComparison.Ordinal));
        return string.Join(" ", lines).Trim();
    }
}
