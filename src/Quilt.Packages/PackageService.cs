using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Json;
using Quilt.Core.Manifests;
using Quilt.Packages.Workflows;
using Quilt.Storage;

namespace Quilt.Packages;

public sealed record CreatePackageRequest(string Name, IReadOnlyList<EntrySource> Sources)
{
    public string? Message { get; init; }
    public JsonNode? UserMeta { get; init; }

    /// <summary>With no <see cref="UserMeta"/>: write <c>"user_meta": null</c>, as quilt3's set_meta(None) and a plain set_dir do.</summary>
    public bool NullUserMeta { get; init; }

    /// <summary>Directory metadata by folder (<c>sub/</c>): quilt3's set_dir(folder, meta=...); null or <c>{}</c> writes none.</summary>
    public IReadOnlyDictionary<string, JsonNode?> DirectoryMeta { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>The workflow of the registry's workflows config to apply (by default its default_workflow).</summary>
    public WorkflowChoice Workflow { get; init; } = WorkflowChoice.Default;

    public bool CopyData { get; init; } = true;

    /// <summary>Publish even when the package already exists (its earlier revisions stay).</summary>
    public bool Overwrite { get; init; }
}

public sealed record PackageWriteResult(PackageRevision Revision, Manifest Manifest, PackageDiff? ChangesFromPrevious);

public sealed record VerifyResult(int Checked, IReadOnlyList<string> Mismatched, IReadOnlyList<string> Missing)
{
    public bool Ok => Mismatched.Count == 0 && Missing.Count == 0;
}

/// <summary>The package operations people, scripts and the MCP tools use, over any store.</summary>
public sealed class PackageService(ObjectLocator locator)
{
    public ObjectLocator Locator { get; } = locator;

    /// <summary>Builds and publishes a new package (or, with Overwrite, a new revision replacing the latest).</summary>
    public async Task<PackageWriteResult> CreateAsync(
        PackageRegistry registry, CreatePackageRequest request, IProgress<PackageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(request);
        Names.ValidatePackageName(request.Name);
        if (request.Sources.Count == 0)
            throw new PackageException("A package needs at least one entry: give files, folders, s3:// objects or prefixes.");

        var previous = await TryLatestAsync(registry, request.Name, cancellationToken).ConfigureAwait(false);
        if (previous is not null && !request.Overwrite)
            throw new PackageExistsException(request.Name, registry.Bucket, previous.TopHash);

        // The registry's workflow first: message, name and metadata are refused before any data is read.
        var rules = await WorkflowRules.PrepareAsync(registry, Locator, request.Workflow, cancellationToken).ConfigureAwait(false);
        var meta = Manifest.CreatePackageMeta(request.Message, request.UserMeta, rules?.StoredWorkflow, request.NullUserMeta);
        rules?.ValidatePackage(request.Name, request.Message, PackageUserMeta(meta));
        var dirs = DirectoryMetadataFor([], request.DirectoryMeta, request.Sources.Select(s => s.LogicalKey).ToList(), request.Name);
        EnsureReadableByQuilt3(meta, request.Sources, dirs);
        registry.Publisher?.EnsureCanPublish(request.Name, meta, dirs);
        var creator = new PackageCreator(registry, Locator);
        var manifest = await creator.BuildAsync(request.Name, request.Sources, meta,
            new BuildOptions { CopyData = request.CopyData, KnownHashes = KnownHashes(previous), DirectoryMetadata = dirs, CheckEntries = EntriesCheck(rules) },
            progress, cancellationToken).ConfigureAwait(false);
        var revision = await registry.PublishAsync(request.Name, manifest, cancellationToken).ConfigureAwait(false);
        return new PackageWriteResult(revision, manifest, previous is null ? null : PackageDiff.Compute(previous, manifest));
    }

