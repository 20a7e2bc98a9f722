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
    [Description("Write objects, each from text, base64 (inline limit, 1 MiB default) or a localPath (any size, streamed). "
        + "All are checked before any is written.")]
    public async Task<ObjectsPutResult> PutObjects(
        [Description("Each {uri, text|base64|localPath, contentType?, metadata?}.")]
        IReadOnlyList<PutObjectInput> objects,
        [Description("Replace existing objects; false: write nothing if any exists.")]
        bool overwrite = true,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        await Elicitation.ConfirmUploadAsync(context, objects, cancellationToken);
        await Elicitation.ConfirmReplaceObjectsAsync(context, overwrite, () => operations.ExistingPutTargetsAsync(objects, cancellationToken), cancellationToken);
        var progress = ProgressNotifier.For(context);
        var result = await operations.PutAsync(objects, overwrite, progress, cancellationToken);
        await progress.FlushAsync();
        return result;
    }

    [McpServerTool(Name = "bucket_object_copy", Title = "Copy object", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Copy an object server-side to another key or bucket. To move, then bucket_object_delete the source.")]
    public async Task<ObjectCopyResult> CopyObject(
        [Description(BucketReadTools.ObjectUri)] string source,
        [Description("s3://bucket/key, or s3://bucket/folder/ to keep the name.")] string destination,
        [Description("Replace an existing destination.")] bool overwrite = true,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var from = await operations.ReadableAsync(source, "source", cancellationToken);
        await Elicitation.ConfirmReplaceObjectsAsync(context, overwrite, async () =>
        {
            var to = operations.CopyDestination(from, destination);
            return await operations.ExistsAsync(to, cancellationToken) ? [ObjectUriResolver.FormatUri(to)] : [];
        }, cancellationToken);
        return await operations.CopyAsync(from, destination, overwrite, cancellationToken);
    }

    [McpServerTool(Name = "bucket_object_delete", Title = "Delete object", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Delete an object; with ?versionId=ID that version for good (else older versions stay). "
        + "Deleting nothing is not an error ('existed' says).")]
    public async Task<ObjectDeleteResult> DeleteObject(
        [Description("s3://bucket/key[?versionId=ID].")] string uri,
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
