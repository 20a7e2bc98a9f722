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
        UseStructuredContent = true, OutputSchemaType = typeof(PackageRevisionResult))]
    [Description("Create a package (quilt3-compatible) from S3 objects or prefixes, local files or folders and inline text; "
        + "a failure publishes nothing. To change one: package_patch.")]
    public async Task<CallToolResult> Create(
        [Description(PackageReadTools.PackageDescription)] string package,
        [Description(SourcesDescription)] PackageSourceInput[] sources,
        [Description(PackageReadTools.RegistryDescription)] string? registry = null,
        [Description("Revision message.")] string? message = null,
        [Description("Package user_meta (JSON object).")] JsonElement? metadata = null,
        [Description(WorkflowDescription)] string? workflow = null,
        [Description(CopyDescription)] bool copy = true,
        [Description("Allow a new revision of an existing package.")] bool overwrite = false,
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
            return CompactResults.Revision(await operations.CreateAsync(target, input, progress, cancellationToken));
        }
        finally
        {
            await progress.FlushAsync();
        }
    }

    [McpServerTool(Name = "package_patch", Title = "Change a package", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(PackageRevisionResult))]
    [Description("Publish a new revision from the latest: add, replace, rename or remove entries or folders; set metadata or "
        + "the message. The rest stays.")]
    public async Task<CallToolResult> Patch(
        [Description(PackageReadTools.PackageDescription)] string package,
        [Description("Entries to add or replace, as package_create's sources.")] PackageSourceInput[]? add = null,
        [Description("Logical keys or folders to remove.")] string[]? remove = null,
        [Description("Old logical key to new.")] Dictionary<string, string>? rename = null,
        [Description("Logical key to user_meta (null writes null).")] Dictionary<string, JsonElement>? entryMetadata = null,
        [Description("Revision message.")] string? message = null,
        [Description("Package user_meta; null writes null.")] JsonElement? metadata = null,
        [Description("Revision to start from; default latest.")] string? baseRevision = null,
        [Description(WorkflowDescription)] string? workflow = null,
        [Description(PackageReadTools.RegistryDescription)] string? registry = null,
        [Description(CopyDescription)] bool copy = true,
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
            return CompactResults.Revision(await operations.PatchAsync(target, input, progress, cancellationToken));
        }
        finally
        {
            await progress.FlushAsync();
        }
    }

    [McpServerTool(Name = "package_revision_delete", Title = "Delete a revision", ReadOnly = false, Destructive = true, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Delete one revision (its pointers; data stays); 'latest' moves to the newest left, and deleting the last deletes "
        + "the package. Not repeatable.")]
    public async Task<PackageDeleteResult> DeleteRevision(
        [Description(PackageReadTools.PackageDescription)] string package,
        [Description("Top hash or a 6+ char prefix (not 'latest').")] string topHash,
        [Description(PackageReadTools.RegistryDescription)] string? registry = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var target = operations.Target(package, registry, write: true);
        await Elicitation.ConfirmAsync(context, () => Task.FromResult<string?>(
            $"Delete revision {topHash} of package {target.Name} in {target.Registry.Bucket}? If it is the last revision, the package goes too."), cancellationToken);
        return (await operations.DeleteRevisionAsync(target, topHash, cancellationToken)).Result;
    }

    [McpServerTool(Name = "package_promote", Title = "Promote a package", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false,
        UseStructuredContent = true)]
    [Description("Copy a revision, data included, to another registry or name as a new revision. Required: package, to. Then package_browse.")]
    public async Task<PackagePromoteResult> Promote(
        [Description("user/name or quilt+s3://bucket#package=user/name[@hash].")] string package,
        [Description("Destination registry bucket.")] string to,
        [Description("Destination name (default: same).")] string? name = null,
        [Description(PackageReadTools.RegistryDescription)] string? registry = null,
        [Description("Message (default: the source's).")] string? message = null,
        [Description("Metadata object (default: the source's).")] JsonElement? metadata = null,
        [Description("Destination workflow (\"\" for none).")] string? workflow = null,
        [Description("false: reference data in place (direct mode only).")] bool copy = true,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var source = operations.Target(package, registry, write: true);
        var progress = ProgressNotifier.For(context);
        try
        {
            var r = (await operations.PromoteAsync(source, to, name, copy, message,
                PackageSourceResolver.Metadata(metadata, "metadata"), workflow, progress, cancellationToken)).Result;
            return new PackagePromoteResult(r.Package, r.Registry, r.TopHash, r.Uri, r.Entries, r.Size);
        }
        finally
        {
            await progress.FlushAsync();
        }
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

    private const string DirectoryMetadataDescription = "Folder ('data/raw/') to its metadata (quilt3 set_dir); null or {} removes it.";

    private const string WorkflowDescription = "Workflow from .quilt/workflows/config.yml (default: its default_workflow; \"\" for none).";

    private const string CopyDescription = "false: reference S3 objects in place, not copied.";

    // The items' own fields carry no descriptions in tools/list (CompactToolListing), so the shape is said here.
    private const string SourcesDescription = "Each {uri} (s3 key or prefix/, absolute local file or folder) or {logicalKey, text or base64}; "
        + "optional logicalKey (where it lands), metadata.";
}
