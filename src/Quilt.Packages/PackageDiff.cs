using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Json;
using Quilt.Core.Manifests;

namespace Quilt.Packages;

public sealed record EntryChange(string LogicalKey, ManifestEntry? Before, ManifestEntry? After);

/// <summary>An entry moved: the same bytes (hash and size) under another logical key; its metadata may differ.</summary>
public sealed record EntryRename(ManifestEntry Before, ManifestEntry After);

/// <summary>
/// What differs between two revisions: entries added, removed, renamed (same bytes, another key), changed (by hash, size
/// or metadata), the package line and folder (directory) metadata.
/// </summary>
public sealed record PackageDiff(
    IReadOnlyList<ManifestEntry> Added,
    IReadOnlyList<ManifestEntry> Removed,
    IReadOnlyList<EntryChange> Modified,
    int Unchanged,
    bool MessageChanged,
    bool MetadataChanged)
{
    /// <summary>Entries whose bytes moved to another key: paired, and so in neither <see cref="Added"/> nor <see cref="Removed"/>.</summary>
    public IReadOnlyList<EntryRename> Renamed { get; init; } = [];

    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Renamed.Count == 0 && Modified.Count == 0 && !MessageChanged && !MetadataChanged;

    public static PackageDiff Compute(Manifest before, Manifest after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var added = new List<ManifestEntry>();
        var removed = new List<ManifestEntry>();
        var modified = new List<EntryChange>();
        var unchanged = 0;
        foreach (var entry in after.Entries)
        {
            var old = before.Find(entry.LogicalKey);
            if (old is null)
                added.Add(entry);
            else if (SameContent(old, entry))
                unchanged++;
            else
                modified.Add(new EntryChange(entry.LogicalKey, old, entry));
        }
        foreach (var entry in before.Entries)
        {
            if (after.Find(entry.LogicalKey) is null)
                removed.Add(entry);
        }
        var renamed = PairRenames(added, removed);
        return new PackageDiff(added, removed, modified, unchanged,
            before.Message != after.Message,
            PackageMetaText(before) != PackageMetaText(after) || Canonical(before.Workflow) != Canonical(after.Workflow)
                || DirectoryMetaText(before) != DirectoryMetaText(after))
        {
            Renamed = renamed,
        };
    }

    /// <summary>
    /// Takes out of <paramref name="added"/> and <paramref name="removed"/> the entries whose bytes only moved (same hash
    /// and size under another key), pairing copies of the same bytes in manifest order.
    /// </summary>
    private static List<EntryRename> PairRenames(List<ManifestEntry> added, List<ManifestEntry> removed)
    {
        var renamed = new List<EntryRename>();
        if (added.Count == 0 || removed.Count == 0)
            return renamed;
        var gone = new Dictionary<string, Queue<ManifestEntry>>(StringComparer.Ordinal);
        foreach (var entry in removed)
        {
            var bytes = BytesIdentity(entry);
            if (!gone.TryGetValue(bytes, out var queue))
                gone[bytes] = queue = new Queue<ManifestEntry>();
            queue.Enqueue(entry);
        }
        var paired = new HashSet<ManifestEntry>(ReferenceEqualityComparer.Instance);
        added.RemoveAll(entry =>
        {
            if (!gone.TryGetValue(BytesIdentity(entry), out var queue) || !queue.TryDequeue(out var old))
                return false;
            renamed.Add(new EntryRename(old, entry));
            paired.Add(old);
            return true;
        });
        removed.RemoveAll(paired.Contains);
        return renamed;
    }

    // What ObjectHash.Matches compares (hex SHA256 in either case), with the size.
    private static string BytesIdentity(ManifestEntry e) =>
        $"{e.Size}:{e.Hash.Type}:{(e.Hash.Type == ObjectHash.Sha256Type ? e.Hash.Value.ToUpperInvariant() : e.Hash.Value)}";

    // "user_meta": null is not the same as no user_meta (quilt3's set_meta(None): another top hash).
    private static string PackageMetaText(Manifest m) => m.PackageMeta.ContainsKey("user_meta") ? "=" + Canonical(m.UserMeta) : "";

    // Folder metadata is left out of the top hash, so only a comparison sees it change.
    private static string DirectoryMetaText(Manifest m) =>
        string.Join('\n', m.DirectoryMetadata.Select(d => d.LogicalKey + "\t" + Canonical(d.Meta)));

    /// <summary>Same bytes and same metadata: what the top hash sees (physical keys aside).</summary>
    public static bool SameContent(ManifestEntry a, ManifestEntry b) =>
        a.Size == b.Size && a.Hash.Matches(b.Hash) && Canonical(a.Meta is { Count: > 0 } ? a.Meta : null) == Canonical(b.Meta is { Count: > 0 } ? b.Meta : null);

    private static string Canonical(JsonNode? node) => node is null ? "" : PythonJson.Serialize(node, PythonJsonStyle.Canonical);
}
