using System.Text.Json.Nodes;

namespace Quilt.Core.Manifests;

/// <summary>
/// One package revision: the package line (message, user metadata, workflow) and its entries in quilt3's tree order.
/// Construction validates what quilt3 would refuse: bad logical keys, duplicates, a key that is both a file and a folder.
/// </summary>
public sealed class Manifest
{
    private string? _topHash;
    private Dictionary<string, ManifestEntry>? _byKey;

    public Manifest(JsonObject packageMeta, IEnumerable<ManifestEntry> entries, IEnumerable<DirectoryMetadata>? directoryMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(packageMeta);
        ArgumentNullException.ThrowIfNull(entries);
        PackageMeta = packageMeta;
        var sorted = entries.ToArray();
        if (!IsSorted(sorted))
            Array.Sort(sorted, static (a, b) => LogicalKeyComparer.Instance.Compare(a.LogicalKey, b.LogicalKey));
        for (var i = 0; i < sorted.Length; i++)
        {
            var key = sorted[i].LogicalKey;
            Names.ValidateLogicalKey(key);
            if (sorted[i].PhysicalKeys.Count == 0)
                throw new ManifestFormatException($"Entry '{key}' has no physical key.");
            if (sorted[i].Size < 0)
                throw new ManifestFormatException($"Entry '{key}' has a negative size.");
            if (i > 0)
            {
                var previous = sorted[i - 1].LogicalKey;
                if (previous == key)
                    throw new ManifestFormatException($"Duplicate logical key '{key}'.");
                // In tree order a folder's children follow right after a file of the same name would.
                if (key.Length > previous.Length && key.StartsWith(previous, StringComparison.Ordinal) && key[previous.Length] == '/')
                    throw new ManifestFormatException($"'{previous}' is both a file and a folder (of '{key}'); rename one of them.");
            }
        }
        Entries = sorted;
        var dirs = (directoryMetadata ?? []).ToArray();
        Array.Sort(dirs, static (a, b) => LogicalKeyComparer.Instance.Compare(a.LogicalKey, b.LogicalKey));
        DirectoryMetadata = dirs;
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

    public string? Message => PackageMeta["message"]?.GetValue<string>();

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

    /// <summary>
    /// The package line quilt3 writes for a new revision: version, user_meta (when set), workflow (when set), message.
    /// </summary>
    public static JsonObject CreatePackageMeta(string? message, JsonNode? userMeta = null, JsonNode? workflow = null)
    {
        var meta = new JsonObject { ["version"] = "v0" };
        if (userMeta is not null)
            meta["user_meta"] = userMeta.DeepClone();
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
