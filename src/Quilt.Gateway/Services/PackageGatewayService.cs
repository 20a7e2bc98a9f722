using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Gateway.Data;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Packages;
using Quilt.Packages.Workflows;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

/// <summary>One entry of a packageConstruct request, as Quilt's PackageConstructEntry has it.</summary>
public sealed record ConstructEntry(string LogicalKey, string PhysicalKey, ObjectHash? Hash, double? Size, JsonObject? Meta);

/// <summary>packageConstruct's PackagePushParams.</summary>
public sealed record ConstructParams(string Bucket, string Name, string? Message, JsonNode? UserMeta, string? Workflow);

/// <summary>A package in a registry bucket, read lazily for GraphQL.</summary>
public sealed class PackageModel(PackageRegistry registry, string name, TimeProvider time)
{
    private Task<IReadOnlyList<PackageRevision>>? _revisions;
    private Task<DateTimeOffset>? _modified;

    public string Bucket => Registry.Bucket;
    public string Name { get; } = name;
    public PackageRegistry Registry { get; } = registry;

    public Task<IReadOnlyList<PackageRevision>> RevisionsAsync(CancellationToken cancellationToken) =>
        _revisions ??= Registry.ListRevisionsAsync(Name, cancellationToken);

    public Task<DateTimeOffset> ModifiedAsync(CancellationToken cancellationToken) => _modified ??= LoadModifiedAsync(cancellationToken);

    private async Task<DateTimeOffset> LoadModifiedAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await Registry.Store.HeadAsync(new ObjectRef(Bucket, RegistryLayout.LatestKey(Name)), cancellationToken).ConfigureAwait(false)).LastModified;
        }
        catch (ObjectNotFoundException)
        {
            var revisions = await RevisionsAsync(cancellationToken).ConfigureAwait(false);
            return revisions.Count > 0 ? revisions[0].Time : time.GetUtcNow();
        }
    }

    /// <summary>The revision a hash, hash prefix or tag names, or null when there is none.</summary>
    public async Task<RevisionModel?> RevisionAsync(string? hashOrTag, CancellationToken cancellationToken)
    {
        string hash;
        try
        {
            hash = await Registry.ResolveTopHashAsync(Name, hashOrTag, cancellationToken).ConfigureAwait(false);
        }
        catch (PackageException)
        {
            return null;
        }
        var revisions = await RevisionsAsync(cancellationToken).ConfigureAwait(false);
        var time = revisions.FirstOrDefault(r => r.TopHash == hash)?.Time;
        return new RevisionModel(Registry, hash, time);
    }
}

/// <summary>One revision; its manifest is read (once) only when a field needs it.</summary>
public sealed class RevisionModel(PackageRegistry registry, string topHash, DateTimeOffset? time, Manifest? manifest = null)
{
    private Task<Manifest>? _manifest = manifest is null ? null : Task.FromResult(manifest);

    public string Hash { get; } = topHash;

    public Task<Manifest> ManifestAsync(CancellationToken cancellationToken) => _manifest ??= registry.GetManifestAsync(Hash, cancellationToken);

    public async Task<DateTimeOffset> ModifiedAsync(CancellationToken cancellationToken)
    {
        if (time is { } t)
            return t;
        try
        {
            return (await registry.Store.HeadAsync(new ObjectRef(registry.Bucket, RegistryLayout.ManifestKey(Hash)), cancellationToken).ConfigureAwait(false)).LastModified;
        }
        catch (ObjectNotFoundException)
        {
            return DateTimeOffset.UnixEpoch;
        }
    }
}

/// <summary>Package reads and packageConstruct, within the active role's rights.</summary>
public sealed class PackageGatewayService(RolePolicy policy, S3Access s3, AuditLog audit, RevisionPublisher publisher, TimeProvider time)
{
    private const int HeadConcurrency = 16;
    private static readonly HashSet<string> HashTypes = new(StringComparer.Ordinal) { ObjectHash.Sha256ChunkedType, ObjectHash.Sha256Type, ObjectHash.Crc64NvmeType };

