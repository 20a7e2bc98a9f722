using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Packages;
using Quilt.Search.Sqlite;
using Quilt.Storage;

namespace Quilt.Search.Indexing;

/// <summary>How far indexing is: items (pointer files, objects) looked at so far, and a line for a person.</summary>
public readonly record struct IndexingProgress(long Done, long? Total, string Message);

/// <summary>What one refresh of a bucket did.</summary>
/// <param name="ObjectsTruncated">The listing stopped at <see cref="StoreIndexerOptions.MaxObjectsPerBucket"/>; later keys are not indexed.</param>
public sealed record IndexRefresh(string Bucket, int RevisionsAdded, int RevisionsRemoved, int ObjectsAdded, int ObjectsRemoved, int Skipped, bool ObjectsTruncated);

/// <summary>Limits of the indexer.</summary>
public sealed record StoreIndexerOptions
{
    /// <summary>Objects listed per bucket, at most (the listing is paged; this bounds one refresh).</summary>
    public int MaxObjectsPerBucket { get; init; } = 1_000_000;

    /// <summary>Bytes of text read from the start of a text-like object.</summary>
    public int TextBytes { get; init; } = 64 * 1024;

    /// <summary>Reads (pointers, manifests, object text) in flight at once.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Documents written per transaction.</summary>
    public int BatchSize { get; init; } = 500;
}

