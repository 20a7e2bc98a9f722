using System.Text;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Storage.S3;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>package_link and catalog URLs for objects: what a user hands to someone else, with --catalog set and not.</summary>
public sealed class PackageOperationsLinkTests : IDisposable
{
    private readonly TempDirectory _root = new("pkglink");

    public void Dispose() => _root.Dispose();

    private static QuiltOperations Operations(IObjectStore store, StorageSettings storage, string? catalog) =>
        new(new StoreConnection(store), new OperationSettings { Storage = storage, CatalogHost = catalog },
            new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false)));

    private static async Task<(QuiltOperations Ops, string Bucket, string TopHash, S3ObjectStore Store)> S3PackageAsync(string? catalog)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(cancellationToken: ct);
        var store = server.CreateStore();
        var ops = Operations(store, new StorageSettings { Kind = StorageKind.S3, EndpointUrl = server.EndpointUrl, Region = server.Region, ForcePathStyle = true }, catalog);
        var written = await ops.Packages.CreateAsync(ops.Packages.Target("team/linked", bucket, write: true), new PackageCreateInput(
            [new PackageSourceSpec("sources") { Content = Encoding.UTF8.GetBytes("the data"), LogicalKey = "data/file name.txt" }]), null, ct);
        return (ops, bucket, written.Result.TopHash, store);
    }

    [Fact]
    public async Task A_package_link_pins_the_top_hash_names_the_catalog_page_and_downloads_an_entry()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ops, bucket, hash, store) = await S3PackageAsync("catalog.example.com");
        using var _ = store;
        var packages = ops.Packages;

        var revision = await packages.LinkAsync(packages.Target("team/linked", bucket), null, null, ops.Objects, ct);
        Assert.Equal(($"quilt+s3://{bucket}#package=team/linked@{hash}", hash, null), (revision.Uri, revision.TopHash, revision.Path));
        Assert.Equal($"https://catalog.example.com/b/{bucket}/packages/team/linked/tree/{hash}/", revision.CatalogUrl);
        Assert.Null(revision.Download);

        var entry = await packages.LinkAsync(packages.Target("team/linked", bucket), "data/file name.txt", 600, ops.Objects, ct);
        Assert.Equal("data/file name.txt", entry.Path);
        Assert.Equal($"quilt+s3://{bucket}#package=team/linked@{hash}&path=data/file%20name.txt", entry.Uri);
        Assert.Equal($"https://catalog.example.com/b/{bucket}/packages/team/linked/tree/{hash}/data/file%20name.txt", entry.CatalogUrl);
        using var http = new HttpClient();
        Assert.Equal("the data", await http.GetStringAsync(new Uri(entry.Download!.Url), ct));
        Assert.Null(entry.Download.Note);
        Assert.InRange(entry.Download.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(500), DateTimeOffset.UtcNow.AddSeconds(700));

        var folder = await packages.LinkAsync(packages.Target("team/linked", bucket), "data", null, ops.Objects, ct);
        Assert.Equal(("data/", $"https://catalog.example.com/b/{bucket}/packages/team/linked/tree/{hash}/data/"), (folder.Path, folder.CatalogUrl));
        Assert.Null(folder.Download);

        var missing = await Assert.ThrowsAsync<OperationException>(() => packages.LinkAsync(packages.Target("team/linked", bucket), "nope.txt", null, ops.Objects, ct));
        Assert.Contains("package_browse", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Objects_get_their_catalog_page_only_when_a_catalog_is_set()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ops, bucket, _, store) = await S3PackageAsync("catalog.example.com");
        using var _ = store;
        await store.PutAsync(new PutRequest(bucket, "raw/a b.csv"), new MemoryStream("x"u8.ToArray()), null, ct);
        var source = await ops.Objects.ReadableAsync($"s3://{bucket}/raw/a%20b.csv", "uri", ct);

        var page = $"https://catalog.example.com/b/{bucket}/tree/raw/a%20b.csv";
        Assert.Equal(page, (await ops.Objects.InfoAsync(source, ct)).CatalogUrl);
        Assert.Equal(page, (await ops.Objects.LinkAsync(source, null, ct)).CatalogUrl);

        var without = Operations(store, ops.Objects.Settings.Storage, catalog: null);
        var plain = await without.Objects.ReadableAsync($"s3://{bucket}/raw/a%20b.csv", "uri", ct);
        Assert.Null((await without.Objects.InfoAsync(plain, ct)).CatalogUrl);
        Assert.Null((await without.Objects.LinkAsync(plain, null, ct)).CatalogUrl);
        Assert.Null((await without.Packages.LinkAsync(without.Packages.Target("team/linked", bucket), null, null, without.Objects, ct)).CatalogUrl);
    }

    [Fact]
    public async Task On_local_storage_an_entry_link_is_a_file_url_that_says_it_cannot_be_shared()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new LocalFolderStore(_root.Combine("store"));
        var ops = Operations(store, new StorageSettings { LocalRoot = _root.Combine("store") }, "catalog.example.com");
        await ops.Packages.CreateAsync(ops.Packages.Target("team/local", null, write: true), new PackageCreateInput(
            [new PackageSourceSpec("sources") { Content = "local"u8.ToArray(), LogicalKey = "a.txt" }]), null, ct);

        var link = await ops.Packages.LinkAsync(ops.Packages.Target("team/local", null), "a.txt", null, ops.Objects, ct);

        Assert.StartsWith("file://", link.Download!.Url, StringComparison.Ordinal);
        Assert.Contains("cannot be shared", link.Download.Note, StringComparison.Ordinal);
        Assert.Equal("local", await File.ReadAllTextAsync(new Uri(link.Download.Url).LocalPath, ct));
    }
}
