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
using Quilt.Operations.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>The package tools that only read: list, revisions, browse, entry text and fetch, diff.</summary>
[McpServerToolType]
public sealed class PackageReadTools(PackageRegistries registries, IObjectStore store, ObjectUriResolver uris, BucketAccessPolicy policy, ServerSettings settings)
{
    // Entry reads are object reads: the same operations as bucket_object_text and bucket_object_fetch.
    private readonly ObjectOperations _objects = new(store, uris, policy, settings);

    private const int MaxListedChanges = 200;

    [McpServerTool(Name = "package_list", Title = "List packages", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("List the Quilt packages (user/name) in a registry bucket, in name order, a page at a time. "
        + "Then use package_revisions for a package's history or package_browse for its contents.")]
    public async Task<PackageNameList> ListPackages(
        [Description("The registry bucket (a name or s3://bucket). Default: QUILT_MCP_REGISTRY, the only allowed bucket, or 'local' on local storage.")] string? registry = null,
        [Description("Only names containing this text (case-insensitive).")] string? filter = null,
        [Description("Names per page, 1 to 1000; default 100.")] int pageSize = 100,
        [Description("The nextCursor of the previous page; leave out for the first page.")] string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var bucket = registries.DefaultRegistry(registry);
        policy.EnsureCanRead(bucket, "registry");
        var (offset, size) = Page(pageSize, cursor);
        var names = await new PackageRegistry(store, bucket).ListPackagesAsync(string.IsNullOrWhiteSpace(filter) ? null : filter, cancellationToken);
        var page = names.Skip(offset).Take(size).ToList();
        return new PackageNameList(bucket, page, names.Count, NextCursor(offset, size, names.Count));
    }

    [McpServerTool(Name = "package_revisions", Title = "Package history", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("The history of a package, newest first: each revision's top hash, time, message, metadata, entry count and size. "
        + "Required: package. Use a top hash (or its first 6+ characters) as 'revision' in package_browse or package_diff.")]
    public async Task<PackageRevisionList> ListRevisions(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The registry bucket, when package is a plain name (see package_list).")] string? registry = null,
        [Description("Most revisions to return, 1 to 1000; default 50.")] int limit = 50,
        CancellationToken cancellationToken = default)
    {
        var target = registries.Resolve(package, registry, null, write: false);
        if (limit is < 1 or > 1000)
            throw new McpException($"limit {limit} is out of range: use 1 to 1000.");
        var revisions = await target.Registry.ListRevisionsAsync(target.Name, cancellationToken);
        var items = new List<PackageRevisionItem>();
        foreach (var revision in revisions.Take(limit))
        {
            var manifest = await registries.GetManifestAsync(target.Registry, revision.TopHash, cancellationToken);
            items.Add(new PackageRevisionItem(revision.TopHash, revision.Time, manifest.Message, PackageSourceResolver.ToElement(manifest.UserMeta),
                manifest.Entries.Count, manifest.TotalSize, target.Uri(revision.TopHash)));
        }
        return new PackageRevisionList(target.Name, target.Registry.Bucket, items, revisions.Count);
    }

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
    {
        var target = registries.Resolve(package, registry, revision, write: false);
        var (offset, size) = Page(pageSize, cursor);
        var (hash, manifest) = await registries.BrowseAsync(target, cancellationToken);
        var given = PathOf(path, target).Trim();
        var tidy = given.Trim('/');
        if ((manifest.Find(given) ?? manifest.Find(tidy)) is { } file)
        {
            // A path naming a file (a URI's &path= to an entry, as the catalog opens it): that file, in its folder.
            var parent = file.LogicalKey.LastIndexOf('/') is var slash and >= 0 ? file.LogicalKey[..slash] : "";
            return new PackageBrowseResult(target.Name, target.Registry.Bucket, hash, manifest.Message, PackageSourceResolver.ToElement(manifest.UserMeta),
                parent, [], [FileItem(target, hash, file)], 1, manifest.Entries.Count, manifest.TotalSize, null,
                target.Uri(hash), CatalogUrl(settings, target, hash, file.LogicalKey), FolderMetadata(manifest, parent.Length == 0 ? "" : parent + "/"));
        }
        // A folder as this tool lists it (ending in '/') is taken as it is when entries are below it: quilt3 keeps keys such
        // as '/abs' or 'a//b', whose folders ('/', 'a//') no tidying of the path reaches.
        var prefix = given.EndsWith('/') && manifest.Entries.Any(e => e.LogicalKey.StartsWith(given, StringComparison.Ordinal)) ? given
            : tidy.Length == 0 ? "" : tidy + "/";
        var folder = prefix.Length == 0 ? "" : prefix[..^1];

        var folders = new SortedDictionary<string, (int Count, long Size)>(StringComparer.Ordinal);
        var files = new List<ManifestEntry>();
        foreach (var entry in manifest.Entries)
        {
            if (!entry.LogicalKey.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var rest = entry.LogicalKey.AsSpan(prefix.Length);
            var slash = rest.IndexOf('/');
            if (slash < 0)
            {
                files.Add(entry);
                continue;
            }
            var sub = prefix + rest[..(slash + 1)].ToString();
            folders[sub] = folders.TryGetValue(sub, out var f) ? (f.Count + 1, f.Size + entry.Size) : (1, entry.Size);
        }
        if (prefix.Length > 0 && folders.Count == 0 && files.Count == 0)
            throw new McpException($"{target.Name}@{hash[..10]} has no folder '{folder}'. Browse the root to see its folders.");

        var total = folders.Count + files.Count;
        var folderItems = folders.Skip(offset).Take(size)
            .Select(kv => new PackageFolderItem(kv.Key, kv.Value.Count, kv.Value.Size, FolderMetadata(manifest, kv.Key))).ToList();
        var fileItems = files.Skip(Math.Max(0, offset - folders.Count)).Take(size - folderItems.Count)
            .Select(e => FileItem(target, hash, e))
            .ToList();
        return new PackageBrowseResult(target.Name, target.Registry.Bucket, hash, manifest.Message, PackageSourceResolver.ToElement(manifest.UserMeta),
            folder, folderItems, fileItems, total, manifest.Entries.Count, manifest.TotalSize, NextCursor(offset, size, total),
            target.Uri(hash), CatalogUrl(settings, target, hash, prefix.Length == 0 ? null : prefix), FolderMetadata(manifest, prefix));
    }

    private const string RevisionDescription = "The revision: 'latest' (default), a top hash or a unique prefix of 6+ characters (or @hash), "
        + "or :TAG for a pointer file such as a revision's unix timestamp.";

    private static PackageFileItem FileItem(PackageTarget target, string hash, ManifestEntry e) =>
        new(e.LogicalKey, e.Size, $"{e.Hash.Type}:{e.Hash.Value}", PackageSourceResolver.ToElement(e.UserMeta), target.Uri(hash, e.LogicalKey));

    private static JsonElement? FolderMetadata(Manifest manifest, string folderKey) =>
        folderKey.Length == 0 ? null : PackageSourceResolver.ToElement(manifest.FindDirectoryMetadata(folderKey)?.Meta);

    /// <summary>The path argument, else the package URI's &amp;path=; both given must agree.</summary>
    private static string PathOf(string? path, PackageTarget target)
    {
        if (string.IsNullOrEmpty(path))
            return target.Path ?? "";
        if (target.Path is not null && target.Path.Trim('/') != path.Trim().Trim('/'))
            throw new McpException($"path '{path}' disagrees with the package URI's &path= '{target.Path}'; give one of them.");
        return path;
    }

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
        return BucketReadTools.TextResult(await _objects.ReadTextAsync(entry, new TextReadRequest(format, offset, maxBytes, encoding, rows), cancellationToken));
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
        return await BucketReadTools.FetchResultAsync(_objects, entry, destination, overwrite, context, cancellationToken);
    }

    /// <summary>The entry to read, resolved once (its object and manifest entry) at the revision's top hash.</summary>
    private async Task<ObjectSource> EntryAsync(string package, string? path, string? registry, string? revision, CancellationToken ct)
    {
        var target = registries.Resolve(package, registry, revision, write: false);
        // As given: quilt3 keeps keys such as '/abs'; the resolver also tries it without surrounding '/'.
        var key = PathOf(path, target);
        if (key.Length == 0)
            throw new McpException("path is required: give the entry's logical key (or a package URI with &path=). Use package_browse to see the keys.");
        // Resolve the revision here, so the entry read is the one of this revision even if latest moves meanwhile.
        var hash = await target.Registry.ResolveTopHashAsync(target.Name, target.Revision, ct);
        return await _objects.ReadableAsync(target.Uri(hash, key), "uri", ct);
    }

    [McpServerTool(Name = "package_diff", Title = "Compare revisions", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("What differs between two revisions of a package: entries added, removed and modified (by hash, size or metadata), "
        + "and whether the message or package metadata changed. Required: package. Default: the previous revision against latest.")]
    public async Task<PackageDiffResult> Diff(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The older revision (top hash or prefix); default: the one before 'to'.")] string? from = null,
        [Description("The newer revision; default 'latest'.")] string? to = null,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        CancellationToken cancellationToken = default)
    {
        var target = registries.Resolve(package, registry, null, write: false);
        var toHash = await target.Registry.ResolveTopHashAsync(target.Name, to, cancellationToken);
        string fromHash;
        if (!string.IsNullOrWhiteSpace(from))
        {
            fromHash = await target.Registry.ResolveTopHashAsync(target.Name, from, cancellationToken);
        }
        else
        {
            var revisions = await target.Registry.ListRevisionsAsync(target.Name, cancellationToken);
            var index = revisions.ToList().FindIndex(r => r.TopHash == toHash);
            fromHash = index >= 0 && index + 1 < revisions.Count ? revisions[index + 1].TopHash
                : throw new McpException($"{target.Name}@{toHash[..10]} has no earlier revision to compare with; give 'from'.");
        }
        var before = await registries.GetManifestAsync(target.Registry, fromHash, cancellationToken);
        var after = await registries.GetManifestAsync(target.Registry, toHash, cancellationToken);
        return new PackageDiffResult(target.Name, fromHash, toHash, Changes(PackageDiff.Compute(before, after)));
    }

    internal static PackageChanges Changes(PackageDiff d) => new(
        d.Added.Take(MaxListedChanges).Select(e => e.LogicalKey).ToList(),
        d.Removed.Take(MaxListedChanges).Select(e => e.LogicalKey).ToList(),
        d.Modified.Take(MaxListedChanges).Select(e => e.LogicalKey).ToList(),
        d.Added.Count, d.Removed.Count, d.Modified.Count, d.Unchanged, d.MessageChanged, d.MetadataChanged);

    internal static string? CatalogUrl(ServerSettings settings, PackageTarget target, string topHash, string? path = null) =>
        settings.CatalogHost is { } host
            ? $"https://{host}/b/{target.Registry.Bucket}/packages/{target.Name}/tree/{topHash}/{(path is null ? "" : UrlEncoding.Quote(path))}"
            : null;

    private static (int Offset, int Size) Page(int pageSize, string? cursor)
    {
        if (pageSize is < 1 or > 1000)
            throw new McpException($"pageSize {pageSize} is out of range: use 1 to 1000.");
        var offset = 0;
        if (!string.IsNullOrEmpty(cursor) && (!int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset < 0))
            throw new McpException($"cursor '{cursor}' is not one this tool returned: pass nextCursor unchanged, or leave it out for the first page.");
        return (offset, pageSize);
    }

    private static string? NextCursor(int offset, int size, int total) =>
        offset + size < total ? (offset + size).ToString(CultureInfo.InvariantCulture) : null;
}
