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
    [Description("List a registry's packages by name, a page at a time, each with its latest revision (top hash, time, message, "
        + "metadata, entries, size). Next: package_browse.")]
    public async Task<PackageNameList> ListPackages(
        [Description("Registry bucket; default QUILT_MCP_REGISTRY or the only bucket.")] string? registry = null,
        [Description("Names containing this text.")] string? filter = null,
        [Description("1-1000.")] int pageSize = 100,
        [Description(BucketReadTools.PageCursorDescription)] string? cursor = null,
        CancellationToken cancellationToken = default)
        => await operations.ListAsync(registry, filter, PageRequest.Of(pageSize, cursor), cancellationToken);

    [McpServerTool(Name = "package_revisions", Title = "Package history", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("A package's revisions, newest first: top hash, time, message, metadata, entries, size. "
        + "Browse one: package_browse with revision.")]
    public async Task<PackageRevisionList> ListRevisions(
        [Description(PackageDescription)] string package,
        [Description(RegistryDescription)] string? registry = null,
        [Description("1-1000.")] int limit = 50,
        CancellationToken cancellationToken = default)
        => (await operations.RevisionsAsync(operations.Target(package, registry), limit, cancellationToken)).Result;

    [McpServerTool(Name = "package_browse", Title = "Browse a package", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(PackageBrowseResult))]
    [Description("One folder of a package revision, a page at a time: sub-folders and files named relative to prefix, with the "
        + "message and metadata. Read a file: package_entry_text.")]
    public async Task<CallToolResult> Browse(
        [Description("user/name or quilt+s3://bucket#package=user/name[@hash][&path=...].")] string package,
        [Description(RegistryDescription)] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("Folder (default: root), or a file's key.")] string? path = null,
        [Description("1-1000.")] int pageSize = 100,
        [Description(BucketReadTools.PageCursorDescription)] string? cursor = null,
        CancellationToken cancellationToken = default)
        => CompactResults.Browse(await operations.BrowseAsync(operations.Target(package, registry, revision), path, PageRequest.Of(pageSize, cursor), cancellationToken));

    private const string RevisionDescription = "Top hash, 6+ char prefix or :TAG; default latest.";

    internal const string RegistryDescription = "Registry bucket, for a plain name.";

    internal const string PackageDescription = "user/name or quilt+s3://bucket#package=user/name.";

    private const string EntryPackageDescription = "user/name or quilt+s3://bucket#package=user/name[@hash][&path=key].";

    [McpServerTool(Name = "package_entry_text", Title = "Read a package entry", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectTextResult))]
    [Description("Read a package entry as bucket_object_text does; a whole-entry read is checked against its manifest hash.")]
    public async Task<CallToolResult> ReadEntryText(
        [Description(EntryPackageDescription)] string package,
        [Description("Logical key.")] string? path = null,
        [Description(RegistryDescription)] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("As bucket_object_text.")] string format = "auto",
        [Description(BucketReadTools.OffsetDescription)] long offset = 0,
        [Description(BucketReadTools.MaxBytesDescription)] int? maxBytes = null,
        [Description("As bucket_object_text.")] string encoding = "utf-8",
        [Description("Preview rows.")] int rows = 20,
        CancellationToken cancellationToken = default)
    {
        var entry = await EntryAsync(package, path, registry, revision, cancellationToken);
        return BucketReadTools.TextResult(await objects.ReadTextAsync(entry, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
    }

    [McpServerTool(Name = "package_entry_fetch", Title = "Fetch a package entry", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectFetchResult))]
    [Description("Get a package entry's bytes as bucket_object_fetch does, checked against its manifest hash (nothing is returned "
        + "or saved on a mismatch).")]
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
    [Description("Links to a revision, or an entry or folder in it: the quilt+s3 URI pinned at its top hash, the catalog page, and "
        + "for an entry a download URL.")]
    public async Task<PackageLinkResult> Link(
        [Description(EntryPackageDescription)] string package,
        [Description(RegistryDescription)] string? registry = null,
        [Description(RevisionDescription)] string? revision = null,
        [Description("Entry or folder; omit for the revision.")] string? path = null,
        [Description("Download URL lifetime; default 3600.")] int? expiresInSeconds = null,
        CancellationToken cancellationToken = default)
        => await operations.LinkAsync(operations.Target(package, registry, revision), path, expiresInSeconds, objects, cancellationToken);

    // Text only, no structuredContent (CompactResults.Diff says why), hence no output schema.
    [McpServerTool(Name = "package_diff", Title = "Compare revisions", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("What changed between two revisions (default: previous vs latest), as text: entries added, removed, renamed, "
        + "modified (old..new size, hash's first 8 chars, metadata keys), message, metadata. Whole hashes: package_browse.")]
    public async Task<CallToolResult> Diff(
        [Description(PackageDescription)] string package,
        [Description("Older revision; default: the one before 'to'.")] string? from = null,
        [Description("Newer revision; default latest.")] string? to = null,
        [Description(RegistryDescription)] string? registry = null,
        CancellationToken cancellationToken = default)
        => CompactResults.Diff((await operations.DiffAsync(operations.Target(package, registry), from, to, cancellationToken)).Result);
}
