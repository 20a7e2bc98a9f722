using Amazon.S3.Model;
using Quilt.Core;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Storage.S3;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>Package operations against the real S3 server: versioned buckets, push, create from prefixes.</summary>
public sealed class S3RegistryTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-pkg-s3");

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(FixtureCases.All), MemberType = typeof(FixtureCases))]
    public async Task Pushing_a_local_revision_to_a_versioned_bucket_keeps_quilt3s_top_hash_and_records_versions(string name)
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, Ct);
        using var s3 = server.CreateStore();
        var local = new LocalFolderStore(_scratch.Combine("root"));
        var files = Directory.CreateDirectory(_scratch.Combine("files")).FullName;
        FixtureCases.MaterializeFiles(name, files);
        var (message, userMeta, entryMeta) = FixtureCases.Inputs(name);
        var service = new PackageService(new ObjectLocator([local, s3], allowLocalFilesOutsideStores: true));
        var localRegistry = new PackageRegistry(local, "local");
        await service.CreateAsync(localRegistry, new CreatePackageRequest("fixtures/" + name,
            EntrySources.FromLocalPath(files).Select(s => entryMeta.TryGetValue(s.LogicalKey, out var m) ? s with { UserMeta = m } : s).ToList())
        { Message = message, UserMeta = userMeta, CopyData = false }, null, Ct);

        var s3Registry = new PackageRegistry(s3, bucket);
        var pushed = await service.PushAsync(localRegistry, "fixtures/" + name, null, s3Registry, null, true, null, Ct);

        Assert.Equal(FixtureCases.TopHash(name), pushed.Revision.TopHash);
        foreach (var entry in pushed.Manifest.Entries)
        {
            var key = PhysicalKey.Parse(entry.PhysicalKey);
            Assert.Equal(bucket, key.Bucket);
            Assert.Equal($"fixtures/{name}/{entry.LogicalKey}", key.Path);
            Assert.NotNull(key.VersionId);
        }
        // Read back from S3 as quilt3 would: latest pointer, manifest, and every entry verifies.
        var (hash, manifest) = await s3Registry.BrowseAsync("fixtures/" + name, null, Ct);
        Assert.Equal(FixtureCases.TopHash(name), hash);
        Assert.True((await service.VerifyAsync(manifest, cancellationToken: Ct)).Ok);
        var latest = await server.Client.GetObjectAsync(bucket, $".quilt/named_packages/fixtures/{name}/latest", Ct);
        using var reader = new StreamReader(latest.ResponseStream);
        Assert.Equal(hash, await reader.ReadToEndAsync(Ct));
    }

    [Fact]
    public async Task Creating_from_an_s3_prefix_in_place_records_versions_and_a_new_version_is_a_modified_entry()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, Ct);
        using var s3 = server.CreateStore();
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "raw/a.csv", ContentBody = "x,y\n1,2\n" }, Ct);
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "raw/deep/b.txt", ContentBody = "b" }, Ct);
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "other/c.txt", ContentBody = "c" }, Ct);
        var registry = new PackageRegistry(s3, bucket);
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: false));

        var sources = await EntrySources.FromStorePrefixAsync(s3, bucket, "raw/", "data", Ct);
        var first = await service.CreateAsync(registry, new CreatePackageRequest("team/raw", sources) { CopyData = false }, null, Ct);
        Assert.Equal(["data/a.csv", "data/deep/b.txt"], first.Manifest.Entries.Select(e => e.LogicalKey));
        Assert.All(first.Manifest.Entries, e => Assert.Contains("?versionId=", e.PhysicalKey, StringComparison.Ordinal));

        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "raw/a.csv", ContentBody = "x,y\n3,4\n" }, Ct);
        var second = await service.CreateAsync(registry, new CreatePackageRequest("team/raw",
            await EntrySources.FromStorePrefixAsync(s3, bucket, "raw/", "data", Ct)) { CopyData = false, Overwrite = true }, null, Ct);
        Assert.Equal(["data/a.csv"], second.ChangesFromPrevious!.Modified.Select(m => m.LogicalKey));
        Assert.Equal(1, second.ChangesFromPrevious.Unchanged);
        // The first revision still points at the old version, so its data is intact.
        Assert.True((await service.VerifyAsync(first.Manifest, cancellationToken: Ct)).Ok);
    }

    [Fact]
    public async Task Copying_objects_into_the_registry_puts_them_under_the_package_name()
    {
        var server = await S3TestServer.GetAsync();
        var source = await server.CreateBucketAsync(versioned: false, Ct);
        var target = await server.CreateBucketAsync(versioned: false, Ct);
        using var s3 = server.CreateStore();
        var big = new byte[9_000_000];
        for (var i = 0; i < big.Length; i++)
            big[i] = (byte)((i * 31 + 7) % 256);
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = source, Key = "in/nine.bin", InputStream = new MemoryStream(big) }, Ct);
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: false));
        var result = await service.CreateAsync(new PackageRegistry(s3, target), new CreatePackageRequest("team/copy",
            [new StoreObjectSource("sub/nine.bin", s3, new ObjectRef(source, "in/nine.bin"))]), null, Ct);
        var entry = Assert.Single(result.Manifest.Entries);
        // Same bytes as the basic fixture's nine.bin: quilt3's hash for it.
        Assert.Equal("5eZoz1wc/hQDXPzrxy31eaScMILpMzn2XHtqfa/vtxM=", entry.Hash.Value);
        Assert.Equal($"s3://{target}/team/copy/sub/nine.bin", entry.PhysicalKey);
        var head = await s3.HeadAsync(new ObjectRef(target, "team/copy/sub/nine.bin"), Ct);
        Assert.Equal(big.Length, head.Size);
    }

    [Fact]
    public async Task A_missing_source_object_publishes_nothing()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        using var s3 = server.CreateStore();
        var service = new PackageService(new ObjectLocator([s3], allowLocalFilesOutsideStores: false));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => service.CreateAsync(new PackageRegistry(s3, bucket),
            new CreatePackageRequest("team/missing", [new StoreObjectSource("x", s3, new ObjectRef(bucket, "nope"))]), null, Ct));
        var listing = await s3.ListAsync(new ListRequest(bucket, ".quilt/"), Ct);
        Assert.Empty(listing.Objects);
    }
}
