using System.ComponentModel;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Operations.Previews;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>The object tools that only read: list, info, text, fetch, link. They work in read-only mode too.</summary>
[McpServerToolType]
public sealed class BucketReadTools(ObjectOperations operations)
{
    [McpServerTool(Name = "buckets_list", Title = "List buckets", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("List the buckets this server may use (its allow-list, or every bucket the storage lists) and whether it is read-only. "
        + "Start here when you do not know a bucket name; then use bucket_objects_list to see what a bucket holds.")]
    public async Task<BucketsListResult> ListBuckets(CancellationToken cancellationToken) =>
        await operations.ListBucketsAsync(cancellationToken);

    [McpServerTool(Name = "bucket_objects_list", Title = "List objects", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("List objects in a bucket, one page at a time, in key order, with size and last-modified time. "
        + "Required: bucket (a name, or an s3://bucket/prefix URI). With delimiter '/' you see one folder level and its sub-folders in 'folders'; "
        + "without it, every key under the prefix. When 'truncated' is true, call again with cursor = nextCursor and the same other arguments. "
        + "For one object's details use bucket_object_info.")]
    public async Task<ObjectsListResult> ListObjects(
        [Description("Required. The bucket: a name such as 'my-data', or an s3://bucket/prefix URI.")] string bucket,
        [Description("Only keys that start with this, such as 'raw/2024/'. Leave out when 'bucket' is an s3://bucket/prefix URI.")] string? prefix = null,
        [Description("Set to '/' to list one folder level (sub-folders come back in 'folders'); leave out for a flat listing of all keys under the prefix.")] string? delimiter = null,
        [Description("Objects per page, 1 to 1000; default 100.")] int pageSize = 100,
        [Description("The nextCursor of the previous page, to continue a listing; leave out for the first page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        await operations.ListObjectsAsync(bucket, prefix, delimiter, PageRequest.Of(pageSize, cursor), cancellationToken);

    [McpServerTool(Name = "bucket_object_info", Title = "Object info", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Metadata of one object without reading its content: size, content type, ETag, last-modified time, version id and user metadata. "
        + "Required: uri. To read the content use bucket_object_text (text and data previews) or bucket_object_fetch (bytes).")]
    public async Task<ObjectInfoResult> GetObjectInfo(
        [Description("Required. The object: s3://bucket/key (add ?versionId=ID for an older version) or quilt+s3://bucket#path=key.")] string uri,
        CancellationToken cancellationToken = default) =>
        await operations.InfoAsync(await operations.ReadableAsync(uri, "uri", cancellationToken), cancellationToken);

    [McpServerTool(Name = "bucket_object_text", Title = "Read object text", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectTextResult))]
    [Description("Read an object as text, one page at a time, or see a readable preview of a data file: CSV/TSV (header and first rows as a table), "
        + "JSON (indented), JSON Lines (first lines) and Parquet (schema, row count and first rows). Never reads a whole large object: "
        + "continue with format 'text' and offset = nextOffset. Required: uri. For images and other binary files use bucket_object_fetch.")]
    public async Task<CallToolResult> ReadObjectText(
        [Description("Required. The object: s3://bucket/key (optionally ?versionId=ID) or quilt+s3://bucket#path=key.")] string uri,
        [Description("'auto' (default): a preview for CSV/TSV/JSON/JSONL/Parquet read from the start, plain text otherwise; "
            + "'text': the raw text of a byte range; 'preview': always a preview.")] string format = "auto",
        [Description("Byte offset to start reading at (format 'text'); default 0. Use the nextOffset of the previous call to read on.")] long offset = 0,
        [Description("Most bytes to read; default 65536, at most this server's limit (--max-text-bytes, 262144 unless configured).")] int? maxBytes = null,
        [Description("Text encoding: utf-8 (default), utf-16le, utf-16be, utf-32le, utf-32be, latin1 or ascii.")] string encoding = "utf-8",
        [Description("Rows to show in a table preview (CSV, TSV, JSONL, Parquet); default 20, at most 1000.")] int rows = 20,
        CancellationToken cancellationToken = default)
    {
        var source = await operations.ReadableAsync(uri, "uri", cancellationToken);
        return TextResult(await operations.ReadTextAsync(source, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
    }

    [McpServerTool(Name = "bucket_object_fetch", Title = "Fetch object", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectFetchResult))]
    [Description("Get an object's bytes. Without 'destination', an object up to this server's inline limit (1 MiB unless configured) comes back in the "
        + "result: images as image content, text as text, other data as base64. With 'destination' (an absolute local path) the object is streamed "
        + "to that file with progress notifications, whatever its size. Required: uri. To read text or preview data files use bucket_object_text; "
        + "for a download URL use bucket_object_link.")]
    public async Task<CallToolResult> FetchObject(
        [Description("Required. The object: s3://bucket/key (optionally ?versionId=ID) or quilt+s3://bucket#path=key.")] string uri,
        [Description("Absolute local path to write the object to (a file, or an existing folder to write into under the key's file name). "
            + "Leave out to get the content inline.")] string? destination = null,
        [Description("With a destination: replace an existing file. Default false.")] bool overwrite = false,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var source = await operations.ReadableAsync(uri, "uri", cancellationToken);
        return await FetchResultAsync(operations, source, destination, overwrite, context, cancellationToken);
    }

    [McpServerTool(Name = "bucket_object_link", Title = "Object download link", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("A URL that downloads the object without credentials for a limited time (a presigned GET URL on S3, a file:// URL for local storage), "
        + "plus the object's page in the Quilt catalog when the server has a catalog host. The object must exist. Required: uri. "
        + "To get the bytes through this server instead use bucket_object_fetch.")]
    public async Task<ObjectLinkResult> LinkObject(
        [Description("Required. The object: s3://bucket/key (optionally ?versionId=ID) or quilt+s3://bucket#path=key.")] string uri,
        [Description("How long the URL works, in seconds: 1 to 604800 (7 days; through a Quilt registry at most what it allows, 900 by default); "
            + "default 3600, or the registry's most when that is less.")] int? expiresInSeconds = null,
        CancellationToken cancellationToken = default) =>
        await operations.LinkAsync(await operations.ReadableAsync(uri, "uri", cancellationToken), expiresInSeconds, cancellationToken);

    /// <summary>The text (or preview) and its footer as content, the result as structured content; package_entry_text answers the same way.</summary>
    internal static CallToolResult TextResult(ObjectTextResult result) => new()
    {
        Content = [new TextContentBlock { Text = result.Text }, new TextContentBlock { Text = ObjectText.Footer(result) }],
        StructuredContent = ToolJson.ToElement(result),
    };

    /// <summary>
    /// A fetch as content: a summary of the file saved, or the bytes inline (images as image content, text as text, other
    /// data as base64); package_entry_fetch answers the same way.
    /// </summary>
    internal static async Task<CallToolResult> FetchResultAsync(ObjectOperations operations, ObjectSource source, string? destination, bool overwrite,
        RequestContext<CallToolRequestParams>? context, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(destination))
        {
            await Elicitation.ConfirmReplaceFileAsync(context, destination, overwrite, source.Object.Key, cancellationToken);
            var progress = ProgressNotifier.For(context);
            var saved = await operations.FetchToFileAsync(source, destination, overwrite, progress, cancellationToken);
            await progress.FlushAsync();
            var checkedText = source.Entry is { } entry ? $" It matches the package entry's recorded {entry.Hash.Type} hash." : "";
            return new CallToolResult
            {
                Content = [new TextContentBlock { Text = $"Saved {saved.Uri} ({saved.Size:N0} bytes, {saved.ContentType}) to {saved.Path}. SHA-256 {saved.Sha256}.{checkedText}" }],
                StructuredContent = ToolJson.ToElement(saved),
            };
        }

        var (result, bytes) = await operations.FetchInlineAsync(source, cancellationToken);
        var contentType = result.ContentType;
        var summary = new TextContentBlock { Text = $"{result.Uri}: {bytes.Length:N0} bytes, {contentType}." };
        ContentBlock body;
        if (ContentTypes.IsImage(contentType))
        {
            body = ImageContentBlock.FromBytes(bytes, ContentTypes.Essence(contentType));
        }
        else if (ContentTypes.IsAudio(contentType))
        {
            body = AudioContentBlock.FromBytes(bytes, ContentTypes.Essence(contentType));
        }
        else if (ContentTypes.IsText(contentType) && TryUtf8(bytes) is { } text)
        {
            body = new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = result.Uri, MimeType = contentType, Text = text } };
        }
        else
        {
            body = new EmbeddedResourceBlock { Resource = BlobResourceContents.FromBytes(bytes, result.Uri, contentType) };
        }
        return new CallToolResult { Content = [summary, body], StructuredContent = ToolJson.ToElement(result) };
    }

    /// <summary>The bytes as UTF-8 text, or null when they are not valid UTF-8 (then they go out as base64).</summary>
    internal static string? TryUtf8(byte[] bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
