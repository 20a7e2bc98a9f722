using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>The package tools that only read: list, revisions, browse, entry text and fetch, diff.</summary>
[McpServerToolType]
public sealed class PackageReadTools(PackageOperations operations, ObjectOperations objects)
{
    [McpServerTool(Name = "package_list", Title = "List packages", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("List the Quilt packages (user/name) in a registry bucket, in name order, a page at a time, each with its latest "
        + "revision: top hash, time, message, metadata (bounded), entries and size. "
        + "Then use package_revisions for a package's history or package_browse for its contents.")]
    public async Task<PackageNameList> ListPackages(
        [Description("The registry bucket (a name or s3://bucket). Default: QUILT_MCP_REGISTRY, the only allowed bucket, or 'local' on local storage.")] string? registry = null,
        [Description("Only names containing this text (case-insensitive).")] string? filter = null,
        [Description("Names per page, 1 to 1000; default 100.")] int pageSize = 100,
        [Description("The nextCursor of the previous page; leave out for the first page.")] string? cursor = null,
        CancellationToken cancellationToken = default)
        => await operations.ListAsync(registry, filter, PageRequest.Of(pageSize, cursor), cancellationToken);

    [McpServerTool(Name = "package_revisions", Title = "Package history", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("The history of a package, newest first: each revision's top hash, time, message, metadata, entry count and size. "
        + "Required: package. Use a top hash (or its first 6+ characters) as 'revision' in package_browse or package_diff.")]
    public async Task<PackageRevisionList> ListRevisions(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The registry bucket, when package is a plain name (see package_list).")] string? registry = null,
        [Description("Most revisions to return, 1 to 1000; default 50.")] int limit = 50,
        CancellationToken cancellationToken = default)
        => (await operations.RevisionsAsync(operations.Target(package, registry), limit, cancellationToken)).Result;

    [McpServerTool(Name = "package_browse", Title = "Browse a package", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("One folder level of a package revision: its sub-folders (with entry counts, sizes and folder metadata) and files (size, "
        + "hash, metadata), a page at a time, plus the revision's message and metadata and the folder's own metadata. A path naming a file "
        + "shows that file. Required: package. Read a file with package_entry_text or package_entry_fetch.")]
    public async Task<PackageBrowseResult> Browse(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name[@hash|:tag][&path=folder-or-key].")] string package,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("The folder to show, such as 'data/raw' ('' or leave out for the root, or the package URI's &path=); a file's key shows that file.")] string? path = null,
        [Description("Folders plus files per page, 1 to 1000; default 100.")] int pageSize = 100,
        [Description("The nextCursor of the previous page; leave out for the first page.")] string? cursor = null,
        CancellationToken cancellationToken = default)
        => await operations.BrowseAsync(operations.Target(package, registry, revision), path, PageRequest.Of(pageSize, cursor), cancellationToken);

    private const string RevisionDescription = "The revision: 'latest' (default), a top hash or a unique prefix of 6+ characters (or @hash), "
        + "or :TAG for a pointer file such as a revision's unix timestamp.";

    [McpServerTool(Name = "package_entry_text", Title = "Read a package entry", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectTextResult))]
    [Description("Read a package entry as text, a page at a time, or a preview of a data file (CSV/TSV, JSON, JSON Lines, Parquet), exactly as "
        + "bucket_object_text reads objects; the bytes read are the revision's own (pinned by version). A read of the whole entry is checked "
        + "against the size and hash its manifest records (a mismatch is an error); a page of a larger entry cannot be, and says so (verified false). "
        + "Required: package, path.")]
    public async Task<CallToolResult> ReadEntryText(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name[@hash|:tag][&path=key].")] string package,
        [Description("The entry's logical key, such as 'data/table.csv'. Required unless the package URI has &path=.")] string? path = null,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("'auto' (default), 'text' or 'preview', as in bucket_object_text.")] string format = "auto",
        [Description("Byte offset to start at (format 'text'); default 0.")] long offset = 0,
        [Description("Most bytes to read; default 65536.")] int? maxBytes = null,
        [Description("Text encoding: utf-8 (default), utf-16le, utf-16be, utf-32le, utf-32be, latin1 or ascii.")] string encoding = "utf-8",
        [Description("Rows in a table preview; default 20.")] int rows = 20,
        CancellationToken cancellationToken = default)
    {
        var entry = await EntryAsync(package, path, registry, revision, cancellationToken);
        return BucketReadTools.TextResult(await objects.ReadTextAsync(entry, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
    }

    [McpServerTool(Name = "package_entry_fetch", Title = "Fetch a package entry", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectFetchResult))]
    [Description("Get a package entry's bytes, as bucket_object_fetch does: inline when small (images as image content), or streamed to an "
        + "absolute local path with progress. The bytes are checked against the size and hash the entry's manifest records: on a mismatch "
        + "nothing is returned or saved (an existing file stays as it was). Required: package, path.")]
    public async Task<CallToolResult> FetchEntry(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name[@hash|:tag][&path=key].")] string package,
        [Description("The entry's logical key. Required unless the package URI has &path=.")] string? path = null,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("Absolute local path to write to; leave out to get the content inline.")] string? destination = null,
        [Description("With a destination: replace an existing file. Default false.")] bool overwrite = false,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var entry = await EntryAsync(package, path, registry, revision, cancellationToken);
        return await BucketReadTools.FetchResultAsync(objects, entry, destination, overwrite, context, cancellationToken);
    }

    /// <summary>The entry to read, resolved once (its object and manifest entry) at the revision's top hash.</summary>
    private async Task<ObjectSource> EntryAsync(string package, string? path, string? registry, string? revision, CancellationToken ct) =>
        await objects.ReadableAsync(await operations.EntryUriAsync(package, path, registry, revision, ct), "uri", ct);

    [McpServerTool(Name = "package_link", Title = "Link a package", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Links to a package revision, or an entry or folder in it: the quilt+s3 URI pinned at the top hash, the catalog page "
        + "(when --catalog is set) and, for an entry, a download URL as bucket_object_link gives. Required: package.")]
    public async Task<PackageLinkResult> Link(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name[@hash|:tag][&path=key].")] string package,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("An entry's logical key or a folder; leave out to link the revision.")] string? path = null,
        [Description("For an entry: seconds the download URL works; default 3600.")] int? expiresInSeconds = null,
        CancellationToken cancellationToken = default)
        => await operations.LinkAsync(operations.Target(package, registry, revision), path, expiresInSeconds, objects, cancellationToken);

    [McpServerTool(Name = "package_diff", Title = "Compare revisions", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("What differs between two revisions of a package: entries added, removed, renamed (same bytes, new key) and modified, "
        + "each modification with its old and new hash, size and changed metadata keys; the message and package metadata too. "
        + "Required: package. Default: the previous revision against latest.")]
    public async Task<PackageDiffResult> Diff(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The older revision (top hash or prefix); default: the one before 'to'.")] string? from = null,
        [Description("The newer revision; default 'latest'.")] string? to = null,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        CancellationToken cancellationToken = default)
        => (await operations.DiffAsync(operations.Target(package, registry), from, to, cancellationToken)).Result;
}
