using Quilt.Packages;
using Quilt.Registry;
using Quilt.Storage;

namespace Quilt.Operations;

/// <summary>
/// The store every operation reads and writes, and how package revisions are published to it: the one composition root
/// that chooses between a local folder, S3 (revisions written to the store) and a Quilt registry server (objects through
/// its GraphQL API, revisions through its packageConstruct). The MCP server and the CLI both open theirs here.
/// </summary>
public sealed class StoreConnection
{
    // One client for the process: connections to the registry are pooled, and renewed so DNS changes are seen.
    private static readonly HttpClient RegistryHttp = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = TimeSpan.FromMinutes(5),
    };

    /// <param name="store">The store.</param>
    /// <param name="publisher">How revisions are published; default: written to <paramref name="store"/>.</param>
    public StoreConnection(IObjectStore store, IPackagePublisher? publisher = null)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        Publisher = publisher ?? StorePackagePublisher.Instance;
    }

    public IObjectStore Store { get; }

    public IPackagePublisher Publisher { get; }

    /// <summary>The package registry in <paramref name="bucket"/>, publishing through <see cref="Publisher"/>.</summary>
    public PackageRegistry Registry(string bucket) => new(Store, bucket, Publisher);

    /// <summary>The connection the operation settings name (see <see cref="Open(StorageSettings, Uri?, IRegistryTokenSource?)"/>).</summary>
    public static StoreConnection Open(OperationSettings settings, IRegistryTokenSource? tokens)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Open(settings.Storage, settings.RegistryUrl, tokens);
    }

    /// <summary>The connection a resolved choice names (see <see cref="Open(StorageSettings, Uri?, IRegistryTokenSource?)"/>).</summary>
    public static StoreConnection Open(ConnectionChoice choice, IRegistryTokenSource? tokens)
    {
        ArgumentNullException.ThrowIfNull(choice);
        return Open(choice.Storage, choice.RegistryUrl, tokens);
    }

    /// <summary>
    /// A Quilt registry server when <paramref name="registryUrl"/> is given (registry mode: <paramref name="tokens"/>, one
    /// token or each request's own, is required), else the local folder or S3 that <paramref name="storage"/> names.
    /// </summary>
    public static StoreConnection Open(StorageSettings storage, Uri? registryUrl, IRegistryTokenSource? tokens)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (registryUrl is null)
            return new StoreConnection(ObjectStoreFactory.Create(storage));
        if (tokens is null)
            throw new ArgumentException($"Registry mode needs a Quilt token: set {RegistryStores.ApiKeyVariable} or {RegistryStores.TokenVariable}.");
        var client = new RegistryApiClient(RegistryHttp, registryUrl, tokens);
        return new StoreConnection(new RegistryApiObjectStore(client), new RegistryApiPublisher(client));
    }
}
