using System.Globalization;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Operations.Models;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// What the MCP resources show beyond an object's bytes: a package revision's summary, the buckets and identity in use,
/// and a mark of a resource's state (for subscriptions). Every argument goes through <see cref="ObjectOperations"/> and
/// <see cref="PackageOperations"/>, so the bucket policy applies exactly as it does to the tools.
/// </summary>
public sealed class ResourceOperations(ObjectOperations objects, PackageOperations packages)
{
    /// <summary>Most top-level folders a summary lists.</summary>
    public const int MaxSummaryItems = PageRequest.MaxSize;

    /// <summary>Most top-level file keys a summary lists (it counts them all).</summary>
    public const int MaxSummaryFileKeys = 50;

    public ObjectOperations Objects { get; } = objects;

    public PackageOperations Packages { get; } = packages;

    /// <summary>Whether <paramref name="uri"/> names a package revision as a whole (no <c>&amp;path=</c>): its summary.</summary>
    public static bool IsPackageUri(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!QuiltUri.IsQuiltUri(uri))
            return false;
        try
        {
            var quilt = QuiltUri.Parse(uri);
            return quilt.PackageName is not null && quilt.Path is null;
        }
        catch (FormatException e)
        {
            throw new OperationException($"uri: {e.Message}");
        }
    }

    /// <summary>
    /// A revision's message, metadata, entry count, size and top-level folders, from one root listing of its manifest
    /// (the one package_browse shows): <c>quilt+s3://bucket#package=name[@hash|:tag]</c>, latest when no revision is given.
    /// </summary>
    public async Task<PackageSummaryResult> PackageSummaryAsync(string uri, CancellationToken cancellationToken)
    {
        var target = Packages.Target(uri, null);
        var root = await Packages.BrowseAsync(target, "", PageRequest.Of(MaxSummaryItems, null), cancellationToken);
        // Folders come first in a listing: when fewer than a page of them are listed, all are, and the rest are files.
        var truncated = root.NextCursor is not null && root.Folders.Count == MaxSummaryItems;
        return new PackageSummaryResult(root.Package, root.Registry, root.TopHash, root.Uri, root.Message, root.Metadata, root.PackageEntries,
            root.PackageSize, root.Folders, truncated ? null : root.Total - root.Folders.Count,
            root.Files.Take(MaxSummaryFileKeys).Select(f => root.Prefix + f.Name).ToList(), truncated, root.CatalogUrl);
    }

    /// <summary>The buckets this server may use (as buckets_list shows them) and what the caller may do in them.</summary>
    public async Task<ServerBucketsResult> BucketsAsync(CancellationToken cancellationToken)
    {
        var buckets = await Objects.ListBucketsAsync(cancellationToken);
        if (Objects.Settings.IsRegistryMode)
        {
            var user = await RegistryUserAsync(cancellationToken);
            return new ServerBucketsResult(buckets,
                (buckets.Buckets.Any(b => b.Write is not null)
                    ? "The registry lists the buckets your role may read, each with the prefixes it may read and write (role_switch changes the role)."
                    : "The registry lists the buckets your role may read. It does not say which you may write: a write your role may not make is refused with the registry's reason.")
                + (Objects.Settings.ReadOnly ? " This server is read-only, so it makes no writes at all." : ""),
                user?.Role);
        }
        var access = Objects.Settings.ReadOnly
            ? "Read only: this server refuses every write (--read-only)."
            : "Read and write, as far as the storage's credentials allow.";
        return new ServerBucketsResult(buckets, access, null);
    }

    /// <summary>The storage this server works with and, in registry mode, the caller as the registry knows them. Never keys or tokens.</summary>
    public async Task<ServerIdentityResult> IdentityAsync(CancellationToken cancellationToken)
    {
        var settings = Objects.Settings;
        if (settings.RegistryUrl is { } registry)
        {
            var user = await RegistryUserAsync(cancellationToken);
            return new ServerIdentityResult("registry", registry.AbsoluteUri, null, null, user,
                "Every call acts as this user, with the rights of their current role; the registry decides what it allows.");
        }
        var storage = settings.Storage;
        return storage.Kind == StorageKind.S3
            ? new ServerIdentityResult("s3", storage.EndpointUrl, storage.Region, storage.Profile, null,
                "Calls use the AWS credentials of the server's environment" + (storage.Profile is null ? "" : $" (profile {storage.Profile})")
                + "; what they may do is what those credentials allow.")
            : new ServerIdentityResult("local", storage.LocalRoot ?? StorageSettings.DefaultLocalRoot, null, null, null,
                "Buckets are folders under this root on the server's machine; there are no users or roles.");
    }

    /// <summary>
    /// A mark of a resource's current state: it differs when what a read returns may have changed. An object: its version,
    /// ETag, time and size ("absent" when it is gone). A package entry or a package at latest or a tag: the entry's hash, or
    /// the revision the name resolves to. Refused for what never changes (a pinned revision, @hash).
    /// </summary>
    public async Task<string> ChangeMarkAsync(string uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (QuiltUri.IsQuiltUri(uri))
        {
            QuiltUri quilt;
            try
            {
                quilt = QuiltUri.Parse(uri);
            }
            catch (FormatException e)
            {
                throw new OperationException($"uri: {e.Message}");
            }
            if (quilt.PackageName is not null && quilt.TopHash is not null)
            {
                throw new OperationException($"'{uri}' names a pinned revision (@{quilt.TopHash[..Math.Min(10, quilt.TopHash.Length)]}), which never changes. "
                    + $"Subscribe to quilt+s3://{quilt.Bucket}#package={quilt.PackageName} (or with &path=) to hear when latest moves.");
            }
            if (quilt.PackageName is not null && quilt.Path is null)
            {
                var target = Packages.Target(uri, null);
                try
                {
                    return "revision:" + await target.Registry.ResolveTopHashAsync(target.Name, target.Revision, cancellationToken);
                }
                catch (Quilt.Packages.PackageNotFoundException)
                {
                    return "absent";
                }
            }
        }
        try
        {
            var source = await Objects.ReadableAsync(uri, "uri", cancellationToken);
            if (source.Entry is { } entry)
                return $"entry:{entry.Hash.Type}:{entry.Hash.Value}:{entry.Size}";
            var info = await Objects.InfoAsync(source, cancellationToken);
            return string.Create(CultureInfo.InvariantCulture, $"object:{info.VersionId}:{info.ETag}:{info.LastModified:O}:{info.Size}");
        }
        catch (ObjectNotFoundException)
        {
            return "absent";
        }
    }

    private async Task<RegistryUserInfo?> RegistryUserAsync(CancellationToken cancellationToken)
    {
        if (Objects.Store is not RegistryApiObjectStore registry)
            return null;
        var data = await registry.Client.ExecuteAsync(RegistryOperations.Me, null, "read who you are", cancellationToken);
        if (data["me"] is not JsonObject me)
            return null;
        static string? Name(JsonNode? role) => role?["name"]?.GetValue<string>();
        return new RegistryUserInfo(
            me["name"]?.GetValue<string>() ?? "",
            me["email"]?.GetValue<string>() ?? "",
            me["isAdmin"]?.GetValue<bool>() ?? false,
            Name(me["role"]),
            me["roles"] is JsonArray roles ? roles.Select(Name).OfType<string>().ToList() : []);
    }
}
