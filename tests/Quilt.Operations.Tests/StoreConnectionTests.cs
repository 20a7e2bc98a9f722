using Quilt.Packages;
using Quilt.Registry;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>The one composition root: the store and the revision publisher come together, chosen from the settings.</summary>
public sealed class StoreConnectionTests
{
    [Fact]
    public async Task Local_storage_writes_revisions_to_the_store()
    {
        using var root = new TempDirectory();
        var connection = StoreConnection.Open(new StorageSettings { LocalRoot = root.Path }, registryUrl: null, tokens: null);
        Assert.Equal("file", connection.Store.Scheme);
        Assert.Same(StorePackagePublisher.Instance, connection.Publisher);

        Directory.CreateDirectory(Path.Combine(root.Path, "local"));
        var registry = connection.Registry("local");
        var service = new PackageService(new ObjectLocator([connection.Store], allowLocalFilesOutsideStores: false));
        var created = await service.CreateAsync(registry, new CreatePackageRequest("team/data", [new InlineSource("a.txt", "hello"u8.ToArray())]),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(created.Revision.TopHash, (await registry.BrowseAsync("team/data", cancellationToken: TestContext.Current.CancellationToken)).TopHash);
    }

    [Fact]
    public void A_registry_server_gives_its_api_store_and_publishes_through_packageConstruct()
    {
        var connection = StoreConnection.Open(new StorageSettings(), new Uri("https://registry.example.com"), new FixedRegistryToken("a.b.c"));
        Assert.IsType<RegistryApiObjectStore>(connection.Store);
        Assert.IsType<RegistryApiPublisher>(connection.Publisher);
        Assert.IsType<RegistryApiPublisher>(connection.Registry("team-data").Publisher);
    }

    [Fact]
    public void A_registry_server_without_a_token_is_refused_saying_what_to_set()
    {
        var e = Assert.Throws<ArgumentException>(() => StoreConnection.Open(new StorageSettings(), new Uri("https://registry.example.com"), null));
        Assert.Contains("QUILT_REGISTRY_TOKEN", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Package_targets_publish_through_the_connections_publisher()
    {
        using var root = new TempDirectory();
        var connection = StoreConnection.Open(new StorageSettings { LocalRoot = root.Path }, null, null);
        Directory.CreateDirectory(Path.Combine(root.Path, "local"));
        var publisher = new RefusingPublisher();
        var settings = new OperationSettings { Storage = new StorageSettings { LocalRoot = root.Path } };
        var targets = new PackageTargets(connection.Store, new BucketAccessPolicy(settings), settings, publisher);
        var target = targets.Resolve("team/data", null, null, write: true);
        Assert.Same(publisher, target.Registry.Publisher);

        var service = new PackageService(new ObjectLocator([connection.Store], allowLocalFilesOutsideStores: false));
        await Assert.ThrowsAsync<PackageException>(() => service.CreateAsync(target.Registry,
            new CreatePackageRequest("team/data", [new InlineSource("a.txt", "hello"u8.ToArray())]), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(root.Path, "local")));
    }

    private sealed class RefusingPublisher : IPackagePublisher
    {
        public Task<PackageRevision> PublishAsync(PackageRegistry registry, string name, Quilt.Core.Manifests.Manifest manifest, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("EnsureCanPublish refuses first.");

        public void EnsureCanPublish(string name, System.Text.Json.Nodes.JsonObject packageMeta, IReadOnlyList<Quilt.Core.Manifests.DirectoryMetadata> directoryMetadata) =>
            throw new PackageException("This publisher refuses every revision.");
    }
}