    /// <summary>
    /// A new revision from the latest: entries added or replaced by <paramref name="changes"/>, keys removed, keys renamed
    /// (old → new), and the message and metadata (package, entry, directory) replaced when given. Everything else of the base
    /// revision is kept as it was: entries, their whole meta, directory metadata lines (but those of a folder removed whole).
    /// </summary>
    public async Task<PackageWriteResult> UpdateAsync(
        PackageRegistry registry, string name, PackageUpdate changes, IProgress<PackageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(changes);
        var (_, previous) = await registry.BrowseAsync(name, changes.BaseRevision, cancellationToken).ConfigureAwait(false);
        var entries = previous.Entries.ToDictionary(e => e.LogicalKey, e => (EntrySource)new ExistingEntrySource(e), StringComparer.Ordinal);

        var dirs = previous.DirectoryMetadata.ToList();
        foreach (var key in changes.Remove)
        {
            if (entries.Remove(key))
                continue;
            if (!RemovePrefix(entries, key))
                throw new PackageException($"'{key}' is not in {name}; browse the package to see its keys.");
            // A folder removed whole takes its metadata along, and that of the folders in it (quilt3's delete of a subpackage).
            var folder = key.TrimEnd('/') + "/";
            dirs.RemoveAll(d => d.LogicalKey.StartsWith(folder, StringComparison.Ordinal));
        }
        foreach (var (from, to) in changes.Rename)
        {
            if (!entries.Remove(from, out var source))
                throw new PackageException($"Cannot rename '{from}': it is not in {name}.");
            if (entries.ContainsKey(to))
                throw new PackageException($"Cannot rename '{from}' to '{to}': '{to}' already exists. Remove it first.");
            var existing = ((ExistingEntrySource)source).Entry;
            entries[to] = new ExistingEntrySource(existing, to);
        }
        foreach (var (key, userMeta) in changes.SetEntryMeta)
        {
            if (!entries.TryGetValue(key, out var source))
                throw new PackageException($"Cannot set metadata of '{key}': it is not in {name}.");
            // JSON null is quilt3's set_meta(None): "user_meta": null in the entry's meta.
            entries[key] = source with { UserMeta = userMeta, NullUserMeta = userMeta is null };
        }
        foreach (var source in changes.Add)
            entries[source.LogicalKey] = source;

        var meta = (JsonObject)previous.PackageMeta.DeepClone();
        if (changes.UserMeta is not null || changes.NullUserMeta)
            meta["user_meta"] = changes.UserMeta?.DeepClone();
        meta["message"] = changes.Message;

        // As quilt3 pushes a revision it browsed: the workflow is chosen again from the registry's config (the base
        // revision's is not carried over), and without a config the revision records none.
        var rules = await WorkflowRules.PrepareAsync(registry, Locator, changes.Workflow, cancellationToken).ConfigureAwait(false);
        if (rules is null)
            meta.Remove("workflow");
        else
            meta["workflow"] = rules.StoredWorkflow.DeepClone();
        rules?.ValidatePackage(name, changes.Message, PackageUserMeta(meta));

        var sources = entries.Values.ToList();
        var newDirs = DirectoryMetadataFor(dirs, changes.SetDirectoryMeta, sources.Select(s => s.LogicalKey).ToList(), name);
        EnsureReadableByQuilt3(meta, sources, newDirs);
        registry.Publisher?.EnsureCanPublish(name, meta, newDirs);
        var creator = new PackageCreator(registry, Locator);
        var manifest = await creator.BuildAsync(name, sources, meta,
            new BuildOptions { CopyData = changes.CopyData, KnownHashes = KnownHashes(previous), DirectoryMetadata = newDirs, CheckEntries = EntriesCheck(rules) },
            progress, cancellationToken).ConfigureAwait(false);
        var revision = await registry.PublishAsync(name, manifest, cancellationToken).ConfigureAwait(false);
        return new PackageWriteResult(revision, manifest, PackageDiff.Compute(previous, manifest));
    }

