using System.ComponentModel;
using System.Text;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>The object tools that change buckets: put, copy, delete. All refuse to run when the server is read-only.</summary>
[McpServerToolType]
public sealed class BucketWriteTools(IObjectStore store, ObjectUriResolver locator, ServerSettings settings)
{
    public const int MaxObjectsPerPut = 1000;
    private const int MaxMetadataBytes = 2048;

    [McpServerTool(Name = "bucket_objects_put", Title = "Put objects", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Write one or many objects. Each object needs a uri and exactly one source: 'text' (written as UTF-8), 'base64' (small binary data), "
        + "or 'localPath' (an absolute path of a local file, streamed, any size, multipart when large, with progress notifications). "
        + "Inline text/base64 is limited to this server's inline limit (1 MiB unless configured): use localPath for more. "
        + "Existing objects are replaced unless overwrite is false. All arguments are checked before anything is written. Required: objects.")]
    public async Task<ObjectsPutResult> PutObjects(
        [Description("Required. The objects to write, each { uri, and one of text | base64 | localPath, optional contentType and metadata }.")]
        IReadOnlyList<PutObjectInput> objects,
        [Description("Replace objects that already exist. Default true; with false, the call fails without writing anything if any target exists.")]
        bool overwrite = true,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        if (objects is null || objects.Count == 0)
            throw new McpException("objects is empty: give at least one { uri, text | base64 | localPath }.");
        if (objects.Count > MaxObjectsPerPut)
            throw new McpException($"{objects.Count} objects is more than {MaxObjectsPerPut} in one call: split them into several calls.");

        // Check everything first, so that a bad item means nothing is written.
        var plans = new List<PutPlan>(objects.Count);
        var targets = new HashSet<(string, string)>();
        for (var i = 0; i < objects.Count; i++)
        {
            var plan = Plan(objects[i], $"objects[{i}]");
            if (!targets.Add((plan.Target.Bucket, plan.Target.Key)))
                throw new McpException($"objects[{i}].uri {ObjectUriResolver.FormatUri(plan.Target)} appears more than once. Give each target once.");
            plans.Add(plan);
        }
        if (!overwrite)
        {
            foreach (var plan in plans)
                await EnsureAbsentAsync(plan.Target, "Nothing was written. Pass overwrite=true to replace it, or choose another key.", cancellationToken);
        }

        var total = plans.Sum(p => p.Size);
        var progress = ProgressNotifier.For(context);
        var tracker = new TransferProgress(progress, total, "Uploaded");
        var written = new List<PutObjectEntry>(plans.Count);
        long offset = 0;
        foreach (var plan in plans)
        {
            var request = new PutRequest(plan.Target.Bucket, plan.Target.Key)
            {
                Length = plan.Size,
                ContentType = plan.ContentType,
                Metadata = plan.Metadata,
                Overwrite = overwrite,
            };
            try
            {
                PutResult result;
                await using (var content = plan.Open())
                    result = await store.PutAsync(request, content, tracker.ForObject(offset), cancellationToken);
                written.Add(new PutObjectEntry(ObjectUriResolver.FormatUri(plan.Target), result.Size, plan.ContentType, result.ETag, result.VersionId));
            }
            catch (Exception e) when (e is StorageException or McpException or IOException or UnauthorizedAccessException)
            {
                var done = written.Count == 0 ? "No object was written" : $"{written.Count} of {plans.Count} were written ({string.Join(", ", written.Select(w => w.Uri))})";
                // A structured error (such as a registry without upload: workarounds, backend feature needed) follows.
                var details = ErrorDetails.Suffix(e);
                throw new McpException($"Writing {ObjectUriResolver.FormatUri(plan.Target)} failed: {e.Message} {done}; the rest were not attempted.{details}", e);
            }
            offset += plan.Size;
            tracker.Set(offset);
        }
        await progress.FlushAsync();
        return new ObjectsPutResult(written, total);
    }

    [McpServerTool(Name = "bucket_object_copy", Title = "Copy object", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Copy an object to another key or bucket on the storage side (no download). Replaces the destination unless overwrite is false. "
        + "Required: source and destination. To move, copy and then delete the source with bucket_object_delete.")]
    public async Task<ObjectCopyResult> CopyObject(
        [Description("Required. The object to copy: s3://bucket/key (optionally ?versionId=ID) or quilt+s3://bucket#path=key.")] string source,
        [Description("Required. Where to copy it: s3://bucket/key, or s3://bucket/folder/ (ending in '/') to keep the source's file name.")] string destination,
        [Description("Replace the destination if it exists. Default true.")] bool overwrite = true,
        CancellationToken cancellationToken = default)
    {
        var from = await locator.ForReadAsync(source, "source", cancellationToken);
        var destinationText = ObjectUriResolver.Require(destination, "destination");
        if (destinationText.EndsWith('/'))
            destinationText += from.Key[(from.Key.LastIndexOf('/') + 1)..];
        var to = locator.ForWrite(destinationText, "destination");
        if (from.Bucket == to.Bucket && from.Key == to.Key && from.VersionId is null)
            throw new McpException($"source and destination are the same object ({ObjectUriResolver.FormatUri(to)}). Choose another destination key.");
        await store.HeadAsync(from, cancellationToken);
        if (!overwrite)
            await EnsureAbsentAsync(to, "Nothing was copied. Pass overwrite=true to replace it, or choose another key.", cancellationToken);
        var result = await store.CopyAsync(from, to.Bucket, to.Key, cancellationToken);
        return new ObjectCopyResult(ObjectUriResolver.FormatUri(from), ObjectUriResolver.FormatUri(to), result.Size, result.ETag, result.VersionId);
    }

