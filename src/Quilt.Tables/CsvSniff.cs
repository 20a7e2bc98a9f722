using System.Globalization;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;

namespace Quilt.Tables;

/// <summary>
/// What DuckDB's CSV sniffer (<c>sniff_csv</c>) found in one cached file: dialect, header, skipped lines, columns with
/// their types, date formats. Stored beside the copy (<see cref="TableCache.SniffPath"/>, keyed like the copy by its
/// content), so a table is sniffed once when first bound: every later view reads it with <c>auto_detect = false</c> and
/// these options, where a <c>read_csv</c> left to detect would sniff again on every bind (creating the view, describing
/// the query, running it). <see cref="Auto"/> marks a file whose explicit reading did not bind to the same columns as
/// detection: it is read with detection, as before.
/// </summary>
internal sealed record CsvSniff(
    string Delimiter,
    string Quote,
    string Escape,
    string NewLine,
    string Comment,
    long Skip,
    bool Header,
    IReadOnlyList<SandboxColumn> Columns,
    string? DateFormat,
    string? TimestampFormat,
    bool Auto = false)
{
    private const int Version = 1;

    /// <summary>The <c>read_csv</c> options that read the file as sniffed; every value a SQL literal (names come from the file's header).</summary>
    public string ReaderOptions()
    {
        var text = new StringBuilder("auto_detect = false");
        text.Append(CultureInfo.InvariantCulture, $", delim = {TableSandbox.Literal(Delimiter)}, quote = {TableSandbox.Literal(Quote)}");
        text.Append(CultureInfo.InvariantCulture, $", escape = {TableSandbox.Literal(Escape)}, new_line = {TableSandbox.Literal(NewLine)}");
        text.Append(CultureInfo.InvariantCulture, $", comment = {TableSandbox.Literal(Comment)}, skip = {Skip}, header = {(Header ? "true" : "false")}");
        text.Append(", columns = {").AppendJoin(", ", Columns.Select(c => $"{TableSandbox.Literal(c.Name)}: {TableSandbox.Literal(c.Type)}")).Append('}');
        if (DateFormat is { Length: > 0 } date)
            text.Append(", dateformat = ").Append(TableSandbox.Literal(date));
        if (TimestampFormat is { Length: > 0 } timestamp)
            text.Append(", timestampformat = ").Append(TableSandbox.Literal(timestamp));
        return text.ToString();
    }

    /// <summary>The dialect as table_describe reports it.</summary>
    public TableDialect Dialect => new(Delimiter, Quote, Escape, Header, "sniffed");

    /// <summary>The sniffer's findings for <paramref name="file"/>; <paramref name="arguments"/> are extra <c>sniff_csv</c> options (", delim = '\t'").</summary>
    public static CsvSniff Detect(DuckDBConnection connection, string file, string arguments)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment, SkipRows, HasHeader, CAST(to_json(Columns) AS VARCHAR), "
            + $"DateFormat, TimestampFormat FROM sniff_csv({TableSandbox.Literal(file)}{arguments})";
        using var reader = command.ExecuteReader();
        if (!reader.Read())
            throw new InvalidOperationException("sniff_csv returned no row.");
        // The sniffer says "(empty)" for a character the file does not use; read_csv takes '' for it.
        string Character(int i) => reader.IsDBNull(i) || reader.GetString(i) == "(empty)" ? "" : reader.GetString(i);
        string? Optional(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        using var columns = JsonDocument.Parse(reader.GetString(7));
        return new CsvSniff(Character(0), Character(1), Character(2), Character(3), Character(4),
            Convert.ToInt64(reader.GetValue(5), CultureInfo.InvariantCulture), reader.GetBoolean(6),
            columns.RootElement.EnumerateArray().Select(c => new SandboxColumn(c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!)).ToList(),
            Optional(8), Optional(9));
    }

    /// <summary>The stored sniff for <paramref name="format"/>, as JSON (written with <see cref="Parse"/>'s layout).</summary>
    public string ToJson(TableFormat format)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("version", Version);
            json.WriteString("format", TableFormats.Name(format));
            json.WriteBoolean("auto", Auto);
            json.WriteString("delimiter", Delimiter);
            json.WriteString("quote", Quote);
            json.WriteString("escape", Escape);
            json.WriteString("newLine", NewLine);
            json.WriteString("comment", Comment);
            json.WriteNumber("skip", Skip);
            json.WriteBoolean("header", Header);
            json.WriteStartArray("columns");
            foreach (var column in Columns)
            {
                json.WriteStartObject();
                json.WriteString("name", column.Name);
                json.WriteString("type", column.Type);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("dateFormat", DateFormat);
            json.WriteString("timestampFormat", TimestampFormat);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A stored sniff, or null when <paramref name="text"/> is not one for <paramref name="format"/> (then the file is sniffed again).</summary>
    public static CsvSniff? Parse(string text, TableFormat format)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.GetProperty("version").GetInt32() != Version || root.GetProperty("format").GetString() != TableFormats.Name(format))
                return null;
            static string? Optional(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var columns = root.GetProperty("columns").EnumerateArray()
                .Select(c => new SandboxColumn(c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!)).ToList();
            return new CsvSniff(root.GetProperty("delimiter").GetString()!, root.GetProperty("quote").GetString()!, root.GetProperty("escape").GetString()!,
                root.GetProperty("newLine").GetString()!, root.GetProperty("comment").GetString()!, root.GetProperty("skip").GetInt64(),
                root.GetProperty("header").GetBoolean(), columns, Optional(root, "dateFormat"), Optional(root, "timestampFormat"), root.GetProperty("auto").GetBoolean());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or NullReferenceException)
        {
            return null;
        }
    }

    /// <summary>The stored sniff of a cached copy, or null (none yet, unreadable, or for another format).</summary>
    public static CsvSniff? Load(string file, TableFormat format)
    {
        try
        {
            return File.Exists(TableCache.SniffPath(file)) ? Parse(File.ReadAllText(TableCache.SniffPath(file)), format) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Stores the sniff beside its copy (whole or not at all: written aside, then renamed); a cache that cannot be written only loses the saving.</summary>
    public void Save(string file, TableFormat format)
    {
        var path = TableCache.SniffPath(file);
        var staging = $"{path}.{Guid.NewGuid():N}{TableCache.FillSuffix}";
        try
        {
            File.WriteAllText(staging, ToJson(format));
            File.Move(staging, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(staging);
            }
            catch (Exception inner) when (inner is IOException or UnauthorizedAccessException)
            {
                // A leftover .fill is removed by a later eviction.
            }
        }
    }
}
