using System.ComponentModel;

namespace Quilt.Operations.Models;

// The structured results of the object tools. Descriptions end up in each tool's output schema, which every tools/list
// sends: a property whose name says what it is has none.

// Read and Write: the key prefixes the caller's role may read or write ("" = the whole bucket); null when the storage
// does not say (S3, local, a stock Quilt registry).
public sealed record BucketEntry(
    string Name,
    string Uri,
    DateTimeOffset? CreatedAt,
    IReadOnlyList<string>? Read = null,
    IReadOnlyList<string>? Write = null);

public sealed record BucketsListResult(
    string Storage,
    bool ReadOnly,
    bool Restricted,
    IReadOnlyList<BucketEntry> Buckets,
    string? Note = null,
    string? Role = null);

// A listing gives its base once (bucket, prefix, base URI) and each object's key relative to it: a full s3:// URI per
// object was most of a 1,000-object page.
public sealed record ObjectEntry(
    [property: Description("Relative to prefix.")] string Name,
    long Size,
    DateTimeOffset LastModified,
    string? ETag);

public sealed record ObjectsListResult(
    string Bucket,
    string Prefix,
    string Base,
    string? Delimiter,
    IReadOnlyList<ObjectEntry> Objects,
    [property: Description("Relative to prefix.")] IReadOnlyList<string> Folders,
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
    IReadOnlyDictionary<string, string> Metadata,
    [property: Description("The object's Quilt catalog page (with --catalog).")] string? CatalogUrl = null);

public sealed record ColumnInfo(
    string Name,
    string Type,
    bool? Nullable = null);

public sealed record ObjectTextResult(
    string Uri,
    long Size,
    string? ContentType,
    string Format,
    string? Encoding,
    long Offset,
    long BytesRead,
    bool Truncated,
    [property: Description("Offset to read on from; null at the end.")] long? NextOffset,
    [property: Description("Null here: sent once, as the first content block.")] string? Text,
    IReadOnlyList<ColumnInfo>? Columns = null,
    [property: NullableCells] IReadOnlyList<IReadOnlyList<string?>>? Rows = null,
    long? RowCount = null,
    string? Note = null,
    [property: Description(ToolResultText.Verified)] bool? Verified = null,
    [property: Description(ToolResultText.Verification)] string? Verification = null);

public sealed record ObjectFetchResult(
    string Uri,
    long Size,
    string ContentType,
    string? ETag,
    string? VersionId,
    [property: Description("True: bytes in the content; false: written to path.")] bool Inline,
    string? Path,
    string Sha256,
    [property: Description(ToolResultText.Verified)] bool? Verified = null,
    [property: Description(ToolResultText.Verification)] string? Verification = null);

internal static class ToolResultText
{
    public const string Verified = "Package entries: true if the whole entry matched its hash; false for a partial read.";

    public const string Verification = "What was checked, or why not.";

    public const string NextCursor = "Cursor of the next page; null on the last.";
}

public sealed record ObjectLinkResult(
    string Uri,
    [property: Description("Works without credentials until expiresAt.")] string Url,
    DateTimeOffset ExpiresAt,
    string? CatalogUrl,
    string? Note = null);

public sealed record PutObjectEntry(
    string Uri,
    long Size,
    string ContentType,
    string? ETag,
    string? VersionId);

public sealed record ObjectsPutResult(
    IReadOnlyList<PutObjectEntry> Objects,
    long TotalBytes);

public sealed record ObjectCopyResult(
    string Source,
    string Destination,
    long Size,
    string? ETag,
    string? VersionId);

public sealed record ObjectDeleteResult(
    string Uri,
    bool Existed);
