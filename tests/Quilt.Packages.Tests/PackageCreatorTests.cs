using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>The entry builder as packageConstruct uses it: sources that carry what their caller already checked.</summary>
public sealed class PackageCreatorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_source_with_its_head_and_hash_is_referenced_without_asking_the_store_again()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        using var s3 = server.CreateStore();
        var obj = new ObjectRef(bucket, "in/a.csv");
        await s3.PutAsync(new PutRequest(bucket, obj.Key), new MemoryStream("x,y\n"u8.ToArray()), null, Ct);
        var info = await s3.HeadAsync(obj, Ct);
        // Gone now: a HEAD or a read by the build would fail.
        await s3.DeleteAsync(obj, Ct);
        var given = new ObjectHash(ObjectHash.Sha256Type, Convert.ToBase64String(new byte[32]));
        var meta = new JsonObject { ["user_meta"] = new JsonObject { ["lang"] = "en" }, ["note"] = "kept whole" };

        var creator = new PackageCreator(new PackageRegistry(s3, bucket), new ObjectLocator([s3], allowLocalFilesOutsideStores: false));
        var manifest = await creator.BuildAsync("team/construct",
            [new StoreObjectSource("a.csv", s3, obj) { Info = info, Hash = given, EntryMeta = meta }],
            Manifest.CreatePackageMeta("m"), new BuildOptions { CopyData = false }, null, Ct);

        var entry = Assert.Single(manifest.Entries);
        Assert.Equal(given, entry.Hash);
        Assert.Equal(4, entry.Size);
        Assert.Equal($"s3://{bucket}/in/a.csv", entry.PhysicalKey);
        Assert.True(JsonNode.DeepEquals(meta, entry.Meta));
    }

    [Fact]
    public async Task A_source_without_a_head_is_still_looked_up()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        using var s3 = server.CreateStore();
        var creator = new PackageCreator(new PackageRegistry(s3, bucket), new ObjectLocator([s3], allowLocalFilesOutsideStores: false));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => creator.BuildAsync("team/construct",
            [new StoreObjectSource("a.csv", s3, new ObjectRef(bucket, "missing.csv"))], Manifest.CreatePackageMeta("m"),
            new BuildOptions { CopyData = false }, null, Ct));
    }
}
