using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Packages;

/// <summary>One revision of a named package: when it was pushed and its top hash.</summary>
public sealed record PackageRevision(string Name, string TopHash, DateTimeOffset Time, string PointerKey);

/// <summary>
/// How a built revision becomes the newest of its package: written to the registry's own store in quilt3's layout
/// (<see cref="StorePackagePublisher"/>, the default), or handed to a registry server's API. Chosen by whoever opens the
/// store (the composition root), never asked of the store.
/// </summary>
public interface IPackagePublisher
{
    /// <summary>Publishes <paramref name="manifest"/> as the newest revision of <paramref name="name"/> in <paramref name="registry"/>.</summary>
    Task<PackageRevision> PublishAsync(PackageRegistry registry, string name, Manifest manifest, CancellationToken cancellationToken);

    /// <summary>
    /// Refuses (with <see cref="PackageException"/>), before any data is built or written, a revision this publisher could
    /// not publish as it is: what its API cannot carry would be lost, and the top hash does not cover all of it.
    /// </summary>
    void EnsureCanPublish(string name, JsonObject packageMeta, IReadOnlyList<DirectoryMetadata> directoryMetadata);
}

/// <summary>Writes the manifest and then the pointers through the registry's store, as quilt3 does (see <see cref="PackageRegistry.PublishAsync"/>).</summary>
public sealed class StorePackagePublisher : IPackagePublisher
{
    public static StorePackagePublisher Instance { get; } = new();

    private StorePackagePublisher()
    {
    }

    public Task<PackageRevision> PublishAsync(PackageRegistry registry, string name, Manifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.WriteRevisionAsync(name, manifest, cancellationToken);
    }

    /// <summary>A store holds whatever a manifest says: nothing to refuse.</summary>
    public void EnsureCanPublish(string name, JsonObject packageMeta, IReadOnlyList<DirectoryMetadata> directoryMetadata)
    {
    }
}

/// <summary>
/// A quilt3 registry in one bucket of a store (an S3 bucket, or a bucket folder of the local store): named packages,
/// their revision pointers and manifests, laid out exactly as quilt3 lays them out.
/// </summary>
public sealed class PackageRegistry
{
    private const int PointerReadConcurrency = 16;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> PublishLocks = new(StringComparer.Ordinal);

