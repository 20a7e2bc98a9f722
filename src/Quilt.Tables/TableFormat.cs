using Quilt.Operations;
using Quilt.Operations.Previews;
using Quilt.Storage;

namespace Quilt.Tables;

/// <summary>The table formats DuckDB reads here, found from a key's extension (a .gz/.zst suffix kept) or content type.</summary>
public enum TableFormat
{
    Csv,
    Tsv,
    JsonLines,
    Json,
    Parquet,
}

internal static class TableFormats
{
    public static string Name(TableFormat format) => format switch
    {
        TableFormat.Csv => "csv",
        TableFormat.Tsv => "tsv",
        TableFormat.JsonLines => "jsonl",
        TableFormat.Json => "json",
        _ => "parquet",
    };

    /// <summary>The compression suffix DuckDB recognises by extension (".gz", ".zst"), or "".</summary>
    public static string Compression(string key)
    {
        var lower = key.ToLowerInvariant();
        return lower.EndsWith(".gz", StringComparison.Ordinal) ? ".gz" : lower.EndsWith(".zst", StringComparison.Ordinal) ? ".zst" : "";
    }

    /// <summary>The format of <paramref name="key"/>, or an error naming <paramref name="table"/> and what is supported.</summary>
    public static TableFormat Detect(string table, string key, string? contentType)
    {
        var compression = Compression(key);
        var plain = key[..^compression.Length];
        var kind = ObjectText.Detect(plain, compression.Length > 0 ? ContentTypes.Guess(plain) : ContentTypes.Effective(contentType, plain));
        return kind switch
        {
            TextKind.Csv => TableFormat.Csv,
            TextKind.Tsv => TableFormat.Tsv,
            TextKind.JsonLines => TableFormat.JsonLines,
            TextKind.Json => TableFormat.Json,
            TextKind.Parquet when compression.Length == 0 => TableFormat.Parquet,
            _ => throw new OperationException($"table '{table}': {key} is not a table file this server reads. Tables are CSV, TSV, JSON Lines, JSON "
                + "(an array of records) or Parquet, found by extension (.csv, .tsv, .jsonl, .ndjson, .json, .parquet; .gz or .zst compressed text too) "
                + "or by content type."),
        };
    }

    /// <summary>The extension a cached copy keeps, so that DuckDB reads it as <paramref name="format"/> (and decompresses it).</summary>
    public static string Extension(TableFormat format, string key) => format switch
    {
        TableFormat.Csv => ".csv",
        TableFormat.Tsv => ".tsv",
        TableFormat.JsonLines => ".jsonl",
        TableFormat.Json => ".json",
        _ => ".parquet",
    } + Compression(key);
}
