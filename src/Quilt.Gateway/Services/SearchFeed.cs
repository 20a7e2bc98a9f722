using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Packages;
using Quilt.Search;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

/// <summary>
/// Feeds the search index with what the gateway sees: objects it completed (multipart uploads), objects it handed
/// upload URLs for (looked for until the URL expires, since a presigned POST reaches S3 without the gateway), and
/// revisions it published or deleted (packageConstruct, packagePromote, packageRevisionDelete). It reads with the gateway's own S3 credentials. A failure to index is
/// logged and never fails the request that caused it; the reconciliation scan catches up.
/// </summary>
public sealed partial class SearchFeed(SearchIndexHolder holder, S3Access s3, GatewayOptions options, TimeProvider time, ILogger<SearchFeed> logger)
{
    /// <summary>The most text indexed per object.</summary>
    public const int MaxTextBytes = 64 * 1024;

    private const int MaxPending = 10_000;

    private static readonly HashSet<string> WholeTextExtensions = new(StringComparer.Ordinal)
    {
        ".md", ".markdown", ".txt", ".rst", ".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".xml", ".html", ".htm",
    };

    // Tables: only the header line is text worth finding; the rest is data.
    private static readonly HashSet<string> HeaderExtensions = new(StringComparer.Ordinal) { ".csv", ".tsv" };

    private readonly ConcurrentDictionary<(string Bucket, string Key), DateTimeOffset> _pending = new();

    private ISearchIndex? Index => holder.Index;

    /// <summary>The store the feed and the scan read with: the gateway's own credentials.</summary>
    internal IObjectStore Store => s3.GatewayStore;

    /// <summary>An upload URL was handed out for bucket/key: index the object once it shows up (until <paramref name="expires"/>).</summary>
    public void UploadUrlIssued(string bucket, string key, DateTimeOffset expires)
    {
        if (Index is null || IsRegistryKey(key) || _pending.Count >= MaxPending)
            return;
        _pending[(bucket, key)] = expires;
    }

    /// <summary>Looks for the objects of handed-out upload URLs; indexes those that arrived, forgets expired ones.</summary>
    public async Task IndexPendingUploadsAsync(CancellationToken cancellationToken)
    {
        if (Index is null || _pending.IsEmpty)
            return;
        var now = time.GetUtcNow();
        foreach (var ((bucket, key), expires) in _pending.ToArray())
        {
            var found = await IndexObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
            // A POST may start just before its policy expires: give it a minute more.
            if (found || now > expires.AddMinutes(1))
                _pending.TryRemove((bucket, key), out _);
        }
    }

    /// <summary>Indexes the object at bucket/key (a HEAD, and its text when text-like); false when it is not there.</summary>
    public async Task<bool> IndexObjectAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        if (Index is not { } index || IsRegistryKey(key))
            return false;
        try
        {
            var info = await Store.HeadAsync(new ObjectRef(bucket, key), cancellationToken).ConfigureAwait(false);
            var document = await DocumentAsync(bucket, new ObjectSummary(key, info.Size, info.LastModified, info.ETag), info.VersionId, cancellationToken).ConfigureAwait(false);
            await index.UpsertObjectsAsync([document], cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogIndexFailed(logger, $"s3://{bucket}/{key}", ex);
            return false;
        }
    }

