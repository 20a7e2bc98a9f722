using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Packages.Workflows;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// What can be done to packages (list, revisions, browse, diff, create, patch, delete a revision, push, get, verify),
/// with package arguments resolved once by <see cref="PackageTargets"/> and sources by <see cref="PackageSourceResolver"/>.
/// The MCP tools and the CLI's package commands are adapters over it: they map arguments in, and these results out.
/// </summary>
public sealed class PackageOperations(PackageTargets targets, PackageSourceResolver sources, PackageService packages, OperationSettings settings)
{
    /// <summary>How many keys of each kind a change list names (the counts are whole).</summary>
    public const int MaxListedChanges = 200;

    public PackageTargets Targets { get; } = targets;
    public PackageSourceResolver Sources { get; } = sources;
    public PackageService Packages { get; } = packages;
    public OperationSettings Settings { get; } = settings;

    /// <summary>A package argument (a name plus an optional registry, or a quilt+s3:// URI) checked once, for reading or writing.</summary>
    public PackageTarget Target(string? package, string? registry, string? revision = null, bool write = false)
    {
        if (write)
            EnsureWritable();
        return Targets.Resolve(package, registry, revision, write);
    }

    /// <summary>
    /// The quilt+s3 URI of one entry, pinned to the revision's top hash resolved now: the entry read is the one of this
    /// revision even if latest moves meanwhile. <paramref name="path"/> as given (quilt3 keeps keys such as '/abs'), else the URI's.
    /// </summary>
    public async Task<string> EntryUriAsync(string? package, string? path, string? registry, string? revision, CancellationToken cancellationToken)
    {
        var target = Target(package, registry, revision);
        var key = PathOf(path, target);
        if (key.Length == 0)
            throw new OperationException("path is required: give the entry's logical key (or a package URI with &path=). Use package_browse to see the keys.");
        var hash = await target.Registry.ResolveTopHashAsync(target.Name, target.Revision, cancellationToken);
        return target.Uri(hash, key);
    }

    /// <summary>How many packages of a page have their latest revision read at once.</summary>
    public const int ListReadConcurrency = 8;

    /// <summary>How much of a package's metadata a list shows per package (whole top-level keys, in order).</summary>
    public const int ListedMetadataBytes = 512;

    /// <summary>
    /// The packages of a registry bucket, in name order, a page at a time, each with its latest revision (top hash, time,
    /// message, bounded metadata, entries and size): read for the page only, several at once.
    /// </summary>
    public async Task<PackageNameList> ListAsync(string? registry, string? filter, PageRequest page, CancellationToken cancellationToken)
    {
        var (bucket, names) = await NamesAsync(registry, filter, cancellationToken);
        var listed = names.Skip(page.Offset).Take(page.Size).ToList();
        var packageRegistry = Targets.Registry(bucket);
        var items = new PackageListItem[listed.Count];
        await Parallel.ForAsync(0, listed.Count, new ParallelOptions { MaxDegreeOfParallelism = ListReadConcurrency, CancellationToken = cancellationToken },
            async (i, ct) => items[i] = await ListItemAsync(packageRegistry, listed[i], ct));
        return new PackageNameList(bucket, items, names.Count, page.NextCursor(names.Count));
    }

    private static async Task<PackageListItem> ListItemAsync(PackageRegistry registry, string name, CancellationToken cancellationToken)
    {
        try
        {
            var (hash, time) = await registry.LatestAsync(name, cancellationToken);
            var manifest = await registry.GetManifestAsync(hash, cancellationToken);
            var (metadata, truncated) = BoundedMetadata(manifest.UserMeta, ListedMetadataBytes);
            return new PackageListItem(name, hash, time, manifest.Message, metadata, truncated, manifest.Entries.Count, manifest.TotalSize);
        }
        catch (Exception e) when (e is PackageException or StorageException)
        {
            // One damaged or vanished package does not hide the others.
            return new PackageListItem(name, null, null, null, null, false, null, null, e.Message);
        }
    }

