using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Core;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Models;
using Quilt.Mcp.Services;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Packages.Workflows;

namespace Quilt.Mcp.Tools;

/// <summary>The package tools that write: create, patch and delete a revision. A revision appears whole or not at all.</summary>
[McpServerToolType]
public sealed class PackageWriteTools(PackageOperations operations)
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
        var target = operations.Target(package, registry, write: true);
        if (overwrite)
        {
            await Elicitation.ConfirmAsync(context, async () => await PackageExistsAsync(target, cancellationToken)
                ? $"Publish a new revision of the existing package {target.Name} in {target.Registry.Bucket}, replacing what 'latest' holds? (Its history stays.)"
                : null, cancellationToken);
        }
        var input = new PackageCreateInput(PackageSourceSpec.FromAll(sources, "sources"))
        {
            Message = message,
            Metadata = PackageSourceResolver.Metadata(metadata, "metadata"),
            NullMetadata = PackageSourceResolver.IsNull(metadata),
            DirectoryMetadata = PackageSourceResolver.KeyedMetadata(directoryMetadata, "directoryMetadata"),
            Workflow = WorkflowChoice.Parse(workflow),
            Copy = copy,
            Overwrite = overwrite,
        };
        var progress = ProgressNotifier.For(context);
        try
        {
            return (await operations.CreateAsync(target, input, progress, cancellationToken)).Result;
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
        var target = operations.Target(package, registry, baseRevision, write: true);
        var input = new PackagePatchInput
        {
            Add = PackageSourceSpec.FromAll(add, "add"),
            Remove = remove ?? [],
            Rename = rename ?? [],
            EntryMetadata = PackageSourceResolver.KeyedMetadata(entryMetadata, "entryMetadata"),
            DirectoryMetadata = PackageSourceResolver.KeyedMetadata(directoryMetadata, "directoryMetadata"),
            Message = message,
            Metadata = PackageSourceResolver.Metadata(metadata, "metadata"),
            NullMetadata = PackageSourceResolver.IsNull(metadata),
            Workflow = workflow,
            Copy = copy,
        };
        var progress = ProgressNotifier.For(context);
        try
        {
            return (await operations.PatchAsync(target, input, progress, cancellationToken)).Result;
        }
        finally
        {
            await progress.FlushAsync();
        }
    }

    [McpServerTool(Name = "package_revision_delete", Title = "Delete a revision", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Delete one revision of a package (its pointers, as quilt3 does; the data and manifest stay for other revisions that share them). "
        + "'latest' moves to the newest remaining revision; deleting the last revision deletes the package (it leaves package_list). "
        + "Calling again for a deleted revision is an error: it no longer exists. Required: package, topHash (the full hash or a unique prefix; not 'latest').")]
    public async Task<PackageDeleteResult> DeleteRevision(
        [Description("Required. The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("Required. The revision to delete: its top hash or a unique prefix of 6+ characters.")] string topHash,
        [Description("The registry bucket, when package is a plain name.")] string? registry = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var target = operations.Target(package, registry, write: true);
        await Elicitation.ConfirmAsync(context, () => Task.FromResult<string?>(
            $"Delete revision {topHash} of package {target.Name} in {target.Registry.Bucket}? If it is the last revision, the package goes too."), cancellationToken);
        return (await operations.DeleteRevisionAsync(target, topHash, cancellationToken)).Result;
    }

    private static async Task<bool> PackageExistsAsync(PackageTarget target, CancellationToken cancellationToken)
    {
        try
        {
            await target.Registry.ResolveTopHashAsync(target.Name, null, cancellationToken);
            return true;
        }
        catch (PackageNotFoundException)
        {
            return false;
        }
    }

    private const string DirectoryMetadataDescription = "Folder (directory) metadata to set, as quilt3's set_dir(folder, meta=...): an object "
        + "mapping a folder such as 'data/raw/' to a JSON object; null or {} removes it. The folder must hold an entry. Not covered by the top hash.";
}
