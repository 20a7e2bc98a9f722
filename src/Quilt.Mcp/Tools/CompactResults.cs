using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;
using Quilt.Core;
using Quilt.Mcp.Models;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>
/// The content of list, browse and revision results. The JSON goes once, as structuredContent; the text content is a
/// listing a person or model reads at a glance (not a second copy of the JSON), followed by resource links to the first
/// items so a client can open what the tool found.
/// </summary>
internal static class CompactResults
{
    /// <summary>Resource links per result, at most: enough to open what a page shows first, bounded for large pages.</summary>
    public const int MaxLinks = 25;

    public static CallToolResult Objects(ObjectsListResult result)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{result.Base}: {Count(result.Objects.Count, "object")}");
        if (result.Folders.Count > 0)
            text.Append(CultureInfo.InvariantCulture, $", {Count(result.Folders.Count, "folder")}");
        text.Append(result.Truncated ? $" on this page; more with cursor \"{result.NextCursor}\"." : ".").Append('\n');
        foreach (var folder in result.Folders)
            text.Append("folder ").Append(folder).Append('\n');
        if (result.Objects.Count > 0)
            text.Append("bytes modified name\n");
        foreach (var entry in result.Objects)
            text.Append(CultureInfo.InvariantCulture, $"{entry.Size} {entry.LastModified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {entry.Name}\n");

