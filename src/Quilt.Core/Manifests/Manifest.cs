using System.Text.Json.Nodes;

namespace Quilt.Core.Manifests;

/// <summary>
/// One package revision: the package line (message, user metadata, workflow) and its entries in quilt3's tree order.
/// Construction validates what quilt3's Package.load would refuse: an empty key, duplicates, a key that is both a file and
/// a folder. Keys quilt3 reads but would not let a new entry have (<c>a//b</c>, <c>/abs</c>, <c>a/../b</c>, a tab) are
/// kept: <see cref="Names.ValidateLogicalKey"/> is for new keys, and writing an entry to a local path has its own check.
/// </summary>
public sealed class Manifest
{
    private string? _topHash;
    private Dictionary<string, ManifestEntry>? _byKey;

    public Manifest(JsonObject packageMeta, IEnumerable<ManifestEntry> entries, IEnumerable<DirectoryMetadata>? directoryMetadata = null)
        : this(packageMeta, (entries ?? throw new ArgumentNullException(nameof(entries))).ToArray(), directoryMetadata, sorted: null, entriesChecked: false)
    {
    }

    /// <summary>
    /// For the reader, which has already checked each entry (key, size) and whether they come sorted, on every core;
    /// what is left here needs neighbours: order, duplicates, a key that is both a file and a folder.
    /// </summary>
    internal Manifest(JsonObject packageMeta, ManifestEntry[] entries, IEnumerable<DirectoryMetadata>? directoryMetadata, bool? sorted, bool entriesChecked)
    {
        ArgumentNullException.ThrowIfNull(packageMeta);
        PackageMeta = packageMeta;
        if (!(sorted ?? IsSorted(entries)))
            Array.Sort(entries, static (a, b) => LogicalKeyComparer.Instance.Compare(a.LogicalKey, b.LogicalKey));
        for (var i = 0; i < entries.Length; i++)
        {
            var key = entries[i].LogicalKey;
            if (!entriesChecked)
                Check(entries[i]);
            if (i > 0)
            {
                var previous = entries[i - 1].LogicalKey;
                if (previous == key)
                    throw new ManifestFormatException($"Duplicate logical key '{key}'.");
                // In tree order a folder's children follow right after a file of the same name would.
                if (key.Length > previous.Length && key.StartsWith(previous, StringComparison.Ordinal) && key[previous.Length] == '/')
                    throw new ManifestFormatException($"'{previous}' is both a file and a folder (of '{key}'); rename one of them.");
            }
        }
        Entries = entries;
        // A folder's metadata given twice keeps the last, as quilt3's load sets it line by line (and writes it once).
        var byFolder = new Dictionary<string, DirectoryMetadata>(StringComparer.Ordinal);
        foreach (var dir in directoryMetadata ?? [])
            byFolder[dir.LogicalKey] = dir;
        var dirs = byFolder.Values.ToArray();
        Array.Sort(dirs, static (a, b) => LogicalKeyComparer.Instance.Compare(a.LogicalKey, b.LogicalKey));
        DirectoryMetadata = dirs;
    }

    /// <summary>What quilt3 refuses in one entry on its own: an empty logical key, no physical key, a negative size.</summary>
    internal static void Check(ManifestEntry entry)
    {
        if (string.IsNullOrEmpty(entry.LogicalKey))
            throw new ManifestFormatException("An entry has an empty logical key.");
        if (entry.PhysicalKeys.Count == 0)
            throw new ManifestFormatException($"Entry '{entry.LogicalKey}' has no physical key.");
        if (entry.Size < 0)
            throw new ManifestFormatException($"Entry '{entry.LogicalKey}' has a negative size.");
    }

    // Manifests read back are already in tree order: checking is cheaper than sorting 100,000 keys again.
    private static bool IsSorted(ManifestEntry[] entries)
    {
        for (var i = 1; i < entries.Length; i++)
        {
            if (LogicalKeyComparer.Instance.Compare(entries[i - 1].LogicalKey, entries[i].LogicalKey) > 0)
                return false;
        }
        return true;
    }

    /// <summary>Line 1 of the manifest, in quilt3's key order.</summary>
    public JsonObject PackageMeta { get; }

    public IReadOnlyList<ManifestEntry> Entries { get; }

    public IReadOnlyList<DirectoryMetadata> DirectoryMetadata { get; }

    /// <summary>The message, or null (also when a writer put something other than a string there).</summary>
    public string? Message => PackageMeta["message"] is JsonValue value && value.TryGetValue<string>(out var message) ? message : null;

    public JsonNode? UserMeta => PackageMeta["user_meta"];

    public JsonNode? Workflow => PackageMeta["workflow"];

    public long TotalSize => Entries.Sum(e => e.Size);

    /// <summary>The top hash quilt3 computes for this revision (cached).</summary>
    public string TopHash => _topHash ??= TopHashCalculator.Compute(PackageMeta, Entries);

    public ManifestEntry? Find(string logicalKey)
    {
        _byKey ??= Entries.ToDictionary(e => e.LogicalKey, StringComparer.Ordinal);
        return _byKey.GetValueOrDefault(logicalKey);
    }

    /// <summary>The directory metadata line of a folder (its key ending in '/'), or null.</summary>
    public DirectoryMetadata? FindDirectoryMetadata(string folderKey)
    {
        ArgumentNullException.ThrowIfNull(folderKey);
        foreach (var dir in DirectoryMetadata)
        {
            if (dir.LogicalKey == folderKey)
                return dir;
        }
        return null;
    }

    /// <summary>
    /// The entries a path names, as quilt3's install(path=...) takes it: the entry with that logical key, or every entry in
    /// that folder, at any depth ("" names them all). The path is tried as given first, then without surrounding '/'
    /// (quilt3 keeps keys such as '/abs'). Empty when it names nothing.
    /// </summary>
    public IReadOnlyList<ManifestEntry> EntriesAt(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var candidate in new[] { path, path.Trim('/') }.Distinct(StringComparer.Ordinal))
        {
            if (candidate.Length == 0)
                return Entries;
            if (Find(candidate) is { } entry)
                return [entry];
            var folder = candidate.EndsWith('/') ? candidate : candidate + "/";
            var below = Entries.Where(e => e.LogicalKey.StartsWith(folder, StringComparison.Ordinal)).ToArray();
            if (below.Length > 0)
                return below;
        }
        return [];
    }

    /// <summary>
    /// The package line quilt3 writes for a new revision: version, user_meta (when set), workflow (when set), message.
    /// </summary>
    /// <param name="nullUserMeta">Write <c>"user_meta": null</c> when <paramref name="userMeta"/> is null, as quilt3's
    /// set_meta(None) and a plain set_dir do (another top hash than no user_meta at all).</param>
    public static JsonObject CreatePackageMeta(string? message, JsonNode? userMeta = null, JsonNode? workflow = null, bool nullUserMeta = false)
    {
        var meta = new JsonObject { ["version"] = "v0" };
        if (userMeta is not null || nullUserMeta)
            meta["user_meta"] = userMeta?.DeepClone();
        if (workflow is not null)
            meta["workflow"] = workflow.DeepClone();
        meta["message"] = message;
        return meta;
    }
}

/// <summary>A manifest that cannot be read or built; the message names the line or key and the problem.</summary>
public sealed class ManifestFormatException : FormatException
{
    public ManifestFormatException(string message) : base(message) { }
    public ManifestFormatException(string message, Exception inner) : base(message, inner) { }
}
