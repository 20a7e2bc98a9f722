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
    [Description("A package's revisions, newest first: top hash, time, message, metadata, entries, size. Required: package. Pass "
        + "a top hash as 'revision' to package_browse.")]
    public async Task<PackageRevisionList> ListRevisions(
        [Description("user/name or quilt+s3://bucket#package=user/name.")] string package,
        [Description(RegistryDescription)] string? registry = null,
        [Description("1-1000.")] int limit = 50,
        CancellationToken cancellationToken = default)
        => (await operations.RevisionsAsync(operations.Target(package, registry), limit, cancellationToken)).Result;

    [McpServerTool(Name = "package_browse", Title = "Browse a package", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(PackageBrowseResult))]
    [Description("One folder of a package revision, a page at a time: sub-folders and files (size, hash, metadata) named relative "
        + "to prefix, and the revision's message and metadata. Required: package. Read a file with package_entry_text(package = uri, "
        + "path = prefix + name), or its resource link.")]
    public async Task<CallToolResult> Browse(
        [Description("user/name or quilt+s3://bucket#package=user/name[@hash|:tag][&path=...].")] string package,
        [Description(RegistryDescription)] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("Folder, e.g. 'data/raw' (default: root); a file's key shows that file.")] string? path = null,
        [Description("1-1000.")] int pageSize = 100,
        [Description("nextCursor of the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default)
        => CompactResults.Browse(await operations.BrowseAsync(operations.Target(package, registry, revision), path, PageRequest.Of(pageSize, cursor), cancellationToken));

    private const string RevisionDescription = "'latest' (default), a top hash or a unique prefix of 6+ characters, or :TAG.";

    internal const string RegistryDescription = "The registry bucket, for a plain package name.";

    private const string EntryPackageDescription = "user/name or quilt+s3://bucket#package=user/name[@hash][&path=key].";

    [McpServerTool(Name = "package_entry_text", Title = "Read a package entry", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectTextResult))]
    [Description("Read a package entry as bucket_object_text reads an object (text pages, data previews); a whole-entry read is "
        + "checked against its manifest hash. Required: package, path (or &path= in the URI).")]
    public async Task<CallToolResult> ReadEntryText(
        [Description(EntryPackageDescription)] string package,
        [Description("Logical key, e.g. 'data/table.csv'.")] string? path = null,
        [Description(RegistryDescription)] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description(BucketReadTools.FormatDescription)] string format = "auto",
        [Description("Byte offset (format 'text'); default 0.")] long offset = 0,
        [Description("Default 65536.")] int? maxBytes = null,
        [Description(BucketReadTools.EncodingDescription)] string encoding = "utf-8",
        [Description("Preview rows; default 20.")] int rows = 20,
        CancellationToken cancellationToken = default)
    {
        var entry = await EntryAsync(package, path, registry, revision, cancellationToken);
        return BucketReadTools.TextResult(await objects.ReadTextAsync(entry, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
    }

    [McpServerTool(Name = "package_entry_fetch", Title = "Fetch a package entry", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectFetchResult))]
    [Description("Get a package entry's bytes as bucket_object_fetch does (inline or to a local destination), checked against "
        + "its manifest hash: on a mismatch nothing is returned or saved. Required: package, path.")]
    public async Task<CallToolResult> FetchEntry(
        [Description(EntryPackageDescription)] string package,
        [Description("Logical key.")] string? path = null,
        [Description(RegistryDescription)] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description(BucketReadTools.DestinationDescription)] string? destination = null,
        [Description("Replace an existing file.")] bool overwrite = false,
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
        [Description("The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The older revision (top hash or prefix); default: the one before 'to'.")] string? from = null,
        [Description("The newer revision; default 'latest'.")] string? to = null,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        CancellationToken cancellationToken = default)
        => (await operations.DiffAsync(operations.Target(package, registry), from, to, cancellationToken)).Result;
}
