using Amazon.Runtime;
using Amazon.S3;
using Quilt.Storage.S3;
using Quilt.Testing;
using static Quilt.Storage.Tests.S3.S3Test;

namespace Quilt.Storage.Tests.S3;

public sealed class S3ErrorTests
{
    [Fact]
    public async Task Missing_key_is_object_not_found_for_head_read_and_versions()
    {
        var (_, store, bucket) = await BucketAsync(versioned: true);
        var missing = new ObjectRef(bucket, "no/such/key.csv");

        var head = await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(missing, Ct));
        Assert.Equal(missing, head.Object);
        Assert.Contains("no/such/key.csv", head.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync(missing, null, Ct));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync(missing, new ByteRange(0, 0), Ct));

        var put = await store.PutBytesAsync(bucket, "k", [1]);
        await store.DeleteAsync(put.Ref, Ct);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync(put.Ref, null, Ct));
    }

    [Fact]
    public async Task Missing_bucket_is_bucket_not_found_everywhere()
    {
        var server = await S3TestServer.GetAsync();
        using var store = server.CreateStore();
        var bucket = "nobucket-" + Guid.NewGuid().ToString("N")[..12];
        var obj = new ObjectRef(bucket, "k");

        var missing = await Assert.ThrowsAsync<BucketNotFoundException>(() => store.HeadAsync(obj, Ct));
        Assert.Equal(bucket, missing.Bucket);
        // The message says what to do next, not only what went wrong.
        Assert.Contains("list the buckets to see which exist", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BucketNotFoundException>(() => store.OpenReadAsync(obj, null, Ct));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => store.ListAsync(new ListRequest(bucket), Ct));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => store.IsVersionedAsync(bucket, Ct));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => store.GetDownloadUrlAsync(obj, TimeSpan.FromMinutes(1), Ct));
    }

    [Fact]
    public async Task Wrong_secret_is_access_denied_with_what_to_check()
    {
        var (server, _, bucket) = await BucketAsync();
        using var client = new AmazonS3Client(new BasicAWSCredentials(server.AccessKey, "not-the-secret"), new AmazonS3Config
        {
            ServiceURL = server.EndpointUrl,
            AuthenticationRegion = server.Region,
            ForcePathStyle = true,
        });
        using var store = new S3ObjectStore(client, server.StoreOptions);

        var list = await Assert.ThrowsAsync<AccessDeniedException>(() => store.ListAsync(new ListRequest(bucket), Ct));
        Assert.Contains("secret access key", list.Message, StringComparison.Ordinal);
        Assert.Contains(bucket, list.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret", list.Message, StringComparison.Ordinal);

        var head = await Assert.ThrowsAsync<AccessDeniedException>(() => store.HeadAsync(new ObjectRef(bucket, "k"), Ct));
        Assert.Contains("credentials", head.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_access_key_is_access_denied_naming_the_credentials_to_check()
    {
        var (server, _, bucket) = await BucketAsync();
        using var client = new AmazonS3Client(new BasicAWSCredentials("NOSUCHKEY", "whatever"), new AmazonS3Config
        {
            ServiceURL = server.EndpointUrl,
            AuthenticationRegion = server.Region,
            ForcePathStyle = true,
        });
        using var store = new S3ObjectStore(client, server.StoreOptions);

        var ex = await Assert.ThrowsAsync<AccessDeniedException>(() => store.ListAsync(new ListRequest(bucket), Ct));
        Assert.Contains("AWS_ACCESS_KEY_ID", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_endpoint_is_a_storage_error_naming_the_endpoint()
    {
        await S3TestServer.GetAsync(); // for its credentials in the environment
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var store = new S3ObjectStore(new S3StoreOptions { EndpointUrl = $"http://127.0.0.1:{port}" });

        var ex = await Assert.ThrowsAsync<StorageException>(() => store.ListAsync(new ListRequest("bucket"), Ct));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_bucket_names_and_keys_are_refused_before_any_request()
    {
        var server = await S3TestServer.GetAsync();
        using var store = server.CreateStore();

        await Assert.ThrowsAsync<InvalidObjectPathException>(() => store.HeadAsync(new ObjectRef("../etc", "k"), Ct));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => store.HeadAsync(new ObjectRef("b/c", "k"), Ct));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => store.HeadAsync(new ObjectRef("bucket", ""), Ct));
        await Assert.ThrowsAsync<InvalidObjectPathException>(() => store.HeadAsync(new ObjectRef("bucket", new string('k', 1025)), Ct));
    }
}
