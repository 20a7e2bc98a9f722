using System.ComponentModel;
using System.Text.Json;

namespace Quilt.Operations.Models;

/// <summary>One source of entries for package_create / package_patch.</summary>
public sealed record PackageSourceInput
{
    [Description("What to add: s3://bucket/key (one object), s3://bucket/prefix/ (every object below it), or an absolute local path "
        + "(a file, or a folder and everything below it, as quilt3 takes it: what its .quiltignore names is left out, links to files inside "
        + "it are followed, and links out of it are refused by name). Leave out when giving text or base64.")]
    public string? Uri { get; init; }

    [Description("Where it goes in the package. For one object, file or inline content: its logical key (default: the file's name). "
        + "For a prefix or folder: the folder it lands in (default: the package root).")]
    public string? LogicalKey { get; init; }

    [Description("Inline content as text (UTF-8); needs logicalKey.")]
    public string? Text { get; init; }

    [Description("Inline content as base64; needs logicalKey.")]
    public string? Base64 { get; init; }

    // Not JsonElement?: JSON null must stay a Null element (quilt3's set_meta(None)), apart from leaving it out (Undefined).
    [Description("Metadata of the entry (stored as its user_meta): any JSON object; null writes \"user_meta\": null, as quilt3's set_meta(None). "
        + "Only for one object, file or inline content.")]
    public JsonElement Metadata { get; init; }
}

public sealed record PackageListItem(
    [property: Description("The package (user/name).")] string Name,
    [property: Description("Top hash of its latest revision; null when it could not be read (see note).")] string? TopHash,
    [property: Description("When the latest revision was published (UTC), when known.")] DateTimeOffset? Time,
    [property: Description("The latest revision's message.")] string? Message,
    [property: Description("Its package metadata (user_meta): the top-level keys that fit in 512 bytes of JSON.")] JsonElement? Metadata,
    [property: Description("True when keys of the metadata were left out (see package_revisions or package_browse for all).")] bool MetadataTruncated,
    [property: Description("Entries in the latest revision.")] int? Entries,
    [property: Description("Total bytes of its entries.")] long? Size,
    [property: Description("Why the latest revision could not be read, when it could not.")] string? Note = null);

public sealed record PackageNameList(
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Packages on this page, in name order, each with its latest revision.")] IReadOnlyList<PackageListItem> Packages,
    [property: Description("How many names matched in all.")] int Total,
    [property: Description("Pass as cursor to get the next page; null on the last page.")] string? NextCursor);

public sealed record PackageRevisionItem(
    [property: Description("The revision's top hash.")] string TopHash,
    [property: Description("When it was published (UTC).")] DateTimeOffset Time,
    [property: Description("Its message.")] string? Message,
    [property: Description("Its package metadata (user_meta).")] JsonElement? Metadata,
    [property: Description("Entries in it.")] int Entries,
    [property: Description("Total bytes of its entries.")] long Size,
    [property: Description("quilt+s3 URI of this revision.")] string Uri);

public sealed record PackageRevisionList(
    [property: Description("The package.")] string Package,
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Newest first.")] IReadOnlyList<PackageRevisionItem> Revisions,
    [property: Description("How many revisions exist in all.")] int Total);

public sealed record PackageFolderItem(
    [property: Description("Logical key of the folder, ending in '/'.")] string Path,
    [property: Description("Entries below it, at any depth.")] int Entries,
    [property: Description("Total bytes below it.")] long Size,
    [property: Description("The folder's own metadata (its directory metadata line, quilt3's set_dir meta), or null.")] JsonElement? Metadata);

public sealed record PackageFileItem(
    [property: Description("Logical key.")] string Path,
    [property: Description("Bytes.")] long Size,
    [property: Description("Hash type and value as the manifest records them, e.g. sha2-256-chunked:BASE64.")] string Hash,
    [property: Description("The entry's metadata (user_meta), or null.")] JsonElement? Metadata,
    [property: Description("quilt+s3 URI of the entry, for bucket_object_text, package_entry_text or package_entry_fetch.")] string Uri);

public sealed record PackageBrowseResult(
    [property: Description("The package.")] string Package,
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Top hash of the revision shown.")] string TopHash,
    [property: Description("The revision's message.")] string? Message,
    [property: Description("The package metadata (user_meta).")] JsonElement? Metadata,
    [property: Description("The folder shown ('' for the root); for a path naming a file, the folder holding it (Files lists only that file).")] string Path,
    [property: Description("Sub-folders on this page.")] IReadOnlyList<PackageFolderItem> Folders,
    [property: Description("Files on this page.")] IReadOnlyList<PackageFileItem> Files,
    [property: Description("Folders plus files in this folder in all.")] int Total,
    [property: Description("Entries in the whole revision.")] int PackageEntries,
    [property: Description("Total bytes of the whole revision.")] long PackageSize,
    [property: Description("Pass as cursor for the next page; null on the last page.")] string? NextCursor,
    [property: Description("quilt+s3 URI of the revision.")] string Uri,
    [property: Description("The Quilt catalog page, when a catalog host is configured.")] string? CatalogUrl,
    [property: Description("The shown folder's own metadata (its directory metadata line, quilt3's set_dir meta), or null.")] JsonElement? FolderMetadata);

