using System.ComponentModel;

namespace Quilt.Operations.Models;

// The structured results of the object tools. Descriptions end up in each tool's output schema, which every tools/list
// sends: a property whose name says what it is has none.

public sealed record BucketEntry(
    string Name,
    [property: Description("s3:// URI of its root.")] string Uri,
    DateTimeOffset? CreatedAt);

public sealed record BucketsListResult(
    [property: Description("'local' or 's3'.")] string Storage,
    [property: Description("True: every write is refused.")] bool ReadOnly,
    [property: Description("True: only these buckets may be used.")] bool Restricted,
    IReadOnlyList<BucketEntry> Buckets,
    [property: Description("Why the list may be incomplete.")] string? Note = null);

// A listing gives its base once (bucket, prefix, base URI) and each object's key relative to it: a full s3:// URI per
// object was most of a 1,000-object page.
public sealed record ObjectEntry(
    [property: Description("Key relative to prefix (URI: base + name).")] string Name,
    long Size,
    DateTimeOffset LastModified,
    string? ETag);

public sealed record ObjectsListResult(
    string Bucket,
    string Prefix,
    [property: Description("s3:// URI of the prefix.")] string Base,
    string? Delimiter,
    IReadOnlyList<ObjectEntry> Objects,
    [property: Description("Sub-folders relative to prefix (with a delimiter); list one with prefix + folder.")] IReadOnlyList<string> Folders,
    [property: Description(ToolResultText.NextCursor)] string? NextCursor,
    bool Truncated);

public sealed record ObjectInfoResult(
    string Uri,
    string Bucket,
    string Key,
    long Size,
    string? ContentType,
    string? ETag,
    DateTimeOffset LastModified,
    string? VersionId,
    [property: Description("User metadata (x-amz-meta-*, prefix removed).")] IReadOnlyDictionary<string, string> Metadata);

public sealed record ColumnInfo(
    [property: Description("Name; a nested Parquet field's schema path.")] string Name,
    [property: Description("As the file declares it; 'string' for CSV/TSV.")] string Type,
    bool? Nullable = null);

public sealed record ObjectTextResult(
    string Uri,
    [property: Description("Bytes in the whole object.")] long Size,
    string? ContentType,
    [property: Description("text, csv, tsv, json, jsonl or parquet.")] string Format,
    string? Encoding,
    long Offset,
    long BytesRead,
    [property: Description("True: the object has more than was shown.")] bool Truncated,
    [property: Description("Pass as offset (format 'text') to read on; null at the end.")] long? NextOffset,
    [property: Description("Null in MCP results: the text is sent once, as the first content block.")] string? Text,
    [property: Description("Of a table preview.")] IReadOnlyList<ColumnInfo>? Columns = null,
    [property: NullableCells, Description("First rows of a table preview, cells as text.")] IReadOnlyList<IReadOnlyList<string?>>? Rows = null,
    [property: Description("When the format records it (Parquet).")] long? RowCount = null,
    [property: Description("Why rows are missing, and the like.")] string? Note = null,
    [property: Description(ToolResultText.Verified)] bool? Verified = null,
    [property: Description(ToolResultText.Verification)] string? Verification = null);

public sealed record ObjectFetchResult(
    string Uri,
    long Size,
    string ContentType,
    string? ETag,
    string? VersionId,
    [property: Description("True: the bytes are in the content; false: written to path.")] bool Inline,
    [property: Description("The local file written.")] string? Path,
    string Sha256,
    [property: Description(ToolResultText.Verified)] bool? Verified = null,
    [property: Description(ToolResultText.Verification)] string? Verification = null);

internal static class ToolResultText
{
    public const string Verified = "Package entries: true when the whole entry was read and matches its recorded size and hash; "
        + "false for a partial read (a mismatch is an error).";

    public const string Verification = "Package entries: what was checked, or why it could not be.";

    public const string NextCursor = "Pass as cursor for the next page; null on the last.";
}

public sealed record ObjectLinkResult(
    string Uri,
    [property: Description("Downloads without credentials until expiresAt (file:// on local storage).")] string Url,
    DateTimeOffset ExpiresAt,
    [property: Description("The object's Quilt catalog page, when configured.")] string? CatalogUrl,
    [property: Description("What limits the URL, if anything.")] string? Note = null);

public sealed record PutObjectEntry(
    string Uri,
    long Size,
    string ContentType,
    string? ETag,
    string? VersionId);

public sealed record ObjectsPutResult(
    [property: Description("In the order given.")] IReadOnlyList<PutObjectEntry> Objects,
    long TotalBytes);

public sealed record ObjectCopyResult(
    string Source,
    string Destination,
    long Size,
    string? ETag,
    string? VersionId);

public sealed record ObjectDeleteResult(
    string Uri,
    [property: Description("Whether it existed; deleting nothing is not an error.")] bool Existed);
