using Quilt.Core;
using Quilt.Core.Manifests;

using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// What a package argument names: the registry, the package, (optionally) a revision and, from a URI's <c>&amp;path=</c>,
/// an entry or folder in it.
/// </summary>
public sealed record PackageTarget(PackageRegistry Registry, string Name, string? Revision)
{
    /// <summary>The logical key or folder a quilt+s3 URI's <c>&amp;path=</c> names, or null.</summary>
    public string? Path { get; init; }

    public string Uri(string topHash, string? path = null) =>
        new QuiltUri { Bucket = Registry.Bucket, PackageName = Name, TopHash = topHash, Path = path }.ToString();
}

/// <summary>
/// Resolves the package arguments tools take (a name plus an optional registry, or a quilt+s3:// URI) under the server's
/// bucket policy, and keeps recently read manifests: a manifest is immutable by its top hash, so browsing a large
/// package page by page reads it once.
/// </summary>
/// <param name="publisher">How revisions are published (chosen with the store by <see cref="StoreConnection"/>); default: written to the store.</param>
public sealed class PackageTargets(IObjectStore store, BucketAccessPolicy policy, OperationSettings settings, IPackagePublisher? publisher = null)
{
    private const int CachedManifests = 4;
    private readonly LinkedList<(string Key, Manifest Manifest)> _cache = new();
    private readonly Lock _lock = new();

    public IObjectStore Store { get; } = store;

    /// <summary>The package registry in <paramref name="bucket"/> of this store, publishing as the connection does.</summary>
    public PackageRegistry Registry(string bucket) => new(Store, bucket, publisher);

    public BucketAccessPolicy Policy { get; } = policy;

    public PackageTarget Resolve(string? package, string? registry, string? revision, bool write)
    {
        var text = ObjectUriResolver.Require(package, "package");
        PackageTarget target;
        if (QuiltUri.IsQuiltUri(text))
        {
            QuiltUri uri;
            try
            {
                uri = QuiltUri.Parse(text);
            }
            catch (FormatException e)
            {
                throw new OperationException($"package: {e.Message}");
            }
            if (uri.PackageName is null)
                throw new OperationException($"package '{text}' names no package: use quilt+s3://bucket#package=user/name.");
            if (!string.IsNullOrEmpty(registry) && RegistryBucket(registry) != uri.Bucket)
                throw new OperationException($"registry '{registry}' disagrees with the bucket of package '{text}'; give one of them.");
            if (!string.IsNullOrEmpty(revision) && (uri.TopHash ?? uri.Tag) is { } inUri && inUri != revision)
                throw new OperationException($"revision '{revision}' disagrees with the revision in package '{text}'; give one of them.");
            target = new PackageTarget(Registry(uri.Bucket), uri.PackageName, NullIfEmpty(revision) ?? uri.Revision) { Path = uri.Path };
        }
        else
        {
            if (!Names.IsValidPackageName(text))
                throw new OperationException($"Invalid package name '{text}': not a valid name of the form user/name (letters, digits, '_' or '-'); give one, or a quilt+s3://bucket#package=user/name URI.");
            target = new PackageTarget(Registry(DefaultRegistry(registry)), text, NullIfEmpty(revision));
        }
        if (write)
            Policy.EnsureCanWrite(target.Registry.Bucket, "registry");
        else
            Policy.EnsureCanRead(target.Registry.Bucket, "registry");
        return target;
    }

    /// <summary>
    /// The registry bucket: the argument, else the settings' (--registry-bucket, else QUILT_MCP_REGISTRY: see
    /// <see cref="ConnectionResolver"/>), else the only allowed bucket, else 'local' on local storage.
    /// </summary>
    public string DefaultRegistry(string? registry)
    {
        if (!string.IsNullOrWhiteSpace(registry))
            return RegistryBucket(registry);
        if (settings.DefaultRegistry is { Length: > 0 } fromOption)
            return RegistryBucket(fromOption);
        if (Policy.AllowedBuckets.Count == 1)
            return Policy.AllowedBuckets[0];
        if (!settings.IsRegistryMode && settings.Storage.Kind == StorageKind.Local)
            return "local";
        throw new OperationException("registry is required: give the bucket that holds the packages (such as 'my-bucket' or s3://my-bucket), "
            + "or a quilt+s3://bucket#package=user/name URI as package.");
    }

    /// <summary>A registry argument as a bucket name: a name or s3://bucket, without a key.</summary>
    public static string RegistryBucket(string registry)
    {
        var bucket = registry.StartsWith("s3://", StringComparison.Ordinal) ? registry["s3://".Length..].TrimEnd('/') : registry.Trim();
        if (bucket.Length == 0 || bucket.Contains('/', StringComparison.Ordinal))
            throw new OperationException($"registry '{registry}' must be a bucket name or s3://bucket, without a key.");
        return bucket;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>The revision's top hash and manifest (manifests come from a small cache).</summary>
    public async Task<(string TopHash, Manifest Manifest)> BrowseAsync(PackageTarget target, CancellationToken cancellationToken)
    {
        var hash = await target.Registry.ResolveTopHashAsync(target.Name, target.Revision, cancellationToken);
        return (hash, await GetManifestAsync(target.Registry, hash, cancellationToken));
    }

    public async Task<Manifest> GetManifestAsync(PackageRegistry registry, string topHash, CancellationToken cancellationToken)
    {
        var key = registry.Bucket + "/" + topHash;
        lock (_lock)
        {
            for (var node = _cache.First; node is not null; node = node.Next)
            {
                if (node.Value.Key == key)
                {
                    _cache.Remove(node);
                    _cache.AddFirst(node);
                    return node.Value.Manifest;
                }
            }
        }
        var manifest = await registry.GetManifestAsync(topHash, cancellationToken);
        lock (_lock)
        {
            _cache.AddFirst((key, manifest));
            while (_cache.Count > CachedManifests)
                _cache.RemoveLast();
        }
        return manifest;
    }

    /// <summary>The object holding an entry's data, which must be in this server's storage.</summary>
    public ObjectRef EntryObject(ManifestEntry entry)
    {
        if (Store.FromPhysicalKey(entry.PhysicalKey) is { } obj)
            return obj;
        throw new OperationException($"The data of '{entry.LogicalKey}' is at {entry.PhysicalKey}, outside this server's storage; it cannot be read here.");
    }
}

/// <summary>Serves quilt+s3://bucket#package=user/name[@hash]&amp;path=key URIs in the object tools.</summary>
public sealed class PackageEntryResolver(PackageTargets registries) : IPackageEntryResolver
{
    public async Task<PackageEntryObject> ResolveAsync(QuiltUri uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Path is null)
            throw new OperationException($"{uri} names a package, not an entry: add &path=<logical key>, or use package_browse to see its entries.");
        var target = new PackageTarget(registries.Registry(uri.Bucket), uri.PackageName!, uri.Revision);
        var (hash, manifest) = await registries.BrowseAsync(target, cancellationToken);
        var entry = manifest.Find(uri.Path) ?? manifest.Find(uri.Path.Trim('/'))
            ?? throw new OperationException($"{uri.PackageName}@{hash[..10]} has no entry '{uri.Path}'. Use package_browse to see its entries.");
        return new PackageEntryObject(registries.EntryObject(entry), entry);
    }
}