        var content = new List<ContentBlock> { new TextContentBlock { Text = text.ToString() } };
        foreach (var entry in result.Objects.Take(MaxLinks))
        {
            var key = result.Prefix + entry.Name;
            content.Add(new ResourceLinkBlock
            {
                Uri = ObjectUriResolver.FormatUri(result.Bucket, key),
                Name = entry.Name,
                MimeType = ContentTypes.Guess(key),
                Size = entry.Size,
            });
        }
        return new CallToolResult { Content = content, StructuredContent = ToolJson.ToElement(result) };
    }

    public static CallToolResult Browse(PackageBrowseResult result)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{result.Uri} ({result.PackageEntries} entries, {TransferProgress.FormatBytes(result.PackageSize)})");
        if (result.Message is { Length: > 0 } message)
            text.Append(": \"").Append(message).Append('"');
        text.Append('\n');
        if (Json(result.Metadata) is { } metadata)
            text.Append("metadata ").Append(metadata).Append('\n');
        var shown = result.Folders.Count + result.Files.Count;
        text.Append(CultureInfo.InvariantCulture, $"/{result.Prefix}: {shown} of {result.Total} items");
        text.Append(result.NextCursor is { } cursor ? $"; more with cursor \"{cursor}\"." : ".").Append('\n');
        if (Json(result.FolderMetadata) is { } folderMetadata)
            text.Append("folder metadata ").Append(folderMetadata).Append('\n');
        foreach (var folder in result.Folders)
        {
            text.Append(CultureInfo.InvariantCulture, $"folder {folder.Name} ({folder.Entries} entries, {folder.Size} bytes)");
            AppendMetadata(text, folder.Metadata);
        }
        if (result.Files.Count > 0)
            text.Append("bytes name\n");
        foreach (var file in result.Files)
        {
            text.Append(CultureInfo.InvariantCulture, $"{file.Size} {file.Name}");
            AppendMetadata(text, file.Metadata);
        }

        var content = new List<ContentBlock>
        {
            new TextContentBlock { Text = text.ToString() },
            PackageLink(result.Registry, result.Package, result.TopHash, result.Uri),
        };
        foreach (var file in result.Files.Take(MaxLinks - 1))
        {
            var key = result.Prefix + file.Name;
            content.Add(new ResourceLinkBlock
            {
                Uri = new QuiltUri { Bucket = result.Registry, PackageName = result.Package, TopHash = result.TopHash, Path = key }.ToString(),
                Name = key,
                MimeType = ContentTypes.Guess(key),
                Size = file.Size,
            });
        }
        return new CallToolResult { Content = content, StructuredContent = ToolJson.ToElement(result) };
    }

    /// <summary>
    /// A new revision: its summary as the JSON text clients already read, a link to the revision, and links to the
    /// entries it added (for a new package, its first entries).
    /// </summary>
    public static CallToolResult Revision(PackageWritten written)
    {
        var result = written.Result;
        var manifest = written.Write.Manifest;
        var structured = ToolJson.ToElement(result);
        var content = new List<ContentBlock>
        {
            new TextContentBlock { Text = structured.GetRawText() },
            PackageLink(result.Registry, result.Package, result.TopHash, result.Uri),
        };
        var added = result.Changes is { } changes ? changes.Added : manifest.Entries.Take(MaxLinks).Select(e => e.LogicalKey);
        foreach (var key in added.Take(MaxLinks - 1))
        {
            content.Add(new ResourceLinkBlock
            {
                Uri = new QuiltUri { Bucket = result.Registry, PackageName = result.Package, TopHash = result.TopHash, Path = key }.ToString(),
                Name = key,
                MimeType = ContentTypes.Guess(key),
                Size = manifest.Find(key)?.Size,
            });
        }
        return new CallToolResult { Content = content, StructuredContent = structured };
    }

    /// <summary>How many characters of an entry's hash a diff shows: enough to tell the two apart; package_browse has them whole.</summary>
    public const int ShortHashLength = 8;

    /// <summary>
    /// A diff as one text block and no structuredContent: some clients give the model only structuredContent when there is
    /// one, others only the text, and both forms of 40 changes cost about 3 KB, as much as the old key-only listing. A listing
    /// every client passes on whole: entries by folder (names relative to it), git's status letters, only the fields that
    /// changed, old..new; a syntax without the characters the wire sends as six-byte escapes (+, &gt;).
    /// </summary>
    public static CallToolResult Diff(PackageDiffResult result)
    {
        var text = new StringBuilder();
        var counts = new[]
        {
            (result.AddedCount, "added"), (result.RemovedCount, "removed"), (result.RenamedCount, "renamed"), (result.ModifiedCount, "modified"),
        }.Where(c => c.Item1 > 0).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Item1} {c.Item2}")).ToList();
        text.Append(CultureInfo.InvariantCulture, $"{result.Package} {Short(result.From)}..{Short(result.To)}: ")
            .Append(counts.Count > 0 ? string.Join(", ", counts) : "no entry changed")
            .Append(CultureInfo.InvariantCulture, $", {result.Unchanged} unchanged.\n");
        if (result.Message is { } message)
            text.Append(CultureInfo.InvariantCulture, $"message {Quoted(message.From)} to {Quoted(message.To)}\n");
        if (result.Metadata is { } metadata)
            text.Append("metadata ").Append(Keys(metadata)).Append('\n');
        if (result.WorkflowChanged)
            text.Append("workflow changed\n");
        if (result.FolderMetadataChanged.Count > 0)
            text.Append("folder metadata changed: ").AppendJoin(", ", result.FolderMetadataChanged.Select(Names.Escaped)).Append('\n');

        var lines = result.Added.Select(key => (Key: key, Line: "A"))
            .Concat(result.Removed.Select(key => (Key: key, Line: "D")))
            .Concat(result.Modified.Select(change => (Key: change.Path, Line: "M" + Why(change))))
            .OrderBy(l => Folder(l.Key), StringComparer.Ordinal).ThenBy(l => l.Key, StringComparer.Ordinal).ToList();
        // The letters used, once (the tool's description says how far hashes are cut).
        var legend = new[]
        {
            result.Added.Count > 0 ? "A added" : null, result.Removed.Count > 0 ? "D removed" : null, result.Renamed.Count > 0 ? "R renamed" : null,
            result.Modified.Count > 0 ? "M modified: size old..new #hash old..new" : null,
        }.OfType<string>().ToList();
        if (legend.Count > 0)
            text.AppendJoin(", ", legend).Append('\n');
        string? folder = null;
        foreach (var (key, line) in lines)
        {
            // Names relative to their folder, which is given once above them (entries at the root come first, under none).
            var name = key[Folder(key).Length..];
            if (Folder(key) != (folder ?? ""))
                text.Append(Names.Escaped(folder = Folder(key))).Append('\n');
            text.Append(line[0]).Append(' ').Append(Names.Escaped(name)).Append(line[1..]).Append('\n');
        }
        foreach (var rename in result.Renamed)
        {
            text.Append("R ").Append(Names.Escaped(rename.From)).Append(" to ").Append(Names.Escaped(rename.To));
            if (rename.Metadata is { } renamedMetadata)
                text.Append(" metadata ").Append(Keys(renamedMetadata));
            text.Append('\n');
        }
        var listed = result.Added.Count + result.Removed.Count + result.Renamed.Count + result.Modified.Count;
        var total = result.AddedCount + result.RemovedCount + result.RenamedCount + result.ModifiedCount;
        if (listed < total)
            text.Append(CultureInfo.InvariantCulture, $"({listed} of {total} changes listed; the CLI's package diff lists all.)\n");
        return new CallToolResult { Content = [new TextContentBlock { Text = text.ToString() }] };

        static string Short(string hash) => hash[..Math.Min(12, hash.Length)];
        static string Folder(string key) => key[..(key.LastIndexOf('/') + 1)];
        static string Quoted(string? value) => value is null ? "none" : JsonSerializer.Serialize(value, ToolJson.Options.GetTypeInfo(typeof(string)));
        // Metadata keys with their values where short: "changed v 1..2; added checked true; removed draft".
        static string Keys(MetadataKeyChanges keys) => string.Join("; ", new[]
        {
            keys.Changed.Count > 0 ? "changed " + string.Join(", ", keys.Changed.Select(k => Valued(keys, k, (from, to) => $" {from}..{to}"))) : null,
            keys.Added.Count > 0 ? "added " + string.Join(", ", keys.Added.Select(k => Valued(keys, k, (_, to) => $" {to}"))) : null,
            keys.Removed.Count > 0 ? "removed " + string.Join(", ", keys.Removed.Select(Names.Escaped)) : null,
        }.OfType<string>());
        static string Valued(MetadataKeyChanges keys, string key, Func<string?, string?, string> values) =>
            keys.Values is { } shown && shown.TryGetValue(key, out var value) ? Names.Escaped(key) + values(value.From, value.To) : Names.Escaped(key);
        // Only what changed: sizes as numbers, hashes cut (with their type when the type itself changed), metadata keys.
        static string Why(PackageEntryChange change)
        {
            var why = new StringBuilder();
            if (change.Size is { } size)
                why.Append(CultureInfo.InvariantCulture, $" {size.From}..{size.To}");
            if (change.Hash is { } hash)
            {
                var (from, to) = (Split(hash.From), Split(hash.To));
                var typed = from.Type != to.Type;
                why.Append(" #").Append(HashText(from, typed)).Append("..").Append(HashText(to, typed));
            }
            if (change.Metadata is { } entryMetadata)
                why.Append(" metadata ").Append(Keys(entryMetadata));
            return why.ToString();
        }
        static (string Type, string Value) Split(string? hash) =>
            hash?.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0 ? (hash[..colon], hash[(colon + 1)..]) : ("", hash ?? "");
        static string HashText((string Type, string Value) hash, bool typed) =>
            (typed ? hash.Type + ":" : "") + hash.Value[..Math.Min(ShortHashLength, hash.Value.Length)];
    }

    private static ResourceLinkBlock PackageLink(string registry, string package, string topHash, string uri) => new()
    {
        Uri = uri,
        Name = $"{package}@{topHash[..Math.Min(10, topHash.Length)]}",
        Description = $"Package {package} in {registry}, revision {topHash}.",
    };

    private static void AppendMetadata(StringBuilder text, JsonElement? metadata)
    {
        if (Json(metadata) is { } json)
            text.Append(' ').Append(json);
        text.Append('\n');
    }

    private static string? Json(JsonElement? value) =>
        value is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } element ? element.GetRawText() : null;

    private static string Count(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");
}
