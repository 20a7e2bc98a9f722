using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// Every operation over one store under one set of rules, wired once: what a front end without a service container
/// (the CLI) builds first; the MCP server registers the same parts in its container.
/// </summary>
public sealed class QuiltOperations
{
    /// <param name="localRoots">The folders local paths must lie in (an MCP client's roots); null for no limit.</param>
    public QuiltOperations(StoreConnection connection, OperationSettings settings, PackageService packages, ILocalRoots? localRoots = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(settings);
        var store = connection.Store;
        Policy = new BucketAccessPolicy(settings);
        var targets = new PackageTargets(store, Policy, settings, connection.Publisher);
        var uris = new ObjectUriResolver(Policy, new PackageEntryResolver(targets));
        Objects = new ObjectOperations(store, uris, Policy, settings, localRoots);
        Packages = new PackageOperations(targets, new PackageSourceResolver(store, uris, Policy, settings, localRoots), packages, settings);
        Roles = new RoleOperations(store);
    }

    public BucketAccessPolicy Policy { get; }

    public ObjectOperations Objects { get; }

    public PackageOperations Packages { get; }

    public RoleOperations Roles { get; }
}
