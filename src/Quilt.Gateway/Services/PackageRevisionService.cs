using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Gateway.Data;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Packages;
using Quilt.Packages.Workflows;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

/// <summary>
/// Quilt's packageRevisionDelete and packagePromote, within the active role's rights: deleting needs write access to
/// the package's pointers; promoting needs read access to the source revision and every object it names, and write
/// access to the destination's pointers, manifests and data prefix (&lt;name&gt;/).
/// </summary>
public sealed class PackageRevisionService(RolePolicy policy, S3Access s3, AuditLog audit, RevisionPublisher publisher, SearchFeed search)
{
    /// <summary>Deletes one revision's pointers; latest moves to the newest remaining; with the last revision the package goes too.</summary>
    public async Task DeleteAsync(Caller caller, string bucket, string name, string hash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "packageRevisionDelete";
        var target = $"quilt+s3://{bucket}#package={name}@{hash}";
        async Task<GatewayException> Deny(GatewayException error)
        {
            await audit.DeniedAsync(caller, Action, target, error.Message, null, cancellationToken).ConfigureAwait(false);
            return error;
        }

        if (!ObjectKeys.IsValidBucketName(bucket))
            throw await Deny(GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", "bucket")).ConfigureAwait(false);
        if (!Names.IsValidPackageName(name))
            throw await Deny(GatewayException.Invalid($"Invalid package name '{name}': use user/name.", "name")).ConfigureAwait(false);
        if (!Names.IsTopHashPrefix(hash) || hash.Length != 64)
            throw await Deny(GatewayException.Invalid($"'{hash}' is not a top hash: give all 64 lowercase hex characters.", "hash")).ConfigureAwait(false);
        var write = policy.CheckObject(caller, bucket, RegistryLayout.PointersPrefix(name), AccessKind.Write);
        if (!write.Allowed)
            throw await Deny(GatewayException.Denied($"Cannot delete a revision of {name} in {bucket}: {write.Reason}", "bucket")).ConfigureAwait(false);

        var registry = Registry(caller, bucket);
        try
        {
            var revisions = await registry.ListRevisionsAsync(name, cancellationToken).ConfigureAwait(false);
            if (!revisions.Any(r => r.TopHash == hash))
                throw await Deny(GatewayException.Missing($"{name} has no revision {hash} in {bucket}.", "hash")).ConfigureAwait(false);
            // Recorded before anything is deleted, so no revision goes that the trail does not name.
            await audit.AllowedAsync(caller, Action, target, SqlGatewayStore.Details(("lastRevision", revisions.Count == 1)), cancellationToken).ConfigureAwait(false);
            await registry.DeleteRevisionAsync(name, hash, cancellationToken).ConfigureAwait(false);
        }
        catch (PackageNotFoundException)
        {
            throw await Deny(GatewayException.Missing($"There is no package {name} in {bucket}.", "name")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StorageException or PackageException)
        {
            await audit.FailedAsync(caller, Action, target, ex.Message, null, CancellationToken.None).ConfigureAwait(false);
            throw new GatewayException("S3_ERROR", $"Deleting the revision failed: {ex.Message}");
        }
        // Not a hit any more; when it was latest, the revision latest now points at is flagged instead.
        await search.RevisionDeletedAsync(bucket, name, hash, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies a revision (source bucket, name, top hash) to params.bucket as params.name: every entry's data into
    /// &lt;name&gt;/&lt;logical key&gt; there (checked against its recorded hash), with params' message and metadata (the
    /// source's metadata when none is given), the destination's workflow rules applied. Nothing is published when any
    /// step is refused.
    /// </summary>
    public async Task<(PackageModel Package, RevisionModel Revision)> PromoteAsync(
        Caller caller, ConstructParams parameters, string sourceBucket, string sourceName, string sourceHash, string? destPrefix,
        TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parameters);
        const string Action = "packagePromote";
        var target = $"quilt+s3://{parameters.Bucket}#package={parameters.Name}";
        var source = $"quilt+s3://{sourceBucket}#package={sourceName}@{sourceHash}";
        async Task<GatewayException> Deny(GatewayException error)
        {
            await audit.DeniedAsync(caller, Action, target, error.Message, SqlGatewayStore.Details(("source", source)), cancellationToken).ConfigureAwait(false);
            return error;
        }

        foreach (var (bucket, path) in new[] { (parameters.Bucket, "params.bucket"), (sourceBucket, "src.bucket") })
        {
            if (!ObjectKeys.IsValidBucketName(bucket))
                throw await Deny(GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", path)).ConfigureAwait(false);
        }
        foreach (var (name, path) in new[] { (parameters.Name, "params.name"), (sourceName, "src.name") })
        {
            if (!Names.IsValidPackageName(name))
                throw await Deny(GatewayException.Invalid($"Invalid package name '{name}': use user/name.", path)).ConfigureAwait(false);
        }
        if (!Names.IsTopHashPrefix(sourceHash) || sourceHash.Length != 64)
            throw await Deny(GatewayException.Invalid($"'{sourceHash}' is not a top hash: give all 64 lowercase hex characters.", "src.hash")).ConfigureAwait(false);
        // The data goes where every copy of this implementation puts it: <name>/<logical key>.
        if (destPrefix is not null && destPrefix != parameters.Name + "/")
            throw await Deny(GatewayException.Invalid($"destPrefix is not supported here: data is copied to {parameters.Name}/ in {parameters.Bucket}; leave it out.", "destPrefix")).ConfigureAwait(false);

        var read = policy.CheckObject(caller, sourceBucket, RegistryLayout.ManifestKey(sourceHash), AccessKind.Read);
        if (!read.Allowed)
            throw await Deny(GatewayException.Denied($"Cannot read {source}: {read.Reason}", "src.bucket")).ConfigureAwait(false);
        foreach (var key in new[] { RegistryLayout.PointersPrefix(parameters.Name), RegistryLayout.ManifestKey(new string('0', 64)), parameters.Name + "/" })
        {
            var write = policy.CheckObject(caller, parameters.Bucket, key, AccessKind.Write);
            if (!write.Allowed)
                throw await Deny(GatewayException.Denied($"Cannot promote to {parameters.Name} in {parameters.Bucket}: {write.Reason}", "params.bucket")).ConfigureAwait(false);
        }

        var store = s3.StoreFor(caller.Role);
        var sourceRegistry = new PackageRegistry(store, sourceBucket) { KeepExistingManifests = true };
        var destination = Registry(caller, parameters.Bucket);
        Manifest manifest;
        try
        {
            manifest = await sourceRegistry.GetManifestAsync(sourceHash, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectNotFoundException or PackageException)
        {
            throw await Deny(GatewayException.Missing($"{source} was not found: {ex.Message}", "src.hash")).ConfigureAwait(false);
        }
        // Copying is reading: every object the revision names must be one the role may read.
        for (var i = 0; i < manifest.Entries.Count; i++)
        {
            var e = manifest.Entries[i];
            if (!PhysicalKey.TryParse(e.PhysicalKey, out var key) || key!.Bucket is null || !e.PhysicalKey.StartsWith("s3://", StringComparison.Ordinal))
                throw await Deny(GatewayException.Invalid($"Entry '{e.LogicalKey}' is not in S3 ({e.PhysicalKey}); only S3 data can be promoted.", "src.hash")).ConfigureAwait(false);
            var entryRead = policy.CheckObject(caller, key.Bucket, key.Path, AccessKind.Read);
            if (!entryRead.Allowed)
                throw await Deny(GatewayException.Denied($"Entry '{e.LogicalKey}': {entryRead.Reason}", "src.hash")).ConfigureAwait(false);
        }

        var locator = new ObjectLocator([store], allowLocalFilesOutsideStores: false);
        var userMeta = parameters.UserMeta ?? manifest.UserMeta?.DeepClone();
        var message = parameters.Message ?? manifest.Message;
        WorkflowRules? rules;
        JsonObject packageMeta;
        try
        {
            rules = await WorkflowRules.PrepareAsync(destination, locator, WorkflowChoice.Parse(parameters.Workflow), cancellationToken).ConfigureAwait(false);
            rules?.ValidatePackage(parameters.Name, message, userMeta ?? new JsonObject());
            packageMeta = Manifest.CreatePackageMeta(message, userMeta, rules?.StoredWorkflow);
        }
        catch (WorkflowException ex)
        {
            throw await Deny(GatewayException.Invalid(ex.Message, "params.workflow")).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            throw await Deny(GatewayException.Invalid(ex.Message, "params.userMeta")).ConfigureAwait(false);
        }

        Manifest built;
        try
        {
            var sources = manifest.Entries.Select(e => (EntrySource)new ExistingEntrySource(e) { CopyData = true }).ToList();
            built = await new PackageCreator(destination, locator).BuildAsync(parameters.Name, sources, packageMeta, new BuildOptions
            {
                CopyData = true,
                DirectoryMetadata = manifest.DirectoryMetadata,
                CheckEntries = rules is { ChecksEntries: true } ? listed => CheckEntries(rules, listed) : null,
            }, null, cancellationToken).ConfigureAwait(false);
        }
        catch (GatewayException ex)
        {
            throw await Deny(ex).ConfigureAwait(false);
        }
        catch (AccessDeniedException ex)
        {
            throw await Deny(GatewayException.Denied($"S3 refused role '{caller.Role}': {ex.Message}", "src.hash")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PackageException or StorageException or FormatException)
        {
            await audit.FailedAsync(caller, Action, target, ex.Message, SqlGatewayStore.Details(("source", source)), CancellationToken.None).ConfigureAwait(false);
            throw new GatewayException("S3_ERROR", $"Copying {source} failed: {ex.Message}");
        }

        var published = await publisher.PublishAsync(caller, Action, target, destination, parameters.Name, built,
            SqlGatewayStore.Details(("source", source), ("topHash", built.TopHash), ("entries", built.Entries.Count), ("bytes", built.TotalSize)),
            "src.hash", cancellationToken).ConfigureAwait(false);
        return (new PackageModel(destination, parameters.Name, time), new RevisionModel(destination, built.TopHash, published.Time, built));
    }

    private static void CheckEntries(WorkflowRules rules, IReadOnlyList<WorkflowEntry> listed)
    {
        try
        {
            rules.ValidateEntries(listed);
        }
        catch (WorkflowException ex)
        {
            throw GatewayException.Invalid(ex.Message, "params.workflow");
        }
    }

    // Manifests are written once and never replaced: see PackageRegistry.KeepExistingManifests.
    private PackageRegistry Registry(Caller caller, string bucket) => new(s3.StoreFor(caller.Role), bucket) { KeepExistingManifests = true };
}