    /// <summary>
    /// The directory metadata lines of a new revision: <paramref name="kept"/> (as the base revision has them) with
    /// <paramref name="changes"/> applied by folder. Null or an empty object writes no line for the folder, as quilt3 writes
    /// none for a folder whose metadata is empty. A folder must hold an entry of the revision, and not be the root (whose
    /// metadata is the package's).
    /// </summary>
    private static List<DirectoryMetadata> DirectoryMetadataFor(
        IReadOnlyList<DirectoryMetadata> kept, IReadOnlyDictionary<string, JsonNode?> changes, IReadOnlyList<string> logicalKeys, string name)
    {
        var dirs = kept.ToList();
        foreach (var (given, dirMeta) in changes)
        {
            var folder = given.TrimEnd('/');
            if (folder.Length == 0)
                throw new PackageException("Directory metadata for the package's root is the package metadata: give it as the package's metadata instead.");
            try
            {
                Names.ValidateLogicalKey(folder);
            }
            catch (InvalidNameException ex)
            {
                throw new PackageException($"Cannot set the metadata of folder '{given}': {ex.Message}", ex);
            }
            folder += "/";
            if (!logicalKeys.Any(k => k.StartsWith(folder, StringComparison.Ordinal)))
                throw new PackageException($"Cannot set the metadata of folder '{folder}': no entry of {name} is in it. Browse the package to see its folders.");
            dirs.RemoveAll(d => d.LogicalKey == folder);
            if (dirMeta is not null && dirMeta is not JsonObject { Count: 0 })
                dirs.Add(new DirectoryMetadata(folder, dirMeta.DeepClone()));
        }
        return dirs;
    }

    /// <summary>
    /// Refuses metadata quilt3 could not read back (see <see cref="PythonNumberLimits"/>), before any data is copied: the
    /// package line, each entry's metadata and each directory metadata line.
    /// </summary>
    private static void EnsureReadableByQuilt3(JsonObject packageMeta, IEnumerable<EntrySource> sources, IEnumerable<DirectoryMetadata> dirs)
    {
        Check(packageMeta, "The package line");
        foreach (var source in sources)
        {
            var meta = source switch
            {
                { HasUserMeta: true } => source.UserMeta,
                ExistingEntrySource e => e.Entry.Meta,
                _ => null,
            };
            Check(meta, $"The metadata of entry '{Names.Escaped(source.LogicalKey)}'");
        }
        foreach (var dir in dirs)
            Check(dir.Meta, $"The metadata of folder '{Names.Escaped(dir.LogicalKey)}'");

        static void Check(JsonNode? node, string where)
        {
            if (PythonNumberLimits.Find(node) is { } found)
            {
                throw new PackageException($"{where} holds {found.Problem} at {found.Path}. Nothing was written: quilt3 and the catalog "
                    + "could not read it back. Store such a number as a string, or the data in a file of the package.");
            }
        }
    }

    // quilt3's Package.meta, which its metadata_schema validates: the user_meta held (null when null), {} when there is none.
    private static JsonNode? PackageUserMeta(JsonObject meta) =>
        meta.TryGetPropertyValue("user_meta", out var userMeta) ? userMeta : new JsonObject();

    private static Action<IReadOnlyList<WorkflowEntry>>? EntriesCheck(WorkflowRules? rules) =>
        rules is { ChecksEntries: true } ? rules.ValidateEntries : null;

    private static bool RemovePrefix(Dictionary<string, EntrySource> entries, string folder)
    {
        var prefix = folder.TrimEnd('/') + "/";
        var keys = entries.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        foreach (var k in keys)
            entries.Remove(k);
        return keys.Count > 0;
    }

    /// <summary>
    /// Copies a revision to another registry under <paramref name="destinationName"/>: each entry's data into the
    /// destination at &lt;name&gt;/&lt;logical key&gt; (verified against its recorded hash on the way), or referenced where it is.
    /// A revision from a registry that is not local may not name local files (see <see cref="PackageRegistry.EnsureLocalFileKeysAllowed"/>).
    /// </summary>
    public async Task<PackageWriteResult> PushAsync(
        PackageRegistry source, string name, string? revision, PackageRegistry destination, string? destinationName = null,
        bool copyData = true, IProgress<PackageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var (_, manifest) = await source.BrowseAsync(name, revision, cancellationToken).ConfigureAwait(false);
        source.EnsureLocalFileKeysAllowed(manifest.Entries);
        var targetName = destinationName ?? name;
        var sources = manifest.Entries.Select(e => (EntrySource)new ExistingEntrySource(e) { CopyData = copyData }).ToList();
        EnsureReadableByQuilt3(manifest.PackageMeta, sources, manifest.DirectoryMetadata);
        destination.Publisher?.EnsureCanPublish(targetName, manifest.PackageMeta, manifest.DirectoryMetadata);
        var creator = new PackageCreator(destination, Locator);
        // Data copied on the way is checked against the hash the revision recorded (of its own type) before its upload
        // completes; on a mismatch the build removes what it wrote and nothing is published.
        var built = await creator.BuildAsync(targetName, sources, (JsonObject)manifest.PackageMeta.DeepClone(),
            new BuildOptions { CopyData = copyData, DirectoryMetadata = manifest.DirectoryMetadata }, progress, cancellationToken).ConfigureAwait(false);
        var previous = await TryLatestAsync(destination, targetName, cancellationToken).ConfigureAwait(false);
        var published = await destination.PublishAsync(targetName, built, cancellationToken).ConfigureAwait(false);
        return new PackageWriteResult(published, built, previous is null ? null : PackageDiff.Compute(previous, built));
    }