    [McpServerTool(Name = "bucket_object_delete", Title = "Delete object", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Delete one object (on a versioned bucket: add ?versionId=ID to delete that version for good; without it the object gets a delete marker "
        + "and older versions stay). Deleting what does not exist is not an error: 'existed' says whether there was anything. Required: uri.")]
    public async Task<ObjectDeleteResult> DeleteObject(
        [Description("Required. The object: s3://bucket/key, or s3://bucket/key?versionId=ID for one version.")] string uri,
        CancellationToken cancellationToken = default)
    {
        var obj = locator.ForWrite(uri, "uri", allowVersion: true);
        bool existed;
        try
        {
            await store.HeadAsync(obj, cancellationToken);
            existed = true;
        }
        catch (ObjectNotFoundException)
        {
            existed = false;
        }
        await store.DeleteAsync(obj, cancellationToken);
        return new ObjectDeleteResult(ObjectUriResolver.FormatUri(obj), existed);
    }

    private async Task EnsureAbsentAsync(ObjectRef target, string advice, CancellationToken cancellationToken)
    {
        try
        {
            await store.HeadAsync(target, cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
            return;
        }
        throw new McpException($"{ObjectUriResolver.FormatUri(target)} already exists and overwrite is false. {advice}");
    }

    private sealed record PutPlan(ObjectRef Target, long Size, string ContentType, IReadOnlyDictionary<string, string>? Metadata, Func<Stream> Open);

    private PutPlan Plan(PutObjectInput? item, string path)
    {
        if (item is null)
            throw new McpException($"{path} is null: give {{ uri, text | base64 | localPath }}.");
        var target = locator.ForWrite(item.Uri, $"{path}.uri");
        var sources = (item.Text is not null ? 1 : 0) + (item.Base64 is not null ? 1 : 0) + (item.LocalPath is not null ? 1 : 0);
        if (sources != 1)
        {
            throw new McpException($"{path} gives {(sources == 0 ? "no" : sources.ToString(System.Globalization.CultureInfo.InvariantCulture))} sources: "
                + "give exactly one of text, base64 or localPath.");
        }

        var contentType = item.ContentType?.Trim() is { Length: > 0 } given ? given : ContentTypes.Guess(target.Key);
        if (ContentTypes.Error(contentType) is { } typeError)
            throw new McpException($"{path}.contentType: {typeError}.");
        var metadata = CheckMetadata(item.Metadata, path);
        var limit = settings.MaxInlineBytes;
        var tooBig = $"over this server's inline limit of {limit:N0} bytes (--max-inline-bytes). Save the content to a file and pass it as localPath.";

        if (item.Text is { } text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (bytes.Length > limit)
                throw new McpException($"{path}.text is {bytes.Length:N0} bytes, {tooBig}");
            if (item.ContentType is null && ContentTypes.Essence(contentType) == ContentTypes.Binary)
                contentType = "text/plain; charset=utf-8";
            return new PutPlan(target, bytes.Length, contentType, metadata, () => new MemoryStream(bytes, writable: false));
        }
        if (item.Base64 is { } base64)
        {
            var trimmed = base64.Trim();
            if ((long)trimmed.Length * 3 / 4 > limit + 3)
                throw new McpException($"{path}.base64 holds about {(long)trimmed.Length * 3 / 4:N0} bytes, {tooBig}");
            var bytes = new byte[trimmed.Length * 3 / 4 + 3];
            if (!Convert.TryFromBase64String(trimmed, bytes, out var length))
                throw new McpException($"{path}.base64 is not valid base64. Encode the bytes with standard base64 (A–Z, a–z, 0–9, '+', '/', '=' padding).");
            if (length > limit)
                throw new McpException($"{path}.base64 is {length:N0} bytes, {tooBig}");
            return new PutPlan(target, length, contentType, metadata, () => new MemoryStream(bytes, 0, length, writable: false));
        }

        LocalFiles.EnsureAllowed(settings, $"{path}.localPath");
        var file = LocalFiles.RequireFile(item.LocalPath!, $"{path}.localPath");
        if (item.ContentType is null && ContentTypes.Essence(contentType) == ContentTypes.Binary)
            contentType = ContentTypes.Guess(file.Name);
        return new PutPlan(target, file.Length, contentType, metadata,
            () => new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    /// <summary>
    /// S3 sends user metadata as HTTP headers: ASCII names that survive lower-casing, 2 KB in all. Values may be any
    /// text without control characters (the store encodes non-ASCII values).
    /// </summary>
    private static Dictionary<string, string>? CheckMetadata(IReadOnlyDictionary<string, string>? metadata, string path)
    {
        if (metadata is null || metadata.Count == 0)
            return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var size = 0;
        foreach (var (key, value) in metadata)
        {
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                throw new McpException($"{path}.metadata key '{key}' is not allowed: use ASCII letters, digits, '-' and '_'.");
            if (value is null || value.Any(char.IsControl))
                throw new McpException($"{path}.metadata['{key}'] has control characters (such as line breaks); metadata values are one line of text.");
            var normalized = key.ToLowerInvariant();
            if (!result.TryAdd(normalized, value))
                throw new McpException($"{path}.metadata has '{key}' twice (names are case-insensitive).");
            size += normalized.Length + Encoding.UTF8.GetByteCount(value);
        }
        if (size > MaxMetadataBytes)
            throw new McpException($"{path}.metadata is {size:N0} bytes; S3 allows {MaxMetadataBytes:N0} bytes of user metadata per object.");
        return result;
    }
}
