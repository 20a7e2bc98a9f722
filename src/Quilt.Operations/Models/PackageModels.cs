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

public sealed record PackageNameList(
    [property: Description("The registry bucket.")] string Registry,
    [property: Description("Package names (user/name) on this page, in order.")] IReadOnlyList<string> Packages,
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
    [property: Description("Whether the package metadata, workflow or folder metadata differs.")] bool MetadataChanged);

public sealed record PackageRevisionResult(
    string Package,
    string Registry,
    string TopHash,
    string Uri,
    int Entries,
    long Size,
    [property: Description("From the previous latest; null if new.")] PackageChanges? Changes,
    string? CatalogUrl);

public sealed record PackageDiffResult(
    [property: Description("The package.")] string Package,
    [property: Description("Top hash of the older revision.")] string From,
    [property: Description("Top hash of the newer revision.")] string To,
    [property: Description("The differences.")] PackageChanges Changes);

public sealed record PackageDeleteResult(
    string Package,
    string TopHash,
    [property: Description("Where latest points now; null if none left.")] string? Latest);
