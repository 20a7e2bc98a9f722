using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Packages;

public sealed record BuildOptions
{
    /// <summary>Copy data into the registry bucket at &lt;name&gt;/&lt;logical key&gt; (true), or reference it where it is.</summary>
    public bool CopyData { get; init; } = true;

    /// <summary>Entries worked on at once (hashing and copying).</summary>
    public int Concurrency { get; init; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>Hashes known for object versions (physical key with versionId → hash), so they are not read again.</summary>
    public IReadOnlyDictionary<string, ObjectHash>? KnownHashes { get; init; }

    /// <summary>The directory metadata lines the revision carries (not covered by the top hash).</summary>
    public IReadOnlyList<DirectoryMetadata> DirectoryMetadata { get; init; } = [];

    /// <summary>
    /// Checks the entries once their sizes are known and before any data is read or copied (a workflow's entries_schema):
    /// given in the manifest's tree order; throwing stops the build with nothing written.
    /// </summary>
    public Action<IReadOnlyList<Workflows.WorkflowEntry>>? CheckEntries { get; init; }
}

/// <summary>Bytes and entries done so far of a build or push.</summary>
public readonly record struct PackageProgress(long BytesDone, long BytesTotal, int EntriesDone, int EntriesTotal);

/// <summary>
/// Turns entry sources into manifest entries: copies data into the registry (hashing while it streams through) or
/// references it in place (hashing by reading it), in parallel, reusing hashes already known for an object version.
/// </summary>
public sealed class PackageCreator(PackageRegistry registry, ObjectLocator locator)
{
    public PackageRegistry Registry { get; } = registry;

