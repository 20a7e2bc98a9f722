using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Core;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Operations.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Packages.Workflows;

namespace Quilt.Mcp.Tools;

/// <summary>The package tools that write: create, patch and delete a revision. A revision appears whole or not at all.</summary>
[McpServerToolType]
public sealed class PackageWriteTools(PackageTargets registries, PackageSourceResolver sourceResolver, PackageService packages, ServerSettings settings)
{
    [McpServerTool(Name = "package_create", Title = "Create a package", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Create a Quilt package revision from S3 objects, whole S3 prefixes, local files or folders and inline text, with a message, "
        + "package metadata and per-entry metadata; quilt3 and the Quilt catalog read it as their own. Data is copied into the registry bucket "
        + "under user/name/ (copy true, the default) or S3 objects are referenced where they are (copy false; local files and inline content are "
        + "always copied). Refuses to replace an existing package unless overwrite is true, and then reports what was added, removed and kept. "
        + "Reports progress while hashing and copying; a failed or cancelled create publishes nothing. Required: package, sources. "
        + "To change an existing package use package_patch instead.")]
    public async Task<PackageRevisionResult> Create(
        [Description("Required. The new package: user/name (letters, digits, '_' or '-'), or quilt+s3://bucket#package=user/name.")] string package,
        [Description("Required. What goes in, one item per object, prefix, file, folder or inline content.")] PackageSourceInput[] sources,
        [Description("The registry bucket to publish in, when package is a plain name.")] string? registry = null,
        [Description("The revision message.")] string? message = null,
        [Description("Package metadata: a JSON object (quilt3's user_meta); null writes \"user_meta\": null, as quilt3's set_meta(None).")] JsonElement? metadata = null,
        [Description("The workflow of the registry's .quilt/workflows/config.yml to validate against (its name); \"\" for none. Default: the "
            + "config's default_workflow. The revision is refused, with quilt3's reason, when it fails the workflow.")] string? workflow = null,
        [Description("true (default): copy data into the registry bucket; false: reference S3 objects in place. Through a Quilt registry "
            + "(registry mode) S3 objects are always referenced in place: a registry cannot copy.")] bool copy = true,
        [Description("Publish a new revision even if the package exists (its history stays). Default false.")] bool overwrite = false,
        [Description(DirectoryMetadataDescription)] Dictionary<string, JsonElement>? directoryMetadata = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        var target = registries.Resolve(package, registry, null, write: true);
        if (target.Revision is not null)
            throw new McpException("package: a new revision gets its own top hash; leave @hash or :tag out of the package URI.");
        if (sources is null || sources.Length == 0)
            throw new McpException("sources is required: give at least one item (an s3:// URI, a local path, or text with a logicalKey).");
        var userMeta = PackageSourceResolver.Metadata(metadata, "metadata");
        var entries = await sourceResolver.ResolveAsync(sources, "sources", CopiesData(copy), cancellationToken);
        var progress = ProgressNotifier.For(context);
        try
        {
            var result = await packages.CreateAsync(target.Registry, new CreatePackageRequest(target.Name, entries)
            {
                Message = message,
                UserMeta = userMeta,
                NullUserMeta = PackageSourceResolver.IsNull(metadata),
                DirectoryMeta = PackageSourceResolver.KeyedMetadata(directoryMetadata, "directoryMetadata"),
                Workflow = WorkflowChoice.Parse(workflow),
                CopyData = CopiesData(copy),
                Overwrite = overwrite,
            }, Progress(progress), cancellationToken);
            return ToResult(target, result);
        }
        finally
        {
            await progress.FlushAsync();
        }
    }

    [McpServerTool(Name = "package_patch", Title = "Change a package", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Publish a new revision of an existing package from its latest (or a given) revision: add or replace entries, rename or remove "
        + "entries or folders, change entry metadata, folder (directory) metadata, the message and the package metadata. Everything not named "
        + "stays as it was, directory metadata included; earlier revisions are kept. Reports what changed. Required: package and at least one change.")]
    public async Task<PackageRevisionResult> Patch(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("Entries to add or replace (same items as package_create's sources).")] PackageSourceInput[]? add = null,
        [Description("Logical keys (or folders) to remove.")] string[]? remove = null,
        [Description("Entries to rename: an object mapping old logical key to new logical key.")] Dictionary<string, string>? rename = null,
        [Description("Entry metadata to set: an object mapping logical key to a JSON object (its user_meta); null writes \"user_meta\": null, "
            + "as quilt3's set_meta(None).")] Dictionary<string, JsonElement>? entryMetadata = null,
        [Description("The new revision's message.")] string? message = null,
        [Description("New package metadata (a JSON object); leave out to keep the current one; null writes \"user_meta\": null.")] JsonElement? metadata = null,
        [Description("The revision to start from; default 'latest'.")] string? baseRevision = null,
        [Description("The workflow of the registry's workflows config for the new revision (its name); \"\" for none. Default: the config's "
            + "default_workflow (as quilt3, the base revision's workflow is not carried over).")] string? workflow = null,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        [Description("true (default): copy added data into the registry bucket; false: reference added S3 objects in place. Through a Quilt "
            + "registry S3 objects are always referenced in place.")] bool copy = true,
        [Description(DirectoryMetadataDescription)] Dictionary<string, JsonElement>? directoryMetadata = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        var target = registries.Resolve(package, registry, baseRevision, write: true);
        var added = await sourceResolver.ResolveAsync(add, "add", CopiesData(copy), cancellationToken);
        var entryMeta = PackageSourceResolver.KeyedMetadata(entryMetadata, "entryMetadata");
        var dirMeta = PackageSourceResolver.KeyedMetadata(directoryMetadata, "directoryMetadata");
        var userMeta = PackageSourceResolver.Metadata(metadata, "metadata");
        var nullUserMeta = PackageSourceResolver.IsNull(metadata);
        if (added.Count == 0 && (remove?.Length ?? 0) == 0 && (rename?.Count ?? 0) == 0 && entryMeta.Count == 0 && dirMeta.Count == 0
            && userMeta is null && !nullUserMeta && message is null && workflow is null)
            throw new McpException("Nothing to change: give add, remove, rename, entryMetadata, directoryMetadata, message, metadata or workflow.");
        foreach (var (from, to) in rename ?? [])
            Guard(() => Names.ValidateLogicalKey(to), $"rename['{from}']");

