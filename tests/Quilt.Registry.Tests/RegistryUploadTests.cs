using System.Text;
using Quilt.Storage;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>Uploads through the registry: presigned POSTs, multipart, refusals, and a stock registry without upload.</summary>
public sealed class RegistryUploadTests(RegistryFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Recorder : IProgress<long>
    {
        public List<long> Reports { get; } = [];
        public void Report(long value)
        {
            lock (Reports)
                Reports.Add(value);
        }
    }

    [Fact]
    public async Task A_small_file_goes_up_in_one_presigned_post()
    {
        var key = $"put-{Guid.NewGuid():N}/notes.txt";
        var bytes = Encoding.UTF8.GetBytes("hello through the registry\n");
        var result = await fx.Store("writer").PutAsync(new PutRequest(fx.Data, key) { ContentType = "text/plain" }, new MemoryStream(bytes), null, Ct);

        Assert.Equal(bytes.Length, result.Size);
        Assert.NotNull(result.VersionId);
        Assert.Equal(bytes, await fx.ReadRawAsync(key, result.VersionId));
        var head = await fx.RawS3.GetObjectMetadataAsync(fx.Data, key, Ct);
        Assert.Equal("text/plain", head.Headers.ContentType);
        Assert.Equal(head.ETag.Trim('"'), result.ETag);
    }

    [Fact]
    public async Task A_large_stream_goes_up_in_parallel_parts_whole()
    {
        var key = $"put-{Guid.NewGuid():N}/big.bin";
        var bytes = TestStreams.Bytes(9 * 1024 * 1024 + 12_345, 5);
        var progress = new Recorder();
        var store = fx.Store("writer", options: new RegistryStoreOptions { PartSize = 5L * 1024 * 1024, MultipartThreshold = 8L * 1024 * 1024 });
        // Non-seekable with a declared length: streamed part by part.
        var result = await store.PutAsync(new PutRequest(fx.Data, key) { Length = bytes.Length }, TestStreams.NonSeekable(bytes), progress, Ct);

        Assert.Equal(bytes.Length, result.Size);
        Assert.Equal(RegistryApiObjectStoreTests.Sha256(bytes), RegistryApiObjectStoreTests.Sha256(await fx.ReadRawAsync(key)));
        Assert.Equal(bytes.Length, progress.Reports.Max());
        // A multipart ETag ("<md5>-<parts>") shows it really went up in parts.
        Assert.EndsWith("-2", result.ETag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_without_a_length_is_uploaded_too()
    {
        var key = $"put-{Guid.NewGuid():N}/unknown.bin";
        var bytes = TestStreams.Bytes(100_000, 9);
        var result = await fx.Store("writer").PutAsync(new PutRequest(fx.Data, key), TestStreams.NonSeekable(bytes), null, Ct);
        Assert.Equal(bytes.Length, result.Size);
        Assert.Equal(bytes, await fx.ReadRawAsync(key));
    }

    [Fact]
    public async Task A_stream_shorter_than_declared_aborts_the_multipart_upload_and_writes_nothing()
    {
        var key = $"put-{Guid.NewGuid():N}/short.bin";
        var bytes = TestStreams.Bytes(9 * 1024 * 1024, 1);
        var store = fx.Store("writer", options: new RegistryStoreOptions { PartSize = 5L * 1024 * 1024 });
        var ex = await Assert.ThrowsAsync<StorageException>(() =>
            store.PutAsync(new PutRequest(fx.Data, key) { Length = bytes.Length + 1_000 }, TestStreams.NonSeekable(bytes), null, Ct));
        Assert.Contains("Nothing was written", ex.Message, StringComparison.Ordinal);
        Assert.False(await fx.ExistsAsync(key));
        Assert.Empty(await PendingUploadsAsync(key));
    }

    [Fact]
    public async Task A_cancelled_multipart_upload_is_aborted_and_writes_nothing()
    {
        var key = $"put-{Guid.NewGuid():N}/cancelled.bin";
        var bytes = TestStreams.Bytes(12 * 1024 * 1024, 6);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var store = fx.Store("writer", options: new RegistryStoreOptions { PartSize = 5L * 1024 * 1024 });
        // Cancelled while the third part is being read: the first parts are already on their way.
        var content = TestStreams.RunningAfter(bytes, 11L * 1024 * 1024, cts.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.PutAsync(new PutRequest(fx.Data, key) { Length = bytes.Length }, content, null, cts.Token));
        Assert.False(await fx.ExistsAsync(key));
        Assert.Empty(await PendingUploadsAsync(key));
    }

    /// <summary>Multipart uploads S3 still holds for a key (an aborted one leaves none).</summary>
    private async Task<List<string>> PendingUploadsAsync(string key)
    {
        var uploads = await fx.RawS3.ListMultipartUploadsAsync(new Amazon.S3.Model.ListMultipartUploadsRequest { BucketName = fx.Data, Prefix = key }, Ct);
        return (uploads.MultipartUploads ?? []).Select(u => u.UploadId).ToList();
    }

    [Fact]
    public async Task Overwrite_false_refuses_an_existing_key_and_keeps_its_bytes()
    {
        var key = $"put-{Guid.NewGuid():N}/keep.txt";
        await fx.PutRawAsync(key, "original"u8.ToArray());
        var store = fx.Store("writer");
        var ex = await Assert.ThrowsAsync<ObjectExistsException>(() =>
            store.PutAsync(new PutRequest(fx.Data, key) { Overwrite = false }, new MemoryStream("replacement"u8.ToArray()), null, Ct));
        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal("original"u8.ToArray(), await fx.ReadRawAsync(key));

        // A new key is fine with overwrite off.
        var fresh = key + ".new";
        await store.PutAsync(new PutRequest(fx.Data, fresh) { Overwrite = false }, new MemoryStream("new"u8.ToArray()), null, Ct);
        Assert.Equal("new"u8.ToArray(), await fx.ReadRawAsync(fresh));
    }

    [Fact]
    public async Task An_overwrite_false_put_through_the_object_operations_is_refused_by_the_registry_stores_own_lookup()
    {
        var key = $"put-{Guid.NewGuid():N}/keep.txt";
        await fx.PutRawAsync(key, "original"u8.ToArray());
        var store = new HeadCountingStore(fx.Store("writer"));
        var settings = new Quilt.Operations.OperationSettings { Storage = new StorageSettings(), RegistryUrl = fx.Gateway, AllowedBuckets = [fx.Data] };
        var objects = new Quilt.Operations.QuiltOperations(new Quilt.Operations.StoreConnection(store), settings,
            new Quilt.Packages.PackageService(new Quilt.Packages.ObjectLocator([store], allowLocalFilesOutsideStores: false))).Objects;

        var ex = await Assert.ThrowsAsync<Quilt.Operations.OperationException>(() =>
            objects.PutAsync([new Quilt.Operations.Models.PutObjectInput { Uri = $"s3://{fx.Data}/{key}", Text = "replacement" }], overwrite: false, null, Ct));

        Assert.Equal($"s3://{fx.Data}/{key} already exists and overwrite is false. Nothing was written. Pass overwrite=true to replace it, or choose another key.",
            ex.Message);
        Assert.Equal("original"u8.ToArray(), await fx.ReadRawAsync(key));
        // The registry store looks the key up before sending anything; the operation adds no lookup of its own.
        Assert.Equal(0, store.Heads);
    }

    private sealed class HeadCountingStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        public int Heads;

        public override Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Heads);
            return base.HeadAsync(obj, cancellationToken);
        }
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(9 * 1024 * 1024)]
    public async Task A_role_without_write_gets_access_denied_and_nothing_is_written(int size)
    {
        var key = $"put-{Guid.NewGuid():N}/denied.bin";
        var ex = await Assert.ThrowsAsync<AccessDeniedException>(() =>
            fx.Store("reader").PutAsync(new PutRequest(fx.Data, key), new MemoryStream(TestStreams.Bytes(size, 2)), null, Ct));
        Assert.Contains("refused", ex.Message, StringComparison.Ordinal);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.False(await fx.ExistsAsync(key));
    }

    [Fact]
    public async Task User_metadata_is_refused_before_anything_is_sent()
    {
        var key = $"put-{Guid.NewGuid():N}/meta.txt";
        var ex = await Assert.ThrowsAsync<StorageException>(() => fx.Store("writer").PutAsync(
            new PutRequest(fx.Data, key) { Metadata = new Dictionary<string, string> { ["a"] = "b" } }, new MemoryStream([1]), null, Ct));
        Assert.Contains("metadata", ex.Message, StringComparison.Ordinal);
        Assert.False(await fx.ExistsAsync(key));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(9 * 1024 * 1024)]
    public async Task A_stock_registry_answers_put_with_the_workarounds_and_writes_nothing(int size)
    {
        var key = $"put-{Guid.NewGuid():N}/stock.bin";
        var store = fx.Store("writer", stock: true);
        var ex = await Assert.ThrowsAsync<UploadNotSupportedException>(() =>
            store.PutAsync(new PutRequest(fx.Data, key), new MemoryStream(TestStreams.Bytes(size, 4)), null, Ct));

        Assert.Contains("generateUploadUrl", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"aws s3 cp <local file> s3://{fx.Data}/{key}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("web interface", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot query field", ex.Message, StringComparison.Ordinal);
        var json = ex.ToJson();
        Assert.False(json["success"]!.GetValue<bool>());
        Assert.Equal(["web_ui", "aws_cli", "then_package"], json["workarounds"]!.AsObject().Select(kv => kv.Key));
        Assert.Contains("generateUploadUrl", json["backend_feature_needed"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(await fx.ExistsAsync(key));

        // Reading still works there.
        var listing = await store.ListAsync(new ListRequest(fx.Data, "", "/"), Ct);
        Assert.NotNull(listing);
    }
}
