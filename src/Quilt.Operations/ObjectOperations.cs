using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Quilt.Operations.Models;
using Quilt.Operations.Previews;
using Quilt.Packages;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// What can be done to objects in buckets (list, info, read, fetch, link, put, copy, delete), with arguments already
/// resolved by <see cref="ObjectUriResolver"/> under the bucket policy. The MCP tools and the CLI's object commands are
/// adapters over it: the same checks, the same messages, the same overwrite rules whichever front end called.
/// </summary>
/// <param name="localRoots">The folders the caller lets local paths (put's localPath, fetch's destination) lie in; null for no limit.</param>
public sealed class ObjectOperations(IObjectStore store, ObjectUriResolver uris, BucketAccessPolicy policy, OperationSettings settings,
    ILocalRoots? localRoots = null)
{
    public const int MaxObjectsPerPut = 1000;
    private const int MaxMetadataBytes = 2048;
    /// <summary>How much a text read takes when the caller names no size (less when the server's limit is lower).</summary>
    public const int DefaultTextBytes = 64 * 1024;

    public IObjectStore Store { get; } = store;
    public ObjectUriResolver Uris { get; } = uris;
    public BucketAccessPolicy Policy { get; } = policy;
    public OperationSettings Settings { get; } = settings;

    public ILocalRoots? LocalRoots { get; } = localRoots;

    /// <summary>An object to read, from any URI form (package entries too); the message of a refusal names <paramref name="argument"/>.</summary>
    public async Task<ObjectSource> ReadableAsync(string? uri, string argument, CancellationToken cancellationToken)
    {
        var (obj, entry) = await Uris.ForReadWithEntryAsync(uri, argument, cancellationToken);
        return new ObjectSource(obj, entry);
    }

    public async Task<BucketsListResult> ListBucketsAsync(CancellationToken cancellationToken)
    {
        var storage = Settings.IsRegistryMode ? "registry" : Store.Scheme == "file" ? "local" : Store.Scheme;
        IReadOnlyList<BucketInfo>? listed = null;
        string? note = null;
        try
        {
            listed = await Store.ListBucketsAsync(cancellationToken);
        }
        catch (AccessDeniedException) when (Policy.AllowedBuckets.Count > 0)
        {
            note = "The storage would not list buckets with these credentials; showing the configured allow-list.";
        }

        IEnumerable<BucketEntry> entries;
        if (Policy.AllowedBuckets.Count > 0)
        {
            var created = listed?.ToDictionary(b => b.Name, b => b.CreatedAt, StringComparer.Ordinal);
            entries = Policy.AllowedBuckets.Select(name =>
                new BucketEntry(name, $"s3://{name}/", created is not null && created.TryGetValue(name, out var at) ? at : null));
            if (created is not null && Policy.AllowedBuckets.Any(b => !created.ContainsKey(b)))
            {
                note = "Some allowed buckets were not in the storage's own list: they may not exist yet"
                    + (Store.Scheme == "file" ? " (a local bucket is created by the first put)." : ", or these credentials cannot list them.");
            }
        }
        else
        {
            entries = listed!.OrderBy(b => b.Name, StringComparer.Ordinal).Select(b => new BucketEntry(b.Name, $"s3://{b.Name}/", b.CreatedAt));
        }
        if (Store is RegistryApiObjectStore registry)
            return await WithGrantsAsync(new BucketsListResult(storage, Policy.ReadOnly, Policy.AllowedBuckets.Count > 0, entries.ToList(), note), registry, cancellationToken);
        return new BucketsListResult(storage, Policy.ReadOnly, Policy.AllowedBuckets.Count > 0, entries.ToList(), note);
    }

    /// <summary>Registry mode: each bucket with the prefixes the caller's active role may read and write, and that role.</summary>
    private static async Task<BucketsListResult> WithGrantsAsync(BucketsListResult listed, RegistryApiObjectStore registry, CancellationToken cancellationToken)
    {
        var actions = new RegistryAccountActions(registry.Client);
        var me = await actions.MeAsync(cancellationToken);
        var grants = await actions.GrantsAsync(cancellationToken);
        if (grants is null)
        {
            return listed with
            {
                Role = me?.Role,
                Note = Join(listed.Note, "The registry does not say where your role may write: a write it may not make is refused with the registry's reason."),
            };
        }
        IReadOnlyList<string> Prefixes(string bucket, Func<RegistryGrant, bool> right) =>
            grants.Where(g => g.Bucket == bucket && right(g)).Select(g => g.Prefix).Distinct(StringComparer.Ordinal).ToList();
        var buckets = listed.Buckets.Select(b => b with { Read = Prefixes(b.Name, g => g.Read), Write = Prefixes(b.Name, g => g.Write) }).ToList();
        var others = me?.Roles.Where(r => r != me.Role).ToList() ?? [];
        var note = $"read and write: the key prefixes your role{(me?.Role is { } role ? $" '{role}'" : "")} may read and write (\"\" = the whole bucket)."
            + (others.Count > 0 ? $" Your other roles: {string.Join(", ", others)} (role_switch)." : "");
        return listed with { Buckets = buckets, Role = me?.Role, Note = Join(listed.Note, note) };
    }

    private static string? Join(string? first, string? second) => first is null ? second : second is null ? first : first + " " + second;

    /// <summary>
    /// One page of the objects under a prefix. <paramref name="bucket"/> is a bucket name or an s3://bucket/prefix URI
    /// (named 'bucket' in messages); <paramref name="delimiter"/> is '/' for one folder level or null for every key.
    /// </summary>
    public async Task<ObjectsListResult> ListObjectsAsync(string? bucket, string? prefix, string? delimiter, PageRequest page, CancellationToken cancellationToken)
    {
        var (bucketName, uriPrefix) = Uris.ForListing(bucket, "bucket");
        if (!string.IsNullOrEmpty(prefix) && uriPrefix.Length > 0)
            throw new OperationException($"The prefix was given twice: in 'bucket' ('{uriPrefix}') and in 'prefix' ('{prefix}'). Give it once.");
        var effectivePrefix = string.IsNullOrEmpty(prefix) ? uriPrefix : prefix;
        if (ObjectNames.PrefixError(effectivePrefix) is { } prefixError)
            throw new OperationException($"prefix: {prefixError}.");
        if (delimiter is { Length: 0 })
            delimiter = null;
        if (delimiter is not null && delimiter != "/")
            throw new OperationException($"delimiter '{delimiter}' is not supported: use '/' (folders) or leave it out.");

        var listing = await Store.ListAsync(new ListRequest(bucketName, effectivePrefix, delimiter, page.Size, page.Cursor), cancellationToken);
        return new ObjectsListResult(
            bucketName,
            effectivePrefix,
            ObjectUriResolver.FormatUri(bucketName, effectivePrefix),
            delimiter,
            listing.Objects.Select(o => new ObjectEntry(Relative(o.Key, effectivePrefix), o.Size, o.LastModified, o.ETag)).ToList(),
            listing.CommonPrefixes.Select(p => Relative(p, effectivePrefix)).ToList(),
            listing.NextContinuationToken,
            listing.IsTruncated);
    }

    // Every key a listing returns starts with its prefix; anything else (never expected) stays whole rather than cut wrong.
    private static string Relative(string key, string prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;

    public async Task<ObjectInfoResult> InfoAsync(ObjectSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var obj = source.Object;
        var info = await Store.HeadAsync(obj, cancellationToken);
        return new ObjectInfoResult(ObjectUriResolver.FormatUri(obj), info.Bucket, info.Key, info.Size, info.ContentType, info.ETag, info.LastModified,
            info.VersionId, info.Metadata, CatalogUrl(obj));
    }

    /// <summary>A page of an object's text, or a preview of a data file (CSV/TSV, JSON, JSONL, Parquet); never the whole of a large object.</summary>
    public async Task<ObjectTextResult> ReadTextAsync(ObjectSource source, TextReadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(request);
        var mode = (request.Format ?? "auto").Trim().ToLowerInvariant();
        if (mode is not ("auto" or "text" or "preview"))
            throw new OperationException($"format '{request.Format}' is not one of: auto, text, preview.");
        var offset = request.Offset;
        if (offset < 0)
            throw new OperationException($"offset {offset} is negative: give a byte offset from 0.");
        var limit = request.MaxBytes ?? Math.Min(DefaultTextBytes, Settings.MaxTextBytes);
        if (limit < 1)
            throw new OperationException($"maxBytes {limit} must be at least 1.");
        if (limit > Settings.MaxTextBytes)
        {
            throw new OperationException($"maxBytes {limit:N0} is over this server's limit of {Settings.MaxTextBytes:N0} bytes (--max-text-bytes). "
                + "Read in pages of at most that size with offset/nextOffset, or use bucket_object_fetch with a destination path for the whole object.");
        }
        if (request.Rows is < 0 or > 1000)
            throw new OperationException($"rows {request.Rows} is out of range: use 0 to 1000.");
        if (TextDecoding.Find(request.Encoding ?? "utf-8") is not var (textEncoding, encodingName))
            throw new OperationException($"Unknown encoding '{request.Encoding}'. Valid encodings: {TextDecoding.Names}.");

        var info = await Store.HeadAsync(source.Object, cancellationToken);
        var contentType = ContentTypes.Effective(info.ContentType, info.Key);
        // Pin the version read so that several range reads see the same bytes even if the object is replaced meanwhile.
        var reader = new ObjectText(Store, Pinned(source.Object, info), info, contentType, textEncoding, encodingName, source.Entry);
        var kind = ObjectText.Detect(info.Key, contentType);
        if (mode == "preview" || (mode == "auto" && offset == 0 && kind != TextKind.Text))
        {
            if (kind == TextKind.Text)
            {
                throw new OperationException($"There is no preview for {info.Key} ({contentType}); previews cover CSV, TSV, JSON, JSONL and Parquet. "
                    + "Use format 'text' to read it as text.");
            }
            if (offset != 0)
                throw new OperationException("A preview always starts at the beginning of the object: leave offset at 0, or use format 'text' to read from an offset.");
            return await reader.PreviewAsync(kind, limit, request.Rows, cancellationToken);
        }
        if (kind == TextKind.Parquet)
        {
            throw new OperationException($"{info.Key} is Parquet, a binary format: use format 'preview' (schema and first rows), "
                + "or bucket_object_fetch with a destination path to get the file.");
        }
        return await reader.ReadTextAsync(offset, limit, cancellationToken);
    }

    /// <summary>An object's bytes in memory, up to the inline limit; a package entry's are checked against its manifest first.</summary>
    public Task<InlineObject> FetchInlineAsync(ObjectSource source, CancellationToken cancellationToken) =>
        FetchInlineAsync(source, "Pass 'destination' (an absolute local path) to stream it to a file, use bucket_object_text to read "
            + "part of it or preview it, or bucket_object_link for a download URL.", cancellationToken);

    /// <summary>As <see cref="FetchInlineAsync(ObjectSource, CancellationToken)"/>; over the limit, the refusal ends with <paramref name="tooLargeAdvice"/>.</summary>
    public async Task<InlineObject> FetchInlineAsync(ObjectSource source, string tooLargeAdvice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (info, contentType, pinned) = await FetchTargetAsync(source, cancellationToken);
        var objUri = ObjectUriResolver.FormatUri(source.Object);
        if (info.Size > Settings.MaxInlineBytes)
            throw new OperationException($"{objUri} is {info.Size:N0} bytes, over this server's inline limit of {Settings.MaxInlineBytes:N0} bytes (--max-inline-bytes). {tooLargeAdvice}");
        var bytes = await ReadSmallAsync(pinned, Settings.MaxInlineBytes, cancellationToken);
        if (source.Entry is { } entry)
            EntryVerification.EnsureBytes(entry, bytes);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return new InlineObject(new ObjectFetchResult(objUri, bytes.Length, contentType, info.ETag, info.VersionId, true, null, hash,
            source.Entry is null ? null : true, Verification(source)), bytes);
    }

    /// <summary>
    /// Streams an object to a local file (absolute path; an existing folder receives the key's file name), whole or not
    /// at all; an existing file is replaced only with <paramref name="overwrite"/>, and never by bytes that fail a check.
    /// </summary>
    public async Task<ObjectFetchResult> FetchToFileAsync(ObjectSource source, string destination, bool overwrite, IProgress<ProgressUpdate>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        LocalFiles.EnsureAllowed(Settings, "destination");
        await LocalFiles.EnsureUnderRootsAsync(LocalRoots, LocalFiles.RequireAbsolute(destination, "destination"), "destination", cancellationToken);
        var (info, contentType, pinned) = await FetchTargetAsync(source, cancellationToken);
        var file = await LocalFiles.DownloadAsync(Store, pinned, info.Size, destination, overwrite, progress, source.Entry, cancellationToken);
        return new ObjectFetchResult(ObjectUriResolver.FormatUri(source.Object), info.Size, contentType, info.ETag, info.VersionId, false, file.Path, file.Sha256,
            source.Entry is null ? null : true, Verification(source));
    }

    /// <summary>
    /// Streams an object's bytes to <paramref name="output"/> (standard output, say). A package entry's bytes are checked
    /// as they pass; a mismatch is an error at the end, when the bytes have already gone out.
    /// </summary>
    public async Task<long> CopyToAsync(ObjectSource source, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(output);
        var (info, _, pinned) = await FetchTargetAsync(source, cancellationToken);
        using var entryHash = source.Entry is null ? null : EntryVerification.NewHasher(source.Entry, info.Size);
        var input = await Store.OpenReadAsync(pinned, null, cancellationToken);
        await using (input.ConfigureAwait(false))
        {
            var buffer = new byte[1 << 20];
            long written = 0;
            int n;
            while ((n = await input.ReadAsync(buffer, cancellationToken)) > 0)
            {
                entryHash?.Append(buffer.AsSpan(0, n));
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                written += n;
            }
            await output.FlushAsync(cancellationToken);
            if (source.Entry is { } entry)
                EntryVerification.Ensure(entry, written, entryHash!.Finish());
            return written;
        }
    }

    /// <summary>A URL that downloads the object without credentials for a limited time, and its catalog page when a catalog host is set.</summary>
    public async Task<ObjectLinkResult> LinkAsync(ObjectSource source, int? expiresInSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var obj = source.Object;
        var most = (int)Math.Min(604800, Store.MaxDownloadUrlLifetime.TotalSeconds);
        var seconds = expiresInSeconds ?? Math.Min(3600, most);
        if (seconds < 1 || seconds > most)
            throw new OperationException($"expiresInSeconds {seconds} is out of range: use 1 to {most}{(most == 604800 ? " (7 days)" : " (the most this storage's links may live)")}.");
        // A link to nothing is refused now rather than failing when opened.
        await Store.HeadAsync(obj, cancellationToken);
        var expiresIn = TimeSpan.FromSeconds(seconds);
        var expiresAt = DateTimeOffset.UtcNow + expiresIn;
        var url = await Store.GetDownloadUrlAsync(obj, expiresIn, cancellationToken);
        var catalogUrl = CatalogUrl(obj);
        // A local folder has no server to hand a link to: its file:// URL is a path on this machine, not a link to share.
        var note = url.IsFile
            ? "This is a file:// URL on the server's machine: it cannot be shared or opened elsewhere, and it does not expire. "
                + "To share the object, put it in S3 (a server started with --storage s3) and ask for a link there."
            : null;
        return new ObjectLinkResult(ObjectUriResolver.FormatUri(obj), url.AbsoluteUri, expiresAt, catalogUrl, note);
    }

    /// <summary>
    /// The object's page in the Quilt catalog (<c>https://host/b/bucket/tree/key</c>, with <c>?version=</c> for a version) when
    /// a catalog host is set and the object is in S3 (a local folder is no catalog's); else null.
    /// </summary>
    public string? CatalogUrl(ObjectRef obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (Settings.CatalogHost is not { } host || Store.Scheme != "s3")
            return null;
        var path = string.Join('/', obj.Key.Split('/').Select(Uri.EscapeDataString));
        return $"https://{host}/b/{Uri.EscapeDataString(obj.Bucket)}/tree/{path}"
            + (obj.VersionId is null ? "" : "?version=" + Uri.EscapeDataString(obj.VersionId));
    }

    /// <summary>
    /// Writes one or many objects, each from exactly one source (text, base64 or a local file). Every item is checked
    /// before anything is written; items are named objects[i] in messages.
    /// </summary>
    public async Task<ObjectsPutResult> PutAsync(IReadOnlyList<PutObjectInput?>? objects, bool overwrite, IProgress<ProgressUpdate>? progress,
        CancellationToken cancellationToken)
    {
        if (objects is null || objects.Count == 0)
            throw new OperationException("objects is empty: give at least one { uri, text | base64 | localPath }.");
        if (objects.Count > MaxObjectsPerPut)
            throw new OperationException($"{objects.Count} objects is more than {MaxObjectsPerPut} in one call: split them into several calls.");

        // Check everything first, so that a bad item means nothing is written.
        var plans = new List<PutPlan>(objects.Count);
        var targets = new HashSet<(string, string)>();
        for (var i = 0; i < objects.Count; i++)
        {
            var plan = Plan(objects[i], $"objects[{i}]");
            if (plan.LocalFile is { } local)
                await LocalFiles.EnsureUnderRootsAsync(LocalRoots, local, $"objects[{i}].localPath", cancellationToken);
            if (!targets.Add((plan.Target.Bucket, plan.Target.Key)))
                throw new OperationException($"objects[{i}].uri {ObjectUriResolver.FormatUri(plan.Target)} appears more than once. Give each target once.");
            plans.Add(plan);
        }
        // One object: the store's own conditional write refuses an existing key (one lookup). Several must be refused
        // together before any is written, so they are looked up first.
        if (!overwrite && plans.Count > 1)
        {
            foreach (var plan in plans)
                await EnsureAbsentAsync(plan.Target, PutRefusal, cancellationToken);
        }

        var total = plans.Sum(p => p.Size);
        var tracker = new TransferProgress(progress, total, "Uploaded");
        var written = new List<PutObjectEntry>(plans.Count);
        long offset = 0;
        foreach (var plan in plans)
        {
            try
            {
                written.Add(await WriteAsync(plan, overwrite, tracker.ForObject(offset), cancellationToken));
            }
            catch (ObjectExistsException e) when (plans.Count == 1)
            {
                throw new OperationException(Exists(plan.Target, PutRefusal), e);
            }
            catch (Exception e) when (e is StorageException or OperationException or IOException or UnauthorizedAccessException)
            {
                var done = written.Count == 0 ? "No object was written" : $"{written.Count} of {plans.Count} were written ({string.Join(", ", written.Select(w => w.Uri))})";
                // A structured error (such as a registry without upload: workarounds, backend feature needed) follows, for programs.
                throw new OperationException(
                    $"Writing {ObjectUriResolver.FormatUri(plan.Target)} failed: {e.Message} {done}; the rest were not attempted.{ErrorDetails.Suffix(e)}", e);
            }
            offset += plan.Size;
            tracker.Set(offset);
        }
        return new ObjectsPutResult(written, total);
    }

    /// <summary>
    /// Writes one object from a stream of unknown length (standard input, say), under the same rules as <see cref="PutAsync"/>:
    /// <paramref name="target"/> from <see cref="ObjectUriResolver.ForWrite"/>, the content type checked (guessed from the key when null).
    /// </summary>
    public async Task<PutObjectEntry> PutStreamAsync(ObjectRef target, Stream content, string? contentType, bool overwrite, IProgress<ProgressUpdate>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(content);
        var type = ContentTypeOf(contentType, target, "contentType");
        // No total to count towards: each update says how much is up so far.
        var throttle = progress is null ? null : new ProgressThrottle(progress, decorate: u => u with { Message = $"Uploaded {TransferProgress.FormatBytes((long)u.Done)}" });
        var uploaded = throttle is null ? null : new SyncProgress<long>(done => throttle.Report(new ProgressUpdate(done, null, null)));
        try
        {
            return await WriteAsync(new PutPlan(target, 0, type, null, () => content, OwnsContent: false), overwrite, uploaded, cancellationToken);
        }
        catch (ObjectExistsException e)
        {
            throw new OperationException(Exists(target, PutRefusal), e);
        }
    }

    /// <summary>Where a copy of <paramref name="source"/> lands: <paramref name="destination"/>, or with '/' at its end the source's file name under it.</summary>
    public ObjectRef CopyDestination(ObjectSource source, string? destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        var destinationText = ObjectUriResolver.Require(destination, "destination");
        if (destinationText.EndsWith('/'))
            destinationText += source.Object.Key[(source.Object.Key.LastIndexOf('/') + 1)..];
        return Uris.ForWrite(destinationText, "destination");
    }

    /// <summary>
    /// Which of the targets a put would write exist now, as URIs (for a confirmation before they are replaced). An item that
    /// does not name a target this server may write is left to <see cref="PutAsync"/>, which refuses it with its own message.
    /// </summary>
    public async Task<IReadOnlyList<string>> ExistingPutTargetsAsync(IReadOnlyList<PutObjectInput?>? objects, CancellationToken cancellationToken)
    {
        var existing = new List<string>();
        foreach (var uri in (objects ?? []).Take(MaxObjectsPerPut).Select(o => o?.Uri).Distinct(StringComparer.Ordinal))
        {
            ObjectRef target;
            try
            {
                target = Uris.ForWrite(uri, "uri");
            }
            catch (OperationException)
            {
                continue;
            }
            if (await ExistsAsync(target, cancellationToken))
                existing.Add(ObjectUriResolver.FormatUri(target));
        }
        return existing;
    }

    /// <summary>Whether an object exists now (one lookup).</summary>
    public async Task<bool> ExistsAsync(ObjectRef target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        try
        {
            await Store.HeadAsync(target, cancellationToken);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Copies an object on the storage side (no download); <paramref name="destination"/> ending in '/' keeps the source's file name.</summary>
    public async Task<ObjectCopyResult> CopyAsync(ObjectSource source, string? destination, bool overwrite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var from = source.Object;
        var to = CopyDestination(source, destination);
        if (from.Bucket == to.Bucket && from.Key == to.Key && from.VersionId is null)
            throw new OperationException($"source and destination are the same object ({ObjectUriResolver.FormatUri(to)}). Choose another destination key.");
        // The store's copy looks the source up itself (a missing source is its ObjectNotFoundException); a copy has no
        // conditional form, so the destination is looked up here when it must not be replaced.
        if (!overwrite)
            await EnsureAbsentAsync(to, "Nothing was copied. Pass overwrite=true to replace it, or choose another key.", cancellationToken);
        var result = await Store.CopyAsync(from, to.Bucket, to.Key, cancellationToken);
        return new ObjectCopyResult(ObjectUriResolver.FormatUri(from), ObjectUriResolver.FormatUri(to), result.Size, result.ETag, result.VersionId);
    }

    /// <summary>Deletes one object (or one version); deleting what does not exist is not an error.</summary>
    public async Task<ObjectDeleteResult> DeleteAsync(ObjectRef obj, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(obj);
        bool existed;
        try
        {
            await Store.HeadAsync(obj, cancellationToken);
            existed = true;
        }
        catch (ObjectNotFoundException)
        {
            existed = false;
        }
        await Store.DeleteAsync(obj, cancellationToken);
        return new ObjectDeleteResult(ObjectUriResolver.FormatUri(obj), existed);
    }

    private const string PutRefusal = "Nothing was written. Pass overwrite=true to replace it, or choose another key.";

    private static string Exists(ObjectRef target, string advice) =>
        $"{ObjectUriResolver.FormatUri(target)} already exists and overwrite is false. {advice}";

    private static string? Verification(ObjectSource source) =>
        // A fetch reads the whole entry: it is checked, and a mismatch is an error that delivers nothing.
        source.Entry is { } entry ? $"The whole entry was read: it matches the size and {entry.Hash.Type} hash its manifest records." : null;

    private async Task<(ObjectInfo Info, string ContentType, ObjectRef Pinned)> FetchTargetAsync(ObjectSource source, CancellationToken cancellationToken)
    {
        var info = await Store.HeadAsync(source.Object, cancellationToken);
        return (info, ContentTypes.Effective(info.ContentType, info.Key), Pinned(source.Object, info));
    }

    /// <summary>The version read, so that what is read is the object the HEAD described even if it is replaced meanwhile.</summary>
    private static ObjectRef Pinned(ObjectRef obj, ObjectInfo info) =>
        obj.VersionId is null && info.VersionId is { Length: > 0 } v && v != "null" ? obj with { VersionId = v } : obj;

    private async Task<byte[]> ReadSmallAsync(ObjectRef obj, long limit, CancellationToken cancellationToken)
    {
        await using var stream = await Store.OpenReadAsync(obj, null, cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                throw new OperationException($"{obj} grew past the inline limit of {limit:N0} bytes while it was read. "
                    + "Pass 'destination' (an absolute local path) to stream it to a file.");
            }
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    private async Task EnsureAbsentAsync(ObjectRef target, string advice, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(target, cancellationToken))
            throw new OperationException(Exists(target, advice));
    }

    private async Task<PutObjectEntry> WriteAsync(PutPlan plan, bool overwrite, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var request = new PutRequest(plan.Target.Bucket, plan.Target.Key)
        {
            Length = plan.OwnsContent ? plan.Size : null,
            ContentType = plan.ContentType,
            Metadata = plan.Metadata,
            Overwrite = overwrite,
        };
        var content = plan.Open();
        try
        {
            var result = await Store.PutAsync(request, content, progress, cancellationToken);
            return new PutObjectEntry(ObjectUriResolver.FormatUri(plan.Target), result.Size, plan.ContentType, result.ETag, result.VersionId);
        }
        finally
        {
            if (plan.OwnsContent)
                await content.DisposeAsync();
        }
    }

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post, and could deliver after the call returned).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed record PutPlan(ObjectRef Target, long Size, string ContentType, IReadOnlyDictionary<string, string>? Metadata, Func<Stream> Open,
        bool OwnsContent = true, string? LocalFile = null);

    private PutPlan Plan(PutObjectInput? item, string path)
    {
        if (item is null)
            throw new OperationException($"{path} is null: give {{ uri, text | base64 | localPath }}.");
        var target = Uris.ForWrite(item.Uri, $"{path}.uri");
        var sources = (item.Text is not null ? 1 : 0) + (item.Base64 is not null ? 1 : 0) + (item.LocalPath is not null ? 1 : 0);
        if (sources != 1)
        {
            throw new OperationException($"{path} gives {(sources == 0 ? "no" : sources.ToString(CultureInfo.InvariantCulture))} sources: "
                + "give exactly one of text, base64 or localPath.");
        }

        var contentType = ContentTypeOf(item.ContentType, target, $"{path}.contentType");
        var metadata = CheckMetadata(item.Metadata, path);
        var limit = Settings.MaxInlineBytes;
        var tooBig = $"over this server's inline limit of {limit:N0} bytes (--max-inline-bytes). Save the content to a file and pass it as localPath.";

        if (item.Text is { } text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (bytes.Length > limit)
                throw new OperationException($"{path}.text is {bytes.Length:N0} bytes, {tooBig}");
            if (item.ContentType is null && ContentTypes.Essence(contentType) == ContentTypes.Binary)
                contentType = "text/plain; charset=utf-8";
            return new PutPlan(target, bytes.Length, contentType, metadata, () => new MemoryStream(bytes, writable: false));
        }
        if (item.Base64 is { } base64)
        {
            var trimmed = base64.Trim();
            if ((long)trimmed.Length * 3 / 4 > limit + 3)
                throw new OperationException($"{path}.base64 holds about {(long)trimmed.Length * 3 / 4:N0} bytes, {tooBig}");
            var bytes = new byte[trimmed.Length * 3 / 4 + 3];
            if (!Convert.TryFromBase64String(trimmed, bytes, out var length))
                throw new OperationException($"{path}.base64 is not valid base64. Encode the bytes with standard base64 (A–Z, a–z, 0–9, '+', '/', '=' padding).");
            if (length > limit)
                throw new OperationException($"{path}.base64 is {length:N0} bytes, {tooBig}");
            return new PutPlan(target, length, contentType, metadata, () => new MemoryStream(bytes, 0, length, writable: false));
        }

        LocalFiles.EnsureAllowed(Settings, $"{path}.localPath");
        var file = LocalFiles.RequireFile(item.LocalPath!, $"{path}.localPath");
        if (item.ContentType is null && ContentTypes.Essence(contentType) == ContentTypes.Binary)
            contentType = ContentTypes.Guess(file.Name);
        return new PutPlan(target, file.Length, contentType, metadata,
            () => new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan),
            LocalFile: file.FullName);
    }

    /// <summary>The content type given (checked), else the one the key's extension suggests.</summary>
    private static string ContentTypeOf(string? given, ObjectRef target, string argument)
    {
        var contentType = given?.Trim() is { Length: > 0 } trimmed ? trimmed : ContentTypes.Guess(target.Key);
        if (ContentTypes.Error(contentType) is { } typeError)
            throw new OperationException($"{argument}: {typeError}.");
        return contentType;
    }

    /// <summary>
    /// S3 sends user metadata as HTTP headers: ASCII names that survive lower-casing, 2 KB in all. Values may be any
    /// text without control characters (the store encodes non-ASCII values).
    /// </summary>
    private static Dictionary<string, string>? CheckMetadata(IReadOnlyDictionary<string, string>? metadata, string path)
    {
        if (metadata is null || metadata.Count == 0)
            return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var size = 0;
        foreach (var (key, value) in metadata)
        {
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                throw new OperationException($"{path}.metadata key '{key}' is not allowed: use ASCII letters, digits, '-' and '_'.");
            if (value is null || value.Any(char.IsControl))
                throw new OperationException($"{path}.metadata['{key}'] has control characters (such as line breaks); metadata values are one line of text.");
            var normalized = key.ToLowerInvariant();
            if (!result.TryAdd(normalized, value))
                throw new OperationException($"{path}.metadata has '{key}' twice (names are case-insensitive).");
            size += normalized.Length + Encoding.UTF8.GetByteCount(value);
        }
        if (size > MaxMetadataBytes)
            throw new OperationException($"{path}.metadata is {size:N0} bytes; S3 allows {MaxMetadataBytes:N0} bytes of user metadata per object.");
        return result;
    }
}
