using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>The object tools that only read: list, info, text, fetch, link. They work in read-only mode too.</summary>
[McpServerToolType]
public sealed class BucketReadTools(IObjectStore store, ObjectUriResolver locator, BucketAccessPolicy policy, ServerSettings settings)
{
    private const int DefaultTextBytes = 64 * 1024;

    [McpServerTool(Name = "buckets_list", Title = "List buckets", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("List the buckets this server may use (its allow-list, or every bucket the storage lists) and whether it is read-only. "
        + "Start here when you do not know a bucket name; then use bucket_objects_list to see what a bucket holds.")]
    public async Task<BucketsListResult> ListBuckets(CancellationToken cancellationToken)
    {
        var storage = store.Scheme == "file" ? "local" : store.Scheme;
        IReadOnlyList<BucketInfo>? listed = null;
        string? note = null;
        try
        {
            listed = await store.ListBucketsAsync(cancellationToken);
        }
        catch (AccessDeniedException) when (policy.AllowedBuckets.Count > 0)
        {
            note = "The storage would not list buckets with these credentials; showing the configured allow-list.";
        }

        IEnumerable<BucketEntry> entries;
        if (policy.AllowedBuckets.Count > 0)
        {
            var created = listed?.ToDictionary(b => b.Name, b => b.CreatedAt, StringComparer.Ordinal);
            entries = policy.AllowedBuckets.Select(name =>
                new BucketEntry(name, $"s3://{name}/", created is not null && created.TryGetValue(name, out var at) ? at : null));
            if (created is not null && policy.AllowedBuckets.Any(b => !created.ContainsKey(b)))
            {
                note = "Some allowed buckets were not in the storage's own list: they may not exist yet"
                    + (store.Scheme == "file" ? " (a local bucket is created by the first put)." : ", or these credentials cannot list them.");
            }
        }
        else
        {
            entries = listed!.OrderBy(b => b.Name, StringComparer.Ordinal).Select(b => new BucketEntry(b.Name, $"s3://{b.Name}/", b.CreatedAt));
        }
        return new BucketsListResult(storage, policy.ReadOnly, policy.AllowedBuckets.Count > 0, entries.ToList(), note);
    }

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
        CancellationToken cancellationToken = default)
    {
        var (bucketName, uriPrefix) = locator.ForListing(bucket, "bucket");
        if (!string.IsNullOrEmpty(prefix) && uriPrefix.Length > 0)
            throw new McpException($"The prefix was given twice: in 'bucket' ('{uriPrefix}') and in 'prefix' ('{prefix}'). Give it once.");
        var effectivePrefix = string.IsNullOrEmpty(prefix) ? uriPrefix : prefix;
        if (ObjectNames.PrefixError(effectivePrefix) is { } prefixError)
            throw new McpException($"prefix: {prefixError}.");
        if (pageSize is < 1 or > 1000)
            throw new McpException($"pageSize {pageSize} is out of range: use 1 to 1000.");
        if (delimiter is { Length: 0 })
            delimiter = null;
        if (delimiter is not null && delimiter != "/")
            throw new McpException($"delimiter '{delimiter}' is not supported: use '/' (folders) or leave it out.");

        var listing = await store.ListAsync(new ListRequest(bucketName, effectivePrefix, delimiter, pageSize, string.IsNullOrEmpty(cursor) ? null : cursor),
            cancellationToken);
        return new ObjectsListResult(
            bucketName,
            effectivePrefix,
            delimiter,
            listing.Objects.Select(o => new ObjectEntry(o.Key, ObjectUriResolver.FormatUri(bucketName, o.Key), o.Size, o.LastModified, o.ETag)).ToList(),
            listing.CommonPrefixes,
            listing.NextContinuationToken,
            listing.IsTruncated);
    }

