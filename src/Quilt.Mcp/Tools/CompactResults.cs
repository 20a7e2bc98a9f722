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

    /// <summary>
    /// A diff: the JSON once, as structuredContent; the text a listing of what changed and why (hash, size, metadata keys),
    /// without the 64-hex hashes themselves, which only the structured result carries.
    /// </summary>
    public static CallToolResult Diff(PackageDiffResult result)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{result.Package} {Short(result.From)} -> {Short(result.To)}: {result.AddedCount} added, {result.RemovedCount} removed, "
            + $"{result.RenamedCount} renamed, {result.ModifiedCount} modified, {result.Unchanged} unchanged.\n");
        if (result.Message is { } message)
            text.Append(CultureInfo.InvariantCulture, $"message {Quoted(message.From)} -> {Quoted(message.To)}\n");
        if (result.Metadata is { } metadata)
            text.Append("metadata ").Append(Keys(metadata)).Append('\n');
        if (result.WorkflowChanged)
            text.Append("workflow changed\n");
        if (result.FolderMetadataChanged.Count > 0)
            text.Append("folder metadata changed: ").AppendJoin(", ", result.FolderMetadataChanged).Append('\n');
        foreach (var key in result.Added)
            text.Append("+ ").Append(key).Append('\n');
        foreach (var key in result.Removed)
            text.Append("- ").Append(key).Append('\n');
        foreach (var rename in result.Renamed)
        {
            text.Append("> ").Append(rename.From).Append(" -> ").Append(rename.To);
            if (rename.Metadata is { } renamedMetadata)
                text.Append(": metadata ").Append(Keys(renamedMetadata));
            text.Append('\n');
        }
        foreach (var change in result.Modified)
        {
            var why = new List<string>();
            if (change.Hash is not null)
                why.Add("hash");
            if (change.Size is { } size)
                why.Add(string.Create(CultureInfo.InvariantCulture, $"size {size.From} -> {size.To}"));
            if (change.Metadata is { } entryMetadata)
                why.Add("metadata " + Keys(entryMetadata));
            text.Append("~ ").Append(change.Path).Append(": ").AppendJoin(", ", why).Append('\n');
        }
        var listed = result.Added.Count + result.Removed.Count + result.Renamed.Count + result.Modified.Count;
        var total = result.AddedCount + result.RemovedCount + result.RenamedCount + result.ModifiedCount;
        if (listed < total)
            text.Append(CultureInfo.InvariantCulture, $"({listed} of {total} changes listed.)\n");
        return new CallToolResult { Content = [new TextContentBlock { Text = text.ToString() }], StructuredContent = ToolJson.ToElement(result) };

        static string Short(string hash) => hash[..Math.Min(10, hash.Length)];
        static string Quoted(string? value) => value is null ? "none" : JsonSerializer.Serialize(value, ToolJson.Options.GetTypeInfo(typeof(string)));
        static string Keys(MetadataKeyChanges keys) => string.Join("; ", new[]
        {
            keys.Added.Count > 0 ? "added " + string.Join(", ", keys.Added) : null,
            keys.Removed.Count > 0 ? "removed " + string.Join(", ", keys.Removed) : null,
            keys.Changed.Count > 0 ? "changed " + string.Join(", ", keys.Changed) : null,
        }.OfType<string>());
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
