using System.Buffers.Binary;
using System.Globalization;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;
using Quilt.Operations;
using Quilt.Operations.Previews;
using Quilt.Storage;

namespace Quilt.Tables;

/// <summary>
/// A Parquet file described from its footer alone, read by byte ranges: row count, row groups, and per column the null
/// counts, minimum and maximum the writer recorded (summed and compared over row groups). The rows are never read.
/// </summary>
internal static class ParquetFooter
{
    public sealed record Summary(long Rows, int RowGroups, IReadOnlyList<ColumnSummary> Columns, long BytesRead);

    public static async Task<Summary> ReadAsync(IObjectStore store, ObjectRef obj, long size, string table, CancellationToken cancellationToken)
    {
        await using var stream = new RangeReadStream(store, obj, size, cancellationToken);
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(stream, leaveStreamOpen: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new OperationException($"table '{table}': {obj} could not be read as Parquet ({e.Message}).");
        }
        await using (reader.ConfigureAwait(false))
        {
            var metadata = reader.Metadata!;
            var fields = reader.Schema.DataFields;
            var columns = new List<ColumnSummary>(fields.Length);
            for (var c = 0; c < fields.Length; c++)
                columns.Add(Column(fields[c], metadata.RowGroups.Select(g => c < g.Columns.Count ? g.Columns[c].MetaData : null).ToList()));
            return new Summary(metadata.NumRows, metadata.RowGroups.Count, columns, stream.BytesFetched);
        }
    }

    private static ColumnSummary Column(DataField field, IReadOnlyList<ColumnMetaData?> chunks)
    {
        var element = field.SchemaElement;
        long? nulls = 0;
        IComparable? min = null, max = null;
        var bounded = chunks.Count > 0;
        foreach (var chunk in chunks)
        {
            var statistics = chunk?.Statistics;
            nulls = nulls is { } n && statistics?.NullCount is { } count ? n + count : null;
            var low = chunk is null ? null : Decode(chunk.Type, element, statistics?.MinValue ?? Legacy(chunk.Type, statistics?.Min));
            var high = chunk is null ? null : Decode(chunk.Type, element, statistics?.MaxValue ?? Legacy(chunk.Type, statistics?.Max));
            if (low is null || high is null)
            {
                bounded = false;
                continue;
            }
            min = min is null || low.CompareTo(min) < 0 ? low : min;
            max = max is null || high.CompareTo(max) > 0 ? high : max;
        }
        long? distinct = chunks.Count == 1 && chunks[0]?.Statistics?.DistinctCount is { } d ? d : null;
        var type = TypeName(chunks.Count > 0 ? chunks[0]?.Type : null, element) + (field.MaxRepetitionLevel > 0 ? "[]" : "");
        return new ColumnSummary(string.Join('.', field.Path.ToList()), type, chunks.Count == 0 ? null : nulls, distinct,
            bounded ? Text(min) : null, bounded ? Text(max) : null, null, null);
    }

    /// <summary>The deprecated min/max fields are ordered as signed numbers: right for numbers, wrong for text (not used for it).</summary>
    private static byte[]? Legacy(Parquet.Meta.Type type, byte[]? value) =>
        type is Parquet.Meta.Type.INT96 or Parquet.Meta.Type.INT32 or Parquet.Meta.Type.INT64 or Parquet.Meta.Type.FLOAT or Parquet.Meta.Type.DOUBLE or Parquet.Meta.Type.BOOLEAN ? value : null;

