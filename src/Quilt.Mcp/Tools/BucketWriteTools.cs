using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Tools;

/// <summary>The object tools that change buckets: put, copy, delete. All refuse to run when the server is read-only.</summary>
[McpServerToolType]
public sealed class BucketWriteTools(ObjectOperations operations)
{
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
        await Elicitation.ConfirmUploadAsync(context, objects, cancellationToken);
        var progress = ProgressNotifier.For(context);
        var result = await operations.PutAsync(objects, overwrite, progress, cancellationToken);
        await progress.FlushAsync();
        return result;
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
        var from = await operations.ReadableAsync(source, "source", cancellationToken);
        return await operations.CopyAsync(from, destination, overwrite, cancellationToken);
    }

    [McpServerTool(Name = "bucket_object_delete", Title = "Delete object", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Delete one object (on a versioned bucket: add ?versionId=ID to delete that version for good; without it the object gets a delete marker "
        + "and older versions stay). Deleting what does not exist is not an error: 'existed' says whether there was anything. Required: uri.")]
    public async Task<ObjectDeleteResult> DeleteObject(
        [Description("Required. The object: s3://bucket/key, or s3://bucket/key?versionId=ID for one version.")] string uri,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var target = operations.Uris.ForWrite(uri, "uri", allowVersion: true);
        await Elicitation.ConfirmAsync(context, () => Task.FromResult<string?>(target.VersionId is null
            ? $"Delete {ObjectUriResolver.FormatUri(target)}? (On a versioned bucket its older versions stay.)"
            : $"Delete version {target.VersionId} of {ObjectUriResolver.FormatUri(target with { VersionId = null })} for good?"), cancellationToken);
        return await operations.DeleteAsync(target, cancellationToken);
    }
}
