using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using Parquet;
using Parquet.Data;
using Parquet.Schema;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Operations.Previews;

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
            throw new OperationException(
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
            var field = fields[c];
            // NumValues counts level entries (nulls and empty lists included), an upper bound on the values present.
            var levels = (int)Math.Min(int.MaxValue, group.GetMetadata(field)?.MetaData?.NumValues ?? group.RowCount);
            // The reader wants both level buffers whatever the schema (levels a column lacks come back as zeros).
            var definitions = new int[levels];
            var repetitions = new int[levels];
            var value = await ReadValuesAsync(group, field, levels, definitions, repetitions, cancellationToken);
            cells[c] = ColumnCells(field, value, definitions, repetitions, levels, (int)Math.Min(maxRows, group.RowCount));
            deeplyNested |= field.MaxRepetitionLevel > 1;
        }
        var count = cells.Length == 0 ? 0 : cells.Min(c => c.Count);
        var rows = new List<IReadOnlyList<string?>>(count);
        for (var r = 0; r < count; r++)
            rows.Add(cells.Select(c => c[r]).ToList());
        return (rows, deeplyNested ? $"Lists within lists are shown as {Nested}: fetch the file to read them with a Parquet tool." : null);
    }

    private const string Nested = "<nested lists>";

    private static List<string?> ColumnCells(DataField field, Func<int, object?>? value, int[] definitions, int[] repetitions, int levels, int maxRows)
    {
        var cells = new List<string?>(maxRows);
        var maxDefinition = field.MaxDefinitionLevel;
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

    /// <summary>
    /// Reads a column's packed (non-null) values and its levels, returning a reader of the i-th value, or null for a
    /// value type not listed. Each type is named here so that a Native AOT build has the code for it.
    /// </summary>
    private static async Task<Func<int, object?>?> ReadValuesAsync(
        ParquetRowGroupReader group, DataField field, int levels, int[] definitions, int[] repetitions, CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        return type == typeof(bool) ? await Read<bool>()
            : type == typeof(sbyte) ? await Read<sbyte>()
            : type == typeof(byte) ? await Read<byte>()
            : type == typeof(short) ? await Read<short>()
            : type == typeof(ushort) ? await Read<ushort>()
            : type == typeof(int) ? await Read<int>()
            : type == typeof(uint) ? await Read<uint>()
            : type == typeof(long) ? await Read<long>()
            : type == typeof(ulong) ? await Read<ulong>()
            : type == typeof(Half) ? await Read<Half>()
            : type == typeof(float) ? await Read<float>()
            : type == typeof(double) ? await Read<double>()
            : type == typeof(decimal) ? await Read<decimal>()
            : type == typeof(BigInteger) ? await Read<BigInteger>()
            : type == typeof(DateTime) ? await Read<DateTime>()
            : type == typeof(DateTimeOffset) ? await Read<DateTimeOffset>()
            : type == typeof(DateOnly) ? await Read<DateOnly>()
            : type == typeof(TimeOnly) ? await Read<TimeOnly>()
            : type == typeof(TimeSpan) ? await Read<TimeSpan>()
            : type == typeof(Guid) ? await Read<Guid>()
            : type == typeof(ReadOnlyMemory<char>) ? await Read<ReadOnlyMemory<char>>()
            : type == typeof(ReadOnlyMemory<byte>) ? await Read<ReadOnlyMemory<byte>>()
            : null;

        async Task<Func<int, object?>?> Read<T>() where T : struct
        {
            var values = new T[levels];
            await group.ReadRawAsync<T>(field, values, definitions, repetitions, cancellationToken);
            return i => values[i];
        }
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
