using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Json;
using Quilt.Core.Manifests;
using Quilt.Operations.Models;
using Quilt.Packages;

namespace Quilt.Operations;

/// <summary>
/// Why entries of a diff differ, as results show it: old and new hash and size, and which metadata keys changed (never
/// the metadata values, which may be large).
/// </summary>
public static class PackageDiffDetails
{
    /// <summary>How many keys of each kind a metadata change names; the rest are counted in a last "+N more".</summary>
    public const int MaxListedKeys = 20;

    /// <summary>The two revisions compared, at most <paramref name="listed"/> keys of each kind.</summary>
    public static PackageDiffResult Result(string package, string fromHash, string toHash, Manifest before, Manifest after, PackageDiff diff, int listed)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(diff);
        return new PackageDiffResult(package, fromHash, toHash,
            diff.Added.Take(listed).Select(e => e.LogicalKey).ToList(),
            diff.Removed.Take(listed).Select(e => e.LogicalKey).ToList(),
            diff.Renamed.Take(listed).Select(Rename).ToList(),
            diff.Modified.Take(listed).Select(Change).ToList(),
            diff.Added.Count, diff.Removed.Count, diff.Renamed.Count, diff.Modified.Count, diff.Unchanged,
            before.Message == after.Message ? null : new TextChange(before.Message, after.Message),
            PackageMetadata(before, after),
            Canonical(before.Workflow) != Canonical(after.Workflow),
            FolderMetadataChanged(before, after).Take(listed).ToList());
    }

    public static PackageEntryRename Rename(EntryRename rename)
    {
        ArgumentNullException.ThrowIfNull(rename);
        return new PackageEntryRename(rename.Before.LogicalKey, rename.After.LogicalKey, EntryMetadata(rename.Before, rename.After));
    }

    public static PackageEntryChange Change(EntryChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var (before, after) = (change.Before!, change.After!);
        return new PackageEntryChange(change.LogicalKey,
            before.Hash.Matches(after.Hash) ? null : new TextChange(HashText(before), HashText(after)),
            before.Size == after.Size ? null : new SizeChange(before.Size, after.Size),
            EntryMetadata(before, after));
    }

    /// <summary>The package metadata keys that differ, or null when the same ("user_meta": null differs from none: another top hash).</summary>
    public static MetadataKeyChanges? PackageMetadata(Manifest before, Manifest after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var (a, b) = (before.PackageMeta.ContainsKey("user_meta"), after.PackageMeta.ContainsKey("user_meta"));
        if (a == b && Canonical(before.UserMeta) == Canonical(after.UserMeta))
            return null;
        return KeyChanges(before.UserMeta, after.UserMeta, "user_meta");
    }

    private static MetadataKeyChanges? EntryMetadata(ManifestEntry before, ManifestEntry after)
    {
        // As PackageDiff.SameContent compares them: an empty meta object is no metadata.
        var (a, b) = (before.Meta is { Count: > 0 } m1 ? m1 : null, after.Meta is { Count: > 0 } m2 ? m2 : null);
        if (Canonical(a) == Canonical(b))
            return null;
        // The keys of user_meta, where quilt3 keeps the user's metadata; anything else of meta that differs shows as "meta".
        var keys = KeyChanges(a?["user_meta"], b?["user_meta"], "meta");
        var rest = (Without(a, "user_meta"), Without(b, "user_meta"));
        return Canonical(rest.Item1) == Canonical(rest.Item2) || keys.Changed.Contains("meta") ? keys
            : keys with { Changed = [.. keys.Changed, "meta"] };
    }

    /// <summary>Top-level keys added, removed or changed between two objects; when either is not an object, the whole as <paramref name="whole"/>.</summary>
    private static MetadataKeyChanges KeyChanges(JsonNode? before, JsonNode? after, string whole)
    {
        var a = before as JsonObject ?? (before is null ? [] : null);
        var b = after as JsonObject ?? (after is null ? [] : null);
        if (a is null || b is null)
            return new MetadataKeyChanges([], [], [whole]);
        var added = b.Where(p => !a.ContainsKey(p.Key)).Select(p => p.Key).ToList();
        var removed = a.Where(p => !b.ContainsKey(p.Key)).Select(p => p.Key).ToList();
        var changed = a.Where(p => b.ContainsKey(p.Key) && Canonical(p.Value) != Canonical(b[p.Key])).Select(p => p.Key).ToList();
        if (added.Count == 0 && removed.Count == 0 && changed.Count == 0)
        {
            changed.Add(whole); // the same keys and values: absent against empty, or null against none
            return new MetadataKeyChanges(Bounded(added), Bounded(removed), Bounded(changed));
        }
        var (listedAdded, listedRemoved, listedChanged) = (Bounded(added), Bounded(removed), Bounded(changed));
        // The values too, where both sides are short: "why it changed" without sending a large value twice.
        var values = new Dictionary<string, TextChange>(StringComparer.Ordinal);
        foreach (var key in listedAdded.Concat(listedRemoved).Concat(listedChanged))
        {
            if (!a.ContainsKey(key) && !b.ContainsKey(key))
                continue; // the "+N more" line
            var (from, to) = (ShortJson(a, key), ShortJson(b, key));
            if (from.Shown && to.Shown)
                values[key] = new TextChange(from.Json, to.Json);
        }
        return new MetadataKeyChanges(listedAdded, listedRemoved, listedChanged, values.Count > 0 ? values : null);
    }

    /// <summary>At most this many characters of compact JSON make a metadata value short enough to show in a diff.</summary>
    public const int MaxShownValueLength = 40;

    private static (bool Shown, string? Json) ShortJson(JsonObject metadata, string key)
    {
        if (!metadata.TryGetPropertyValue(key, out var value))
            return (true, null);
        var json = value?.ToJsonString() ?? "null";
        return json.Length <= MaxShownValueLength ? (true, json) : (false, null);
    }

    private static List<string> Bounded(List<string> keys) =>
        keys.Count <= MaxListedKeys ? keys : [.. keys.Take(MaxListedKeys - 1), $"+{keys.Count - MaxListedKeys + 1} more"];

    /// <summary>The folders whose own metadata (directory metadata lines) was added, removed or changed, in key order.</summary>
    public static IEnumerable<string> FolderMetadataChanged(Manifest before, Manifest after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var (old, now) = (FolderTexts(before), FolderTexts(after));
        return old.Keys.Union(now.Keys).Where(k => !old.TryGetValue(k, out var o) || !now.TryGetValue(k, out var n) || o != n).Order(StringComparer.Ordinal);
    }

    private static Dictionary<string, string> FolderTexts(Manifest manifest)
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var folder in manifest.DirectoryMetadata)
            texts[folder.LogicalKey] = Canonical(folder.Meta);
        return texts;
    }

    private static JsonObject? Without(JsonObject? meta, string key)
    {
        if (meta is null)
            return null;
        var copy = new JsonObject();
        foreach (var (k, v) in meta)
        {
            if (k != key)
                copy[k] = v?.DeepClone();
        }
        return copy.Count == 0 ? null : copy;
    }

    private static string HashText(ManifestEntry e) => $"{e.Hash.Type}:{e.Hash.Value}";

    private static string Canonical(JsonNode? node) => node is null ? "" : PythonJson.Serialize(node, PythonJsonStyle.Canonical);
}
