using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Quilt.Mcp.Models;
using Quilt.Tables;

namespace Quilt.Cli;

/// <summary>
/// `quilt-mcp table …`: describe, rows, query over CSV/TSV/JSONL/JSON/Parquet objects and package entries. Adapters over
/// <see cref="TableOperations"/>: the same sandbox, limits, cache and messages as the MCP table tools.
/// </summary>
internal static partial class TableCommands
{
    public static Command Create()
    {
        var command = new Command("table", "Tables in objects and package entries (CSV, TSV, JSONL, JSON, Parquet): describe, rows, query (read-only DuckDB SQL).");
        command.Subcommands.Add(DescribeCommand());
        command.Subcommands.Add(RowsCommand());
        command.Subcommands.Add(QueryCommand());
        return command;
    }

    private static TableOperations Operations(ParseResult parse) => TableOperations.Create(CliSupport.Operations(parse), TableSettings.FromEnvironment());

    private static Argument<string> TableArgument() => new("uri")
    {
        Description = "s3://bucket/key, or quilt+s3://bucket#package=user/name[@hash]&path=key (a glob such as data/*.parquet in path takes every matching entry).",
    };

    private static Command DescribeCommand()
    {
        var uri = TableArgument();
        var scan = new Option<bool>("--scan") { Description = "Parquet: read every row (means, distinct counts, top values) instead of the footer alone." };
        var command = new Command("describe", "Row count, and per column its type, nulls, distinct estimate, min/max/mean and top values.") { uri, scan, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            using var progress = new ConsoleProgress();
            var result = await Operations(parse).DescribeAsync(new TableInput(null, parse.GetValue(uri)), parse.GetValue(scan), progress, ct).ConfigureAwait(false);
            progress.Dispose();
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(JsonNode.Parse(ToolJson.ToElement(result).GetRawText())!);
                return 0;
            }
            Console.WriteLine($"{result.Table.Format}, {result.Rows.ToString("N0", CultureInfo.InvariantCulture)} rows"
                + (result.RowGroups is { } groups ? $" in {groups} row groups" : "") + $" ({result.Method})");
            if (result.Dialect is { } d)
                Console.WriteLine($"dialect: delimiter {Show(d.Delimiter)}, quote {Show(d.Quote)}, escape {Show(d.Escape)}, header {(d.Header ? "yes" : "no")}"
                    + (d.DelimiterFrom == "extension" ? " (delimiter from the .tsv extension: see the note)" : ""));
            foreach (var c in result.Columns)
            {
                var parts = new List<string> { c.Type };
                if (c.Nulls is { } nulls)
                    parts.Add($"nulls {nulls}");
                if (c.Distinct is { } distinct)
                    parts.Add($"~{distinct} distinct");
                if (c.Min is not null || c.Max is not null)
                    parts.Add($"{c.Min} .. {c.Max}");
                if (c.Mean is { } mean)
                    parts.Add("mean " + mean.ToString("G6", CultureInfo.InvariantCulture));
                if (c.TopValues is { Count: > 0 } top)
                    parts.Add("top " + string.Join(", ", top.Select(v => $"{v.Value} ({v.Count})")));
                Console.WriteLine($"  {c.Name}: {string.Join("; ", parts)}");
            }
            if (result.Note is { } note)
                Console.WriteLine(note);
            return 0;
        }));
        return command;
    }

    private static Command RowsCommand()
    {
        var uri = TableArgument();
        var offset = new Option<long>("--offset") { Description = "The row number to start at (from 0; with filters, among the rows that pass)." };
        var limit = new Option<int>("--limit") { Description = "Rows to print, 1 to 1000 (default 20).", DefaultValueFactory = _ => 20 };
        var columns = new Option<string?>("--columns") { Description = "Columns to print, comma-separated (default all)." };
        var filters = new Option<string[]>("--filter")
        {
            Description = "A condition, repeatable: 'COLUMN OP VALUE' with OP one of = != < <= > >= contains, or 'COLUMN is_null' / 'COLUMN not_null'.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("rows", "Rows by row number, with chosen columns and filters; prints the offset to go on from.")
        {
            uri, offset, limit, columns, filters, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var chosen = parse.GetValue(columns)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var conditions = (parse.GetValue(filters) ?? []).Select(ParseFilter).ToList();
            using var progress = new ConsoleProgress();
            var result = await Operations(parse).RowsAsync(new TableInput(null, parse.GetValue(uri)), parse.GetValue(offset), parse.GetValue(limit), chosen,
                conditions, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            return await PrintPageAsync(parse, ToolJson.ToElement(result), result.Columns, result.Rows, result.Note,
                result.NextOffset is { } next ? "--offset " + next.ToString(CultureInfo.InvariantCulture) : null).ConfigureAwait(false);
        }));
        return command;
    }

    private static Command QueryCommand()
    {
        var sql = new Argument<string>("sql") { Description = "One read-only SELECT (DuckDB dialect) over the tables given with --table." };
        var tables = new Option<string[]>("--table")
        {
            Description = "A table, repeatable: NAME=URI (s3://bucket/key, or a quilt+s3 entry URI; a glob in its path takes every matching entry). "
                + "A single table may be given as URI alone: its name is then 't'.",
            Required = true,
        };
        var limit = new Option<int>("--limit") { Description = "Rows per page, 1 to 1000 (default 100).", DefaultValueFactory = _ => 100 };
        var cursor = new Option<string?>("--cursor") { Description = "The cursor a previous run printed, for the next page." };
        var command = new Command("query", "Run read-only SQL over tables; prints a page of rows and the cursor of the next.") { sql, tables, limit, cursor, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var inputs = (parse.GetValue(tables) ?? []).Select(ParseTable).ToList();
            using var progress = new ConsoleProgress();
            var result = await Operations(parse).QueryAsync(inputs, parse.GetValue(sql), parse.GetValue(limit), parse.GetValue(cursor), progress, ct).ConfigureAwait(false);
            progress.Dispose();
            return await PrintPageAsync(parse, ToolJson.ToElement(result), result.Columns, result.Rows, result.Note,
                result.NextCursor is { } next ? "--cursor " + next : null).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>A page of rows: the JSON with --json, else the rows, then on stderr the note and how to get the next page.</summary>
    private static async Task<int> PrintPageAsync(ParseResult parse, JsonElement json, IReadOnlyList<TableColumn> columns,
        IReadOnlyList<IReadOnlyList<string?>> rows, string? note, string? nextPage)
    {
        if (parse.GetValue(CliSupport.Json))
        {
            CliSupport.WriteJson(JsonNode.Parse(json.GetRawText())!);
            return 0;
        }
        WriteRows(columns, rows);
        if (note is not null)
            await Console.Error.WriteLineAsync(note).ConfigureAwait(false);
        if (nextPage is not null)
            await Console.Error.WriteLineAsync("more rows: " + nextPage).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Tab-separated, a header line first; a null cell is empty (text cells keep their own tabs escaped as \t).</summary>
    private static void WriteRows(IReadOnlyList<TableColumn> columns, IReadOnlyList<IReadOnlyList<string?>> rows)
    {
        Console.WriteLine(string.Join('\t', columns.Select(c => c.Name)));
        foreach (var row in rows)
            Console.WriteLine(string.Join('\t', row.Select(c => c?.Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) ?? "")));
    }

    private static string Show(string text) => text switch { "\t" => "tab", "" => "none", _ => $"'{text}'" };

    [GeneratedRegex(@"^(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<uri>(s3|quilt\+s3)://.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex NamedTable();

    private static TableInput ParseTable(string text) =>
        NamedTable().Match(text) is { Success: true } m ? new TableInput(m.Groups["name"].Value, m.Groups["uri"].Value) : new TableInput(null, text);

    [GeneratedRegex(@"^\s*(?<column>.+?)\s+(?<op>is_null|not_null)\s*$|^\s*(?<column>.+?)\s*(?<op><=|>=|!=|=|<|>|\scontains\s)\s*(?<value>.*)$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Filter();

    private static TableRowFilter ParseFilter(string text)
    {
        var m = Filter().Match(text);
        if (!m.Success)
            throw new FormatException($"--filter '{text}' is not COLUMN OP VALUE (OP one of = != < <= > >= contains) or COLUMN is_null / COLUMN not_null.");
        var op = m.Groups["op"].Value.Trim();
        return new TableRowFilter(m.Groups["column"].Value.Trim(), op, op is "is_null" or "not_null" ? null : m.Groups["value"].Value);
    }
}