    /// <summary>Indexes a revision just published; the package's latest flag follows its 'latest' pointer.</summary>
    public async Task RevisionPublishedAsync(string bucket, string name, Manifest manifest, DateTimeOffset published, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (Index is not { } index)
            return;
        try
        {
            var pointer = published.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            await index.UpsertPackageRevisionsAsync([Document(bucket, name, manifest, pointer, published, isLatest: true)], cancellationToken).ConfigureAwait(false);
            await SyncLatestAsync(index, bucket, name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogIndexFailed(logger, $"quilt+s3://{bucket}#package={name}@{manifest.TopHash}", ex);
        }
    }

    /// <summary>Removes a deleted revision from the index and flags the revision 'latest' now points at (none when the package went with it).</summary>
    public async Task RevisionDeletedAsync(string bucket, string name, string hash, CancellationToken cancellationToken)
    {
        if (Index is not { } index)
            return;
        try
        {
            await index.RemovePackageRevisionsAsync(bucket, name, [hash], cancellationToken).ConfigureAwait(false);
            await SyncLatestAsync(index, bucket, name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogIndexFailed(logger, $"quilt+s3://{bucket}#package={name}@{hash} (deleted)", ex);
        }
    }

    // The pointer is re-read rather than assumed: another writer may have moved it since.
    private async Task SyncLatestAsync(ISearchIndex index, string bucket, string name, CancellationToken cancellationToken)
    {
        string? latest;
        try
        {
            latest = (await new PackageRegistry(Store, bucket).LatestAsync(name, cancellationToken).ConfigureAwait(false)).TopHash;
        }
        catch (PackageNotFoundException)
        {
            latest = null;
        }
        await index.SetLatestAsync(bucket, name, latest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the index stores for a package revision.</summary>
    internal static PackageRevisionDocument Document(string bucket, string name, Manifest manifest, string pointer, DateTimeOffset modified, bool isLatest) =>
        new(bucket, name, manifest.TopHash, pointer, modified, isLatest, manifest.Message, Element(manifest.UserMeta), Element(manifest.Workflow),
            manifest.TotalSize,
            [.. manifest.Entries.Select(e => new EntryDocument(e.LogicalKey, e.PhysicalKey, e.Size, e.Hash.Value, Element(e.Meta)))]);

    /// <summary>What the index stores for an object: its listing facts, and the start of its text when it is text-like and small.</summary>
    internal async Task<ObjectDocument> DocumentAsync(string bucket, ObjectSummary summary, string? version, CancellationToken cancellationToken)
    {
        string? text = null;
        var ext = Extension(summary.Key);
        var whole = WholeTextExtensions.Contains(ext);
        if ((whole || HeaderExtensions.Contains(ext)) && summary.Size > 0 && summary.Size <= options.Search.MaxTextObjectBytes)
            text = await ReadTextAsync(new ObjectRef(bucket, summary.Key), headerOnly: !whole, cancellationToken).ConfigureAwait(false);
        return new ObjectDocument(bucket, summary.Key, version, summary.Size, summary.LastModified, summary.ETag, Deleted: false, text);
    }

    private async Task<string?> ReadTextAsync(ObjectRef obj, bool headerOnly, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await Store.OpenReadAsync(obj, new ByteRange(0, MaxTextBytes), cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[MaxTextBytes];
                var read = 0;
                int n;
                while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
                    read += n;
                var text = Encoding.UTF8.GetString(buffer, 0, read);
                if (headerOnly)
                {
                    var end = text.IndexOfAny(['\r', '\n']);
                    text = end < 0 ? text : text[..end];
                }
                // Not text after all (NUL bytes): keep only the facts.
                return text.Contains('\0', StringComparison.Ordinal) ? null : text;
            }
        }
        catch (StorageException)
        {
            return null;
        }
    }

    internal static bool IsRegistryKey(string key) => key.StartsWith(".quilt/", StringComparison.Ordinal);

    private static string Extension(string key)
    {
        var name = key[(key.LastIndexOf('/') + 1)..];
        var dot = name.LastIndexOf('.');
        return dot <= 0 ? "" : name[dot..].ToLowerInvariant();
    }

    private static JsonElement? Element(JsonNode? node)
    {
        if (node is null)
            return null;
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Indexing {Target} for search failed; the next reconciliation scan will retry")]
    private static partial void LogIndexFailed(ILogger logger, string target, Exception exception);
}

/// <summary>
/// The reconciliation scan: lists every bucket the roles grant (paged, at most search.reconcileMaxObjects objects and
/// search.reconcileMaxRevisions manifests per bucket and scan) and brings the index in line: new or changed objects
/// and revisions added, vanished ones removed (only after a complete listing), each package's latest marked. Runs at
/// start (search.reconcileAtStart) and every search.reconcileIntervalSeconds; <see cref="RunOnceAsync"/> runs it now.
/// </summary>
public sealed partial class SearchReconciler(SearchIndexHolder holder, SearchFeed feed, RolePolicy policy, GatewayOptions options, TimeProvider time,
    ILogger<SearchReconciler> logger) : BackgroundService
{
    private const int UpsertBatch = 200;

    // Objects' text and packages' pointers and manifests are read this many at a time: each read waits on S3.
    private const int ReadConcurrency = 16;

    private readonly SemaphoreSlim _running = new(1, 1);

    // What this instance indexed in earlier scans (ETag per key, top hashes per package): only changes are re-read.
    private readonly Dictionary<string, Dictionary<string, string?>> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _revisions = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // In sidecar mode with search left to the Quilt stack, nobody queries this index: scanning S3 for it is waste.
        if (holder.Index is null || (options.Upstream.IsSet && !options.Upstream.SearchFromGatewayIndex))
            return;
        if (options.Search.ReconcileAtStart)
            await TryRunAsync(stoppingToken).ConfigureAwait(false);
        if (options.Search.ReconcileIntervalSeconds <= 0)
            return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Search.ReconcileIntervalSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            await TryRunAsync(stoppingToken).ConfigureAwait(false);
    }

    private async Task TryRunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogScanFailed(logger, ex);
        }
    }

    /// <summary>Scans every granted bucket once (one scan at a time).</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (holder.Index is not { } index)
            return;
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var buckets = policy.RoleNames.SelectMany(policy.Buckets).Distinct(StringComparer.Ordinal).ToList();
            foreach (var bucket in buckets)
            {
                try
                {
                    await ObjectsAsync(index, bucket, cancellationToken).ConfigureAwait(false);
                    await PackagesAsync(index, bucket, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StorageException or PackageException)
                {
                    LogBucketFailed(logger, bucket, ex);
                }
            }
        }
        finally
        {
            _running.Release();
        }
    }