    /// <summary>The top-level keys of <paramref name="metadata"/>, in order, while their JSON fits in <paramref name="maxBytes"/>; whether any were left out.</summary>
    public static (JsonElement? Metadata, bool Truncated) BoundedMetadata(JsonNode? metadata, int maxBytes)
    {
        if (metadata is null)
            return (null, false);
        if (Encoding.UTF8.GetByteCount(metadata.ToJsonString()) <= maxBytes)
            return (PackageSourceResolver.ToElement(metadata), false);
        if (metadata is not JsonObject obj)
            return (null, true);
        var kept = new JsonObject();
        var used = 2; // {}
        foreach (var (key, value) in obj)
        {
            var size = Encoding.UTF8.GetByteCount(new JsonObject { [key] = value?.DeepClone() }.ToJsonString()) - 2 + (kept.Count > 0 ? 1 : 0);
            if (used + size > maxBytes)
                continue;
            kept[key] = value?.DeepClone();
            used += size;
        }
        return (PackageSourceResolver.ToElement(kept), true);
    }

    /// <summary>Every package name of a registry bucket (containing <paramref name="filter"/>, case-insensitive), in name order.</summary>
    public async Task<(string Registry, IReadOnlyList<string> Names)> NamesAsync(string? registry, string? filter, CancellationToken cancellationToken)
    {
        var bucket = Targets.DefaultRegistry(registry);
        Targets.Policy.EnsureCanRead(bucket, "registry");
        var names = await Targets.Registry(bucket).ListPackagesAsync(string.IsNullOrWhiteSpace(filter) ? null : filter, cancellationToken);
        return (bucket, names);
    }

    /// <summary>
    /// A package's revisions, newest first, at most <paramref name="limit"/> (1 to 1000; null for all), each with its
    /// manifest (for the CLI's lines) and as the tools list it.
    /// </summary>
    public async Task<PackageHistory> RevisionsAsync(PackageTarget target, int? limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (limit is < 1 or > PageRequest.MaxSize)
            throw new OperationException($"limit {limit} is out of range: use 1 to {PageRequest.MaxSize}.");
        var revisions = await target.Registry.ListRevisionsAsync(target.Name, cancellationToken);
        var manifests = new List<(PackageRevision Revision, Manifest Manifest)>();
        var items = new List<PackageRevisionItem>();
        foreach (var revision in revisions.Take(limit ?? int.MaxValue))
        {
            var manifest = await Targets.GetManifestAsync(target.Registry, revision.TopHash, cancellationToken);
            manifests.Add((revision, manifest));
            items.Add(new PackageRevisionItem(revision.TopHash, revision.Time, manifest.Message, PackageSourceResolver.ToElement(manifest.UserMeta),
                manifest.Entries.Count, manifest.TotalSize, target.Uri(revision.TopHash)));
        }
        return new PackageHistory(manifests, new PackageRevisionList(target.Name, target.Registry.Bucket, items, revisions.Count));
    }

    /// <summary>The revision a target names, its top hash resolved (so what is read is that revision even if latest moves).</summary>
    public async Task<PackageContent> RevisionAsync(PackageTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var (hash, manifest) = await Targets.BrowseAsync(target, cancellationToken);
        return new PackageContent(target, hash, manifest);
    }