        var progress = ProgressNotifier.For(context);
        try
        {
            var result = await packages.UpdateAsync(target.Registry, target.Name, new PackageUpdate
            {
                Add = added,
                Remove = remove ?? [],
                Rename = rename ?? [],
                SetEntryMeta = entryMeta,
                SetDirectoryMeta = dirMeta,
                Message = message,
                UserMeta = userMeta,
                NullUserMeta = nullUserMeta,
                Workflow = WorkflowChoice.Parse(workflow),
                CopyData = CopiesData(copy),
                BaseRevision = target.Revision,
            }, Progress(progress), cancellationToken);
            return ToResult(target, result);
        }
        finally
        {
            await progress.FlushAsync();
        }
    }

    [McpServerTool(Name = "package_revision_delete", Title = "Delete a revision", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Delete one revision of a package (its pointers, as quilt3 does; the data and manifest stay for other revisions that share them). "
        + "'latest' moves to the newest remaining revision. Required: package, topHash (the full hash or a unique prefix; not 'latest').")]
    public async Task<PackageDeleteResult> DeleteRevision(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("Required. The revision to delete: its top hash or a unique prefix of 6+ characters.")] string topHash,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        if (settings.IsRegistryMode)
        {
            throw new McpException("Deleting a package revision is not available through a registry: its API has no operation for it. "
                + "Delete the revision in the Quilt catalog, or with your own AWS credentials (quilt3.delete_package). Nothing was deleted.");
        }
        var target = registries.Resolve(package, registry, null, write: true);
        var spec = ObjectUriResolver.Require(topHash, "topHash").Trim();
        if (!Names.IsTopHashPrefix(spec))
            throw new McpException($"topHash '{spec}' is not a top hash: give 6 to 64 lowercase hex characters (see package_revisions).");
        var hash = await target.Registry.ResolveTopHashAsync(target.Name, spec, cancellationToken);
        await target.Registry.DeleteRevisionAsync(target.Name, hash, cancellationToken);
        string? latest = null;
        try
        {
            latest = await target.Registry.ResolveTopHashAsync(target.Name, null, cancellationToken);
        }
        catch (PackageNotFoundException)
        {
        }
        return new PackageDeleteResult(target.Name, hash, latest);
    }

    private const string DirectoryMetadataDescription = "Folder (directory) metadata to set, as quilt3's set_dir(folder, meta=...): an object "
        + "mapping a folder such as 'data/raw/' to a JSON object; null or {} removes it. The folder must hold an entry. Not covered by the top hash.";

    // A registry has no copy: S3 objects are referenced where they are (local files and inline content are still uploaded).
    private bool CopiesData(bool copy) => copy && !settings.IsRegistryMode;

    private void EnsureWritable()
    {
        if (settings.ReadOnly)
            throw new McpException("This server is read-only (--read-only): packages cannot be created or changed. Ask for a server started without it.");
    }

    private static void Guard(Action action, string argument)
    {
        try
        {
            action();
        }
        catch (InvalidNameException e)
        {
            throw new McpException($"{argument}: {e.Message}");
        }
    }

    private static Progress<PackageProgress> Progress(ProgressNotifier notifier) => new(p =>
        notifier.Report(new ProgressNotificationValue
        {
            Progress = p.BytesDone,
            Total = p.BytesTotal,
            Message = $"{p.EntriesDone}/{p.EntriesTotal} entries",
        }));

    private PackageRevisionResult ToResult(PackageTarget target, Packages.PackageWriteResult result) => new(
        target.Name, target.Registry.Bucket, result.Revision.TopHash, target.Uri(result.Revision.TopHash),
        result.Manifest.Entries.Count, result.Manifest.TotalSize,
        result.ChangesFromPrevious is { } d ? PackageReadTools.Changes(d) : null,
        PackageReadTools.CatalogUrl(settings, target, result.Revision.TopHash));
}