    private async Task ObjectsAsync(ISearchIndex index, string bucket, CancellationToken cancellationToken)
    {
        var known = _objects.TryGetValue(bucket, out var k) ? k : _objects[bucket] = new Dictionary<string, string?>(StringComparer.Ordinal);
        var seen = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? token = null;
        var complete = true;
        do
        {
            var page = await feed.Store.ListAsync(new ListRequest(bucket, "", null, 1000, token), cancellationToken).ConfigureAwait(false);
            var changed = new List<ObjectSummary>();
            foreach (var summary in page.Objects)
            {
                if (SearchFeed.IsRegistryKey(summary.Key) || summary.Key.EndsWith('/'))
                    continue;
                seen[summary.Key] = summary.ETag;
                if (!known.TryGetValue(summary.Key, out var etag) || etag != summary.ETag)
                    changed.Add(summary);
            }
            foreach (var batch in changed.Chunk(UpsertBatch))
            {
                var documents = new ObjectDocument[batch.Length];
                await Parallel.ForAsync(0, batch.Length, Reads(cancellationToken), async (i, ct) =>
                    documents[i] = await feed.DocumentAsync(bucket, batch[i], null, ct).ConfigureAwait(false)).ConfigureAwait(false);
                await index.UpsertObjectsAsync(documents, cancellationToken).ConfigureAwait(false);
            }
            token = page.NextContinuationToken;
            if (token is not null && seen.Count >= options.Search.ReconcileMaxObjects)
            {
                complete = false;
                break;
            }
        }
        while (token is not null);
        if (complete)
        {
            var gone = known.Keys.Where(key => !seen.ContainsKey(key)).ToList();
            await index.RemoveObjectsAsync(bucket, gone, cancellationToken).ConfigureAwait(false);
            _objects[bucket] = seen;
        }
        else
        {
            foreach (var (key, etag) in seen)
                known[key] = etag;
        }
    }