    /// <summary>Builds the manifest of a new revision; nothing is published (see <see cref="PackageRegistry.PublishAsync"/>).</summary>
    public async Task<Manifest> BuildAsync(
        string name, IReadOnlyList<EntrySource> sources, JsonObject packageMeta, BuildOptions? options = null,
        IProgress<PackageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Names.ValidatePackageName(name);
        ArgumentNullException.ThrowIfNull(sources);
        options ??= new BuildOptions();
        var duplicate = sources.GroupBy(s => s.LogicalKey, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new PackageException($"Two entries have the logical key '{duplicate.Key}'; give each entry its own key.");
        foreach (var source in sources)
        {
            try
            {
                if (source is ExistingEntrySource { NewLogicalKey: null } kept)
                {
                    // An entry carried over keeps its key as quilt3 read it (a//b, /abs, a tab: quilt3 keeps them too);
                    // only copying its data to <name>/<key> needs a key that names one place.
                    if (kept.CopyData)
                        RegistryLayout.DataKey(name, kept.LogicalKey);
                    continue;
                }
                Names.ValidateLogicalKey(source.LogicalKey);
            }
            catch (InvalidNameException ex)
            {
                throw new PackageException(ex.Message, ex);
            }
        }

        // Sizes first, so progress has a total and hashes know their chunk layout.
        var sizes = new long[sources.Count];
        var refs = new ObjectRef?[sources.Count];
        await Parallel.ForAsync(0, sources.Count, ParallelOptionsFor(options, cancellationToken), async (i, ct) =>
        {
            switch (sources[i])
            {
                case LocalFileSource f:
                    sizes[i] = File.Exists(f.Path) ? new FileInfo(f.Path).Length : throw new PackageException($"'{f.Path}' does not exist.");
                    break;
                case StoreObjectSource s:
                    var info = s.Info ?? await s.Store.HeadAsync(s.Object, ct).ConfigureAwait(false);
                    sizes[i] = info.Size;
                    refs[i] = s.Object with { VersionId = s.Object.VersionId ?? info.VersionId };
                    break;
                case InlineSource inline:
                    sizes[i] = inline.Content.Length;
                    break;
                case ExistingEntrySource e:
                    sizes[i] = e.Entry.Size;
                    break;
            }
        }).ConfigureAwait(false);

        if (options.CheckEntries is { } check)
        {
            var listed = new Workflows.WorkflowEntry[sources.Count];
            for (var i = 0; i < sources.Count; i++)
                listed[i] = new Workflows.WorkflowEntry(sources[i].LogicalKey, sizes[i], UserMetaOf(EntryMeta(sources[i])));
            Array.Sort(listed, (a, b) => LogicalKeyComparer.Instance.Compare(a.LogicalKey, b.LogicalKey));
            check(listed);
        }

        var tracker = new ProgressTracker(progress, sizes.Sum(), sources.Count);
        var written = new WrittenObjects(Registry.Store);
        var entries = new ManifestEntry[sources.Count];
        try
        {
            await Parallel.ForAsync(0, sources.Count, ParallelOptionsFor(options, cancellationToken), async (i, ct) =>
            {
                entries[i] = await BuildEntryAsync(name, sources[i], sizes[i], refs[i], options, tracker, written, ct).ConfigureAwait(false);
                tracker.EntryDone();
            }).ConfigureAwait(false);
            return new Manifest(packageMeta, entries, options.DirectoryMetadata);
        }
        catch (Exception ex)
        {
            // Nothing is published after a failed build, so the data it wrote would be referenced by no revision.
            await written.DeleteAllAsync().ConfigureAwait(false);
            if (ex is ManifestFormatException format)
                throw new PackageException(format.Message, format);
            throw;
        }
    }

    /// <summary>
    /// An earlier entry's meta with new user metadata, when given: only user_meta is replaced, as quilt3's set_meta does;
    /// whatever else the meta holds stays as it was.
    /// </summary>
    private static JsonObject? KeptMeta(ExistingEntrySource source)
    {
        if (!source.HasUserMeta)
            return source.Entry.Meta;
        var meta = (JsonObject?)source.Entry.Meta?.DeepClone() ?? [];
        meta["user_meta"] = source.UserMeta?.DeepClone();
        return meta;
    }

    /// <summary>The entry meta a source gets in the manifest (what the build writes for it).</summary>
    private static JsonObject? EntryMeta(EntrySource source) =>
        source is ExistingEntrySource e ? KeptMeta(e) : source.HasUserMeta ? new JsonObject { ["user_meta"] = source.UserMeta?.DeepClone() } : null;

    // quilt3's PackageEntry.meta: the user_meta it holds (null when it holds null), {} when it has none.
    private static JsonNode? UserMetaOf(JsonObject? meta) =>
        meta is not null && meta.TryGetPropertyValue("user_meta", out var userMeta) ? userMeta : new JsonObject();

    private static ParallelOptions ParallelOptionsFor(BuildOptions options, CancellationToken ct) =>
        new() { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = ct };

    private async Task<ManifestEntry> BuildEntryAsync(
        string name, EntrySource source, long size, ObjectRef? resolved, BuildOptions options, ProgressTracker tracker, WrittenObjects written,
        CancellationToken ct)
    {
        var meta = source.HasUserMeta ? new JsonObject { ["user_meta"] = source.UserMeta?.DeepClone() } : null;
        switch (source)
        {
            case ExistingEntrySource { CopyData: true } e:
                // The bytes must be the ones the revision recorded, checked against its own hash whatever its type.
                return await CopyInAsync(name, e.LogicalKey, token => locator.OpenReadAsync(e.Entry.PhysicalKey, null, token),
                    size, KeptMeta(e), options, tracker, written, ct, expected: e.Entry).ConfigureAwait(false);

            case ExistingEntrySource e:
                tracker.Bytes(size);
                return e.Entry with { LogicalKey = e.LogicalKey, Meta = KeptMeta(e) };

            // Only a local registry may point at files on this machine: anywhere else they would be unreadable, and refused.
            case LocalFileSource f when !options.CopyData && !f.AlwaysCopy && Registry.IsLocal:
            {
                var hash = await HashLocalFileAsync(f.Path, size, tracker, ct).ConfigureAwait(false);
                return new ManifestEntry(f.LogicalKey, [PhysicalKey.File(f.Path).ToString()], size, hash, meta);
            }

            case LocalFileSource f:
                return await CopyInAsync(name, f.LogicalKey, _ => Task.FromResult<Stream>(OpenLocal(f.Path)), size, meta, options, tracker, written, ct).ConfigureAwait(false);

            case InlineSource inline:
                return await CopyInAsync(name, inline.LogicalKey, _ => Task.FromResult<Stream>(new MemoryStream(inline.Content.ToArray(), writable: false)),
                    size, meta, options, tracker, written, ct).ConfigureAwait(false);

            case StoreObjectSource s:
            {
                var objectRef = resolved ?? s.Object;
                var sourceKey = s.Store.ToPhysicalKey(objectRef);
                ObjectHash? known = null;
                if (objectRef.VersionId is not null)
                    options.KnownHashes?.TryGetValue(sourceKey, out known);
                if (!options.CopyData)
                {
                    var hash = known ?? await HashStoreObjectAsync(s.Store, objectRef, size, tracker, ct).ConfigureAwait(false);
                    if (known is not null)
                        tracker.Bytes(size);
                    return new ManifestEntry(s.LogicalKey, [sourceKey], size, hash, meta);
                }
                if (ReferenceEquals(s.Store, Registry.Store))
                {
                    // A server-side copy moves no bytes through here; hash the source version (the copy is identical).
                    var hash = known ?? await HashStoreObjectAsync(s.Store, objectRef, size, tracker, ct).ConfigureAwait(false);
                    if (known is not null)
                        tracker.Bytes(size);
                    var (key, present) = await PlaceAsync(name, s.LogicalKey, hash, size, options, ct).ConfigureAwait(false);
                    var target = present ? new ObjectRef(Registry.Bucket, key)
                        : written.Add((await s.Store.CopyAsync(objectRef, Registry.Bucket, key, ct).ConfigureAwait(false)).Ref);
                    return new ManifestEntry(s.LogicalKey, [Registry.Store.ToPhysicalKey(target)], size, hash, meta);
                }
                return await CopyInAsync(name, s.LogicalKey, token => s.Store.OpenReadAsync(objectRef, null, token), size, meta, options, tracker, written, ct)
                    .ConfigureAwait(false);
            }

            default:
                throw new ArgumentException($"Unknown entry source {source.GetType().Name}.", nameof(source));
        }
    }

    /// <summary>
    /// Copies content into the registry at &lt;name&gt;/&lt;logical key&gt;, hashing it on the way. On a store without
    /// versions an existing object there is never overwritten, since an earlier revision may point to it: identical
    /// bytes are reused, other bytes go to a key named by their hash (see <see cref="PlaceAsync"/>).
    /// </summary>
    private async Task<ManifestEntry> CopyInAsync(
        string name, string logicalKey, Func<CancellationToken, Task<Stream>> open, long size, JsonObject? meta, BuildOptions options,
        ProgressTracker tracker, WrittenObjects written, CancellationToken ct, ManifestEntry? expected = null)
    {
        var key = RegistryLayout.DataKey(name, logicalKey);
        var versioned = await Registry.Store.IsVersionedAsync(Registry.Bucket, ct).ConfigureAwait(false);
        if (versioned || !await ExistsAsync(key, size: null, ct).ConfigureAwait(false))
        {
            try
            {
                return await StreamInAsync(key, logicalKey, open, size, meta, overwrite: versioned, tracker.ByteProgress, written, expected, ct).ConfigureAwait(false);
            }
            catch (ObjectExistsException)
            {
                // Another writer took the key meanwhile: place ours as below.
            }
        }

        ObjectHash hash;
        using (var hasher = new ObjectHasher(ObjectHash.Sha256ChunkedType, size))
        {
            var first = new HashingReadStream(await open(ct).ConfigureAwait(false), hasher, tracker.ByteProgress, expected);
            await using (first.ConfigureAwait(false))
                await first.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
            hash = first.Hash;
        }
        var (placed, present) = await PlaceAsync(name, logicalKey, hash, size, options, ct).ConfigureAwait(false);
        if (present)
            return new ManifestEntry(logicalKey, [Registry.Store.ToPhysicalKey(new ObjectRef(Registry.Bucket, placed))], size, hash, meta);
        var entry = await StreamInAsync(placed, logicalKey, open, size, meta, overwrite: true, null, written, expected, ct).ConfigureAwait(false);
        if (!entry.Hash.Matches(hash))
            throw new PackageException($"'{logicalKey}' changed while it was being read; nothing was published. Try again once it is stable.");
        return entry;
    }

    /// <summary>
    /// Uploads content to <paramref name="key"/>, hashing it on the way; with <paramref name="expected"/> the content must be
    /// that entry's recorded bytes, or the upload is abandoned before it completes (see <see cref="HashingReadStream"/>).
    /// </summary>
    private async Task<ManifestEntry> StreamInAsync(
        string key, string logicalKey, Func<CancellationToken, Task<Stream>> open, long size, JsonObject? meta, bool overwrite,
        IProgress<long>? progress, WrittenObjects written, ManifestEntry? expected, CancellationToken ct)
    {
        using var hasher = new ObjectHasher(ObjectHash.Sha256ChunkedType, size);
        PutResult put;
        var hashing = new HashingReadStream(await open(ct).ConfigureAwait(false), hasher, progress, expected);
        await using (hashing.ConfigureAwait(false))
        {
            try
            {
                put = await Registry.Store.PutAsync(new PutRequest(Registry.Bucket, key) { Length = size, Overwrite = overwrite },
                    hashing, null, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (hashing.Mismatch is { } mismatch && !ReferenceEquals(ex, mismatch))
            {
                // A store may wrap what the read threw into its own failure; the mismatch is what to report.
                throw mismatch;
            }
        }
        written.Add(put.Ref);
        return new ManifestEntry(logicalKey, [Registry.Store.ToPhysicalKey(put.Ref)], size, hashing.Hash, meta);
    }

    /// <summary>
    /// Where bytes with <paramref name="hash"/> go for an entry, and whether they are there already. On a versioned store:
    /// &lt;name&gt;/&lt;logical key&gt; (versions keep earlier revisions intact). Otherwise that key only when it is free or holds
    /// the same bytes (as the previous revision recorded them), else &lt;name&gt;/.versions/&lt;hash prefix&gt;/&lt;logical key&gt;.
    /// </summary>
    private async Task<(string Key, bool Present)> PlaceAsync(string name, string logicalKey, ObjectHash hash, long size, BuildOptions options, CancellationToken ct)
    {
        var key = RegistryLayout.DataKey(name, logicalKey);
        if (await Registry.Store.IsVersionedAsync(Registry.Bucket, ct).ConfigureAwait(false) || !await ExistsAsync(key, null, ct).ConfigureAwait(false))
            return (key, false);
        var physical = Registry.Store.ToPhysicalKey(new ObjectRef(Registry.Bucket, key));
        if (options.KnownHashes is { } known && known.TryGetValue(physical, out var recorded) && recorded.Matches(hash)
            && await ExistsAsync(key, size, ct).ConfigureAwait(false))
            return (key, true);
        var digest = Convert.ToHexStringLower(Convert.FromBase64String(hash.Value))[..16];
        var contentKey = RegistryLayout.DataKey(name, $".versions/{digest}/{logicalKey}");
        return (contentKey, await ExistsAsync(contentKey, size, ct).ConfigureAwait(false));
    }

    private async Task<bool> ExistsAsync(string key, long? size, CancellationToken ct)
    {
        try
        {
            var info = await Registry.Store.HeadAsync(new ObjectRef(Registry.Bucket, key), ct).ConfigureAwait(false);
            return size is null || info.Size == size;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
        catch (BucketNotFoundException)
        {
            return false;
        }
    }

    private static FileStream OpenLocal(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private static async Task<ObjectHash> HashLocalFileAsync(string path, long size, ProgressTracker tracker, CancellationToken ct)
    {
        if (size > 2 * ObjectHasher.DefaultChunkSize)
        {
            // A large file hashes its chunks on every core.
            return await ObjectHashing.ComputeParallelAsync(size, ObjectHash.Sha256ChunkedType, (offset, length, _) =>
            {
                var s = OpenLocal(path);
                s.Seek(offset, SeekOrigin.Begin);
                return Task.FromResult<Stream>(new BoundedReadStream(s, length));
            }, 0, tracker.NewCumulativeProgress(), ct).ConfigureAwait(false);
        }
        var stream = OpenLocal(path);
        await using (stream.ConfigureAwait(false))
            return await ObjectHashing.ComputeAsync(stream, size, ObjectHash.Sha256ChunkedType, tracker.NewCumulativeProgress(), ct).ConfigureAwait(false);
    }

    private static async Task<ObjectHash> HashStoreObjectAsync(IObjectStore store, ObjectRef obj, long size, ProgressTracker tracker, CancellationToken ct)
    {
        return await ObjectHashing.ComputeParallelAsync(size, ObjectHash.Sha256ChunkedType,
            (offset, length, token) => store.OpenReadAsync(obj, new ByteRange(offset, length), token),
            4, tracker.NewCumulativeProgress(), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The data objects one build wrote, so that a failed build removes them again: only what it wrote itself (each
    /// version by its id), never an object that was there before.
    /// </summary>
    private sealed class WrittenObjects(IObjectStore store)
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<ObjectRef> _objects = [];

        public ObjectRef Add(ObjectRef obj)
        {
            _objects.Add(obj);
            return obj;
        }

        public async Task DeleteAllAsync()
        {
            // Not the build's token: a cancelled build must still clean up. A failed delete must not hide the build's own failure.
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            foreach (var obj in _objects)
            {
                try
                {
                    // Deleting a key without its version on a versioned bucket would only hide the current version.
                    if (obj.VersionId is null && await store.IsVersionedAsync(obj.Bucket, timeout.Token).ConfigureAwait(false))
                        continue;
                    await store.DeleteAsync(obj, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StorageException or IOException or OperationCanceledException)
                {
                    // Left behind: an unreferenced object, which no revision shows.
                }
            }
        }
    }

    /// <summary>Sums progress from parallel workers; reports at most every 1 MiB or entry so reporting stays cheap.</summary>
    private sealed class ProgressTracker(IProgress<PackageProgress>? progress, long totalBytes, int totalEntries)
    {
        private long _bytes;
        private long _lastReported = -1;
        private int _entries;

        /// <summary>For sources that report each increment.</summary>
        public IProgress<long>? ByteProgress => progress is null ? null : new Adapter(this);

        /// <summary>For one hashing call, which reports its running total.</summary>
        public IProgress<long>? NewCumulativeProgress() => progress is null ? null : new CumulativeAdapter(this);

        public void Bytes(long n)
        {
            var total = Interlocked.Add(ref _bytes, n);
            if (progress is not null && total - Interlocked.Read(ref _lastReported) >= 1 << 20)
            {
                Interlocked.Exchange(ref _lastReported, total);
                progress.Report(new PackageProgress(total, totalBytes, Volatile.Read(ref _entries), totalEntries));
            }
        }

        public void EntryDone()
        {
            var done = Interlocked.Increment(ref _entries);
            progress?.Report(new PackageProgress(Interlocked.Read(ref _bytes), totalBytes, done, totalEntries));
        }

        private sealed class Adapter(ProgressTracker tracker) : IProgress<long>
        {
            public void Report(long value) => tracker.Bytes(value);
        }

        private sealed class CumulativeAdapter(ProgressTracker tracker) : IProgress<long>
        {
            private long _seen;

            public void Report(long value)
            {
                // Parallel chunk readers may report totals out of order: count only growth.
                long seen;
                do
                {
                    seen = Interlocked.Read(ref _seen);
                    if (value <= seen)
                        return;
                }
                while (Interlocked.CompareExchange(ref _seen, value, seen) != seen);
                tracker.Bytes(value - seen);
            }
        }
    }
}
