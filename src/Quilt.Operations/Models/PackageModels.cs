using System.ComponentModel;
using System.Text.Json;

namespace Quilt.Operations.Models;

/// <summary>One source of entries for package_create / package_patch.</summary>
public sealed record PackageSourceInput
{
    [Description("s3://bucket/key, s3://bucket/prefix/ (all below it), or an absolute local file or folder (as quilt3: .quiltignore "
        + "honoured, links out of it refused). Omit with text/base64.")]
    public string? Uri { get; init; }

    [Description("Its logical key (default: the file name); for a prefix or folder, the folder it lands in (default: root).")]
    public string? LogicalKey { get; init; }

    [Description("Inline UTF-8 content; needs logicalKey.")]
    public string? Text { get; init; }

    [Description("Inline base64 content; needs logicalKey.")]
    public string? Base64 { get; init; }

    // Not JsonElement?: JSON null must stay a Null element (quilt3's set_meta(None)), apart from leaving it out (Undefined).
    [Description("Entry metadata (user_meta), a JSON object; null writes null. Not for a prefix or folder.")]
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
    string TopHash,
    DateTimeOffset Time,
    string? Message,
    [property: Description("Package metadata (user_meta).")] JsonElement? Metadata,
    int Entries,
    long Size,
    string Uri);

public sealed record PackageRevisionList(
    string Package,
    string Registry,
    IReadOnlyList<PackageRevisionItem> Revisions,
    int Total);

// (A JsonElement property keeps a description: without one its schema is `true`, which the TypeScript SDK rejects.)
// A browse gives the revision's URI and the folder's prefix once and each item's name relative to it: a quilt+s3 URI
// per file repeated the 64-hex top hash.
public sealed record PackageFolderItem(
    [property: Description("Relative to prefix.")] string Name,
    int Entries,
    long Size,
    [property: Description("Directory metadata (quilt3 set_dir).")] JsonElement? Metadata);

public sealed record PackageFileItem(
    [property: Description("Relative to prefix.")] string Name,
    long Size,
    string Hash,
    [property: Description("Entry metadata (user_meta).")] JsonElement? Metadata);

public sealed record PackageBrowseResult(
    string Package,
    string Registry,
    string TopHash,
    string? Message,
    [property: Description("Package metadata (user_meta).")] JsonElement? Metadata,
    [property: Description("Folder shown; for a file, its folder.")] string Path,
    [property: Description("Logical key = prefix + name.")] string Prefix,
    IReadOnlyList<PackageFolderItem> Folders,
    IReadOnlyList<PackageFileItem> Files,
    int Total,
    int PackageEntries,
    long PackageSize,
    [property: Description("Cursor of the next page; null on the last.")] string? NextCursor,
    [property: Description("The revision's quilt+s3 URI.")] string Uri,
    string? CatalogUrl,
    [property: Description("This folder's directory metadata.")] JsonElement? FolderMetadata);

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
    string Package,
    string Registry,
    string TopHash,
    string Uri,
    int Entries,
    long Size,
    [property: Description("From the previous latest; null if new.")] PackageChanges? Changes,
    string? CatalogUrl);

internal static class PackageText
{
    public const string Renamed = "Entries whose bytes (hash and size) moved to another logical key, old to new (at most 200 listed); in neither added nor removed.";
}

/// <summary>A value before and after (a message, or an entry's hash as type:value).</summary>
public sealed record TextChange(string? From, string? To);

/// <summary>An entry's size in bytes before and after.</summary>
public sealed record SizeChange(long From, long To);

public sealed record MetadataKeyChanges(
    [property: Description("Keys added.")] IReadOnlyList<string> Added,
    [property: Description("Keys removed.")] IReadOnlyList<string> Removed,
    [property: Description("Keys whose value changed; 'user_meta' or 'meta' when the metadata as a whole changed shape (e.g. to null).")] IReadOnlyList<string> Changed,
    [property: Description("Old and new values (compact JSON, null when absent) of the keys listed, for values short enough to show.")] IReadOnlyDictionary<string, TextChange>? Values = null);

public sealed record PackageEntryRename(
    [property: Description("The old logical key.")] string From,
    [property: Description("The new logical key.")] string To,
    [property: Description("The entry's metadata (user_meta) keys that changed with it, or null.")] MetadataKeyChanges? Metadata);

/// <summary>
/// An entry under the same key whose hash, size or metadata changed: the old and new values of what changed (null when the
/// same); the metadata as the keys (of user_meta) added, removed or changed.
/// </summary>
public sealed record PackageEntryChange(string Path, TextChange? Hash, SizeChange? Size, MetadataKeyChanges? Metadata);

/// <summary>
/// Two revisions compared (package_diff renders it as text, so it reaches no output schema). At most the operation's limit
/// of keys of each kind are listed; the counts are whole. Message: old and new, or null when the same. Metadata: the package
/// metadata keys changed, or null. FolderMetadataChanged: folders whose own metadata (set_dir meta) changed.
/// </summary>
public sealed record PackageDiffResult(
    string Package,
    string From,
    string To,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<PackageEntryRename> Renamed,
    IReadOnlyList<PackageEntryChange> Modified,
    int AddedCount,
    int RemovedCount,
    int RenamedCount,
    int ModifiedCount,
    int Unchanged,
    TextChange? Message,
    MetadataKeyChanges? Metadata,
    bool WorkflowChanged,
    IReadOnlyList<string> FolderMetadataChanged);

public sealed record PackageLinkResult(
    [property: Description("The package.")] string Package,
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Top hash of the revision linked (the link stays on it when latest moves).")] string TopHash,
    [property: Description("The entry's logical key or folder linked; null for the whole revision.")] string? Path,
    [property: Description("quilt+s3 URI pinned at the top hash (with &path= for a path), for quilt3 and the other tools.")] string Uri,
    [property: Description("The Quilt catalog page, when a catalog host is configured (--catalog).")] string? CatalogUrl,
    [property: Description("For an entry: a URL that downloads its data, as bucket_object_link gives it; null for a revision or folder.")] ObjectLinkResult? Download);

public sealed record PackageDeleteResult(
    string Package,
    string TopHash,
    [property: Description("Where latest points now; null if none left.")] string? Latest);

/// <summary>What package_promote made: the new revision in the destination (a lean result: the revision's URI leads on).</summary>
public sealed record PackagePromoteResult(string Package, string Registry, string TopHash, string Uri, int Entries, long Size);