    private static IComparable? Decode(Parquet.Meta.Type type, SchemaElement? element, byte[]? bytes)
    {
        if (bytes is null)
            return null;
        var logical = element?.LogicalType;
        var scale = logical?.DECIMAL?.Scale ?? element?.Scale ?? 0;
        var isDecimal = logical?.DECIMAL is not null || element?.ConvertedType == ConvertedType.DECIMAL;
        switch (type)
        {
            case Parquet.Meta.Type.BOOLEAN when bytes.Length >= 1:
                return bytes[0] != 0;
            case Parquet.Meta.Type.INT32 when bytes.Length >= 4:
            {
                var value = BinaryPrimitives.ReadInt32LittleEndian(bytes);
                if (logical?.DATE is not null || element?.ConvertedType == ConvertedType.DATE)
                    return DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + value);
                return isDecimal ? value / (decimal)Math.Pow(10, scale) : value;
            }
            case Parquet.Meta.Type.INT64 when bytes.Length >= 8:
            {
                var value = BinaryPrimitives.ReadInt64LittleEndian(bytes);
                if (logical?.TIMESTAMP is { } timestamp)
                {
                    var ticks = timestamp.Unit.MILLIS is not null ? value * TimeSpan.TicksPerMillisecond
                        : timestamp.Unit.MICROS is not null ? value * (TimeSpan.TicksPerMillisecond / 1000)
                        : value / 100;
                    return DateTime.UnixEpoch.AddTicks(ticks);
                }
                if (element?.ConvertedType == ConvertedType.TIMESTAMP_MILLIS)
                    return DateTime.UnixEpoch.AddTicks(value * TimeSpan.TicksPerMillisecond);
                if (element?.ConvertedType == ConvertedType.TIMESTAMP_MICROS)
                    return DateTime.UnixEpoch.AddTicks(value * 10);
                return isDecimal ? value / (decimal)Math.Pow(10, scale) : value;
            }
            case Parquet.Meta.Type.INT96 when bytes.Length >= 12:
                // The legacy timestamp: nanoseconds of the day, then the Julian day (2440588 is 1970-01-01).
                return DateTime.UnixEpoch.AddDays(BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)) - 2440588)
                    .AddTicks(BinaryPrimitives.ReadInt64LittleEndian(bytes) / 100);
            case Parquet.Meta.Type.FLOAT when bytes.Length >= 4:
                return BinaryPrimitives.ReadSingleLittleEndian(bytes);
            case Parquet.Meta.Type.DOUBLE when bytes.Length >= 8:
                return BinaryPrimitives.ReadDoubleLittleEndian(bytes);
            case Parquet.Meta.Type.BYTE_ARRAY when IsText(element):
                return System.Text.Encoding.UTF8.GetString(bytes);
            default:
                return null;
        }
    }

    private static bool IsText(SchemaElement? element) =>
        element?.LogicalType?.STRING is not null || element?.LogicalType?.ENUM is not null || element?.LogicalType?.JSON is not null
        || element?.ConvertedType is ConvertedType.UTF8 or ConvertedType.ENUM or ConvertedType.JSON;

    private static string TypeName(Parquet.Meta.Type? type, SchemaElement? element)
    {
        var logical = element?.LogicalType;
        if (logical?.DECIMAL is { } dec)
            return $"DECIMAL({dec.Precision},{dec.Scale})";
        if (logical?.TIMESTAMP is not null || element?.ConvertedType is ConvertedType.TIMESTAMP_MILLIS or ConvertedType.TIMESTAMP_MICROS || type == Parquet.Meta.Type.INT96)
            return "TIMESTAMP";
        if (logical?.DATE is not null || element?.ConvertedType == ConvertedType.DATE)
            return "DATE";
        if (IsText(element))
            return "VARCHAR";
        return type switch
        {
            Parquet.Meta.Type.BOOLEAN => "BOOLEAN",
            Parquet.Meta.Type.INT32 => "INTEGER",
            Parquet.Meta.Type.INT64 => "BIGINT",
            Parquet.Meta.Type.FLOAT => "FLOAT",
            Parquet.Meta.Type.DOUBLE => "DOUBLE",
            _ => "BLOB",
        };
    }

    private static string? Text(IComparable? value) => value switch
    {
        null => null,
        DateTime time => time.ToString(time.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s => s.Length > 200 ? s[..200] + "…" : s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
