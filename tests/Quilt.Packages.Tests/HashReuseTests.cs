using PutObjectRequest = Amazon.S3.Model.PutObjectRequest;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Packages.Tests;

/// <summary>A new revision does not read again an object version whose hash an earlier revision recorded.</summary>
public sealed class HashReuseTests
{
    [Fact]
    public async Task A_versioned_object_already_in_the_previous_revision_is_not_read_again()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: true, TestContext.Current.CancellationToken);
        using var s3 = server.CreateStore();
        var store = new ReadCountingStore(s3);
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "in/same.txt", ContentBody = "unchanged" }, TestContext.Current.CancellationToken);
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "in/moved.txt", ContentBody = "v1" }, TestContext.Current.CancellationToken);
        var registry = new PackageRegistry(store, bucket);
        var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: false));
        async Task<PackageWriteResult> CreateAsync() => await service.CreateAsync(registry, new CreatePackageRequest("team/reuse",
            await EntrySources.FromStorePrefixAsync(store, bucket, "in/", "", TestContext.Current.CancellationToken)) { CopyData = false, Overwrite = true },
            null, TestContext.Current.CancellationToken);

        await CreateAsync();
        Assert.Equal(2, store.DataReads.Count(k => k.StartsWith("in/", StringComparison.Ordinal)));

        store.DataReads.Clear();
        await server.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "in/moved.txt", ContentBody = "v2" }, TestContext.Current.CancellationToken);
        var second = await CreateAsync();
        // Only the object with a new version was hashed again.
        Assert.Equal(["in/moved.txt"], store.DataReads.Where(k => k.StartsWith("in/", StringComparison.Ordinal)).Distinct());
        Assert.Equal(["moved.txt"], second.ChangesFromPrevious!.Modified.Select(m => m.LogicalKey));
        Assert.True((await service.VerifyAsync(second.Manifest, cancellationToken: TestContext.Current.CancellationToken)).Ok);
    }

    /// <summary>The real store, with a record of which keys were opened for reading.</summary>
    private sealed class ReadCountingStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        public List<string> DataReads { get; } = [];

        public override Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            lock (DataReads)
                DataReads.Add(obj.Key);
            return base.OpenReadAsync(obj, range, cancellationToken);
        }
    }
}
