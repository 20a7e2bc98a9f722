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
    [Description("The buckets this server may use, and whether it is read-only. Start here; then bucket_objects_list.")]
    public async Task<BucketsListResult> ListBuckets(CancellationToken cancellationToken) =>
        await operations.ListBucketsAsync(cancellationToken);

    [McpServerTool(Name = "bucket_objects_list", Title = "List objects", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectsListResult))]
    [Description("List a bucket's objects a page at a time, in key order, with size and modified time. Names are relative to "
        + "prefix: an object's URI is base + name. delimiter '/' shows one folder level. Required: bucket. More: cursor = nextCursor.")]
    public async Task<CallToolResult> ListObjects(
        [Description("A bucket name or s3://bucket/prefix.")] string bucket,
        [Description("Key prefix, e.g. 'raw/2024/'.")] string? prefix = null,
        [Description("'/' for one folder level; omit for all keys.")] string? delimiter = null,
        [Description("1-1000.")] int pageSize = 100,
        [Description("nextCursor of the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        CompactResults.Objects(await operations.ListObjectsAsync(bucket, prefix, delimiter, PageRequest.Of(pageSize, cursor), cancellationToken));

    [McpServerTool(Name = "bucket_object_info", Title = "Object info", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("An object's metadata without its content: size, content type, ETag, modified time, version, user metadata. "
        + "Required: uri.")]
    public async Task<ObjectInfoResult> GetObjectInfo(
        [Description(ObjectUri)] string uri,
        CancellationToken cancellationToken = default) =>
        await operations.InfoAsync(await operations.ReadableAsync(uri, "uri", cancellationToken), cancellationToken);

    [McpServerTool(Name = "bucket_object_text", Title = "Read object text", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectTextResult))]
    [Description("Read an object as text a page at a time, or preview CSV/TSV/JSON/JSONL/Parquet (columns, first rows). Never "
        + "reads a whole large object: read on with format 'text' and offset = nextOffset. Required: uri. Binary files: "
        + "bucket_object_fetch.")]
    public async Task<CallToolResult> ReadObjectText(
        [Description(ObjectUri)] string uri,
        [Description(FormatDescription)] string format = "auto",
        [Description("Byte offset (format 'text'); default 0.")] long offset = 0,
        [Description("Default 65536, capped by the server.")] int? maxBytes = null,
        [Description(EncodingDescription)] string encoding = "utf-8",
        [Description("Preview rows; default 20, at most 1000.")] int rows = 20,
        CancellationToken cancellationToken = default)
    {
        var source = await operations.ReadableAsync(uri, "uri", cancellationToken);
        return TextResult(await operations.ReadTextAsync(source, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
    }

    [McpServerTool(Name = "bucket_object_fetch", Title = "Fetch object", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectFetchResult))]
    [Description("Get an object's bytes: inline up to the server's limit (1 MiB by default; images as image content), or "
        + "streamed to a local 'destination' with progress. Required: uri. Text: bucket_object_text; a URL: "
        + "bucket_object_link.")]
    public async Task<CallToolResult> FetchObject(
        [Description(ObjectUri)] string uri,
        [Description(DestinationDescription)] string? destination = null,
        [Description("Replace an existing file.")] bool overwrite = false,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var source = await operations.ReadableAsync(uri, "uri", cancellationToken);
        return await FetchResultAsync(operations, source, destination, overwrite, context, cancellationToken);
    }

    [McpServerTool(Name = "bucket_object_link", Title = "Object download link", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("A URL that downloads the object without credentials for a limited time (presigned; file:// on local storage), "
        + "and its catalog page when configured. Required: uri.")]
    public async Task<ObjectLinkResult> LinkObject(
        [Description(ObjectUri)] string uri,
        [Description("1-604800; default 3600 (a registry may allow less).")] int? expiresInSeconds = null,
        CancellationToken cancellationToken = default) =>
        await operations.LinkAsync(await operations.ReadableAsync(uri, "uri", cancellationToken), expiresInSeconds, cancellationToken);

    internal const string ObjectUri = "s3://bucket/key[?versionId=ID] or quilt+s3://bucket#path=key.";

    internal const string FormatDescription = "'auto' (default: a preview for data files read from 0, else text), 'text' or 'preview'.";

    internal const string EncodingDescription = "utf-8 (default), utf-16le, utf-16be, utf-32le, utf-32be, latin1 or ascii.";

    internal const string DestinationDescription = "Absolute local file, or an existing folder; omit to get the bytes inline.";

    /// <summary>
    /// The text (or preview) and its footer as content, the rest of the result as structured content; package_entry_text
    /// answers the same way. The text goes once: in the content every client reads, not again in structuredContent.
    /// </summary>
    internal static CallToolResult TextResult(ObjectTextResult result) => new()
    {
        Content = [new TextContentBlock { Text = result.Text ?? "" }, new TextContentBlock { Text = ObjectText.Footer(result) }],
        StructuredContent = ToolJson.ToElement(result with { Text = null }),
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
