using System.ComponentModel;

namespace Quilt.Operations.Models;

// The structured results of the object tools. Descriptions end up in each tool's output schema.

public sealed record BucketEntry(
    [property: Description("Bucket name.")] string Name,
    [property: Description("s3:// URI of the bucket root, for bucket_objects_list.")] string Uri,
    [property: Description("When the bucket was created, when the storage reports it.")] DateTimeOffset? CreatedAt);

public sealed record BucketsListResult(
    [property: Description("Where the objects live: 'local' (a folder) or 's3'.")] string Storage,
    [property: Description("True when this server refuses every write (put, copy, delete).")] bool ReadOnly,
    [property: Description("True when only the listed buckets may be used (an allow-list is configured).")] bool Restricted,
    [property: Description("The buckets the tools may use.")] IReadOnlyList<BucketEntry> Buckets,
    [property: Description("A remark about the list, such as why it may be incomplete.")] string? Note = null);

public sealed record ObjectEntry(
    [property: Description("Object key.")] string Key,
    [property: Description("s3:// URI of the object, to pass to the other tools.")] string Uri,
    [property: Description("Size in bytes.")] long Size,
    [property: Description("Last modified time (UTC).")] DateTimeOffset LastModified,
    [property: Description("Entity tag, when the storage reports one.")] string? ETag);

public sealed record ObjectsListResult(
    [property: Description("The bucket listed.")] string Bucket,
    [property: Description("The prefix listed (empty for the whole bucket).")] string Prefix,
    [property: Description("The delimiter used, or null for a flat listing.")] string? Delimiter,
    [property: Description("Objects on this page, in key order.")] IReadOnlyList<ObjectEntry> Objects,
    [property: Description("Sub-folder prefixes on this page (only with a delimiter); list one by passing it as the prefix.")] IReadOnlyList<string> Folders,
    [property: Description("Pass as 'cursor' to get the next page; null when this is the last page.")] string? NextCursor,
    [property: Description("True when more results follow (use nextCursor).")] bool Truncated);

public sealed record ObjectInfoResult(
    [property: Description("s3:// URI of the object (with ?versionId= when a version was asked for).")] string Uri,
    [property: Description("Bucket.")] string Bucket,
    [property: Description("Key.")] string Key,
    [property: Description("Size in bytes.")] long Size,
    [property: Description("Content type (MIME), when stored.")] string? ContentType,
    [property: Description("Entity tag, when the storage reports one.")] string? ETag,
    [property: Description("Last modified time (UTC).")] DateTimeOffset LastModified,
    [property: Description("Version id on versioned buckets; null otherwise.")] string? VersionId,
    [property: Description("User metadata (x-amz-meta-*), keys without the prefix.")] IReadOnlyDictionary<string, string> Metadata,
    [property: Description("The object's page in the Quilt catalog, when a catalog host is configured (--catalog).")] string? CatalogUrl = null);

public sealed record ColumnInfo(
    [property: Description("Column name; for a nested Parquet field, its path in the schema, such as tags/list/element.")] string Name,
    [property: Description("Column type as the file declares it; 'string' for CSV/TSV.")] string Type,
    [property: Description("Whether the column may hold nulls, when known.")] bool? Nullable = null);

public sealed record ObjectTextResult(
    [property: Description("s3:// URI of the object read.")] string Uri,
    [property: Description("Size of the whole object in bytes.")] long Size,
    [property: Description("Content type (MIME), when stored.")] string? ContentType,
    [property: Description("How the content was rendered: text, csv, tsv, json, jsonl or parquet.")] string Format,
    [property: Description("Text encoding used to decode the bytes (null for Parquet).")] string? Encoding,
    [property: Description("Byte offset the text starts at.")] long Offset,
    [property: Description("Number of bytes read from the object.")] long BytesRead,
    [property: Description("True when the object has more than was shown.")] bool Truncated,
    [property: Description("Byte offset to pass as 'offset' (with format 'text') to read on; null at the end of the object.")] long? NextOffset,
    [property: Description("The text, or a readable preview for CSV/TSV/JSON/JSONL/Parquet.")] string Text,
    [property: Description("Columns of a table preview (CSV/TSV header or Parquet schema).")] IReadOnlyList<ColumnInfo>? Columns = null,
    [property: NullableCells, Description("The first rows of a table preview, each cell as text (null cells as null).")] IReadOnlyList<IReadOnlyList<string?>>? Rows = null,
    [property: Description("Total number of rows, when the format records it (Parquet).")] long? RowCount = null,
    [property: Description("A remark about the preview, such as why rows are missing.")] string? Note = null,
    [property: Description(ToolResultText.Verified)] bool? Verified = null,
    [property: Description(ToolResultText.Verification)] string? Verification = null);

public sealed record ObjectFetchResult(
    [property: Description("s3:// URI of the object fetched.")] string Uri,
    [property: Description("Size in bytes.")] long Size,
    [property: Description("Content type (MIME) used for the content.")] string ContentType,
    [property: Description("Entity tag, when the storage reports one.")] string? ETag,
    [property: Description("Version id on versioned buckets; null otherwise.")] string? VersionId,
    [property: Description("True when the bytes are in this result's content; false when they were written to 'path'.")] bool Inline,
    [property: Description("The local file written (only when a destination was given).")] string? Path,
    [property: Description("SHA-256 (hex) of the bytes fetched.")] string Sha256,
    [property: Description(ToolResultText.Verified)] bool? Verified = null,
    [property: Description(ToolResultText.Verification)] string? Verification = null);

internal static class ToolResultText
{
    public const string Verified = "Package entries only (null for plain objects): true when the bytes read are the whole entry and match the size and "
        + "hash its manifest records (a mismatch is an error, never a result); false when only part of the entry was read, which its hash cannot check.";

    public const string Verification = "Package entries only: what was checked, or why the entry's hash could not be checked.";
}

public sealed record ObjectLinkResult(
    [property: Description("s3:// URI of the object.")] string Uri,
    [property: Description("A URL that downloads the object without credentials until it expires (file:// for local storage).")] string Url,
    [property: Description("When the URL stops working (UTC).")] DateTimeOffset ExpiresAt,
    [property: Description("The object's page in the Quilt catalog, when a catalog host is configured.")] string? CatalogUrl,
    [property: Description("What limits the URL, when something does: a file:// URL of local storage opens only on this machine.")] string? Note = null);

public sealed record PutObjectEntry(
    [property: Description("s3:// URI of the object written.")] string Uri,
    [property: Description("Size in bytes.")] long Size,
    [property: Description("Content type stored with the object.")] string ContentType,
    [property: Description("Entity tag, when the storage reports one.")] string? ETag,
    [property: Description("Version id on versioned buckets; null otherwise.")] string? VersionId);

public sealed record ObjectsPutResult(
    [property: Description("The objects written, in the order given.")] IReadOnlyList<PutObjectEntry> Objects,
    [property: Description("Total bytes written.")] long TotalBytes);

public sealed record ObjectCopyResult(
    [property: Description("s3:// URI of the source object.")] string Source,
    [property: Description("s3:// URI of the new object.")] string Destination,
    [property: Description("Size in bytes.")] long Size,
    [property: Description("Entity tag of the new object, when the storage reports one.")] string? ETag,
    [property: Description("Version id of the new object on versioned buckets; null otherwise.")] string? VersionId);

public sealed record ObjectDeleteResult(
    [property: Description("s3:// URI deleted (with ?versionId= when one version was deleted).")] string Uri,
    [property: Description("Whether the object (or version) existed before the call; deleting nothing is not an error.")] bool Existed);
