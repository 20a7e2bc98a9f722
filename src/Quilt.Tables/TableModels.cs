using System.ComponentModel;
using Quilt.Operations.Models;

namespace Quilt.Tables;

// The inputs and structured results of the table tools. Descriptions end up in each tool's schemas.

/// <summary>A table as a caller names it: an object or entry URI, or a package with the logical key (or glob) of its entries.</summary>
public sealed record TableInput(
    [property: Description("The name SQL uses for this table (letters, digits, '_'; not starting with a digit), such as 'sales'.")] string? Name = null,
    [property: Description("An object: s3://bucket/key, or a package entry quilt+s3://bucket#package=user/name@hash&path=key (a glob such as data/*.parquet in path takes every matching entry). Leave out when 'package' is given.")]
    string? Uri = null,
    [property: Description("A package name (user/name) or quilt+s3 package URI; with 'path'. Leave out when 'uri' is given.")] string? Package = null,
    [property: Description("With 'package': the entry's logical key, or a glob of keys (data/*.parquet) for every matching entry as one table.")] string? Path = null,
    [property: Description("With 'package': the registry bucket; default the server's.")] string? Registry = null,
    [property: Description("With 'package': a top hash or tag; default latest.")] string? Revision = null);

/// <summary>Where a table's rows came from.</summary>
public sealed record TableSourceInfo(
    [property: Description("The table's name in SQL.")] string Name,
    [property: Description("csv, tsv, jsonl, json or parquet.")] string Format,
    [property: Description("How many files (objects or package entries) make up the table.")] int Files,
    [property: Description("Their total size in bytes.")] long Bytes,
    [property: Description("The URIs of the files (the first 20 of a glob).")] IReadOnlyList<string> Uris,
    [property: Description("How many of the files were already in the local table cache (the rest were fetched, hash-verified).")] int Cached);

public sealed record TableColumn(
    [property: Description("Column name.")] string Name,
    [property: Description("Column type (DuckDB's name for it, such as BIGINT, VARCHAR, TIMESTAMP, INTEGER[]).")] string Type);

public sealed record TableQueryResult(
    [property: Description("The tables the query read.")] IReadOnlyList<TableSourceInfo> Tables,
    [property: Description("The result's columns.")] IReadOnlyList<TableColumn> Columns,
    [property: NullableCells, Description("The rows of this page, each cell as text (null cells as null).")] IReadOnlyList<IReadOnlyList<string?>> Rows,
    [property: Description("The row number (from 0) this page starts at.")] long Offset,
    [property: Description("Pass as 'cursor' (with the same sql and tables) for the next page; null when this is the last.")] string? NextCursor,
    [property: Description("True when more rows follow.")] bool Truncated,
    [property: Description("A remark, such as why the page stopped early.")] string? Note = null);

public sealed record TableRowsResult(
    [property: Description("The table read.")] TableSourceInfo Table,
    [property: Description("The columns returned.")] IReadOnlyList<TableColumn> Columns,
    [property: NullableCells, Description("The rows, each cell as text (null cells as null).")] IReadOnlyList<IReadOnlyList<string?>> Rows,
    [property: Description("The row number (from 0, counting only rows that pass the filter) of the first row.")] long Offset,
    [property: Description("Pass as 'offset' (same filter) to read on exactly after the last row; null at the end of the table.")] long? NextOffset,
    [property: Description("A remark, such as why the page stopped early.")] string? Note = null);

public sealed record TableRowFilter(
    [property: Description("The column to test.")] string Column,
    [property: Description("One of: =, !=, <, <=, >, >=, contains (case-insensitive text match), is_null, not_null.")] string Op,
    [property: Description("The value to compare with, as text (converted to the column's type); not used by is_null/not_null.")] string? Value = null);

public sealed record TableDialect(
    [property: Description("Field delimiter.")] string Delimiter,
    [property: Description("Quote character (empty for none).")] string Quote,
    [property: Description("Escape character (empty for none).")] string Escape,
    [property: Description("Whether the first line is a header.")] bool Header,
    [property: Description("'sniffed', or 'extension' (a .tsv is read tab-separated; the note says what the sniffer found).")] string DelimiterFrom);

public sealed record ValueCount(
    [property: Description("A value.")] string Value,
    [property: Description("How many rows hold it.")] long Count);

public sealed record ColumnSummary(
    [property: Description("Column name (a nested Parquet field: its path, such as tags.list.element).")] string Name,
    [property: Description("Column type.")] string Type,
    [property: Description("Null cells, when known.")] long? Nulls,
    [property: Description("Distinct values, an estimate, when known.")] long? Distinct,
    [property: Description("Smallest value as text, when known.")] string? Min,
    [property: Description("Largest value as text, when known.")] string? Max,
    [property: Description("Mean of a numeric column, when computed.")] double? Mean,
    [property: Description("The most frequent values of a text column with their counts, when computed.")] IReadOnlyList<ValueCount>? TopValues);

public sealed record TableDescribeResult(
    [property: Description("The table described.")] TableSourceInfo Table,
    [property: Description("Row count.")] long Rows,
    [property: Description("'parquet-footer' (from the file's footer statistics; nothing else read) or 'scan' (every row read by DuckDB).")] string Method,
    [property: Description("Row groups (Parquet).")] int? RowGroups,
    [property: Description("CSV/TSV: the dialect and header DuckDB's sniffer found.")] TableDialect? Dialect,
    [property: Description("One summary per column.")] IReadOnlyList<ColumnSummary> Columns,
    [property: Description("A remark, such as what a footer cannot tell.")] string? Note = null);