    /// <summary>Re-hashes every entry's data and compares it with the recorded hash.</summary>
    public async Task<VerifyResult> VerifyAsync(Manifest manifest, int concurrency = 8, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var mismatched = new System.Collections.Concurrent.ConcurrentBag<string>();
        var missing = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(manifest.Entries, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            Stream stream;
            try
            {
                stream = await Locator.OpenReadAsync(entry.PhysicalKey, null, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StorageException or PackageException)
            {
                missing.Add(entry.LogicalKey);
                return;
            }
            await using (stream.ConfigureAwait(false))
            {
                if (!await ObjectHashing.VerifyAsync(stream, entry.Size, entry.Hash, progress, ct).ConfigureAwait(false))
                    mismatched.Add(entry.LogicalKey);
            }
        }).ConfigureAwait(false);
        return new VerifyResult(manifest.Entries.Count,
            mismatched.Order(StringComparer.Ordinal).ToArray(), missing.Order(StringComparer.Ordinal).ToArray());
    }

    private static async Task<Manifest?> TryLatestAsync(PackageRegistry registry, string name, CancellationToken ct)
    {
        try
        {
            return (await registry.BrowseAsync(name, null, ct).ConfigureAwait(false)).Manifest;
        }
        catch (PackageNotFoundException)
        {
            return null;
        }
    }

    private static Dictionary<string, ObjectHash>? KnownHashes(Manifest? previous)
    {
        if (previous is null)
            return null;
        var known = new Dictionary<string, ObjectHash>(StringComparer.Ordinal);
        // By physical key: a versioned key names immutable bytes, so its hash is reused as it is; an unversioned one tells
        // what the previous revision expects to find there (the builder never overwrites it with other bytes).
        foreach (var entry in previous.Entries)
        {
            if (entry.Hash.Type == ObjectHash.Sha256ChunkedType)
                known.TryAdd(entry.PhysicalKey, entry.Hash);
        }
        return known;
    }
}

/// <summary>Changes for <see cref="PackageService.UpdateAsync"/>.</summary>
public sealed record PackageUpdate
{
    public IReadOnlyList<EntrySource> Add { get; init; } = [];
    public IReadOnlyList<string> Remove { get; init; } = [];
    public IReadOnlyDictionary<string, string> Rename { get; init; } = new Dictionary<string, string>();
    /// <summary>User metadata by logical key; JSON null (a null value) is quilt3's set_meta(None): <c>"user_meta": null</c>.</summary>
    public IReadOnlyDictionary<string, JsonNode?> SetEntryMeta { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>Directory metadata by folder (<c>sub/</c>); null or <c>{}</c> removes the folder's line.</summary>
    public IReadOnlyDictionary<string, JsonNode?> SetDirectoryMeta { get; init; } = new Dictionary<string, JsonNode?>();

    public string? Message { get; init; }

    /// <summary>New package metadata; null keeps the base revision's (unless <see cref="NullUserMeta"/>).</summary>
    public JsonNode? UserMeta { get; init; }

    /// <summary>With no <see cref="UserMeta"/>: set <c>"user_meta": null</c>, as quilt3's set_meta(None) does.</summary>
    public bool NullUserMeta { get; init; }

    /// <summary>The workflow to apply to the new revision (by default the registry config's default_workflow).</summary>
    public WorkflowChoice Workflow { get; init; } = WorkflowChoice.Default;

    public bool CopyData { get; init; } = true;
    public string? BaseRevision { get; init; }
}
