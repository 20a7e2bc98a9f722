using System.Text.Json.Nodes;
using Quilt.Core.Manifests;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>
/// A registry publishes through the publisher it is given (a registry server's API, say), never by asking its store;
/// without one it writes the manifest and pointers to the store, as quilt3 does.
/// </summary>
public sealed class PackageRegistryPublisherTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Revisions_go_to_the_injected_publisher_and_nothing_is_written_to_the_store()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("local"));
        var store = new LocalFolderStore(root.Path);
        var publisher = new RecordingPublisher();
        var registry = new PackageRegistry(store, "local", publisher);
        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false));

        var result = await service.CreateAsync(registry, new CreatePackageRequest("team/data", [new InlineSource("a.txt", "hello"u8.ToArray())]) { CopyData = false },
            cancellationToken: Ct);

        var (name, manifest) = Assert.Single(publisher.Published);
        Assert.Equal("team/data", name);
        Assert.Equal(result.Revision.TopHash, manifest.TopHash);
        Assert.Equal(["a.txt"], manifest.Entries.Select(e => e.LogicalKey));
        Assert.Equal(1, publisher.Checked);
        Assert.False(Directory.Exists(root.Combine("local", ".quilt")), "the publisher, not the store, holds the revision");
    }

    [Fact]
    public async Task Without_a_publisher_the_revision_is_written_to_the_store()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("local"));
        var store = new LocalFolderStore(root.Path);
        var registry = new PackageRegistry(store, "local");
        Assert.Same(StorePackagePublisher.Instance, registry.Publisher);
        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false));

        var result = await service.CreateAsync(registry, new CreatePackageRequest("team/data", [new InlineSource("a.txt", "hello"u8.ToArray())]), cancellationToken: Ct);

        Assert.True(File.Exists(root.Combine("local", ".quilt", "packages", result.Revision.TopHash)));
        Assert.Equal(result.Revision.TopHash, await File.ReadAllTextAsync(root.Combine("local", ".quilt", "named_packages", "team", "data", "latest"), Ct));
    }

    private sealed class RecordingPublisher : IPackagePublisher
    {
        public List<(string Name, Manifest Manifest)> Published { get; } = [];

        public int Checked { get; private set; }

        public Task<PackageRevision> PublishAsync(PackageRegistry registry, string name, Manifest manifest, CancellationToken cancellationToken)
        {
            Published.Add((name, manifest));
            return Task.FromResult(new PackageRevision(name, manifest.TopHash, DateTimeOffset.UtcNow, "latest"));
        }

        public void EnsureCanPublish(string name, JsonObject packageMeta, IReadOnlyList<DirectoryMetadata> directoryMetadata) => Checked++;
    }
}
