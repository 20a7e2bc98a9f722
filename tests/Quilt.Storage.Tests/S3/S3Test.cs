using System.Security.Cryptography;
using Amazon.S3.Model;
using Quilt.Storage.S3;
using Quilt.Testing;

namespace Quilt.Storage.Tests.S3;

/// <summary>Each test gets its own bucket on the shared real S3 server, so tests run in parallel.</summary>
internal static class S3Test
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<(S3TestServer Server, S3ObjectStore Store, string Bucket)> BucketAsync(bool versioned = false, S3StoreOptions? options = null)
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned, Ct);
        return (server, server.CreateStore(options), bucket);
    }

    public static async Task<byte[]> ReadAllAsync(this IObjectStore store, ObjectRef obj, ByteRange? range = null)
    {
        await using var stream = await store.OpenReadAsync(obj, range, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    public static Task<PutResult> PutBytesAsync(this IObjectStore store, string bucket, string key, byte[] bytes, bool overwrite = true) =>
        store.PutAsync(new PutRequest(bucket, key) { Overwrite = overwrite }, new MemoryStream(bytes), null, Ct);

    public static async Task<IReadOnlyList<MultipartUpload>> PendingUploadsAsync(S3TestServer server, string bucket)
    {
        var response = await server.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket }, Ct);
        return response.MultipartUploads ?? [];
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
