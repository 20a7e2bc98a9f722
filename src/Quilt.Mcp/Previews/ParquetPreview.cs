using System.Collections;
using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using Quilt.Mcp.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Previews;

/// <summary>Schema, row count and first rows of a Parquet object, read by byte ranges (footer, then one row group).</summary>
internal static class ParquetPreview
{
    /// <summary>The first row group is decoded whole; past this many (uncompressed) bytes only the schema is shown.</summary>
    public const long MaxRowGroupBytes = 64L * 1024 * 1024;

    public sealed record Result(
        IReadOnlyList<ColumnInfo> Columns,
        IReadOnlyList<IReadOnlyList<string?>> Rows,
        long RowCount,
        int RowGroups,
        string? CreatedBy,
        long BytesRead,
        string? Note);

    public static async Task<Result> ReadAsync(IObjectStore store, ObjectRef obj, long size, int maxRows, CancellationToken cancellationToken)
    {
        await using var stream = new RangeReadStream(store, obj, size, cancellationToken);
        IReadOnlyList<ColumnInfo> columns;
        long rowCount;
        int rowGroups;
        long firstGroupBytes;
        string? createdBy;
        try
        {
            await using var reader = await ParquetReader.CreateAsync(stream, leaveStreamOpen: true, cancellationToken: cancellationToken);
            columns = Describe(reader.Schema);
            rowCount = reader.Metadata?.NumRows ?? 0;
            rowGroups = reader.RowGroupCount;
            createdBy = reader.Metadata?.CreatedBy;
            firstGroupBytes = rowGroups > 0 ? reader.Metadata!.RowGroups[0].TotalByteSize : 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelContextProtocol.McpException(
                $"s3://{obj.Bucket}/{obj.Key} could not be read as Parquet ({e.Message}). Use format 'text' to see its bytes, or bucket_object_fetch.");
        }

        var rows = new List<IReadOnlyList<string?>>();
        string? note = null;
        if (maxRows > 0 && rowGroups > 0)
        {
            if (firstGroupBytes > MaxRowGroupBytes)
            {
                note = $"The first row group holds {firstGroupBytes:N0} bytes uncompressed, too many to decode for a preview: schema only. "
                    + "Fetch the file to a local path to read its rows.";
            }
            else
            {
                stream.Position = 0;
                try
                {
                    var data = await ParquetSerializer.DeserializeUntypedAsync(stream, null, 0, cancellationToken);
                    var names = columns.Select(c => c.Name).ToList();
                    var topNames = data.Schema.Fields.Select(f => f.Name).ToList();
                    foreach (var record in data.Data.Take(maxRows))
                        rows.Add(topNames.Select(n => record.TryGetValue(n, out var v) ? Format(v) : null).ToList());
                    // Nested schemas preview by top-level field; report those as the columns of the rows.
                    if (!topNames.SequenceEqual(names))
                        note = "Rows show top-level fields; nested values are written as JSON-like text.";
                }
                catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException
                                              or ArgumentException or FormatException or InvalidCastException)
                {
                    rows.Clear();
                    note = $"The rows could not be decoded here ({e.Message}): schema only. Fetch the file to read it with a Parquet tool.";
                }
            }
        }
        return new Result(columns, rows, rowCount, rowGroups, createdBy, stream.BytesFetched, note);
    }

    private static List<ColumnInfo> Describe(ParquetSchema schema)
    {
        var list = new List<ColumnInfo>();
        foreach (var field in schema.DataFields)
        {
            var type = TypeName(field.ClrType);
            if (field.IsArray)
                type += "[]";
            list.Add(new ColumnInfo(field.Path.ToString(), type, field.IsNullable));
        }
        return list;
    }

    private static string TypeName(Type type) => type.Name switch
    {
        _ when type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) => "binary",
        _ when type == typeof(ReadOnlyMemory<char>) => "string",
        "String" => "string",
        "Int32" => "int32",
        "Int64" => "int64",
        "Int16" => "int16",
        "Byte" => "uint8",
        "SByte" => "int8",
        "UInt16" => "uint16",
        "UInt32" => "uint32",
        "UInt64" => "uint64",
        "Boolean" => "bool",
        "Single" => "float",
        "Double" => "double",
        "Decimal" => "decimal",
        "DateTime" => "timestamp",
        "DateTimeOffset" => "timestamp",
        "DateOnly" => "date",
        "TimeOnly" => "time",
        "TimeSpan" => "time",
        "Guid" => "uuid",
        _ => type.Name,
    };

    public static string? Format(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case string s:
                return s;
            case byte[] bytes:
                return bytes.Length <= 48 ? "0x" + Convert.ToHexString(bytes) : $"<{bytes.Length} bytes>";
            case ReadOnlyMemory<byte> memory:
                return memory.Length <= 48 ? "0x" + Convert.ToHexString(memory.Span) : $"<{memory.Length} bytes>";
            case ReadOnlyMemory<char> chars:
                return chars.ToString();
            case DateTime dt:
                return dt.ToString(dt.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
            case DateTimeOffset dto:
                return dto.ToString("O", CultureInfo.InvariantCulture);
            case bool b:
                return b ? "true" : "false";
            case IFormattable f:
                return f.ToString(null, CultureInfo.InvariantCulture);
            case IDictionary dict:
            {
                var sb = new StringBuilder("{");
                foreach (DictionaryEntry entry in dict)
                {
                    if (sb.Length > 1)
                        sb.Append(", ");
                    sb.Append(entry.Key).Append(": ").Append(Format(entry.Value) ?? "null");
                    if (sb.Length > 400)
                        return sb.Append(" …}").ToString();
                }
                return sb.Append('}').ToString();
            }
            case IEnumerable items:
            {
                var sb = new StringBuilder("[");
                foreach (var item in items)
                {
                    if (sb.Length > 1)
                        sb.Append(", ");
                    sb.Append(Format(item) ?? "null");
                    if (sb.Length > 400)
                        return sb.Append(" …]").ToString();
                }
                return sb.Append(']').ToString();
            }
            default:
                return value.ToString();
        }
    }
}