    [McpServerTool(Name = "bucket_object_info", Title = "Object info", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Metadata of one object without reading its content: size, content type, ETag, last-modified time, version id and user metadata. "
        + "Required: uri. To read the content use bucket_object_text (text and data previews) or bucket_object_fetch (bytes).")]
    public async Task<ObjectInfoResult> GetObjectInfo(
        [Description("Required. The object: s3://bucket/key (add ?versionId=ID for an older version) or quilt+s3://bucket#path=key.")] string uri,
        CancellationToken cancellationToken = default)
    {
        var obj = await locator.ForReadAsync(uri, "uri", cancellationToken);
        var info = await store.HeadAsync(obj, cancellationToken);
        return new ObjectInfoResult(ObjectUriResolver.FormatUri(obj), info.Bucket, info.Key, info.Size, info.ContentType, info.ETag, info.LastModified,
            info.VersionId, info.Metadata);
    }

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
        var (obj, entry) = await locator.ForReadWithEntryAsync(uri, "uri", cancellationToken);
        var mode = (format ?? "auto").Trim().ToLowerInvariant();
        if (mode is not ("auto" or "text" or "preview"))
            throw new McpException($"format '{format}' is not one of: auto, text, preview.");
        if (offset < 0)
            throw new McpException($"offset {offset} is negative: give a byte offset from 0.");
        var limit = maxBytes ?? Math.Min(DefaultTextBytes, settings.MaxTextBytes);
        if (limit < 1)
            throw new McpException($"maxBytes {limit} must be at least 1.");
        if (limit > settings.MaxTextBytes)
        {
            throw new McpException($"maxBytes {limit:N0} is over this server's limit of {settings.MaxTextBytes:N0} bytes (--max-text-bytes). "
                + "Read in pages of at most that size with offset/nextOffset, or use bucket_object_fetch with a destination path for the whole object.");
        }
        if (rows is < 0 or > 1000)
            throw new McpException($"rows {rows} is out of range: use 0 to 1000.");
        if (Quilt.Operations.Previews.TextDecoding.Find(encoding) is not var (textEncoding, encodingName))
            throw new McpException($"Unknown encoding '{encoding}'. Valid encodings: {Quilt.Operations.Previews.TextDecoding.Names}.");

        var info = await store.HeadAsync(obj, cancellationToken);
        var contentType = ContentTypes.Effective(info.ContentType, info.Key);
        // Pin the version read so that several range reads see the same bytes even if the object is replaced meanwhile.
        var pinned = obj.VersionId is null && info.VersionId is { Length: > 0 } v && v != "null" ? obj with { VersionId = v } : obj;
        var kind = Quilt.Operations.Previews.ObjectText.Detect(info.Key, contentType);
        var reader = new Quilt.Operations.Previews.ObjectText(store, pinned, info, contentType, textEncoding, encodingName, entry);

        ObjectTextResult result;
        if (mode == "preview" || (mode == "auto" && offset == 0 && kind != Quilt.Operations.Previews.TextKind.Text))
        {
            if (kind == Quilt.Operations.Previews.TextKind.Text)
            {
                throw new McpException($"There is no preview for {info.Key} ({contentType}); previews cover CSV, TSV, JSON, JSONL and Parquet. "
                    + "Use format 'text' to read it as text.");
            }
            if (offset != 0)
                throw new McpException("A preview always starts at the beginning of the object: leave offset at 0, or use format 'text' to read from an offset.");
            result = await reader.PreviewAsync(kind, limit, rows, cancellationToken);
        }
        else
        {
            if (kind == Quilt.Operations.Previews.TextKind.Parquet)
            {
                throw new McpException($"{info.Key} is Parquet, a binary format: use format 'preview' (schema and first rows), "
                    + "or bucket_object_fetch with a destination path to get the file.");
            }
            result = await reader.ReadTextAsync(offset, limit, cancellationToken);
        }

        var content = new List<ContentBlock> { new TextContentBlock { Text = result.Text } };
        content.Add(new TextContentBlock { Text = Quilt.Operations.Previews.ObjectText.Footer(result) });
        return new CallToolResult { Content = content, StructuredContent = ToolJson.ToElement(result) };
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
        var (obj, entry) = await locator.ForReadWithEntryAsync(uri, "uri", cancellationToken);
        var info = await store.HeadAsync(obj, cancellationToken);
        var contentType = ContentTypes.Effective(info.ContentType, info.Key);
        var pinned = obj.VersionId is null && info.VersionId is { Length: > 0 } v && v != "null" ? obj with { VersionId = v } : obj;
        var objUri = ObjectUriResolver.FormatUri(obj);
        // A fetch reads the whole entry: it is checked, and a mismatch is an error that delivers nothing.
        var verification = entry is null ? null : $"The whole entry was read: it matches the size and {entry.Hash.Type} hash its manifest records.";