    /// <summary>Package names in a bucket the role may read packages in; null when it may not.</summary>
    public async Task<IReadOnlyList<string>?> ListAsync(Caller caller, string bucket, string? filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!ObjectKeys.IsValidBucketName(bucket) || !policy.CheckPrefix(caller.Role, bucket, RegistryLayout.NamedPackagesPrefix, AccessKind.Read).Allowed)
            return null;
        return await Registry(caller, bucket).ListPackagesAsync(filter, cancellationToken).ConfigureAwait(false);
    }

    public PackageModel Model(Caller caller, string bucket, string name) => new(Registry(caller, bucket), name, time);

    /// <summary>A package the role may read, or null (no such package, or no right to see it).</summary>
    public async Task<PackageModel?> GetAsync(Caller caller, string bucket, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!ObjectKeys.IsValidBucketName(bucket) || !Names.IsValidPackageName(name))
            return null;
        if (!policy.CheckObject(caller.Role, bucket, RegistryLayout.PointersPrefix(name), AccessKind.Read).Allowed)
            return null;
        var model = Model(caller, bucket, name);
        try
        {
            await model.RevisionsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PackageNotFoundException)
        {
            return null;
        }
        return model;
    }

    /// <summary>
    /// Builds a revision from existing S3 objects the role may read (hashes as given, or computed by reading the
    /// objects) and publishes it in a bucket the role may write. Nothing is written when any entry is refused.
    /// </summary>
    public async Task<(PackageModel Package, RevisionModel Revision)> ConstructAsync(
        Caller caller, ConstructParams parameters, IReadOnlyList<ConstructEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(entries);
        const string Action = "packageConstruct";
        var target = $"quilt+s3://{parameters.Bucket}#package={parameters.Name}";

        async Task<GatewayException> Deny(GatewayException error)
        {
            await audit.DeniedAsync(caller, Action, target, error.Message, SqlGatewayStore.Details(("entries", entries.Count)), cancellationToken).ConfigureAwait(false);
            return error;
        }

        if (!ObjectKeys.IsValidBucketName(parameters.Bucket))
            throw await Deny(GatewayException.Invalid($"'{parameters.Bucket}' is not a valid bucket name.", "params.bucket")).ConfigureAwait(false);
        if (!Names.IsValidPackageName(parameters.Name))
            throw await Deny(GatewayException.Invalid($"Invalid package name '{parameters.Name}': use user/name (letters, digits, '_' or '-').", "params.name")).ConfigureAwait(false);
        if (entries.Count == 0)
            throw await Deny(GatewayException.Invalid("A package needs at least one entry.", "src.entries")).ConfigureAwait(false);
        foreach (var key in new[] { RegistryLayout.PointersPrefix(parameters.Name), RegistryLayout.ManifestKey(new string('0', 64)) })
        {
            var write = policy.CheckObject(caller, parameters.Bucket, key, AccessKind.Write);
            if (!write.Allowed)
                throw await Deny(GatewayException.Denied($"Cannot push {parameters.Name} to {parameters.Bucket}: {write.Reason}", "params.bucket")).ConfigureAwait(false);
        }

        // Check every entry before reading any object.
        var physical = new PhysicalKey[entries.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var path = $"src.entries[{i}]";
            try
            {
                Names.ValidateLogicalKey(e.LogicalKey);
            }
            catch (InvalidNameException ex)
            {
                throw await Deny(GatewayException.Invalid(ex.Message, path + ".logicalKey")).ConfigureAwait(false);
            }
            if (!seen.Add(e.LogicalKey))
                throw await Deny(GatewayException.Invalid($"Two entries have the logical key '{e.LogicalKey}'.", path + ".logicalKey")).ConfigureAwait(false);
            if (!e.PhysicalKey.StartsWith("s3://", StringComparison.Ordinal) || !PhysicalKey.TryParse(e.PhysicalKey, out var key) || key!.Path.Length == 0)
                throw await Deny(GatewayException.Invalid($"physicalKey '{e.PhysicalKey}' is not an s3://bucket/key URL; upload the file first (generateUploadUrl).", path + ".physicalKey")).ConfigureAwait(false);
            if (ObjectKeys.Validate(key.Path) is { } bad)
                throw await Deny(GatewayException.Invalid($"physicalKey '{e.PhysicalKey}' is not allowed: {bad}.", path + ".physicalKey")).ConfigureAwait(false);
            var read = policy.CheckObject(caller, key.Bucket!, key.Path, AccessKind.Read);
            if (!read.Allowed)
                throw await Deny(GatewayException.Denied($"Entry '{e.LogicalKey}': {read.Reason}", path + ".physicalKey")).ConfigureAwait(false);
            if (e.Hash is { } h && (!HashTypes.Contains(h.Type) || h.Value.Length is 0 or > 128 || !h.Value.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=')))
                throw await Deny(GatewayException.Invalid($"Entry '{e.LogicalKey}' has an invalid hash: type must be one of {string.Join(", ", HashTypes)} with its value.", path + ".hash")).ConfigureAwait(false);
            if (e.Size is { } s && (s < 0 || s != Math.Floor(s)))
                throw await Deny(GatewayException.Invalid($"Entry '{e.LogicalKey}' has an invalid size {s}.", path + ".size")).ConfigureAwait(false);
            physical[i] = key;
        }

        var store = s3.StoreFor(caller.Role);
        var registry = Registry(caller, parameters.Bucket);
        var locator = new ObjectLocator([store], allowLocalFilesOutsideStores: false);
        // The bucket's workflows config, read with the role's own rights as Quilt's registry reads it with the user's: the
        // message, name and metadata are refused before any entry is read, the entries once their sizes are known.
        WorkflowRules? rules;
        try
        {
            rules = await WorkflowRules.PrepareAsync(registry, locator,
                WorkflowChoice.Parse(parameters.Workflow), cancellationToken).ConfigureAwait(false);
            rules?.ValidatePackage(parameters.Name, parameters.Message, parameters.UserMeta ?? new JsonObject());
        }
        catch (WorkflowException ex)
        {
            throw await Deny(GatewayException.Invalid(ex.Message, "params.workflow")).ConfigureAwait(false);
        }

        JsonObject packageMeta;
        try
        {
            packageMeta = Manifest.CreatePackageMeta(parameters.Message, parameters.UserMeta, rules?.StoredWorkflow);
        }
        catch (FormatException ex)
        {
            throw await Deny(GatewayException.Invalid(ex.Message, "src.entries")).ConfigureAwait(false);
        }

        var sources = new StoreObjectSource[entries.Count];
        Manifest manifest;
        try
        {
            // The gateway's own HEADs: each refusal names its entry, and a declared size must be the object's.
            await Parallel.ForAsync(0, entries.Count, new ParallelOptions { MaxDegreeOfParallelism = HeadConcurrency, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var e = entries[i];
                var obj = new ObjectRef(physical[i].Bucket!, physical[i].Path, physical[i].VersionId);
                ObjectInfo info;
                try
                {
                    info = await store.HeadAsync(obj, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ObjectNotFoundException or BucketNotFoundException)
                {
                    throw GatewayException.Invalid($"Entry '{e.LogicalKey}': {ex.Message}", $"src.entries[{i}].physicalKey");
                }
                catch (AccessDeniedException)
                {
                    // The role's own S3 credentials may read less than its grants say: S3 has the last word.
                    throw GatewayException.Denied($"Entry '{e.LogicalKey}': S3 refused role '{caller.Role}' access to {e.PhysicalKey}.", $"src.entries[{i}].physicalKey");
                }
                if (e.Size is { } declared && (long)declared != info.Size)
                    throw GatewayException.Invalid($"Entry '{e.LogicalKey}' declares {(long)declared} bytes, but {e.PhysicalKey} holds {info.Size}.", $"src.entries[{i}].size");
                sources[i] = new StoreObjectSource(e.LogicalKey, store, obj) { Info = info, Hash = e.Hash, EntryMeta = e.Meta };
            }).ConfigureAwait(false);

            // Packages' entry builder: references the objects where they are (each pinned to the version checked, so
            // the revision keeps pointing at these bytes), hashing those given without a hash.
            var creator = new PackageCreator(registry, locator);
            manifest = await creator.BuildAsync(parameters.Name, sources, packageMeta, new BuildOptions
            {
                CopyData = false,
                Concurrency = HeadConcurrency,
                CheckEntries = rules is { ChecksEntries: true } ? listed => CheckEntries(rules, listed) : null,
            }, null, cancellationToken).ConfigureAwait(false);
        }
        catch (GatewayException ex)
        {
            throw await Deny(ex).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PackageException or FormatException)
        {
            // A manifest that cannot be built from these entries (PackageCreator wraps ManifestFormatException).
            throw await Deny(GatewayException.Invalid(ex.Message, "src.entries")).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            throw await Deny(new GatewayException("S3_ERROR", $"Reading the entries failed: {ex.Message}")).ConfigureAwait(false);
        }

        var published = await publisher.PublishAsync(caller, Action, target, registry, parameters.Name, manifest,
            SqlGatewayStore.Details(("topHash", manifest.TopHash), ("entries", manifest.Entries.Count), ("bytes", manifest.TotalSize), ("message", parameters.Message)),
            "src.entries", cancellationToken).ConfigureAwait(false);
        var model = Model(caller, parameters.Bucket, parameters.Name);
        return (model, new RevisionModel(registry, manifest.TopHash, published.Time, manifest));
    }

    private static void CheckEntries(WorkflowRules rules, IReadOnlyList<WorkflowEntry> listed)
    {
        try
        {
            rules.ValidateEntries(listed);
        }
        catch (WorkflowException ex)
        {
            throw GatewayException.Invalid(ex.Message, "src.entries");
        }
    }

    // Manifests are written once and never replaced: see PackageRegistry.KeepExistingManifests.
    private PackageRegistry Registry(Caller caller, string bucket) => new(s3.StoreFor(caller.Role), bucket) { KeepExistingManifests = true };
}
