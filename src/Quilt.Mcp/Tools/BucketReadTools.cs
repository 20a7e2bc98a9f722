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
    [Description("The buckets this server may use and whether it is read-only. Start here; then bucket_objects_list.")]
    public async Task<BucketsListResult> ListBuckets(CancellationToken cancellationToken) =>
        await operations.ListBucketsAsync(cancellationToken);

    [McpServerTool(Name = "bucket_objects_list", Title = "List objects", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectsListResult))]
    [Description("List a bucket's objects by key, a page at a time; names are relative to prefix (URI = base + name). More: cursor = nextCursor.")]
    public async Task<CallToolResult> ListObjects(
        [Description("Bucket name or s3://bucket/prefix.")] string bucket,
        [Description("Key prefix, e.g. 'raw/2024/'.")] string? prefix = null,
        [Description("'/' for one folder level.")] string? delimiter = null,
        [Description("1-1000.")] int pageSize = 100,
        [Description(PageCursorDescription)] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        CompactResults.Objects(await operations.ListObjectsAsync(bucket, prefix, delimiter, PageRequest.Of(pageSize, cursor), cancellationToken));

    [McpServerTool(Name = "bucket_object_info", Title = "Object info", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("An object's size, content type, ETag, modified time, version and user metadata, without its content.")]
    public async Task<ObjectInfoResult> GetObjectInfo(
        [Description(ObjectUri)] string uri,
        CancellationToken cancellationToken = default) =>
        await operations.InfoAsync(await operations.ReadableAsync(uri, "uri", cancellationToken), cancellationToken);

    [McpServerTool(Name = "bucket_object_text", Title = "Read object text", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectTextResult))]
    [Description("Read an object as text, a page at a time (go on with offset = nextOffset), or preview CSV/TSV/JSON/JSONL/Parquet. "
        + "Binary: bucket_object_fetch.")]
    public async Task<CallToolResult> ReadObjectText(
        [Description(ObjectUri)] string uri,
        [Description(FormatDescription)] string format = "auto",
        [Description(OffsetDescription)] long offset = 0,
        [Description(MaxBytesDescription)] int? maxBytes = null,
        [Description(EncodingDescription)] string encoding = "utf-8",
        [Description("Preview rows, 1-1000.")] int rows = 20,
        CancellationToken cancellationToken = default)
    {
        var source = await operations.ReadableAsync(uri, "uri", cancellationToken);
        return TextResult(await operations.ReadTextAsync(source, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
    }

    [McpServerTool(Name = "bucket_object_fetch", Title = "Fetch object", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectFetchResult))]
    [Description("Get an object's bytes: inline up to the server's limit (1 MiB default), or streamed to a local destination. "
        + "Text: bucket_object_text.")]
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
    [Description("A presigned download URL (file:// on local storage) valid for a limited time, and the catalog page when configured.")]
    public async Task<ObjectLinkResult> LinkObject(
        [Description(ObjectUri)] string uri,
        [Description("1-604800; default 3600.")] int? expiresInSeconds = null,
        CancellationToken cancellationToken = default) =>
        await operations.LinkAsync(await operations.ReadableAsync(uri, "uri", cancellationToken), expiresInSeconds, cancellationToken);

    internal const string ObjectUri = "s3://bucket/key[?versionId=ID] or quilt+s3://bucket#path=key.";

    internal const string FormatDescription = "'auto' (preview for data files at offset 0, else text), 'text' or 'preview'.";

    internal const string EncodingDescription = "utf-8 (default), utf-16le/be, utf-32le/be, latin1 or ascii.";

    internal const string DestinationDescription = "Absolute local file or existing folder; omit for inline bytes.";

    internal const string OffsetDescription = "Byte offset (format 'text').";

    internal const string MaxBytesDescription = "Default 65536.";

    internal const string PageCursorDescription = "nextCursor of the previous page.";

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