public sealed record PackageChanges(
    [property: Description("Logical keys added (at most 200 listed).")] IReadOnlyList<string> Added,
    [property: Description("Logical keys removed (at most 200 listed).")] IReadOnlyList<string> Removed,
    [property: Description("Logical keys whose data or metadata changed (at most 200 listed).")] IReadOnlyList<string> Modified,
    [property: Description("How many were added in all.")] int AddedCount,
    [property: Description("How many were removed in all.")] int RemovedCount,
    [property: Description("How many were modified in all.")] int ModifiedCount,
    [property: Description("How many stayed the same.")] int Unchanged,
    [property: Description("Whether the message differs.")] bool MessageChanged,
    [property: Description("Whether the package metadata, workflow or folder metadata differs.")] bool MetadataChanged,
    [property: Description(PackageText.Renamed)] IReadOnlyList<PackageEntryRename> Renamed,
    [property: Description("How many were renamed in all.")] int RenamedCount);

public sealed record PackageRevisionResult(
    [property: Description("The package.")] string Package,
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Top hash of the new revision (the same as quilt3 computes).")] string TopHash,
    [property: Description("quilt+s3 URI of the new revision.")] string Uri,
    [property: Description("Entries in it.")] int Entries,
    [property: Description("Total bytes.")] long Size,
    [property: Description("What changed from the previous latest revision; null for a new package.")] PackageChanges? Changes,
    [property: Description("The Quilt catalog page, when a catalog host is configured.")] string? CatalogUrl);

internal static class PackageText
{
    public const string Renamed = "Entries whose bytes (hash and size) moved to another logical key, old to new (at most 200 listed); in neither added nor removed.";
}

public sealed record TextChange(
    [property: Description("Before.")] string? From,
    [property: Description("After.")] string? To);

public sealed record SizeChange(
    [property: Description("Bytes before.")] long From,
    [property: Description("Bytes after.")] long To);

public sealed record MetadataKeyChanges(
    [property: Description("Keys added.")] IReadOnlyList<string> Added,
    [property: Description("Keys removed.")] IReadOnlyList<string> Removed,
    [property: Description("Keys whose value changed; 'user_meta' or 'meta' when the metadata as a whole changed shape (e.g. to null).")] IReadOnlyList<string> Changed);

public sealed record PackageEntryRename(
    [property: Description("The old logical key.")] string From,
    [property: Description("The new logical key.")] string To,
    [property: Description("The entry's metadata (user_meta) keys that changed with it, or null.")] MetadataKeyChanges? Metadata);

public sealed record PackageEntryChange(
    [property: Description("Logical key.")] string Path,
    [property: Description("Old and new hash (type:value), or null when the bytes hash the same.")] TextChange? Hash,
    [property: Description("Old and new size, or null when the same.")] SizeChange? Size,
    [property: Description("The entry's metadata (user_meta) keys added, removed or changed, or null when the same.")] MetadataKeyChanges? Metadata);

public sealed record PackageDiffResult(
    [property: Description("The package.")] string Package,
    [property: Description("Top hash of the older revision.")] string From,
    [property: Description("Top hash of the newer revision.")] string To,
    [property: Description("Logical keys added (at most 200 listed).")] IReadOnlyList<string> Added,
    [property: Description("Logical keys removed (at most 200 listed).")] IReadOnlyList<string> Removed,
    [property: Description(PackageText.Renamed)] IReadOnlyList<PackageEntryRename> Renamed,
    [property: Description("Entries under the same key whose hash, size or metadata changed, with the old and new values (at most 200 listed).")] IReadOnlyList<PackageEntryChange> Modified,
    [property: Description("How many were added in all.")] int AddedCount,
    [property: Description("How many were removed in all.")] int RemovedCount,
    [property: Description("How many were renamed in all.")] int RenamedCount,
    [property: Description("How many were modified in all.")] int ModifiedCount,
    [property: Description("How many entries stayed the same.")] int Unchanged,
    [property: Description("The old and new message, or null when the same.")] TextChange? Message,
    [property: Description("The package metadata (user_meta) keys added, removed or changed, or null when the same.")] MetadataKeyChanges? Metadata,
    [property: Description("Whether the workflow recorded changed.")] bool WorkflowChanged,
    [property: Description("Folders whose own metadata (set_dir meta) was added, removed or changed (at most 200 listed).")] IReadOnlyList<string> FolderMetadataChanged);

public sealed record PackageLinkResult(
    [property: Description("The package.")] string Package,
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Top hash of the revision linked (the link stays on it when latest moves).")] string TopHash,
    [property: Description("The entry's logical key or folder linked; null for the whole revision.")] string? Path,
    [property: Description("quilt+s3 URI pinned at the top hash (with &path= for a path), for quilt3 and the other tools.")] string Uri,
    [property: Description("The Quilt catalog page, when a catalog host is configured (--catalog).")] string? CatalogUrl,
    [property: Description("For an entry: a URL that downloads its data, as bucket_object_link gives it; null for a revision or folder.")] ObjectLinkResult? Download);

public sealed record PackageDeleteResult(
    [property: Description("The package.")] string Package,
    [property: Description("The deleted revision.")] string TopHash,
    [property: Description("Top hash 'latest' points at now; null when no revision is left.")] string? Latest);
