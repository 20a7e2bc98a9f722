using System.Collections.Concurrent;
using System.Text;
using Amazon.S3.Model;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Operations.Tests;

/// <summary>
/// The package operations the MCP tools and the CLI are adapters over: on a local folder and on the loopback S3 server,
/// with the store's calls counted where the number of round trips is what a user waits for.
/// </summary>
public sealed class PackageOperationsTests : IDisposable
{
    private readonly TempDirectory _root = new("pkgops");

    public void Dispose() => _root.Dispose();

    private static QuiltOperations Operations(IObjectStore store, OperationSettings settings) =>
        new(new StoreConnection(store), settings, new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false)));

    private static OperationSettings S3Settings(S3TestServer server) => new()
    {
        Storage = new StorageSettings { Kind = StorageKind.S3, EndpointUrl = server.EndpointUrl, Region = server.Region, ForcePathStyle = true },
    };

    private static async Task PutAsync(S3TestServer server, string bucket, string key, string text) =>
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = text }, TestContext.Current.CancellationToken);

    private static PackageCreateInput Sources(params PackageSourceSpec[] specs) => new(specs) { Copy = false };

    [Fact]
    public async Task Creating_from_one_S3_object_looks_it_up_once()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, TestContext.Current.CancellationToken);
        await PutAsync(server, bucket, "data/one.csv", "a,b\n1,2\n");
        using var s3 = server.CreateStore();
        var store = new CountingStore(s3);
        var ops = Operations(store, S3Settings(server)).Packages;

        var written = await ops.CreateAsync(ops.Target("team/one", bucket, write: true),
            Sources(new PackageSourceSpec("sources[0]") { Uri = $"s3://{bucket}/data/one.csv" }), null, TestContext.Current.CancellationToken);

        Assert.Equal(1, written.Result.Entries);
        // The entry pins the version it hashed, and that version came from the one HEAD (before: one here and another in the build).
        Assert.Contains("versionId=", written.Write.Manifest.Entries[0].PhysicalKey, StringComparison.Ordinal);
        Assert.Equal(1, store.HeadsOf(bucket, "data/one.csv"));
    }

    [Fact]
    public async Task Creating_from_a_prefix_of_an_unversioned_bucket_looks_up_no_object()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(cancellationToken: TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
            await PutAsync(server, bucket, $"raw/part-{i}.txt", new string('x', 10 + i));
        using var s3 = server.CreateStore();
        var store = new CountingStore(s3);
        var ops = Operations(store, S3Settings(server)).Packages;

        var written = await ops.CreateAsync(ops.Target("team/parts", bucket, write: true),
            Sources(new PackageSourceSpec("sources[0]") { Uri = $"s3://{bucket}/raw/", LogicalKey = "in" }), null, TestContext.Current.CancellationToken);

        Assert.Equal(["in/part-0.txt", "in/part-1.txt", "in/part-2.txt"], written.Write.Manifest.Entries.Select(e => e.LogicalKey));
        Assert.Equal(10 + 11 + 12, written.Result.Size);
        // The listing gave every size; no object was asked for again.
        Assert.Equal(0, store.HeadsBelow(bucket, "raw/"));
    }

    [Fact]
    public async Task Creating_from_a_prefix_of_a_versioned_bucket_pins_each_current_version_from_the_listing()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, TestContext.Current.CancellationToken);
        await PutAsync(server, bucket, "raw/a.txt", "old");
        await PutAsync(server, bucket, "raw/a.txt", "a");
        await PutAsync(server, bucket, "raw/b.txt", "bb");
        await PutAsync(server, bucket, "raw/gone.txt", "x");
        await server.Client.DeleteObjectAsync(bucket, "raw/gone.txt", TestContext.Current.CancellationToken);
        using var s3 = server.CreateStore();
        var store = new CountingStore(s3);
        var ops = Operations(store, S3Settings(server)).Packages;

        var written = await ops.CreateAsync(ops.Target("team/versions", bucket, write: true),
            Sources(new PackageSourceSpec("sources[0]") { Uri = $"s3://{bucket}/raw/" }), null, TestContext.Current.CancellationToken);

        // The current versions only (not the old one of a.txt, not the deleted gone.txt), each pinned by its id.
        Assert.Equal(["a.txt", "b.txt"], written.Write.Manifest.Entries.Select(e => e.LogicalKey));
        foreach (var entry in written.Write.Manifest.Entries)
        {
            var current = await s3.HeadAsync(new ObjectRef(bucket, "raw/" + entry.LogicalKey), TestContext.Current.CancellationToken);
            Assert.EndsWith("?versionId=" + current.VersionId, entry.PhysicalKey, StringComparison.Ordinal);
            Assert.Equal(current.Size, entry.Size);
        }
        // A listing of versions gave sizes and version ids: no object was looked up (before: one HEAD each).
        Assert.Equal(0, store.HeadsBelow(bucket, "raw/"));
    }

    [Fact]
    public async Task A_logical_key_ending_in_a_slash_places_one_object_in_that_folder_under_its_own_name()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(cancellationToken: TestContext.Current.CancellationToken);
        await PutAsync(server, bucket, "exports/table.csv", "a\n");
        using var store = server.CreateStore();
        var ops = Operations(store, S3Settings(server)).Packages;

        var written = await ops.CreateAsync(ops.Target("team/folder", bucket, write: true),
            Sources(new PackageSourceSpec("sources[0]") { Uri = $"s3://{bucket}/exports/table.csv", LogicalKey = "data/" }), null, TestContext.Current.CancellationToken);

        Assert.Equal("data/table.csv", Assert.Single(written.Write.Manifest.Entries).LogicalKey);
    }

    [Fact]
    public async Task A_local_package_is_created_browsed_compared_and_a_revision_deleted()
    {
        var ct = TestContext.Current.CancellationToken;
        var data = Directory.CreateDirectory(_root.Combine("data")).FullName;
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "alpha", ct);
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        await File.WriteAllTextAsync(Path.Combine(data, "sub", "b.txt"), "beta", ct);
        var store = new LocalFolderStore(_root.Combine("store"));
        var ops = Operations(store, new OperationSettings { Storage = new StorageSettings { LocalRoot = _root.Combine("store") }, CatalogHost = "catalog.example" }).Packages;

        var first = await ops.CreateAsync(ops.Target("team/local", null, write: true), new PackageCreateInput(
            [new PackageSourceSpec("sources[0]") { Uri = data }]) { Message = "first" }, null, ct);
        Assert.Equal("local", first.Result.Registry);
        Assert.Null(first.Result.Changes);
        Assert.Equal($"https://catalog.example/b/local/packages/team/local/tree/{first.Result.TopHash}/", first.Result.CatalogUrl);

        var second = await ops.PatchAsync(ops.Target("team/local", null, write: true), new PackagePatchInput
        {
            Add = [new PackageSourceSpec("add[0]") { Content = Encoding.UTF8.GetBytes("gamma"), LogicalKey = "c.txt" }],
            Remove = ["sub/"],
        }, null, ct);
        Assert.Equal(["c.txt"], second.Result.Changes!.Added);
        Assert.Equal(["sub/b.txt"], second.Result.Changes.Removed);

        var root = await ops.BrowseAsync(ops.Target("team/local", null, first.Result.TopHash), null, PageRequest.Of(1, null), ct);
        Assert.Equal(["sub/"], root.Folders.Select(f => f.Name));
        Assert.Empty(root.Files);
        Assert.Equal("1", root.NextCursor);
        var next = await ops.BrowseAsync(ops.Target("team/local", null, first.Result.TopHash), null, PageRequest.Of(1, root.NextCursor), ct);
        Assert.Equal(["a.txt"], next.Files.Select(f => f.Name));

        var diff = await ops.DiffAsync(ops.Target("team/local", null), null, null, ct);
        Assert.Equal((first.Result.TopHash, second.Result.TopHash), (diff.Result.From, diff.Result.To));

        var deleted = await ops.DeleteRevisionAsync(ops.Target("team/local", null, write: true), second.Result.TopHash[..8], ct);
        Assert.Equal(first.Result.TopHash, deleted.Result.Latest);
        Assert.True(deleted.Pointers >= 1);
        var list = await ops.ListAsync(null, "team", PageRequest.Of(10, null), ct);
        Assert.Equal(["team/local"], list.Packages.Select(p => p.Name));
    }

    [Fact]
    public async Task A_read_only_setting_refuses_every_write_before_anything_is_read()
    {
        var store = new LocalFolderStore(_root.Combine("store"));
        var ops = Operations(store, new OperationSettings { Storage = new StorageSettings(), ReadOnly = true }).Packages;

        var e = Assert.Throws<OperationException>(() => ops.Target("team/local", null, write: true));
        Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<OperationException>(() => ops.DeleteRevisionAsync(ops.Target("team/local", null), "abcdef", TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("latest", "is not a top hash")]
    [InlineData("abc", "is not a top hash")]
    public async Task Deleting_needs_a_top_hash_not_a_tag(string spec, string expected)
    {
        var store = new LocalFolderStore(_root.Combine("store"));
        var ops = Operations(store, new OperationSettings { Storage = new StorageSettings() }).Packages;
        var e = await Assert.ThrowsAsync<OperationException>(() => ops.DeleteRevisionAsync(ops.Target("team/local", null, write: true), spec, TestContext.Current.CancellationToken));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_a_registry_data_is_referenced_in_place()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new LocalFolderStore(_root.Combine("store"));
        await store.PutAsync(new PutRequest("data", "in/a.txt"), new MemoryStream("alpha"u8.ToArray()), null, ct);
        // Registry mode as the CLI and the server choose it; a plain store underneath stands in for the registry's.
        var ops = Operations(store, new OperationSettings { Storage = new StorageSettings(), RegistryUrl = new Uri("https://registry.example") }).Packages;

        var written = await ops.CreateAsync(ops.Target("team/reg", "local", write: true),
            new PackageCreateInput([new PackageSourceSpec("sources[0]") { Uri = "s3://data/in/a.txt" }]), null, ct);
        Assert.Equal(store.ToPhysicalKey(new ObjectRef("data", "in/a.txt")), Assert.Single(written.Write.Manifest.Entries).PhysicalKey);

        // Deleting a revision through a registry server is its packageRevisionDelete: see Quilt.Registry.Tests.RegistryParityTests.
    }

    [Fact]
    public async Task A_linked_local_file_given_without_a_key_is_refused_as_a_folder_of_links_is()
    {
        var ct = TestContext.Current.CancellationToken;
        var real = _root.Combine("real.txt");
        await File.WriteAllTextAsync(real, "secret", ct);
        var link = _root.Combine("link.txt");
        File.CreateSymbolicLink(link, real);
        var ops = Operations(new LocalFolderStore(_root.Combine("store")), new OperationSettings { Storage = new StorageSettings() }).Packages;

        var e = await Assert.ThrowsAsync<OperationException>(() => ops.CreateAsync(ops.Target("team/link", null, write: true),
            new PackageCreateInput([new PackageSourceSpec("sources[0]") { Uri = link }]), null, ct));
        Assert.Contains("is a symbolic link; give the file it points to instead", e.Message, StringComparison.Ordinal);
        // Named on purpose, under a key of its own, it is taken.
        var written = await ops.CreateAsync(ops.Target("team/link", null, write: true),
            new PackageCreateInput([new PackageSourceSpec("sources[0]") { Uri = link, LogicalKey = "link.txt" }]), null, ct);
        Assert.Equal(6, written.Result.Size);
    }

    /// <summary>The real store, with each HEAD counted by object.</summary>
    private sealed class CountingStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        private readonly ConcurrentDictionary<string, int> _heads = new(StringComparer.Ordinal);

        public int HeadsOf(string bucket, string key) => _heads.GetValueOrDefault(bucket + "/" + key);

        public int HeadsBelow(string bucket, string prefix) =>
            _heads.Where(kv => kv.Key.StartsWith(bucket + "/" + prefix, StringComparison.Ordinal)).Sum(kv => kv.Value);

        public override Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            _heads.AddOrUpdate(obj.Bucket + "/" + obj.Key, 1, (_, n) => n + 1);
            return base.HeadAsync(obj, cancellationToken);
        }
    }
}
