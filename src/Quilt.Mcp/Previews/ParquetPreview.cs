using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using Parquet;
using Parquet.Schema;
using Parquet.Data;
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
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(stream, leaveStreamOpen: true, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelContextProtocol.McpException(
                $"s3://{obj.Bucket}/{obj.Key} could not be read as Parquet ({e.Message}). Use format 'text' to see its bytes, or bucket_object_fetch.");
        }

        await using (reader)
        {
            var columns = Describe(reader.Schema);
            var rowCount = reader.Metadata?.NumRows ?? 0;
            var rowGroups = reader.RowGroupCount;
            var createdBy = reader.Metadata?.CreatedBy;
            var firstGroupBytes = rowGroups > 0 ? reader.Metadata!.RowGroups[0].TotalByteSize : 0;
            IReadOnlyList<IReadOnlyList<string?>> rows = [];
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
                    try
                    {
                        (rows, note) = await ReadRowsAsync(reader, maxRows, cancellationToken);
                    }
                    catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException
                                                  or ArgumentException or FormatException or InvalidCastException or IndexOutOfRangeException)
                    {
                        rows = [];
                        note = $"The rows could not be decoded here ({e.Message}): schema only. Fetch the file to read it with a Parquet tool.";
                    }
                }
            }
            return new Result(columns, rows, rowCount, rowGroups, createdBy, stream.BytesFetched, note);
        }
    }

    /// <summary>
    /// The first rows of the first row group, one cell per leaf column (the columns the schema lists), assembled from
    /// each column's values and definition/repetition levels. The low-level reader needs no reflection, so this also
    /// works in a Native AOT build, where Parquet.Net's serializer does not.
    /// </summary>
    private static async Task<(IReadOnlyList<IReadOnlyList<string?>> Rows, string? Note)> ReadRowsAsync(
        ParquetReader reader, int maxRows, CancellationToken cancellationToken)
    {
        using var group = reader.OpenRowGroupReader(0);
        var fields = reader.Schema.DataFields;
        var cells = new List<string?>[fields.Length];
        var deeplyNested = false;
        for (var c = 0; c < fields.Length; c++)
        {
            using var raw = await group.ReadRawColumnDataBaseAsync(fields[c], cancellationToken);
            cells[c] = ColumnCells(fields[c], raw, (int)Math.Min(maxRows, group.RowCount));
            deeplyNested |= fields[c].MaxRepetitionLevel > 1;
        }
        var count = cells.Length == 0 ? 0 : cells.Min(c => c.Count);
        var rows = new List<IReadOnlyList<string?>>(count);
        for (var r = 0; r < count; r++)
            rows.Add(cells.Select(c => c[r]).ToList());
        return (rows, deeplyNested ? $"Lists within lists are shown as {Nested}: fetch the file to read them with a Parquet tool." : null);
    }

    private const string Nested = "<nested lists>";

    private static List<string?> ColumnCells(DataField field, RawColumnData raw, int maxRows)
    {
        var cells = new List<string?>(maxRows);
        var value = ValueReader(raw);
        var maxDefinition = field.MaxDefinitionLevel;
        // A column has level arrays only where its schema allows nulls or repetition; asking for absent ones throws.
        var definitions = maxDefinition > 0 ? raw.DefinitionLevels : [];
        var repetitions = field.MaxRepetitionLevel > 0 ? raw.RepetitionLevels : [];
        var levels = definitions.Length > 0 ? definitions.Length : repetitions.Length > 0 ? repetitions.Length : maxRows;
        var next = 0; // index into the packed (non-null) values
        string? Take() => value is null ? $"<{field.ClrType.Name}>" : Format(value(next++));

        if (field.MaxRepetitionLevel == 0)
        {
            for (var i = 0; i < levels && cells.Count < maxRows; i++)
                cells.Add(maxDefinition == 0 || definitions[i] == maxDefinition ? Take() : null);
            return cells;
        }

        // A list: a repetition level of 0 starts the next row. Below the full definition level an entry is a null
        // element (one level less, when elements may be null), an empty list, or (lower still) a null list.
        var emptyList = maxDefinition - (field.IsNullable ? 2 : 1);
        List<string?>? items = null;
        var isNull = false;
        for (var i = 0; i < levels; i++)
        {
            if (repetitions[i] == 0)
            {
                if (items is not null)
                    cells.Add(isNull ? null : field.MaxRepetitionLevel > 1 ? Nested : Format(items));
                if (cells.Count == maxRows)
                    return cells;
                items = [];
                isNull = false;
            }
            var definition = definitions[i];
            if (definition == maxDefinition)
                items!.Add(Take());
            else if (field.IsNullable && definition == maxDefinition - 1)
                items!.Add(null);
            else if (definition < emptyList)
                isNull = true;
        }
        if (items is not null && cells.Count < maxRows)
            cells.Add(isNull ? null : field.MaxRepetitionLevel > 1 ? Nested : Format(items));
        return cells;
    }

    /// <summary>Reads the i-th packed value of a column of any type Parquet.Net decodes to; null for a type not listed.</summary>
    private static Func<int, object?>? ValueReader(RawColumnData raw) => raw switch
    {
        RawColumnData<bool> d => i => d.Values[i],
        RawColumnData<sbyte> d => i => d.Values[i],
        RawColumnData<byte> d => i => d.Values[i],
        RawColumnData<short> d => i => d.Values[i],
        RawColumnData<ushort> d => i => d.Values[i],
        RawColumnData<int> d => i => d.Values[i],
        RawColumnData<uint> d => i => d.Values[i],
        RawColumnData<long> d => i => d.Values[i],
        RawColumnData<ulong> d => i => d.Values[i],
        RawColumnData<Half> d => i => d.Values[i],
        RawColumnData<float> d => i => d.Values[i],
        RawColumnData<double> d => i => d.Values[i],
        RawColumnData<decimal> d => i => d.Values[i],
        RawColumnData<BigInteger> d => i => d.Values[i],
        RawColumnData<DateTime> d => i => d.Values[i],
        RawColumnData<DateTimeOffset> d => i => d.Values[i],
        RawColumnData<DateOnly> d => i => d.Values[i],
        RawColumnData<TimeOnly> d => i => d.Values[i],
        RawColumnData<TimeSpan> d => i => d.Values[i],
        RawColumnData<Guid> d => i => d.Values[i],
        RawColumnData<ReadOnlyMemory<char>> d => i => d.Values[i],
        RawColumnData<ReadOnlyMemory<byte>> d => i => d.Values[i],
        _ => null,
    };

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
