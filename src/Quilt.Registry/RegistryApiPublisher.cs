using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Packages;

namespace Quilt.Registry;

/// <summary>
/// Publishes a revision through the registry's packageConstruct (Quilt's PackagePushParams and PackageConstructSource):
/// every entry's s3:// physical key, hash, size and metadata as built here; the registry writes the manifest and
/// pointers. The top hash it reports must be the one computed here, else the revision is not what was built.
/// </summary>
public sealed class RegistryApiPublisher(RegistryApiClient client) : IPackagePublisher
{
    /// <summary>
    /// packageConstruct builds a revision from entries and package metadata only (quilt3's set_meta, or no user_meta for
    /// null): directory metadata lines, which the top hash leaves out, would be lost without the check noticing, and
    /// "user_meta": null cannot be asked for.
    /// </summary>
    public void EnsureCanPublish(string name, JsonObject packageMeta, IReadOnlyList<DirectoryMetadata> directoryMetadata)
    {
        ArgumentNullException.ThrowIfNull(packageMeta);
        ArgumentNullException.ThrowIfNull(directoryMetadata);
        if (directoryMetadata.Count > 0)
        {
            throw new PackageException(
                $"{name} would have folder metadata ({string.Join(", ", directoryMetadata.Take(3).Select(d => $"'{Names.Escaped(d.LogicalKey)}'"))}"
                + $"{(directoryMetadata.Count > 3 ? ", ..." : "")}), which a Quilt registry's packageConstruct cannot publish: it would be lost. Nothing was "
                + "written. Remove it (directory metadata null), or publish with S3 access instead of through the registry.");
        }
        if (packageMeta.TryGetPropertyValue("user_meta", out var userMeta) && userMeta is null)
        {
            throw new PackageException(
                $"Package metadata null (\"user_meta\": null) cannot be published through a Quilt registry: its packageConstruct takes null as no "
                + "metadata, another top hash. Nothing was written. Give metadata as a JSON object, or leave it out.");
        }
    }

    public async Task<PackageRevision> PublishAsync(PackageRegistry registry, string name, Manifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(manifest);
        EnsureCanPublish(name, manifest.PackageMeta, manifest.DirectoryMetadata);
        var entries = new JsonArray();
        foreach (var e in manifest.Entries)
        {
            if (!e.PhysicalKey.StartsWith("s3://", StringComparison.Ordinal))
            {
                throw new PackageException(
                    $"'{e.LogicalKey}' is at {e.PhysicalKey}; a registry builds packages only from s3:// objects. Upload it first (local files are uploaded when added as sources).");
            }
            var entry = new JsonObject
            {
                ["logicalKey"] = e.LogicalKey,
                ["physicalKey"] = e.PhysicalKey,
                ["hash"] = new JsonObject { ["type"] = e.Hash.Type, ["value"] = e.Hash.Value },
                ["size"] = e.Size,
            };
            if (e.Meta is JsonObject meta && meta.Count > 0)
                entry["meta"] = meta.DeepClone();
            entries.Add((JsonNode)entry);
        }
        var parameters = new JsonObject
        {
            ["bucket"] = registry.Bucket,
            ["name"] = name,
            ["message"] = manifest.Message,
            ["userMeta"] = manifest.UserMeta is JsonObject userMeta ? userMeta.DeepClone() : null,
        };
        // The registry applies its workflows config itself (as quilt3 does here, through the same store): the workflow
        // validated here is named, "" says none (a workflow object whose id is null), and leaving it out takes the
        // config's default, which with no config records none. Its recorded object must come out as built here, or the
        // top hash check below fails.
        if (manifest.Workflow is JsonObject workflow)
            parameters["workflow"] = workflow["id"]?.GetValueKind() == JsonValueKind.String ? workflow["id"]!.GetValue<string>() : "";

        var operation = $"publish {name} in s3://{registry.Bucket}";
        var data = await client.ExecuteAsync(RegistryOperations.PackageConstruct,
            new JsonObject { ["params"] = parameters, ["src"] = new JsonObject { ["entries"] = entries } }, operation, cancellationToken).ConfigureAwait(false);
        JsonObject success;
        try
        {
            success = RegistryApiClient.Expect(data["packageConstruct"], "PackagePushSuccess", operation);
        }
        catch (Storage.StorageException ex)
        {
            throw new PackageException(ex.Message + " Nothing was published.", ex);
        }
        var topHash = success["revision"]?["hash"]?.GetValue<string>()
            ?? throw new PackageException($"The registry answered {operation} without the revision's top hash.");
        if (topHash != manifest.TopHash)
        {
            throw new PackageException(
                $"The registry published {name} as {topHash}, but the revision built here has top hash {manifest.TopHash}: the registry recorded " +
                "other metadata or hashes than were sent. Browse the package to see what it holds.");
        }
        // The registry names the timestamp pointer it wrote nowhere in its answer; "latest" is the one it surely moved.
        return new PackageRevision(name, topHash, DateTimeOffset.UtcNow, RegistryLayout.LatestKey(name));
    }
}