    /// <param name="store">The store the registry's bucket is in.</param>
    /// <param name="bucket">The bucket holding the packages (.quilt/ below it).</param>
    /// <param name="publisher">How revisions are published; default: written to <paramref name="store"/>.</param>
    public PackageRegistry(IObjectStore store, string bucket, IPackagePublisher? publisher = null)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        Publisher = publisher ?? StorePackagePublisher.Instance;
        Bucket = bucket;
    }

    public IObjectStore Store { get; }

    public string Bucket { get; }

    /// <summary>
    /// How revisions are published: <see cref="StorePackagePublisher"/> writes the manifest and pointers through
    /// <see cref="Store"/>; a Quilt registry server reached only through its API publishes with its packageConstruct.
    /// </summary>
    public IPackagePublisher Publisher { get; }

    /// <summary>
    /// Whether this registry is a folder of the local store, the user's own: only its packages may name local files
    /// (file:// physical keys) outside every store, as quilt3 reads them from a local registry.
    /// </summary>
    public bool IsLocal => Store.Scheme == "file";

    /// <summary>
    /// Refuses entries that name local files unless this registry is local (see <see cref="IsLocal"/>). A manifest in S3 or
    /// behind a Quilt registry is anybody's writing: following its file:// keys would make this machine read its own files,
    /// a get copy them and a push publish them.
    /// </summary>
    public void EnsureLocalFileKeysAllowed(IEnumerable<ManifestEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (IsLocal)
            return;
        foreach (var entry in entries)
        {
            if (entry.PhysicalKey.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            {
                throw new PackageException(
                    $"'{entry.LogicalKey}' points to a local file ({entry.PhysicalKey}), but this package comes from s3://{Bucket}, not from a local "
                    + "registry: its files are never read from this machine. Nothing was read or written. Ask its author to push it with the data copied into S3.");
            }
        }
    }

    /// <summary>
    /// When true, publishing never replaces a manifest that exists: the existing one is kept and used only when its
    /// bytes are exactly those this revision would write (the same revision published again); otherwise
    /// <see cref="ManifestConflictException"/>, and no pointer is written. For publishers acting for many users (the
    /// gateway): the top hash does not cover physical keys, so a rewrite could repoint someone else's revision.
    /// False (quilt3's way): the manifest is written over.
    /// </summary>
    public bool KeepExistingManifests { get; init; }

    /// <summary>Package names (user/name) in code-point order, optionally only those containing <paramref name="filter"/>.</summary>
    public async Task<IReadOnlyList<string>> ListPackagesAsync(string? filter = null, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        await foreach (var userPrefix in ListFoldersAsync(RegistryLayout.NamedPackagesPrefix, cancellationToken).ConfigureAwait(false))
        {
            await foreach (var namePrefix in ListFoldersAsync(userPrefix, cancellationToken).ConfigureAwait(false))
            {
                var name = namePrefix[RegistryLayout.NamedPackagesPrefix.Length..].TrimEnd('/');
                if (Names.IsValidPackageName(name) && (filter is null || name.Contains(filter, StringComparison.OrdinalIgnoreCase)))
                    names.Add(name);
            }
        }
        names.Sort(Core.Json.CodePointComparer.Instance);
        return names;
    }

    private async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            ObjectListing page;
            try
            {
                page = await Store.ListAsync(new ListRequest(Bucket, prefix, "/", 1000, token), cancellationToken).ConfigureAwait(false);
            }
            catch (BucketNotFoundException)
            {
                yield break;
            }
            foreach (var folder in page.CommonPrefixes)
                yield return folder;
            token = page.NextContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>All revisions of a package, newest first. Throws <see cref="PackageNotFoundException"/> when there are none.</summary>
    public async Task<IReadOnlyList<PackageRevision>> ListRevisionsAsync(string name, CancellationToken cancellationToken = default)
    {
        var prefix = RegistryLayout.PointersPrefix(name);
        var pointers = new List<(string Key, long Seconds)>();
        string? token = null;
        try
        {
            do
            {
                var page = await Store.ListAsync(new ListRequest(Bucket, prefix, "/", 1000, token), cancellationToken).ConfigureAwait(false);
                foreach (var obj in page.Objects)
                {
                    if (RegistryLayout.IsTimestampPointer(obj.Key[prefix.Length..], out var seconds))
                        pointers.Add((obj.Key, seconds));
                }
                token = page.NextContinuationToken;
            }
            while (token is not null);
        }
        catch (BucketNotFoundException)
        {
        }
        if (pointers.Count == 0)
            throw new PackageNotFoundException(name, Bucket);

        var revisions = new PackageRevision[pointers.Count];
        await Parallel.ForAsync(0, pointers.Count, new ParallelOptions { MaxDegreeOfParallelism = PointerReadConcurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var hash = await ReadPointerAsync(pointers[i].Key, ct).ConfigureAwait(false);
                revisions[i] = new PackageRevision(name, hash, DateTimeOffset.FromUnixTimeSeconds(pointers[i].Seconds), pointers[i].Key);
            }).ConfigureAwait(false);
        return revisions.OrderByDescending(r => r.Time).ThenBy(r => r.PointerKey, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The revision 'latest' points at and when it was published: one listing of the package's pointers and two reads
    /// ('latest' and the newest timestamp pointer), not one read per revision as <see cref="ListRevisionsAsync"/> does.
    /// The time is null when 'latest' points elsewhere than the newest timestamp (a registry changed by hand).
    /// Throws <see cref="PackageNotFoundException"/> when the package has no 'latest'.
    /// </summary>
    public async Task<(string TopHash, DateTimeOffset? Time)> LatestAsync(string name, CancellationToken cancellationToken = default)
    {
        Names.ValidatePackageName(name);
        var prefix = RegistryLayout.PointersPrefix(name);
        string? newest = null;
        long newestSeconds = -1;
        string? token = null;
        try
        {
            do
            {
                var page = await Store.ListAsync(new ListRequest(Bucket, prefix, "/", 1000, token), cancellationToken).ConfigureAwait(false);
                foreach (var obj in page.Objects)
                {
                    if (RegistryLayout.IsTimestampPointer(obj.Key[prefix.Length..], out var seconds) && seconds > newestSeconds)
                        (newest, newestSeconds) = (obj.Key, seconds);
                }
                token = page.NextContinuationToken;
            }
            while (token is not null);
        }
        catch (BucketNotFoundException)
        {
        }
        var latest = TryReadTagAsync(name, RegistryLayout.LatestTag, cancellationToken);
        var newestHash = newest is null ? Task.FromResult<string?>(null) : ReadPointerOrNullAsync(newest, cancellationToken);
        await Task.WhenAll(latest, newestHash).ConfigureAwait(false);
        var hash = await latest.ConfigureAwait(false) ?? throw new PackageNotFoundException(name, Bucket);
        return (hash, await newestHash.ConfigureAwait(false) == hash ? DateTimeOffset.FromUnixTimeSeconds(newestSeconds) : null);
    }

    private async Task<string?> ReadPointerOrNullAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadPointerAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null; // deleted since the listing
        }
    }

    private async Task<string> ReadPointerAsync(string key, CancellationToken cancellationToken)
    {
        var stream = await Store.OpenReadAsync(new ObjectRef(Bucket, key), null, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim();
            if (!Names.IsTopHash(text))
                throw new PackageException($"The pointer s3://{Bucket}/{key} does not hold a top hash; the registry is damaged there.");
            return text;
        }
    }

    /// <summary>
    /// The top hash a revision spec names (see <see cref="RevisionSpec"/>): null or "latest" for the newest; ":tag" for the
    /// pointer file of that name (a unix timestamp or "latest"); "@hash" for a full hash or a unique prefix of at least 6 hex
    /// characters among the package's revisions; a bare word as a hash or prefix when it is hex and matches one, else as a tag.
    /// </summary>
    public async Task<string> ResolveTopHashAsync(string name, string? revision, CancellationToken cancellationToken = default)
    {
        Names.ValidatePackageName(name);
        if (string.IsNullOrEmpty(revision) || revision == RegistryLayout.LatestTag)
            return await ReadTagAsync(name, RegistryLayout.LatestTag, cancellationToken).ConfigureAwait(false);
        if (revision.StartsWith(RevisionSpec.TagPrefix, StringComparison.Ordinal))
            return await ReadTagAsync(name, revision[RevisionSpec.TagPrefix.Length..], cancellationToken).ConfigureAwait(false);
        var explicitHash = revision.StartsWith(RevisionSpec.HashPrefix, StringComparison.Ordinal);
        var hash = explicitHash ? revision[RevisionSpec.HashPrefix.Length..] : revision;
        if (Names.IsTopHash(hash))
            return hash;
        if (Names.IsTopHashPrefix(hash))
        {
            var matches = (await ListRevisionsAsync(name, cancellationToken).ConfigureAwait(false))
                .Select(r => r.TopHash).Where(h => h.StartsWith(hash, StringComparison.Ordinal)).Distinct().ToArray();
            if (matches.Length == 1)
                return matches[0];
            if (matches.Length > 1)
                throw new PackageException($"'{hash}' matches {matches.Length} revisions of {name}; give more characters of the hash.");
            if (explicitHash)
                throw new PackageException($"No revision of {name} has a top hash starting with '{hash}'. List the revisions to see them.");
            // A bare word of hex digits may still be a tag: a revision's unix timestamp is all digits.
            if (await TryReadTagAsync(name, hash, cancellationToken).ConfigureAwait(false) is { } tagged)
                return tagged;
            throw new PackageException($"No revision of {name} has a top hash starting with '{hash}', and it has no tag '{hash}'. "
                + "List the revisions to see them.");
        }
        if (explicitHash)
            throw new PackageException($"'{hash}' is not a top hash: give 6 to 64 lowercase hex characters after '@'.");
        return await ReadTagAsync(name, revision, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The top hash in the package's pointer file <paramref name="tag"/>; refuses a tag that names no pointer of it.</summary>
    private async Task<string> ReadTagAsync(string name, string tag, CancellationToken cancellationToken)
    {
        if (await TryReadTagAsync(name, tag, cancellationToken).ConfigureAwait(false) is { } hash)
            return hash;
        // Say first that the package is missing, if it is: that is the mistake to fix.
        if (tag == RegistryLayout.LatestTag || await TryReadTagAsync(name, RegistryLayout.LatestTag, cancellationToken).ConfigureAwait(false) is null)
            throw new PackageNotFoundException(name, Bucket);
        throw new PackageException($"{name} has no tag '{tag}': a tag is 'latest' or the unix timestamp of a revision (list the revisions to see them).");
    }

    private async Task<string?> TryReadTagAsync(string name, string tag, CancellationToken cancellationToken)
    {
        if (!RevisionSpec.IsValidTag(tag))
            throw new PackageException($"'{tag}' is not a tag: a tag names one pointer file ('latest' or a unix timestamp), without '/'.");
        try
        {
            return await ReadPointerAsync(RegistryLayout.PointerKey(name, tag), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectNotFoundException or BucketNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Reads the manifest of a revision by its full top hash, checking that its content matches the hash.</summary>
    public async Task<Manifest> GetManifestAsync(string topHash, CancellationToken cancellationToken = default)
    {
        var key = RegistryLayout.ManifestKey(topHash);
        Manifest manifest;
        try
        {
            var stream = await Store.OpenReadAsync(new ObjectRef(Bucket, key), null, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
                manifest = await ManifestReader.ReadAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            throw new PackageException($"The manifest of revision {topHash} is missing from s3://{Bucket}/{key}.");
        }
        catch (ManifestFormatException ex)
        {
            throw new PackageException($"The manifest of revision {topHash} is damaged: {ex.Message}", ex);
        }
        if (manifest.TopHash != topHash)
            throw new PackageException($"The manifest stored as {topHash} hashes to {manifest.TopHash}: it was changed after it was written. Do not trust this revision.");
        return manifest;
    }

    /// <summary>Resolves a revision spec and reads its manifest.</summary>
    public async Task<(string TopHash, Manifest Manifest)> BrowseAsync(string name, string? revision = null, CancellationToken cancellationToken = default)
    {
        var hash = await ResolveTopHashAsync(name, revision, cancellationToken).ConfigureAwait(false);
        return (hash, await GetManifestAsync(hash, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Publishes a revision through <see cref="Publisher"/>.</summary>
    public Task<PackageRevision> PublishAsync(string name, Manifest manifest, CancellationToken cancellationToken = default)
    {
        Names.ValidatePackageName(name);
        ArgumentNullException.ThrowIfNull(manifest);
        return Publisher.PublishAsync(this, name, manifest, cancellationToken);
    }

    /// <summary>
    /// Writes a revision so it is visible whole or not at all: the manifest first, then a timestamp pointer (a new one,
    /// never overwriting another revision's), then "latest". A failure before the pointers leaves only an unreferenced
    /// manifest, which no listing shows.
    /// </summary>
    internal async Task<PackageRevision> WriteRevisionAsync(string name, Manifest manifest, CancellationToken cancellationToken)
    {
        Names.ValidatePackageName(name);
        ArgumentNullException.ThrowIfNull(manifest);
        var topHash = manifest.TopHash;
        using (var buffer = new MemoryStream())
        {
            await ManifestWriter.WriteAsync(manifest, buffer, cancellationToken).ConfigureAwait(false);
            await WriteManifestAsync(topHash, buffer, cancellationToken).ConfigureAwait(false);
        }

        var hashBytes = Encoding.ASCII.GetBytes(topHash);
        // Revisions of one package published from this process take turns, so they never race for the same second.
        var turn = PublishLocks.GetOrAdd(Bucket + "\n" + name, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string pointerKey;
            while (true)
            {
                pointerKey = RegistryLayout.PointerKey(name, seconds.ToString(CultureInfo.InvariantCulture));
                try
                {
                    using var content = new MemoryStream(hashBytes, writable: false);
                    await Store.PutAsync(new PutRequest(Bucket, pointerKey) { Length = hashBytes.Length, Overwrite = false, ContentType = "text/plain" },
                        content, null, cancellationToken).ConfigureAwait(false);
                    // Some S3 servers ignore conditional writes (Ceph on versioned buckets): read the pointer back, and if
                    // another writer's revision landed there, take the next second for ours.
                    if (await ReadPointerAsync(pointerKey, cancellationToken).ConfigureAwait(false) == topHash)
                        break;
                }
                catch (ObjectExistsException)
                {
                }
                // Another revision was pushed in the same second: keep both, ours as the next second.
                seconds++;
            }

            using (var latest = new MemoryStream(hashBytes, writable: false))
            {
                await Store.PutAsync(new PutRequest(Bucket, RegistryLayout.LatestKey(name)) { Length = hashBytes.Length, ContentType = "text/plain" },
                    latest, null, cancellationToken).ConfigureAwait(false);
            }
            return new PackageRevision(name, topHash, DateTimeOffset.FromUnixTimeSeconds(seconds), pointerKey);
        }
        finally
        {
            turn.Release();
        }
    }

    private async Task WriteManifestAsync(string topHash, MemoryStream manifestBytes, CancellationToken cancellationToken)
    {
        var key = RegistryLayout.ManifestKey(topHash);
        // Once more if an existing manifest vanishes between the refused write and the comparison.
        for (var attempt = 0; ; attempt++)
        {
            manifestBytes.Position = 0;
            try
            {
                await Store.PutAsync(new PutRequest(Bucket, key) { Length = manifestBytes.Length, ContentType = "application/jsonl", Overwrite = !KeepExistingManifests },
                    manifestBytes, null, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ObjectExistsException) when (KeepExistingManifests)
            {
                try
                {
                    if (await HoldsExactlyAsync(new ObjectRef(Bucket, key), manifestBytes.GetBuffer().AsMemory(0, (int)manifestBytes.Length), cancellationToken).ConfigureAwait(false))
                        return;
                }
                catch (ObjectNotFoundException) when (attempt == 0)
                {
                    continue;
                }
                throw new ManifestConflictException(topHash, Bucket);
            }
        }
    }

    /// <summary>Whether the object's bytes are exactly <paramref name="expected"/> (read in pieces, stopping at the first difference).</summary>
    private async Task<bool> HoldsExactlyAsync(ObjectRef obj, ReadOnlyMemory<byte> expected, CancellationToken cancellationToken)
    {
        var info = await Store.HeadAsync(obj, cancellationToken).ConfigureAwait(false);
        if (info.Size != expected.Length)
            return false;
        var pinned = obj with { VersionId = info.VersionId };
        var stream = await Store.OpenReadAsync(pinned, null, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var chunk = new byte[1 << 16];
            var offset = 0;
            while (true)
            {
                var read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                    return offset == expected.Length;
                if (offset + read > expected.Length || !chunk.AsSpan(0, read).SequenceEqual(expected.Span.Slice(offset, read)))
                    return false;
                offset += read;
            }
        }
    }

    /// <summary>
    /// Deletes a revision's pointers; "latest" moves to the newest remaining revision, or goes when none is left. The
    /// manifest stays, as quilt3 leaves it: other packages may share it.
    /// </summary>
    public async Task<IReadOnlyList<PackageRevision>> DeleteRevisionAsync(string name, string topHash, CancellationToken cancellationToken = default)
    {
        var revisions = await ListRevisionsAsync(name, cancellationToken).ConfigureAwait(false);
        var doomed = revisions.Where(r => r.TopHash == topHash).ToArray();
        if (doomed.Length == 0)
            throw new PackageException($"{name} has no revision {topHash}. List the revisions to see which exist.");
        foreach (var revision in doomed)
            await Store.DeleteAsync(new ObjectRef(Bucket, revision.PointerKey), cancellationToken).ConfigureAwait(false);

        var remaining = revisions.Where(r => r.TopHash != topHash).ToArray();
        var latestKey = RegistryLayout.LatestKey(name);
        if (remaining.Length == 0)
        {
            await Store.DeleteAsync(new ObjectRef(Bucket, latestKey), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            string? latest = null;
            try
            {
                latest = await ReadPointerAsync(latestKey, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectNotFoundException)
            {
            }
            if (latest is null || latest == topHash)
            {
                var bytes = Encoding.ASCII.GetBytes(remaining[0].TopHash);
                using var content = new MemoryStream(bytes, writable: false);
                await Store.PutAsync(new PutRequest(Bucket, latestKey) { Length = bytes.Length, ContentType = "text/plain" }, content, null, cancellationToken).ConfigureAwait(false);
            }
        }
        return doomed;
    }
}
