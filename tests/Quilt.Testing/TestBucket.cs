using Quilt.Storage;
using Quilt.Storage.Local;

namespace Quilt.Testing;

/// <summary>The two stores operation-level tests run over: a local folder, and the S3 server on loopback.</summary>
public enum TestStorage
{
    LocalFolder,
    S3,
}

/// <summary>
/// A store with one empty bucket for a test class: a bucket folder in a fresh local root, or a new uniquely named
/// bucket on the shared S3 server. Disposing it disposes the store and deletes the local root.
/// </summary>
public sealed class TestBucket : IDisposable
{
    private readonly TempDirectory? _root;

    private TestBucket(IObjectStore store, string bucket, TempDirectory? root) => (Store, Bucket, _root) = (store, bucket, root);

    public IObjectStore Store { get; }

    public string Bucket { get; }

    /// <summary>A new empty bucket on <paramref name="storage"/>; <paramref name="localBucket"/> names it on a local folder.</summary>
    public static async Task<TestBucket> OpenAsync(TestStorage storage, string localBucket = "test-bucket", CancellationToken cancellationToken = default)
    {
        if (storage == TestStorage.LocalFolder)
        {
            var root = new TempDirectory("quilt-store-root");
            Directory.CreateDirectory(root.Combine(localBucket));
            return new TestBucket(new LocalFolderStore(root.Path), localBucket, root);
        }
        var server = await S3TestServer.GetAsync();
        var store = server.CreateStore();
        try
        {
            return new TestBucket(store, await server.CreateBucketAsync(cancellationToken: cancellationToken), null);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        (Store as IDisposable)?.Dispose();
        _root?.Dispose();
    }
}
