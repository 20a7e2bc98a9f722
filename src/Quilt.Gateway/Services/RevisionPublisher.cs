using System.Text.Json.Nodes;
using Quilt.Core.Manifests;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

/// <summary>
/// The one way the gateway publishes a built revision (packageConstruct, packagePromote): the audit line first (so no
/// revision exists that the trail does not name), then the manifest and pointers, a conflict or storage failure turned
/// into an audited <see cref="GatewayException"/>, and the search index fed, so no publisher can forget any step.
/// </summary>
public sealed class RevisionPublisher(AuditLog audit, SearchFeed search)
{
    /// <summary>
    /// Publishes <paramref name="manifest"/> as <paramref name="name"/> in <paramref name="registry"/>'s bucket.
    /// <paramref name="target"/> is the package's URI (the top hash is appended); a conflict is refused at <paramref name="conflictPath"/>.
    /// </summary>
    public async Task<PackageRevision> PublishAsync(Caller caller, string action, string target, PackageRegistry registry, string name, Manifest manifest,
        JsonObject details, string conflictPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(manifest);
        var revisionTarget = $"{target}@{manifest.TopHash}";
        await audit.AllowedAsync(caller, action, revisionTarget, details, cancellationToken).ConfigureAwait(false);
        PackageRevision published;
        try
        {
            published = await registry.PublishAsync(name, manifest, cancellationToken).ConfigureAwait(false);
        }
        catch (ManifestConflictException ex)
        {
            // Someone else's revision with this top hash: left untouched, and no pointer names ours.
            await audit.DeniedAsync(caller, action, revisionTarget, ex.Message, null, CancellationToken.None).ConfigureAwait(false);
            throw new GatewayException(GatewayException.Conflict, ex.Message, conflictPath);
        }
        catch (Exception ex) when (ex is StorageException or PackageException)
        {
            await audit.FailedAsync(caller, action, revisionTarget, ex.Message, null, CancellationToken.None).ConfigureAwait(false);
            throw new GatewayException("S3_ERROR", $"Publishing {name} failed: {ex.Message}");
        }
        await search.RevisionPublishedAsync(registry.Bucket, name, manifest, published.Time, cancellationToken).ConfigureAwait(false);
        return published;
    }
}