/// <summary>
/// Keeps a <see cref="SqliteSearchIndex"/> in step with one store: on each refresh of a bucket, the named-package
/// pointers and the object listing are compared with what the index last saw (ETag, size, modified), and only what
/// changed is read (pointer files, the manifests of new revisions, the first bytes of new or changed text objects).
/// One refresher per index file at a time, across processes (a lock file beside the index).
/// </summary>
public sealed class StoreIndexer(SqliteSearchIndex index, IObjectStore store, StoreIndexerOptions? options = null)
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);
    private static readonly TimeSpan LockRetry = TimeSpan.FromMilliseconds(50);

    /// <summary>Extensions whose objects' text is indexed.</summary>
    public static readonly IReadOnlySet<string> TextExtensions = new HashSet<string>(StringComparer.Ordinal)
    {
        ".md", ".markdown", ".txt", ".text", ".rst", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".xml", ".html", ".htm",
        ".log", ".tex", ".toml", ".ini", ".cfg", ".py", ".r", ".sql", ".sh", ".ipynb", ".fasta", ".fa", ".vcf", ".gff", ".bed",
    };

    /// <summary>Documents added or removed by one refresh past which the query planner's statistics are refreshed.</summary>
    private const int AnalyzeAfterChanges = 1000;

    private readonly StoreIndexerOptions _options = options ?? new StoreIndexerOptions();

    public SqliteSearchIndex Index => index;

    /// <summary>Refreshes <paramref name="bucket"/> unless a refresh finished less than <paramref name="maxAge"/> ago; null when it was fresh.</summary>
    public async Task<IndexRefresh?> RefreshIfStaleAsync(string bucket, TimeSpan maxAge, IProgress<IndexingProgress>? progress, CancellationToken cancellationToken)
    {
        if (await IsFreshAsync(bucket, maxAge, cancellationToken).ConfigureAwait(false))
            return null;
        using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
        // Another refresher may have finished while this one waited for the lock.
        if (await IsFreshAsync(bucket, maxAge, cancellationToken).ConfigureAwait(false))
            return null;
        return await RefreshLockedAsync(bucket, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refreshes <paramref name="bucket"/> now.</summary>
    public async Task<IndexRefresh> RefreshAsync(string bucket, IProgress<IndexingProgress>? progress, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
        return await RefreshLockedAsync(bucket, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> IsFreshAsync(string bucket, TimeSpan maxAge, CancellationToken cancellationToken) =>
        await index.RefreshedAsync(bucket, cancellationToken).ConfigureAwait(false) is { } refreshed && DateTimeOffset.UtcNow - refreshed < maxAge;

    private async Task<IndexRefresh> RefreshLockedAsync(string bucket, IProgress<IndexingProgress>? progress, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var counter = new Counter(bucket, progress);
        var (added, removed, skipped) = await RefreshPackagesAsync(bucket, counter, cancellationToken).ConfigureAwait(false);
        var (objectsAdded, objectsRemoved, truncated) = await RefreshObjectsAsync(bucket, counter, cancellationToken).ConfigureAwait(false);
        if (added + removed + objectsAdded + objectsRemoved >= AnalyzeAfterChanges)
            await index.AnalyzeAsync(cancellationToken).ConfigureAwait(false);
        await index.MarkRefreshedAsync(bucket, started, truncated, cancellationToken).ConfigureAwait(false);
        counter.Finish(added, objectsAdded);
        return new IndexRefresh(bucket, added, removed, objectsAdded, objectsRemoved, skipped, truncated);
    }

    private async Task<(int Added, int Removed, int Skipped)> RefreshPackagesAsync(string bucket, Counter counter, CancellationToken cancellationToken)
    {
        var listed = new Dictionary<string, ObjectSummary>(StringComparer.Ordinal);
        await foreach (var summary in ListAsync(bucket, RegistryLayout.NamedPackagesPrefix, int.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            listed[summary.Key] = summary;
            counter.Step("pointers");
        }

        var known = await index.PointersAsync(bucket, cancellationToken).ConfigureAwait(false);
        var changed = new ConcurrentDictionary<string, PointerState>(StringComparer.Ordinal);
        var hashes = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var skipped = 0;
        var toRead = new List<ObjectSummary>();
        foreach (var (key, summary) in listed)
        {
            if (known.TryGetValue(key, out var state) && state.Listed == ListedState.Of(summary))
                hashes[key] = state.Hash;
            else
                toRead.Add(summary);
        }
        await Parallel.ForEachAsync(toRead, Parallelism(cancellationToken), async (summary, ct) =>
        {
            if (await ReadPointerAsync(bucket, summary.Key, ct).ConfigureAwait(false) is { } hash)
            {
                hashes[summary.Key] = hash;
                changed[summary.Key] = new PointerState(ListedState.Of(summary), hash);
            }
            else
            {
                Interlocked.Increment(ref skipped);
            }
        }).ConfigureAwait(false);

        // Per package: which revisions its pointers name, which is latest, and the newest timestamp naming each.
        var packages = new Dictionary<string, PackagePointers>(StringComparer.Ordinal);
        foreach (var (key, hash) in hashes)
        {
            var relative = key[RegistryLayout.NamedPackagesPrefix.Length..];
            var slash = relative.LastIndexOf('/');
            if (slash <= 0)
                continue;
            var name = relative[..slash];
            var pointer = relative[(slash + 1)..];
            if (!Names.IsValidPackageName(name))
                continue;
            if (!packages.TryGetValue(name, out var package))
                packages[name] = package = new PackagePointers();
            if (pointer == RegistryLayout.LatestTag)
            {
                package.Latest = hash;
                package.LatestModified = listed[key].LastModified;
            }
            else if (RegistryLayout.IsTimestampPointer(pointer, out var seconds))
            {
                if (!package.Revisions.TryGetValue(hash, out var newest) || seconds > newest)
                    package.Revisions[hash] = seconds;
            }
        }

        var indexed = await index.RevisionsAsync(bucket, cancellationToken).ConfigureAwait(false);
        var indexedSet = indexed.Select(r => (r.Name, r.Hash)).ToHashSet();
        var wanted = new List<(string Name, string Hash, string Pointer, DateTimeOffset Modified, bool Latest)>();
        foreach (var (name, package) in packages)
        {
            foreach (var hash in package.Hashes())
            {
                var (pointer, modified) = package.Revisions.TryGetValue(hash, out var seconds)
                    ? (seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeSeconds(seconds))
                    : (RegistryLayout.LatestTag, package.LatestModified);
                wanted.Add((name, hash, pointer, modified, hash == package.Latest));
            }
        }

        var registry = new PackageRegistry(store, bucket);
        var toAdd = wanted.Where(w => !indexedSet.Contains((w.Name, w.Hash))).ToList();
        var added = 0;
        foreach (var batch in toAdd.Chunk(_options.BatchSize))
        {
            var documents = new ConcurrentBag<PackageRevisionDocument>();
            await Parallel.ForEachAsync(batch, Parallelism(cancellationToken), async (revision, ct) =>
            {
                Manifest manifest;
                try
                {
                    manifest = await registry.GetManifestAsync(revision.Hash, ct).ConfigureAwait(false);
                }
                catch (PackageException)
                {
                    Interlocked.Increment(ref skipped); // a missing or damaged manifest: the rest of the bucket is still indexed
                    return;
                }
                documents.Add(Document(bucket, revision.Name, revision.Hash, revision.Pointer, revision.Modified, revision.Latest, manifest));
                counter.Step("revisions");
            }).ConfigureAwait(false);
            await index.UpsertPackageRevisionsAsync([.. documents], cancellationToken).ConfigureAwait(false);
            added += documents.Count;
        }

        // The latest flag of revisions already indexed follows the 'latest' pointer as it is now.
        var latestNow = packages.ToDictionary(p => p.Key, p => p.Value.Latest, StringComparer.Ordinal);
        foreach (var group in indexed.GroupBy(r => r.Name, StringComparer.Ordinal))
        {
            var latest = latestNow.GetValueOrDefault(group.Key);
            if (group.Any(r => r.Latest != (r.Hash == latest)))
                await index.SetLatestAsync(bucket, group.Key, latest, cancellationToken).ConfigureAwait(false);
        }

        var wantedSet = wanted.Select(w => (w.Name, w.Hash)).ToHashSet();
        var removed = 0;
        foreach (var group in indexed.Where(r => !wantedSet.Contains((r.Name, r.Hash))).GroupBy(r => r.Name, StringComparer.Ordinal))
        {
            var gone = group.Select(r => r.Hash).ToList();
            await index.RemovePackageRevisionsAsync(bucket, group.Key, gone, cancellationToken).ConfigureAwait(false);
            removed += gone.Count;
        }
        await index.UpdatePointersAsync(bucket, changed, [.. known.Keys.Where(key => !listed.ContainsKey(key))], cancellationToken).ConfigureAwait(false);
        return (added, removed, skipped);
    }

    private sealed class PackagePointers
    {
        public string? Latest { get; set; }

        public DateTimeOffset LatestModified { get; set; }

        /// <summary>Top hash → the newest timestamp pointer naming it.</summary>
        public Dictionary<string, long> Revisions { get; } = new(StringComparer.Ordinal);

        public IEnumerable<string> Hashes() => Latest is null || Revisions.ContainsKey(Latest) ? Revisions.Keys : Revisions.Keys.Append(Latest);
    }

    private static PackageRevisionDocument Document(string bucket, string name, string hash, string pointer, DateTimeOffset modified, bool latest, Manifest manifest) =>
        new(bucket, name, hash, pointer, modified, latest, manifest.Message, Element(manifest.UserMeta), Element(manifest.Workflow), manifest.TotalSize,
            [.. manifest.Entries.Select(entry => new EntryDocument(entry.LogicalKey, entry.PhysicalKey, entry.Size, entry.Hash.Value, Element(entry.Meta)))]);

    private static JsonElement? Element(System.Text.Json.Nodes.JsonNode? node) =>
        node is null ? null : JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    private async Task<string?> ReadPointerAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await store.OpenReadAsync(new ObjectRef(bucket, key), new ByteRange(0, 256), cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var text = (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim();
                return Names.IsTopHash(text) ? text : null;
            }
        }
        catch (ObjectNotFoundException)
        {
            return null; // deleted since the listing
        }
    }

    private async Task<(int Added, int Removed, bool Truncated)> RefreshObjectsAsync(string bucket, Counter counter, CancellationToken cancellationToken)
    {
        var known = await index.ObjectStatesAsync(bucket, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new List<ObjectSummary>();
        var added = 0;
        var listedCount = 0;
        var truncated = false;
        await foreach (var summary in ListAsync(bucket, "", _options.MaxObjectsPerBucket + 1, cancellationToken).ConfigureAwait(false))
        {
            if (summary.Key.StartsWith(".quilt/", StringComparison.Ordinal))
                continue;
            if (++listedCount > _options.MaxObjectsPerBucket)
            {
                truncated = true;
                break;
            }
            seen.Add(summary.Key);
            counter.Step("objects");
            if (known.TryGetValue(summary.Key, out var state) && state == ListedState.Of(summary))
                continue;
            pending.Add(summary);
            if (pending.Count >= _options.BatchSize)
            {
                added += await IndexObjectsAsync(bucket, pending, cancellationToken).ConfigureAwait(false);
                pending.Clear();
            }
        }
        added += await IndexObjectsAsync(bucket, pending, cancellationToken).ConfigureAwait(false);
        var gone = truncated ? [] : known.Keys.Where(key => !seen.Contains(key)).ToList();
        foreach (var batch in gone.Chunk(_options.BatchSize))
            await index.RemoveObjectsAsync(bucket, batch, cancellationToken).ConfigureAwait(false);
        return (added, gone.Count, truncated);
    }

    private async Task<int> IndexObjectsAsync(string bucket, List<ObjectSummary> summaries, CancellationToken cancellationToken)
    {
        if (summaries.Count == 0)
            return 0;
        var documents = new ObjectDocument[summaries.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, summaries.Count), Parallelism(cancellationToken), async (i, ct) =>
        {
            var summary = summaries[i];
            var text = summary.Size > 0 && TextExtensions.Contains(SqliteSearchIndex.Extension(summary.Key))
                ? await ReadTextAsync(bucket, summary.Key, ct).ConfigureAwait(false)
                : null;
            documents[i] = new ObjectDocument(bucket, summary.Key, summary.VersionId, summary.Size, summary.LastModified, summary.ETag, false, text);
        }).ConfigureAwait(false);
        await index.UpsertObjectsAsync(documents, cancellationToken).ConfigureAwait(false);
        return documents.Length;
    }

    /// <summary>The first <see cref="StoreIndexerOptions.TextBytes"/> of an object as text (a range read), or null if it is gone or binary.</summary>
    private async Task<string?> ReadTextAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = new byte[_options.TextBytes];
            var stream = await store.OpenReadAsync(new ObjectRef(bucket, key), new ByteRange(0, _options.TextBytes), cancellationToken).ConfigureAwait(false);
            int length;
            await using (stream.ConfigureAwait(false))
                length = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            var span = buffer.AsSpan(0, length);
            if (span.Contains((byte)0))
                return null; // binary after all
            return Encoding.UTF8.GetString(span);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
        catch (StorageException)
        {
            return null; // unreadable (permissions, a transient error): the key and size are still indexed
        }
    }

    private async IAsyncEnumerable<ObjectSummary> ListAsync(string bucket, string prefix, int max, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        var count = 0;
        do
        {
            ObjectListing page;
            try
            {
                page = await store.ListAsync(new ListRequest(bucket, prefix, null, 1000, token), cancellationToken).ConfigureAwait(false);
            }
            catch (BucketNotFoundException)
            {
                yield break;
            }
            foreach (var summary in page.Objects)
            {
                if (++count > max)
                    yield break;
                yield return summary;
            }
            token = page.NextContinuationToken;
        }
        while (token is not null);
    }

    private ParallelOptions Parallelism(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken };

    /// <summary>
    /// One refresher per index file: in this process a semaphore, across processes an exclusive lock file beside the
    /// index (released by the OS if the process dies).
    /// </summary>
    private async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        var gate = Gates.GetOrAdd(index.FilePath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                try
                {
                    var file = new FileStream(index.FilePath + ".refresh-lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                    return new Held(gate, file);
                }
                catch (IOException)
                {
                    await Task.Delay(LockRetry, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    private sealed class Held(SemaphoreSlim gate, FileStream file) : IDisposable
    {
        public void Dispose()
        {
            file.Dispose();
            gate.Release();
        }
    }

    /// <summary>Counts what a refresh looked at, for progress.</summary>
    private sealed class Counter(string bucket, IProgress<IndexingProgress>? progress)
    {
        private long _done;

        public void Step(string what)
        {
            var done = Interlocked.Increment(ref _done);
            progress?.Report(new IndexingProgress(done, null, $"Indexing {bucket}: {done} items looked at ({what})"));
        }

        public void Finish(int revisions, int objects) =>
            progress?.Report(new IndexingProgress(Interlocked.Read(ref _done), Interlocked.Read(ref _done), $"Indexed {bucket}: {revisions} new revisions, {objects} new or changed objects"));
    }
}