        if (!string.IsNullOrWhiteSpace(destination))
        {
            LocalFiles.EnsureAllowed(settings, "destination");
            var progress = ProgressNotifier.For(context);
            var (path, sha256) = await LocalFiles.DownloadAsync(store, pinned, info.Size, destination, overwrite, progress, entry, cancellationToken);
            await progress.FlushAsync();
            var saved = new ObjectFetchResult(objUri, info.Size, contentType, info.ETag, info.VersionId, false, path, sha256,
                entry is null ? null : true, verification);
            var checkedText = entry is null ? "" : $" It matches the package entry's recorded {entry.Hash.Type} hash.";
            return new CallToolResult
            {
                Content = [new TextContentBlock { Text = $"Saved {objUri} ({info.Size:N0} bytes, {contentType}) to {path}. SHA-256 {sha256}.{checkedText}" }],
                StructuredContent = ToolJson.ToElement(saved),
            };
        }

        if (info.Size > settings.MaxInlineBytes)
        {
            throw new McpException($"{objUri} is {info.Size:N0} bytes, over this server's inline limit of {settings.MaxInlineBytes:N0} bytes "
                + "(--max-inline-bytes). Pass 'destination' (an absolute local path) to stream it to a file, use bucket_object_text to read "
                + "part of it or preview it, or bucket_object_link for a download URL.");
        }
        var bytes = await ReadSmallAsync(pinned, settings.MaxInlineBytes, cancellationToken);
        if (entry is not null)
            EntryVerification.EnsureBytes(entry, bytes);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var result = new ObjectFetchResult(objUri, bytes.Length, contentType, info.ETag, info.VersionId, true, null, hash,
            entry is null ? null : true, verification);
        var summary = new TextContentBlock { Text = $"{objUri}: {bytes.Length:N0} bytes, {contentType}." };
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
            body = new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = objUri, MimeType = contentType, Text = text } };
        }
        else
        {
            body = new EmbeddedResourceBlock { Resource = BlobResourceContents.FromBytes(bytes, objUri, contentType) };
        }
        return new CallToolResult { Content = [summary, body], StructuredContent = ToolJson.ToElement(result) };
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
        CancellationToken cancellationToken = default)
    {
        var obj = await locator.ForReadAsync(uri, "uri", cancellationToken);
        var most = (int)Math.Min(604800, store.MaxDownloadUrlLifetime.TotalSeconds);
        var seconds = expiresInSeconds ?? Math.Min(3600, most);
        if (seconds < 1 || seconds > most)
            throw new McpException($"expiresInSeconds {seconds} is out of range: use 1 to {most}{(most == 604800 ? " (7 days)" : " (the most this storage's links may live)")}.");
        var expiresInSecondsValue = seconds;
        var info = await store.HeadAsync(obj, cancellationToken);
        var expiresIn = TimeSpan.FromSeconds(expiresInSecondsValue);
        var expiresAt = DateTimeOffset.UtcNow + expiresIn;
        var url = await store.GetDownloadUrlAsync(obj, expiresIn, cancellationToken);
        string? catalogUrl = null;
        if (settings.CatalogHost is { } host && store.Scheme == "s3")
        {
            var path = string.Join('/', info.Key.Split('/').Select(Uri.EscapeDataString));
            catalogUrl = $"https://{host}/b/{Uri.EscapeDataString(info.Bucket)}/tree/{path}"
                + (obj.VersionId is null ? "" : "?version=" + Uri.EscapeDataString(obj.VersionId));
        }
        return new ObjectLinkResult(ObjectUriResolver.FormatUri(obj), url.AbsoluteUri, expiresAt, catalogUrl);
    }

    private async Task<byte[]> ReadSmallAsync(ObjectRef obj, long limit, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(obj, null, cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                throw new McpException($"{obj} grew past the inline limit of {limit:N0} bytes while it was read. "
                    + "Pass 'destination' (an absolute local path) to stream it to a file.");
            }
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    private static string? TryUtf8(byte[] bytes)
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