    /// <summary>
    /// One folder level of a revision (or, for a path naming a file, that file), a page at a time. The path is the
    /// argument, else the package URI's <c>&amp;path=</c>; both given must agree.
    /// </summary>
    public async Task<PackageBrowseResult> BrowseAsync(PackageTarget target, string? path, PageRequest page, CancellationToken cancellationToken)
    {
        var (_, hash, manifest) = await RevisionAsync(target, cancellationToken);
        var given = PathOf(path, target).Trim();
        var tidy = given.Trim('/');
        if ((manifest.Find(given) ?? manifest.Find(tidy)) is { } file)
        {
            // A path naming a file (a URI's &path= to an entry, as the catalog opens it): that file, in its folder.
            var parentPrefix = file.LogicalKey[..(file.LogicalKey.LastIndexOf('/') + 1)];
            var parent = parentPrefix.Length == 0 ? "" : parentPrefix[..^1];
            return new PackageBrowseResult(target.Name, target.Registry.Bucket, hash, manifest.Message, PackageSourceResolver.ToElement(manifest.UserMeta),
                parent, parentPrefix, [], [FileItem(parentPrefix, file)], 1, manifest.Entries.Count, manifest.TotalSize, null,
                target.Uri(hash), CatalogUrl(target, hash, file.LogicalKey), FolderMetadata(manifest, parent.Length == 0 ? "" : parent + "/"));
        }
        // A folder as browse lists it (ending in '/') is taken as it is when entries are below it: quilt3 keeps keys such
        // as '/abs' or 'a//b', whose folders ('/', 'a//') no tidying of the path reaches.
        var prefix = given.EndsWith('/') && manifest.Entries.Any(e => e.LogicalKey.StartsWith(given, StringComparison.Ordinal)) ? given
            : tidy.Length == 0 ? "" : tidy + "/";
        var folder = prefix.Length == 0 ? "" : prefix[..^1];

        var folders = new SortedDictionary<string, (int Count, long Size)>(StringComparer.Ordinal);
        var files = new List<ManifestEntry>();
        foreach (var entry in manifest.Entries)
        {
            if (!entry.LogicalKey.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var rest = entry.LogicalKey.AsSpan(prefix.Length);
            var slash = rest.IndexOf('/');
            if (slash < 0)
            {
                files.Add(entry);
                continue;
            }
            var sub = prefix + rest[..(slash + 1)].ToString();
            folders[sub] = folders.TryGetValue(sub, out var f) ? (f.Count + 1, f.Size + entry.Size) : (1, entry.Size);
        }
        if (prefix.Length > 0 && folders.Count == 0 && files.Count == 0)
            throw new OperationException($"{target.Name}@{hash[..10]} has no folder '{folder}'. Browse the root to see its folders.");

        var total = folders.Count + files.Count;
        var offset = page.Offset;
        var folderItems = folders.Skip(offset).Take(page.Size)
            .Select(kv => new PackageFolderItem(kv.Key[prefix.Length..], kv.Value.Count, kv.Value.Size, FolderMetadata(manifest, kv.Key))).ToList();
        var fileItems = files.Skip(Math.Max(0, offset - folders.Count)).Take(page.Size - folderItems.Count)
            .Select(e => FileItem(prefix, e))
            .ToList();
        return new PackageBrowseResult(target.Name, target.Registry.Bucket, hash, manifest.Message, PackageSourceResolver.ToElement(manifest.UserMeta),
            folder, prefix, folderItems, fileItems, total, manifest.Entries.Count, manifest.TotalSize, page.NextCursor(total),
            target.Uri(hash), CatalogUrl(target, hash, prefix.Length == 0 ? null : prefix), FolderMetadata(manifest, prefix));
    }

    /// <summary>The path argument, else the package URI's &amp;path=; both given must agree.</summary>
    public static string PathOf(string? path, PackageTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (string.IsNullOrEmpty(path))
            return target.Path ?? "";
        if (target.Path is not null && target.Path.Trim('/') != path.Trim().Trim('/'))
            throw new OperationException($"path '{path}' disagrees with the package URI's &path= '{target.Path}'; give one of them.");
        return path;
    }

    /// <summary>
    /// The differences between two revisions, each with why (old and new hash, size, metadata keys) and renames paired;
    /// <paramref name="from"/> defaults to the one before <paramref name="to"/> (default latest).
    /// </summary>
    public async Task<PackageComparison> DiffAsync(PackageTarget target, string? from, string? to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var toHash = await target.Registry.ResolveTopHashAsync(target.Name, to, cancellationToken);
        string fromHash;
        if (!string.IsNullOrWhiteSpace(from))
        {
            fromHash = await target.Registry.ResolveTopHashAsync(target.Name, from, cancellationToken);
        }
        else
        {
            var revisions = await target.Registry.ListRevisionsAsync(target.Name, cancellationToken);
            var index = revisions.ToList().FindIndex(r => r.TopHash == toHash);
            fromHash = index >= 0 && index + 1 < revisions.Count ? revisions[index + 1].TopHash
                : throw new OperationException($"{target.Name}@{toHash[..10]} has no earlier revision to compare with; give 'from'.");
        }
        var before = await Targets.GetManifestAsync(target.Registry, fromHash, cancellationToken);
        var after = await Targets.GetManifestAsync(target.Registry, toHash, cancellationToken);
        var diff = PackageDiff.Compute(before, after);
        return new PackageComparison(before, after, diff, PackageDiffDetails.Result(target.Name, fromHash, toHash, before, after, diff, MaxListedChanges));
    }

    /// <summary>
    /// Links to a revision (pinned at its top hash) or to an entry or folder in it: the quilt+s3 URI, the catalog page when a
    /// catalog host is set, and for an entry a download URL of its data (<see cref="ObjectOperations.LinkAsync"/>).
    /// </summary>
    public async Task<PackageLinkResult> LinkAsync(PackageTarget target, string? path, int? expiresInSeconds, ObjectOperations objects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(objects);
        var (_, hash, manifest) = await RevisionAsync(target, cancellationToken);
        var given = PathOf(path, target).Trim();
        var result = new PackageLinkResult(target.Name, target.Registry.Bucket, hash, null, target.Uri(hash), CatalogUrl(target, hash), null);
        if (given.Length == 0)
            return result;
        // As browse takes a path: a key as given (quilt3 keeps keys such as '/abs'), else tidied; else a folder.
        if ((manifest.Find(given) ?? manifest.Find(given.Trim('/'))) is { } entry)
        {
            var entryUri = target.Uri(hash, entry.LogicalKey);
            var download = await objects.LinkAsync(await objects.ReadableAsync(entryUri, "path", cancellationToken), expiresInSeconds, cancellationToken);
            return result with { Path = entry.LogicalKey, Uri = entryUri, CatalogUrl = CatalogUrl(target, hash, entry.LogicalKey), Download = download };
        }
        var folder = given.EndsWith('/') && manifest.Entries.Any(e => e.LogicalKey.StartsWith(given, StringComparison.Ordinal)) ? given : given.Trim('/') + "/";
        if (folder == "/" || !manifest.Entries.Any(e => e.LogicalKey.StartsWith(folder, StringComparison.Ordinal)))
            throw new OperationException($"'{given}' is neither an entry nor a folder of {target.Name}@{hash[..10]}. Use package_browse to see its keys.");
        return result with { Path = folder, Uri = target.Uri(hash, folder), CatalogUrl = CatalogUrl(target, hash, folder) };
    }

    /// <summary>Builds and publishes a new package (with Overwrite, a new revision of an existing one).</summary>
    public async Task<PackageWritten> CreateAsync(PackageTarget target, PackageCreateInput input, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(input);
        EnsureWritable();
        if (target.Revision is not null)
            throw new OperationException("package: a new revision gets its own top hash; leave @hash or :tag out of the package URI.");
        if (input.Sources.Count == 0)
            throw new OperationException("sources is required: give at least one item (an s3:// URI, a local path, or text with a logicalKey).");
        var copy = CopiesData(input.Copy);
        var packageProgress = ProgressOf(progress);
        var entries = await Sources.ResolveAsync(input.Sources, copy, input.AlwaysCopyLocalFiles, cancellationToken);
        PackageSourceResolver.SetEntryMetadata(entries, input.EntryMetadata, input.EntryMetadataArgument);
        var result = await Packages.CreateAsync(target.Registry, new CreatePackageRequest(target.Name, entries)
        {
            Message = input.Message,
            UserMeta = input.Metadata,
            NullUserMeta = input.NullMetadata,
            DirectoryMeta = input.DirectoryMetadata,
            Workflow = input.Workflow,
            CopyData = copy,
            Overwrite = input.Overwrite,
        }, packageProgress, cancellationToken);
        packageProgress?.Complete();
        return Written(target, result);
    }

    /// <summary>A new revision of an existing package from its latest (or the target's) revision, with the changes given.</summary>
    public async Task<PackageWritten> PatchAsync(PackageTarget target, PackagePatchInput input, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(input);
        EnsureWritable();
        var copy = CopiesData(input.Copy);
        if (input.Add.Count == 0 && input.Remove.Count == 0 && input.Rename.Count == 0 && input.EntryMetadata.Count == 0 && input.DirectoryMetadata.Count == 0
            && input.Metadata is null && !input.NullMetadata && input.Message is null && input.Workflow is null)
            throw new OperationException("Nothing to change: give add, remove, rename, entryMetadata, directoryMetadata, message, metadata or workflow.");
        foreach (var (from, to) in input.Rename)
        {
            try
            {
                Names.ValidateLogicalKey(to);
            }
            catch (InvalidNameException e)
            {
                throw new OperationException($"rename['{from}']: {e.Message}");
            }
        }
        var added = await Sources.ResolveAsync(input.Add, copy, alwaysCopyLocalFiles: true, cancellationToken);
        var packageProgress = ProgressOf(progress);
        var result = await Packages.UpdateAsync(target.Registry, target.Name, new PackageUpdate
        {
            Add = added,
            Remove = input.Remove,
            Rename = input.Rename,
            SetEntryMeta = input.EntryMetadata,
            SetDirectoryMeta = input.DirectoryMetadata,
            Message = input.Message,
            UserMeta = input.Metadata,
            NullUserMeta = input.NullMetadata,
            Workflow = WorkflowChoice.Parse(input.Workflow),
            CopyData = copy,
            BaseRevision = target.Revision,
        }, packageProgress, cancellationToken);
        packageProgress?.Complete();
        return Written(target, result);
    }

    /// <summary>Deletes one revision (its pointers, as quilt3 does); 'latest' moves to the newest remaining.</summary>
    public async Task<PackageRevisionDeleted> DeleteRevisionAsync(PackageTarget target, string? topHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        EnsureWritable();
        var spec = ObjectUriResolver.Require(topHash, "topHash").Trim();
        if (!Names.IsTopHashPrefix(spec))
            throw new OperationException($"topHash '{spec}' is not a top hash: give 6 to 64 lowercase hex characters (see package_revisions).");
        var hash = await target.Registry.ResolveTopHashAsync(target.Name, spec, cancellationToken);
        int pointers;
        if (target.Registry.Store is RegistryApiObjectStore registryServer)
        {
            // The registry deletes (packageRevisionDelete, with the role's write rights); its pointers are counted first.
            pointers = (await target.Registry.ListRevisionsAsync(target.Name, cancellationToken)).Count(r => r.TopHash == hash);
            await new RegistryAccountActions(registryServer.Client).DeleteRevisionAsync(target.Registry.Bucket, target.Name, hash, cancellationToken);
        }
        else
        {
            pointers = (await target.Registry.DeleteRevisionAsync(target.Name, hash, cancellationToken)).Count;
        }
        string? latest = null;
        try
        {
            latest = await target.Registry.ResolveTopHashAsync(target.Name, null, cancellationToken);
        }
        catch (PackageNotFoundException)
        {
        }
        return new PackageRevisionDeleted(pointers, new PackageDeleteResult(target.Name, hash, latest));
    }

    /// <summary>
    /// Copies a revision into another registry (of this store, or of <paramref name="destinationStore"/>), its data
    /// verified against the recorded hashes on the way. Local files a manifest names are read only from a local registry.
    /// </summary>
    public async Task<PackageWritten> PushAsync(
        PackageTarget source, string destinationRegistry, IObjectStore? destinationStore, string? destinationName, bool copy,
        IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        EnsureWritable();
        var name = string.IsNullOrWhiteSpace(destinationName) ? null : destinationName.Trim();
        if (name is not null && !Names.IsValidPackageName(name))
            throw new OperationException($"Invalid package name '{name}' for the destination: use user/name (letters, digits, '_' or '-').");
        var store = destinationStore ?? Targets.Store;
        var bucket = PackageTargets.RegistryBucket(destinationRegistry);
        Targets.Policy.EnsureCanWrite(bucket, "to");
        // Into this connection's store: published as it publishes (packageConstruct in registry mode).
        var destination = ReferenceEquals(store, Targets.Store) ? Targets.Registry(bucket) : new PackageRegistry(store, bucket);
        var locator = new ObjectLocator(ReferenceEquals(store, Targets.Store) ? [Targets.Store] : [Targets.Store, store],
            allowLocalFilesOutsideStores: source.Registry.IsLocal);
        var packageProgress = ProgressOf(progress);
        var result = await new PackageService(locator).PushAsync(source.Registry, source.Name, source.Revision, destination, name,
            CopiesData(copy), packageProgress, cancellationToken);
        packageProgress?.Complete();
        return Written(source with { Registry = destination, Name = result.Revision.Name, Revision = null, Path = null }, result);
    }

    /// <summary>
    /// Promotes a revision to another registry bucket (or another name): a new revision there with the same entries, its
    /// data copied to &lt;name&gt;/ there when <paramref name="copy"/> (always through a registry server, whose
    /// packagePromote copies on its side), with <paramref name="message"/> and <paramref name="metadata"/> when given (else
    /// the source's). Direct mode copies the manifest (and the data, if asked) with the package core, as push does.
    /// </summary>
    public async Task<PackageWritten> PromoteAsync(PackageTarget source, string destinationRegistry, string? destinationName, bool copy,
        string? message, JsonNode? metadata, string? workflow, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        EnsureWritable();
        var name = string.IsNullOrWhiteSpace(destinationName) ? source.Name : destinationName.Trim();
        if (!Names.IsValidPackageName(name))
            throw new OperationException($"Invalid package name '{name}' for the destination: use user/name (letters, digits, '_' or '-').");
        var bucket = PackageTargets.RegistryBucket(destinationRegistry);
        Targets.Policy.EnsureCanWrite(bucket, "to");
        if (bucket == source.Registry.Bucket && name == source.Name)
            throw new OperationException($"Promoting {name} into its own registry under the same name makes no new revision: give another registry or name.");
        var userMeta = metadata;
        var (_, hash, manifest) = await RevisionAsync(source, cancellationToken);
        var destination = Targets.Registry(bucket);
        var target = source with { Registry = destination, Name = name, Revision = null, Path = null };
        if (Targets.Store is RegistryApiObjectStore registryServer)
        {
            var previous = await TryManifestAsync(destination, name, cancellationToken);
            var topHash = await new RegistryAccountActions(registryServer.Client).PromoteAsync(source.Registry.Bucket, source.Name, hash, bucket, name,
                message, userMeta, workflow, cancellationToken);
            var built = await destination.GetManifestAsync(topHash, cancellationToken);
            var revision = (await destination.ListRevisionsAsync(name, cancellationToken)).FirstOrDefault(r => r.TopHash == topHash)
                ?? new PackageRevision(name, topHash, DateTimeOffset.UtcNow, RegistryLayout.LatestKey(name));
            return Written(target, new PackageWriteResult(revision, built, previous is null ? null : PackageDiff.Compute(previous, built)));
        }

        // Direct: the same entries (data copied on the way, verified against their hashes, when asked), new package metadata.
        var sources = manifest.Entries.Select(e => (EntrySource)new ExistingEntrySource(e) { CopyData = copy }).ToList();
        var packageProgress = ProgressOf(progress);
        var result = await Packages.CreateAsync(destination, new CreatePackageRequest(name, sources)
        {
            Message = message ?? manifest.Message,
            UserMeta = userMeta ?? manifest.UserMeta?.DeepClone(),
            NullUserMeta = userMeta is null && manifest.PackageMeta.TryGetPropertyValue("user_meta", out var kept) && kept is null,
            DirectoryMeta = manifest.DirectoryMetadata.ToDictionary(d => d.LogicalKey, d => d.Meta?.DeepClone(), StringComparer.Ordinal),
            Workflow = WorkflowChoice.Parse(workflow),
            CopyData = copy,
            Overwrite = true,
        }, packageProgress, cancellationToken);
        packageProgress?.Complete();
        return Written(target, result);
    }

    private static async Task<Manifest?> TryManifestAsync(PackageRegistry registry, string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await registry.BrowseAsync(name, null, cancellationToken)).Manifest;
        }
        catch (PackageNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Downloads the entries at <paramref name="path"/> (an entry or a folder; default the target's <c>&amp;path=</c>, else the
    /// whole revision) below <paramref name="destinationRoot"/>, each verified against its hash; returns the files written.
    /// </summary>
    public async Task<PackageDownload> GetAsync(PackageTarget target, string? path, string destinationRoot, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrEmpty(destinationRoot);
        if (target.Path is not null && path is not null && path.Trim('/') != target.Path.Trim('/'))
            throw new OperationException($"The package URI names the path '{target.Path}' and the path argument '{path}' another; give one of them.");
        var (_, hash, manifest) = await RevisionAsync(target, cancellationToken);
        // Only that entry or that folder's entries, as quilt3's install(path=...) fetches them.
        var wanted = path ?? target.Path;
        var entries = manifest.EntriesAt(wanted ?? "");
        if (entries.Count == 0)
            throw new OperationException($"'{wanted}' is not in {target.Name}; browse the package to see its keys.");
        // Before anything is written: a package from S3 or a registry may not copy this machine's files here.
        target.Registry.EnsureLocalFileKeysAllowed(entries);
        var total = entries.Sum(e => e.Size);
        var written = await EntryDownloader.DownloadAsync(Packages.Locator, entries, Path.GetFullPath(destinationRoot), BytesOf(progress, total),
            cancellationToken: cancellationToken);
        return new PackageDownload(target, hash, written);
    }

    /// <summary>Re-hashes every entry's data of a revision and compares it with the recorded hash.</summary>
    public async Task<PackageVerification> VerifyAsync(PackageTarget target, IProgress<ProgressUpdate>? progress, CancellationToken cancellationToken)
    {
        var (_, hash, manifest) = await RevisionAsync(target, cancellationToken);
        target.Registry.EnsureLocalFileKeysAllowed(manifest.Entries);
        var result = await Packages.VerifyAsync(manifest, progress: BytesOf(progress, manifest.TotalSize), cancellationToken: cancellationToken);
        return new PackageVerification(target, hash, result);
    }

    private static Progress<long>? BytesOf(IProgress<ProgressUpdate>? progress, long total) =>
        progress is null ? null : new(done => progress.Report(new ProgressUpdate(done, total, null)));

    private PackageWritten Written(PackageTarget target, PackageWriteResult result) => new(target, result, new PackageRevisionResult(
        target.Name, target.Registry.Bucket, result.Revision.TopHash, target.Uri(result.Revision.TopHash),
        result.Manifest.Entries.Count, result.Manifest.TotalSize,
        result.ChangesFromPrevious is { } d ? Changes(d) : null,
        CatalogUrl(target, result.Revision.TopHash)));

    /// <summary>A diff as results list it: at most <see cref="MaxListedChanges"/> keys of each kind, and whole counts.</summary>
    public static PackageChanges Changes(PackageDiff d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new(
            d.Added.Take(MaxListedChanges).Select(e => e.LogicalKey).ToList(),
            d.Removed.Take(MaxListedChanges).Select(e => e.LogicalKey).ToList(),
            d.Modified.Take(MaxListedChanges).Select(e => e.LogicalKey).ToList(),
            d.Added.Count, d.Removed.Count, d.Modified.Count, d.Unchanged, d.MessageChanged, d.MetadataChanged,
            d.Renamed.Take(MaxListedChanges).Select(PackageDiffDetails.Rename).ToList(), d.Renamed.Count);
    }

    /// <summary>The Quilt catalog page of a revision (or a folder or file in it), when a catalog host is configured.</summary>
    public string? CatalogUrl(PackageTarget target, string topHash, string? path = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Settings.CatalogHost is { } host
            ? $"https://{host}/b/{target.Registry.Bucket}/packages/{target.Name}/tree/{topHash}/{(path is null ? "" : UrlEncoding.Quote(path))}"
            : null;
    }

    private static PackageFileItem FileItem(string prefix, ManifestEntry e) =>
        new(e.LogicalKey[prefix.Length..], e.Size, $"{e.Hash.Type}:{e.Hash.Value}", PackageSourceResolver.ToElement(e.UserMeta));

    private static JsonElement? FolderMetadata(Manifest manifest, string folderKey) =>
        folderKey.Length == 0 ? null : PackageSourceResolver.ToElement(manifest.FindDirectoryMetadata(folderKey)?.Meta);

    // A registry has no copy: S3 objects are referenced where they are (local files and inline content are still uploaded).
    private bool CopiesData(bool copy) => copy && !Settings.IsRegistryMode;

    private void EnsureWritable()
    {
        if (Settings.ReadOnly)
            throw new OperationException("This server is read-only (--read-only): packages cannot be created or changed. Ask for a server started without it.");
    }

    private static PackageProgressUpdates? ProgressOf(IProgress<ProgressUpdate>? progress) => progress is null ? null : new(progress);

    /// <summary>
    /// The package core's progress (reported per entry and per MiB, from parallel workers) as throttled updates, in
    /// order as reported; <see cref="Complete"/> sends the final state once the revision is published.
    /// </summary>
    internal sealed class PackageProgressUpdates(IProgress<ProgressUpdate> sink, TimeProvider? clock = null) : IProgress<PackageProgress>
    {
        private readonly ProgressThrottle _throttle = new(sink, clock);
        private readonly Lock _lock = new();
        private PackageProgress? _latest;

        public void Report(PackageProgress value)
        {
            lock (_lock)
            {
                if (_latest is { } latest && (value.BytesDone < latest.BytesDone || value.EntriesDone < latest.EntriesDone))
                    value = value with { BytesDone = Math.Max(value.BytesDone, latest.BytesDone), EntriesDone = Math.Max(value.EntriesDone, latest.EntriesDone) };
                _latest = value;
                _throttle.Report(Update(value));
            }
        }

        public void Complete()
        {
            lock (_lock)
            {
                if (_latest is { } latest)
                    _throttle.Complete(Update(latest with { BytesDone = latest.BytesTotal, EntriesDone = latest.EntriesTotal }));
            }
        }

        private static ProgressUpdate Update(PackageProgress p) => new(p.BytesDone, p.BytesTotal, $"{p.EntriesDone}/{p.EntriesTotal} entries");
    }
}

/// <summary>Revisions with their manifests, and the list the tools return.</summary>
public sealed record PackageHistory(IReadOnlyList<(PackageRevision Revision, Manifest Manifest)> Revisions, PackageRevisionList Result);

/// <summary>A revision as read: the target, its resolved top hash and its manifest.</summary>
public sealed record PackageContent(PackageTarget Target, string TopHash, Manifest Manifest);

/// <summary>Two revisions compared: their manifests, the whole diff (for the CLI's lists) and the result the tools return.</summary>
public sealed record PackageComparison(Manifest From, Manifest To, PackageDiff Diff, PackageDiffResult Result);

/// <summary>A revision published: where, what the service returned (whole change lists) and the result the tools return.</summary>
public sealed record PackageWritten(PackageTarget Target, PackageWriteResult Write, PackageRevisionResult Result);

/// <summary>Entries of a revision downloaded: the files written.</summary>
public sealed record PackageDownload(PackageTarget Target, string TopHash, IReadOnlyList<string> Written);

/// <summary>A revision's data checked against its manifest.</summary>
public sealed record PackageVerification(PackageTarget Target, string TopHash, VerifyResult Result);

/// <summary>A revision deleted: how many pointers went, and the result the tools return.</summary>
public sealed record PackageRevisionDeleted(int Pointers, PackageDeleteResult Result);

/// <summary>What a new package is made of and how it is published.</summary>
public sealed record PackageCreateInput(IReadOnlyList<PackageSourceSpec> Sources)
{
    public string? Message { get; init; }

    /// <summary>Package metadata (a JSON object), or null for none (unless <see cref="NullMetadata"/>).</summary>
    public JsonNode? Metadata { get; init; }

    public bool NullMetadata { get; init; }

    /// <summary>Entry metadata by logical key, set on the resolved sources (the CLI's --entry-meta).</summary>
    public IReadOnlyDictionary<string, JsonNode?> EntryMetadata { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>How refusals of <see cref="EntryMetadata"/> name it.</summary>
    public string EntryMetadataArgument { get; init; } = "entryMetadata";

    public IReadOnlyDictionary<string, JsonNode?> DirectoryMetadata { get; init; } = new Dictionary<string, JsonNode?>();

    public WorkflowChoice Workflow { get; init; } = WorkflowChoice.Default;

    /// <summary>Copy data into the registry (true) or reference S3 objects in place; never copied through a registry.</summary>
    public bool Copy { get; init; } = true;

    /// <summary>Upload local files even when referencing data in place (the tools' rule); false lets a local registry point at them.</summary>
    public bool AlwaysCopyLocalFiles { get; init; } = true;

    public bool Overwrite { get; init; }
}

/// <summary>The changes of a new revision made from an existing one.</summary>
public sealed record PackagePatchInput
{
    public IReadOnlyList<PackageSourceSpec> Add { get; init; } = [];
    public IReadOnlyList<string> Remove { get; init; } = [];
    public IReadOnlyDictionary<string, string> Rename { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, JsonNode?> EntryMetadata { get; init; } = new Dictionary<string, JsonNode?>();
    public IReadOnlyDictionary<string, JsonNode?> DirectoryMetadata { get; init; } = new Dictionary<string, JsonNode?>();
    public string? Message { get; init; }
    public JsonNode? Metadata { get; init; }
    public bool NullMetadata { get; init; }

    /// <summary>A workflow name, "" for none, null for the config's default.</summary>
    public string? Workflow { get; init; }

    public bool Copy { get; init; } = true;
}
