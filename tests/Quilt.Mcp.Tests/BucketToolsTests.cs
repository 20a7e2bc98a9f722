using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Mcp.Tests;

/// <summary>
/// The bucket tools through a real MCP client, against a real store: the fixture that <see cref="BucketReadToolsTests"/>
/// and <see cref="BucketWriteToolsTests"/> share. Their subclasses supply the store (a local folder, S3 on loopback), so
/// every behaviour is checked on both.
/// </summary>
public abstract class BucketToolsTests : IAsyncLifetime
{
    private readonly ToolTestStore _backing;

    private protected BucketToolsTests(ToolTestStore backing) => _backing = backing;

    private protected IObjectStore Store { get; private set; } = null!;
    private protected string Bucket { get; private set; } = null!;
    private protected string OtherBucket { get; private set; } = null!;
    private protected TempDirectory Files { get; } = new();

    public async ValueTask InitializeAsync() => (Store, Bucket, OtherBucket) = await _backing.OpenAsync();

    public async ValueTask DisposeAsync()
    {
        Files.Dispose();
        await _backing.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Downloads a link from bucket_object_link the way a user would.</summary>
    private protected Task<byte[]> DownloadAsync(string url) => _backing.DownloadAsync(url);

    private protected Task<McpHarness> StartAsync(bool readOnly = false, long? maxInline = null, int? maxText = null, string? catalog = null) =>
        McpHarness.StartAsync(TestData.Settings(Bucket, readOnly, maxInline, maxText, catalog), Store);

    private protected string Uri(string key) => $"s3://{Bucket}/{key}";

    private protected async Task PutAsync(string key, byte[] bytes, string? contentType = null)
    {
        using var content = new MemoryStream(bytes);
        await Store.PutAsync(new PutRequest(Bucket, key) { Length = bytes.Length, ContentType = contentType }, content,
            cancellationToken: TestContext.Current.CancellationToken);
    }

    private protected async Task<byte[]> ReadAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(new ObjectRef(Bucket, key), cancellationToken: TestContext.Current.CancellationToken);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, TestContext.Current.CancellationToken);
        return copy.ToArray();
    }

    private protected async Task<List<string>> KeysAsync(string bucket)
    {
        var listing = await Store.ListAsync(new ListRequest(bucket), TestContext.Current.CancellationToken);
        return listing.Objects.Select(o => o.Key).ToList();
    }


    /// <summary>
    /// The server reports at most every 1 % and 250 ms, and always the update reaching the total, before it answers;
    /// this SDK client handles each message on its own task, so the harness's handler may see them after the result:
    /// wait (bounded) for the last. (The end-to-end test with the TypeScript client records notifications as they arrive
    /// and checks that the last one, before the result, reaches the total.)
    /// </summary>
    private protected static async Task AssertProgressAsync(ProgressLog log, long total)
    {
        await log.WaitForAsync(v => v.Count > 0 && v[^1].Progress >= total - 2); // floats: exact to 2^24 only
        Assert.True(log.Values.Count >= 1, "expected progress notifications, got none");
        Assert.True(log.Values.Count <= 102, $"at most one notification per 1 % and the final one, got {log.Values.Count}");
        Assert.Equal(total, log.Values.Max(v => v.Progress), 2.0);
        Assert.All(log.Values, v => Assert.Equal(total, v.Total!.Value, 2.0)); // floats: exact to 2^24 only
        Assert.All(log.Values, v => Assert.InRange(v.Progress, 1, total + 2));
    }

    /// <summary>
    /// After a cancelled upload: the object never appears (an upload that ignored the cancellation would finish within
    /// this wait; the wait bounds a check, it asserts no timing), and the store holds nothing half-written.
    /// </summary>
    private protected async Task AssertNoUploadLeftAsync(string key)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            Assert.DoesNotContain(key, await KeysAsync(Bucket));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        await AssertNothingHalfWrittenAsync(key);
    }

    private protected Task AssertNothingHalfWrittenAsync(string key) => _backing.AssertNothingHalfWrittenAsync(Bucket, key);
}

/// <summary>A real store whose put sources stall after some bytes until the put is cancelled (or 30 s pass).</summary>
internal sealed class StallingSourceStore(IObjectStore inner, long stallAfter) : Quilt.Testing.DelegatingObjectStore(inner)
{
    public override Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        base.PutAsync(request, Quilt.Testing.TestStreams.RunningAfter(content, stallAfter, () =>
        {
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
            cancellationToken.ThrowIfCancellationRequested();
        }), progress, cancellationToken);
}