    private async Task PackagesAsync(ISearchIndex index, string bucket, CancellationToken cancellationToken)
    {
        var registry = new PackageRegistry(feed.Store, bucket);
        var known = _revisions.TryGetValue(bucket, out var k) ? k : _revisions[bucket] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var names = await registry.ListPackagesAsync(null, cancellationToken).ConfigureAwait(false);
        var manifestsRead = 0;
        // A chunk of packages is read at a time, several at once; the index is then written package by package.
        foreach (var chunk in names.Chunk(ReadConcurrency * 4))
        {
            var scanned = new PackageScan?[chunk.Length];
            await Parallel.ForAsync(0, chunk.Length, Reads(cancellationToken), async (i, ct) =>
            {
                var name = chunk[i];
                IReadOnlyList<PackageRevision> revisions;
                string latest;
                try
                {
                    revisions = await registry.ListRevisionsAsync(name, ct).ConfigureAwait(false);
                    latest = (await registry.LatestAsync(name, ct).ConfigureAwait(false)).TopHash;
                }
                catch (PackageNotFoundException)
                {
                    return;
                }
                // Only read here: known is written below, once every read of the chunk is done.
                var indexed = known.GetValueOrDefault(name);
                // Newest pointer first, so a hash pointed at twice gets its newest time.
                var current = revisions.GroupBy(r => r.TopHash, StringComparer.Ordinal).Select(g => g.First()).ToList();
                var documents = new List<PackageRevisionDocument>();
                foreach (var revision in current.Where(r => indexed?.Contains(r.TopHash) != true))
                {
                    if (Interlocked.Increment(ref manifestsRead) > options.Search.ReconcileMaxRevisions)
                        break;
                    Manifest manifest;
                    try
                    {
                        manifest = await registry.GetManifestAsync(revision.TopHash, ct).ConfigureAwait(false);
                    }
                    catch (PackageException ex)
                    {
                        LogBucketFailed(logger, $"{bucket} ({name}@{revision.TopHash})", ex);
                        continue;
                    }
                    var pointer = revision.PointerKey[(revision.PointerKey.LastIndexOf('/') + 1)..];
                    documents.Add(SearchFeed.Document(bucket, name, manifest, pointer, revision.Time, revision.TopHash == latest));
                }
                scanned[i] = new PackageScan(name, current, latest, documents);
            }).ConfigureAwait(false);

            foreach (var scan in scanned)
            {
                if (scan is null)
                    continue;
                var indexed = known.TryGetValue(scan.Name, out var h) ? h : known[scan.Name] = new HashSet<string>(StringComparer.Ordinal);
                await index.UpsertPackageRevisionsAsync(scan.Documents, cancellationToken).ConfigureAwait(false);
                foreach (var d in scan.Documents)
                    indexed.Add(d.Hash);
                var gone = indexed.Where(hash => scan.Current.All(r => r.TopHash != hash)).ToList();
                if (gone.Count > 0)
                {
                    await index.RemovePackageRevisionsAsync(bucket, scan.Name, gone, cancellationToken).ConfigureAwait(false);
                    indexed.ExceptWith(gone);
                }
                await index.SetLatestAsync(bucket, scan.Name, scan.Latest, cancellationToken).ConfigureAwait(false);
            }
        }
        foreach (var name in known.Keys.Where(n => !names.Contains(n, StringComparer.Ordinal)).ToList())
        {
            await index.SetLatestAsync(bucket, name, null, cancellationToken).ConfigureAwait(false);
            known.Remove(name);
        }
    }

    private static ParallelOptions Reads(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = ReadConcurrency, CancellationToken = cancellationToken };

    /// <summary>What one scan read of a package: its revisions (one per top hash), the one 'latest' names, and the new ones' documents.</summary>
    private sealed record PackageScan(string Name, List<PackageRevision> Current, string Latest, List<PackageRevisionDocument> Documents);

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The search reconciliation scan failed; it will run again at the next interval")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The search reconciliation scan could not read {Bucket}; it will try again at the next interval")]
    private static partial void LogBucketFailed(ILogger logger, string bucket, Exception exception);
}
