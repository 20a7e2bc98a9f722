using Amazon.S3.Model;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>The store a tool test runs against (bucket and package tools alike), and what checking it needs that differs by store.</summary>
internal abstract class ToolTestStore : IAsyncDisposable
{
    /// <summary>A store with two empty buckets: one the server may use, one it may not.</summary>
    public abstract Task<(IObjectStore Store, string Bucket, string OtherBucket)> OpenAsync();

    /// <summary>Downloads a link from bucket_object_link the way a user would.</summary>
    public abstract Task<byte[]> DownloadAsync(string url);

    /// <summary>After a cancelled write: nothing of <paramref name="key"/> is left half-written in the store.</summary>
    public abstract Task AssertNothingHalfWrittenAsync(string bucket, string key);

    public abstract ValueTask DisposeAsync();
}

/// <summary>The local folder store.</summary>
internal sealed class LocalToolTestStore(string bucket = "data-bucket") : ToolTestStore
{
    private readonly TempDirectory _root = new();

    /// <summary>The store's root folder (its buckets are folders in it).</summary>
    public string Root => _root.Path;

    public override Task<(IObjectStore Store, string Bucket, string OtherBucket)> OpenAsync()
    {
        Directory.CreateDirectory(Path.Join(_root.Path, bucket));
        Directory.CreateDirectory(Path.Join(_root.Path, "other-bucket"));
        return Task.FromResult<(IObjectStore, string, string)>((new LocalFolderStore(_root.Path), bucket, "other-bucket"));
    }

    public override Task<byte[]> DownloadAsync(string url)
    {
        var uri = new Uri(url);
        Assert.Equal("file", uri.Scheme);
        return File.ReadAllBytesAsync(uri.LocalPath, TestContext.Current.CancellationToken);
    }

    public override async Task AssertNothingHalfWrittenAsync(string bucket, string key)
    {
        // The store writes into <root>/.quilt-mcp/tmp and renames into place; a cancelled write removes its temp file.
        var temp = Path.Join(_root.Path, ".quilt-mcp", "tmp");
        string[] Leftovers() => Directory.Exists(temp) ? Directory.GetFiles(temp) : [];
        for (var i = 0; i < 250 && Leftovers().Length > 0; i++)
            await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Empty(Leftovers());
        Assert.False(File.Exists(Path.Join(_root.Path, bucket, key)));
    }

    public override ValueTask DisposeAsync()
    {
        _root.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The S3 store, against the real S3 server on loopback.</summary>
internal sealed class S3ToolTestStore(bool versioned = false) : ToolTestStore
{
    private IDisposable? _store;

    public S3TestServer Server { get; private set; } = null!;

    public override async Task<(IObjectStore Store, string Bucket, string OtherBucket)> OpenAsync()
    {
        Server = await S3TestServer.GetAsync();
        var store = Server.CreateStore();
        _store = store;
        var bucket = await Server.CreateBucketAsync(versioned, TestContext.Current.CancellationToken);
        var other = await Server.CreateBucketAsync(cancellationToken: TestContext.Current.CancellationToken);
        return (store, bucket, other);
    }

    public override async Task<byte[]> DownloadAsync(string url)
    {
        Assert.StartsWith(Server.EndpointUrl, url, StringComparison.Ordinal);
        // A plain client with no credentials: the URL alone must be enough.
        using var http = new HttpClient();
        return await http.GetByteArrayAsync(new Uri(url), TestContext.Current.CancellationToken);
    }

    public override async Task AssertNothingHalfWrittenAsync(string bucket, string key)
    {
        async Task<List<MultipartUpload>> OpenUploads() =>
            (await Server.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = key },
                TestContext.Current.CancellationToken)).MultipartUploads ?? [];
        for (var i = 0; i < 250 && (await OpenUploads()).Count > 0; i++)
            await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Empty(await OpenUploads());
    }

    public override ValueTask DisposeAsync()
    {
        _store?.Dispose();
        return ValueTask.CompletedTask;
    }
}
