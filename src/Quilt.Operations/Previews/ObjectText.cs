using System.Text;
using Quilt.Core.Manifests;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Operations.Previews;

internal enum TextKind
{
    Text,
    Csv,
    Tsv,
    Json,
    JsonLines,
    Parquet,
}

/// <summary>
/// Reads one object as text pages or as a preview; never more than the byte limit it is given (Parquet: footer and one row group).
/// For a package entry, a read of the whole entry is checked against its recorded size and hash (a mismatch is an error), and a
/// partial read says that it could not be.
/// </summary>
internal sealed class ObjectText(IObjectStore store, ObjectRef obj, ObjectInfo info, string contentType, Encoding encoding, string encodingName,
    ManifestEntry? entry = null)
{
    private readonly string _uri = ObjectUriResolver.FormatUri(obj with { VersionId = null });
    private (bool? Verified, string? Verification) _check;

    public static TextKind Detect(string key, string contentType)
    {
        ArgumentNullException.ThrowIfNull(key);
        var name = key[(key.LastIndexOf('/') + 1)..].ToLowerInvariant();
        var extension = Path.GetExtension(name);
        switch (extension)
        {
            case ".csv":
                return TextKind.Csv;
            case ".tsv" or ".tab":
                return TextKind.Tsv;
            case ".json" or ".geojson" or ".ipynb":
                return TextKind.Json;
            case ".jsonl" or ".ndjson":
                return TextKind.JsonLines;
            case ".parquet" or ".pq":
                return TextKind.Parquet;
        }
        return ContentTypes.Essence(contentType) switch
        {
            "text/csv" => TextKind.Csv,
            "text/tab-separated-values" => TextKind.Tsv,
            "application/json" => TextKind.Json,
            "application/jsonl" or "application/x-ndjson" or "application/x-jsonlines" => TextKind.JsonLines,
            "application/vnd.apache.parquet" or "application/x-parquet" => TextKind.Parquet,
            _ => TextKind.Text,
        };
    }

    public async Task<ObjectTextResult> ReadTextAsync(long offset, int limit, CancellationToken cancellationToken)
    {
        if (offset > info.Size)
            throw new OperationException($"offset {offset:N0} is past the end of {_uri}, which has {info.Size:N0} bytes.");
        var count = (int)Math.Min(limit, info.Size - offset);
        if (count == 0)
        {
            Check(offset, []);
            return Result("text", offset, 0, null, "");
        }
        var bytes = await ReadRangeAsync(offset, count, cancellationToken);
        EnsureText(bytes);
        var atEnd = offset + bytes.Length >= info.Size;
        var (text, start, end) = TextDecoding.Decode(bytes, encoding, offset == 0, atEnd);
        if (end <= start)
        {
            // The range is smaller than one character: show it with replacement characters rather than stall.
            (text, start, end) = (encoding.GetString(bytes), 0, bytes.Length);
        }
        long? next = atEnd && end == bytes.Length ? null : offset + end;
        return Result("text", offset + start, bytes.Length, next, text);
    }

    public async Task<ObjectTextResult> PreviewAsync(TextKind kind, int limit, int rows, CancellationToken cancellationToken)
    {
        if (kind == TextKind.Parquet)
            return await ParquetAsync(rows, cancellationToken);

        var count = (int)Math.Min(limit, info.Size);
        var bytes = await ReadRangeAsync(0, count, cancellationToken);
        EnsureText(bytes);
        var complete = bytes.Length >= info.Size;
        var (text, start, end) = TextDecoding.Decode(bytes, encoding, atStart: true, atEnd: complete);
        long? next = complete ? null : end;
        var readNote = complete ? $"the whole object ({info.Size:N0} bytes)" : $"the first {bytes.Length:N0} of {info.Size:N0} bytes";

        switch (kind)
        {
            case TextKind.Csv or TextKind.Tsv:
            {
                var format = kind == TextKind.Csv ? "csv" : "tsv";
                var delimiter = kind == TextKind.Tsv ? '\t' : DelimitedText.SniffCsvDelimiter(text);
                var records = DelimitedText.Parse(text, delimiter, rows + 2, complete);
                if (records.Count == 0)
                {
                    return Result(format, 0, bytes.Length, next, text,
                        note: $"No complete row in {readNote}; showing the text. Raise maxBytes to read further.");
                }
                var header = records[0];
                var data = records.Skip(1).Take(rows).Select(r => (IReadOnlyList<string?>)r.Cast<string?>().ToList()).ToList();
                var more = !complete || records.Count > rows + 1;
                var heading = $"{format.ToUpperInvariant()} preview of {_uri}: {header.Count} columns, {(more ? "first " : "")}{data.Count} rows"
                    + $" (from {readNote}).\n\n";
                return Result(format, 0, bytes.Length, next, heading + TableText.Render(header, data),
                    columns: header.Select(h => new ColumnInfo(h, "string")).ToList(), rowList: data, truncated: more);
            }
            case TextKind.Json:
            {
                var utf8 = encoding is UTF8Encoding ? bytes.AsSpan(start, end - start) : Encoding.UTF8.GetBytes(text);
                if (JsonPreview.Format(utf8, complete, limit) is not var (pretty, whole, summary))
                    return Result("text", 0, bytes.Length, next, text, note: "This is not valid JSON; showing it as text.");
                var heading = $"JSON preview of {_uri}: {summary} (from {readNote}).\n\n";
                return Result("json", 0, bytes.Length, next, heading + pretty + (whole ? "" : "\n…"), truncated: !whole || !complete);
            }
            case TextKind.JsonLines:
            {
                var lines = text.Split('\n');
                var usable = complete ? lines.Length : lines.Length - 1;
                var shown = lines.Take(usable).Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Take(rows).ToList();
                var more = !complete || lines.Take(usable).Count(l => l.TrimEnd('\r').Length > 0) > shown.Count;
                var heading = $"JSON Lines preview of {_uri}: {(more ? "first " : "")}{shown.Count} lines (from {readNote}).\n\n";
                return Result("jsonl", 0, bytes.Length, next, heading + string.Join('\n', shown), truncated: more);
            }
            default:
                return Result("text", 0, bytes.Length, next, text);
        }
    }

    private async Task<ObjectTextResult> ParquetAsync(int rows, CancellationToken cancellationToken)
    {
        if (entry is not null)
        {
            EntryVerification.EnsureSize(entry, info.Size);
            _check = (false, "A Parquet preview reads the footer and one row group, not the whole entry, so the entry's hash was not checked. "
                + "package_entry_fetch reads and checks all of it.");
        }
        var preview = await ParquetPreview.ReadAsync(store, obj, info.Size, rows, cancellationToken);
        var sb = new StringBuilder();
        sb.Append($"Parquet preview of {_uri}: {preview.RowCount:N0} rows in {preview.RowGroups} row group(s), {preview.Columns.Count} columns");
        if (preview.CreatedBy is not null)
            sb.Append($", written by {preview.CreatedBy}");
        sb.Append(".\n\nSchema:\n");
        foreach (var column in preview.Columns)
            sb.Append($"- {column.Name}: {column.Type}{(column.Nullable == true ? " (nullable)" : "")}\n");
        if (preview.Rows.Count > 0)
        {
            var header = preview.Rows.Count > 0 && preview.Rows[0].Count != preview.Columns.Count
                ? Enumerable.Range(1, preview.Rows[0].Count).Select(i => $"field{i}").ToList()
                : preview.Columns.Select(c => c.Name).ToList();
            sb.Append($"\nFirst {preview.Rows.Count} rows:\n\n").Append(TableText.Render(header, preview.Rows));
        }
        if (preview.Note is not null)
            sb.Append('\n').Append(preview.Note).Append('\n');
        return new ObjectTextResult(_uri, info.Size, contentType, "parquet", null, 0, preview.BytesRead, preview.Rows.Count < preview.RowCount, null,
            sb.ToString(), preview.Columns, preview.Rows, preview.RowCount, preview.Note, _check.Verified, _check.Verification);
    }

    public static string Footer(ObjectTextResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var sb = new StringBuilder($"[{result.Format}; {result.BytesRead:N0} bytes read");
        if (result.Format == "text" && result.BytesRead > 0)
            sb.Append($" from offset {result.Offset:N0}");
        sb.Append($" of {result.Size:N0}");
        if (result.NextOffset is { } next)
            sb.Append($"; to read on call bucket_object_text with format 'text' and offset {next}");
        else if (!result.Truncated)
            sb.Append("; end of object");
        sb.Append(']');
        if (result.Note is not null && result.Format != "parquet")
            sb.Append(' ').Append(result.Note);
        return sb.ToString();
    }

    private ObjectTextResult Result(string format, long offset, long bytesRead, long? next, string text,
        IReadOnlyList<ColumnInfo>? columns = null, IReadOnlyList<IReadOnlyList<string?>>? rowList = null, bool? truncated = null, string? note = null) =>
        new(_uri, info.Size, contentType, format, encodingName, offset, bytesRead, truncated ?? next is not null, next, text, columns, rowList, null, note,
            _check.Verified, _check.Verification);

    /// <summary>Checks bytes read from <paramref name="offset"/> against the package entry, when there is one.</summary>
    private void Check(long offset, ReadOnlySpan<byte> bytes)
    {
        if (entry is null)
            return;
        if (offset == 0 && bytes.Length == info.Size)
        {
            EntryVerification.EnsureBytes(entry, bytes);
            _check = (true, $"The whole entry was read: it matches the size and {entry.Hash.Type} hash its manifest records.");
            return;
        }
        // A different size shows the change without reading the rest.
        EntryVerification.EnsureSize(entry, info.Size);
        _check = (false, $"Only {bytes.Length:N0} of the entry's {info.Size:N0} bytes were read; its hash covers all of them, so a part cannot be "
            + "checked. package_entry_fetch reads and checks the whole entry.");
    }

    private void EnsureText(ReadOnlySpan<byte> bytes)
    {
        if (TextDecoding.LooksBinary(bytes, encoding))
        {
            throw new OperationException($"{_uri} ({contentType}) looks like binary data, not {encodingName} text (it has NUL bytes). "
                + "Use bucket_object_fetch to get its bytes; if it is UTF-16 or UTF-32 text, pass that encoding.");
        }
    }

    private async Task<byte[]> ReadRangeAsync(long offset, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await using var stream = await store.OpenReadAsync(obj, new ByteRange(offset, count), cancellationToken);
        var total = await stream.ReadAtLeastAsync(buffer, count, throwOnEndOfStream: false, cancellationToken);
        var bytes = total == count ? buffer : buffer[..total];
        Check(offset, bytes);
        return bytes;
    }
}
