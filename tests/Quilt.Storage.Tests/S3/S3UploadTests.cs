using Quilt.Storage.S3;
using Quilt.Testing;
using static Quilt.Storage.Tests.S3.S3Test;

namespace Quilt.Storage.Tests.S3;

public sealed class S3UploadTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Large_object_goes_up_in_parts_and_reads_back_byte_identical()
    {
        var (server, store, bucket) = await BucketAsync();
        var bytes = TestStreams.Bytes(20 * MiB + 12345, seed: 5);
        var progress = new RecordingProgress();

        var put = await store.PutAsync(
            new PutRequest(bucket, "big.bin") { Length = bytes.Length, ContentType = "application/octet-stream" },
            TestStreams.NonSeekable(bytes), progress, Ct);

        Assert.Equal(bytes.Length, put.Size);
        Assert.EndsWith("-3", put.ETag, StringComparison.Ordinal); // 8 MiB + 8 MiB + the rest
        Assert.Equal(Sha256(bytes), Sha256(await store.ReadAllAsync(put.Ref)));
        Assert.Equal(bytes.Length, (await store.HeadAsync(put.Ref, Ct)).Size);
        Assert.Equal(bytes.Length, progress.Values.Max());
        Assert.Equal(3, progress.Values.Count);
        Assert.Empty(await PendingUploadsAsync(server, bucket));

        // A ranged read across a part boundary.
        Assert.Equal(bytes[(8 * MiB - 10)..(8 * MiB + 10)], await store.ReadAllAsync(put.Ref, new ByteRange(8 * MiB - 10, 20)));
    }

    [Fact]
    public async Task Seekable_stream_without_a_declared_length_uses_its_length()
    {
        var (_, store, bucket) = await BucketAsync(options: new S3StoreOptions { PartSize = 5 * MiB, MultipartThreshold = 5 * MiB, Concurrency = 2 });
        var bytes = TestStreams.Bytes(11 * MiB, seed: 6);

        var put = await store.PutAsync(new PutRequest(bucket, "seekable.bin"), new MemoryStream(bytes), null, Ct);

        Assert.EndsWith("-3", put.ETag, StringComparison.Ordinal);
        Assert.Equal(Sha256(bytes), Sha256(await store.ReadAllAsync(put.Ref)));
    }

    [Fact]
    public async Task Stream_of_unknown_length_goes_up_in_parts()
    {
        var (server, store, bucket) = await BucketAsync();
        var bytes = TestStreams.Bytes(17 * MiB + 1, seed: 7);
        var progress = new RecordingProgress();

        var put = await store.PutAsync(new PutRequest(bucket, "unknown.bin"), TestStreams.NonSeekable(bytes), progress, Ct);

        Assert.Equal(bytes.Length, put.Size);
        Assert.EndsWith("-3", put.ETag, StringComparison.Ordinal);
        Assert.Equal(Sha256(bytes), Sha256(await store.ReadAllAsync(put.Ref)));
        Assert.Equal(bytes.Length, progress.Values.Max());
        Assert.Empty(await PendingUploadsAsync(server, bucket));
    }

    [Fact]
    public async Task Stream_of_unknown_length_that_is_an_exact_number_of_parts_ends_cleanly()
    {
        var (_, store, bucket) = await BucketAsync(options: new S3StoreOptions { PartSize = 5 * MiB, MultipartThreshold = 5 * MiB });
        var bytes = TestStreams.Bytes(10 * MiB, seed: 8);

        var put = await store.PutAsync(new PutRequest(bucket, "exact.bin"), TestStreams.NonSeekable(bytes), null, Ct);

        Assert.EndsWith("-2", put.ETag, StringComparison.Ordinal);
        Assert.Equal(Sha256(bytes), Sha256(await store.ReadAllAsync(put.Ref)));
    }

    [Fact]
    public async Task Small_stream_of_unknown_length_is_one_put()
    {
        var (_, store, bucket) = await BucketAsync();
        var bytes = TestStreams.Bytes(1000);
        var progress = new RecordingProgress();

        var put = await store.PutAsync(new PutRequest(bucket, "small.bin"), TestStreams.NonSeekable(bytes), progress, Ct);

        Assert.DoesNotContain("-", put.ETag, StringComparison.Ordinal);
        Assert.Equal(bytes, await store.ReadAllAsync(put.Ref));
        Assert.Equal([1000L], progress.Values);
    }

    [Fact]
    public async Task Upload_reads_ahead_of_what_is_stored_by_at_most_concurrency_parts()
    {
        const int partSize = 5 * MiB;
        const int concurrency = 2;
        var (_, store, bucket) = await BucketAsync(options: new S3StoreOptions { PartSize = partSize, Concurrency = concurrency });
        var bytes = TestStreams.Bytes(31 * MiB, seed: 4);
        long stored = 0, maxAhead = 0;
        var gate = new Lock();
        // Reports from parallel parts may arrive out of order: keep the highest.
        var progress = new CallbackProgress(done =>
        {
            lock (gate)
                stored = Math.Max(stored, done);
        });
        var stream = TestStreams.Observed(bytes, read =>
        {
            lock (gate)
                maxAhead = Math.Max(maxAhead, read - stored);
        });

        var put = await store.PutAsync(new PutRequest(bucket, "bounded.bin"), stream, progress, Ct);

        // Memory holds what was read but not yet stored: never more than one buffer per slot.
        Assert.InRange(maxAhead, 1, (long)concurrency * partSize);
        Assert.EndsWith("-7", put.ETag, StringComparison.Ordinal);
        Assert.Equal(Sha256(bytes), Sha256(await store.ReadAllAsync(put.Ref)));
    }

    private sealed class CallbackProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    [Fact]
    public async Task Stream_that_fails_midway_leaves_no_object_and_no_pending_upload()
    {
        var (server, store, bucket) = await BucketAsync();
        var bytes = TestStreams.Bytes(20 * MiB);
        var stream = TestStreams.FailingAfter(bytes, 12 * MiB, new IOException("disk went away"));

        var ex = await Assert.ThrowsAsync<IOException>(() =>
            store.PutAsync(new PutRequest(bucket, "broken.bin") { Length = bytes.Length }, stream, null, Ct));

        Assert.Equal("disk went away", ex.Message);
        Assert.Empty(await PendingUploadsAsync(server, bucket));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(new ObjectRef(bucket, "broken.bin"), Ct));
    }

    [Fact]
    public async Task Failing_part_fails_the_upload_with_the_S3_error_and_aborts_it()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var (client, faults) = FaultInjectingS3.Wrap(server.Client);
        faults.FailWhen = (method, args) =>
            method.Name == nameof(server.Client.UploadPartAsync) && args?[0] is Amazon.S3.Model.UploadPartRequest { PartNumber: 2 };
        using var store = new S3ObjectStore(client, new S3StoreOptions { PartSize = 5 * MiB, Concurrency = 2 });

        var ex = await Assert.ThrowsAsync<StorageException>(() =>
            store.PutAsync(new PutRequest(bucket, "lost-part.bin"), TestStreams.NonSeekable(TestStreams.Bytes(60 * MiB)), null, Ct));

        Assert.Contains("InternalError", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"s3://{bucket}/lost-part.bin", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, faults.Calls(nameof(server.Client.AbortMultipartUploadAsync)));
        Assert.Equal(0, faults.Calls(nameof(server.Client.CompleteMultipartUploadAsync)));
        // The first failure stops the reading: not all 12 parts of the stream were started.
        Assert.InRange(faults.Calls(nameof(server.Client.UploadPartAsync)), 2, 11);
        Assert.Empty(await PendingUploadsAsync(server, bucket));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(new ObjectRef(bucket, "lost-part.bin"), Ct));
    }

    [Fact]
    public async Task Failing_abort_does_not_hide_the_original_failure()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var (client, faults) = FaultInjectingS3.Wrap(server.Client);
        faults.FailWhen = (method, _) => method.Name == nameof(server.Client.AbortMultipartUploadAsync);
        using var store = new S3ObjectStore(client, new S3StoreOptions { PartSize = 5 * MiB });
        var stream = TestStreams.FailingAfter(TestStreams.Bytes(12 * MiB), 6 * MiB, new IOException("source vanished"));

        var ex = await Assert.ThrowsAsync<IOException>(() => store.PutAsync(new PutRequest(bucket, "k"), stream, null, Ct));

        Assert.Equal("source vanished", ex.Message);
        Assert.Equal(1, faults.Calls(nameof(server.Client.AbortMultipartUploadAsync)));
        // The upload the failed abort left behind; a bucket lifecycle rule would remove it on AWS.
        var pending = Assert.Single(await PendingUploadsAsync(server, bucket));
        await server.Client.AbortMultipartUploadAsync(bucket, "k", pending.UploadId, Ct);
    }

    [Fact]
    public async Task Cancelling_midway_aborts_the_upload()
    {
        var (server, store, bucket) = await BucketAsync();
        var bytes = TestStreams.Bytes(24 * MiB);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var stream = TestStreams.RunningAfter(bytes, 10 * MiB, cts.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.PutAsync(new PutRequest(bucket, "cancelled.bin"), stream, null, cts.Token));

        Assert.Empty(await PendingUploadsAsync(server, bucket));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.HeadAsync(new ObjectRef(bucket, "cancelled.bin"), Ct));
    }

    [Fact]
    public async Task Stream_shorter_than_its_declared_length_writes_nothing()
    {
        var (server, store, bucket) = await BucketAsync();

        var small = await Assert.ThrowsAsync<StorageException>(() =>
            store.PutAsync(new PutRequest(bucket, "short.bin") { Length = 100 }, TestStreams.NonSeekable(new byte[50]), null, Ct));
        Assert.Contains("ended after 50 bytes", small.Message, StringComparison.Ordinal);

        var large = await Assert.ThrowsAsync<StorageException>(() =>
            store.PutAsync(new PutRequest(bucket, "short-large.bin") { Length = 20 * MiB }, TestStreams.NonSeekable(new byte[18 * MiB]), null, Ct));
        Assert.Contains("ended after", large.Message, StringComparison.Ordinal);

        Assert.Empty(await PendingUploadsAsync(server, bucket));
        Assert.Empty((await store.ListAsync(new ListRequest(bucket), Ct)).Objects);
    }

    [Fact]
    public async Task Stream_longer_than_its_declared_length_writes_nothing()
    {
        var (server, store, bucket) = await BucketAsync();

        var small = await Assert.ThrowsAsync<StorageException>(() =>
            store.PutAsync(new PutRequest(bucket, "long.bin") { Length = 10 }, TestStreams.NonSeekable(new byte[20]), null, Ct));
        Assert.Contains("more bytes than its declared length of 10", small.Message, StringComparison.Ordinal);

        var large = await Assert.ThrowsAsync<StorageException>(() =>
            store.PutAsync(new PutRequest(bucket, "long-large.bin") { Length = 9 * MiB }, TestStreams.NonSeekable(new byte[10 * MiB]), null, Ct));
        Assert.Contains("more bytes than its declared length", large.Message, StringComparison.Ordinal);

        Assert.Empty(await PendingUploadsAsync(server, bucket));
        Assert.Empty((await store.ListAsync(new ListRequest(bucket), Ct)).Objects);
    }

    [Fact]
    public async Task Overwrite_false_refuses_an_existing_key_and_keeps_its_bytes()
    {
        var (_, store, bucket) = await BucketAsync();
        await store.PutBytesAsync(bucket, "keep.txt", "original"u8.ToArray());

        var ex = await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutBytesAsync(bucket, "keep.txt", "new"u8.ToArray(), overwrite: false));
        Assert.Equal(new ObjectRef(bucket, "keep.txt"), ex.Object);
        await Assert.ThrowsAsync<ObjectExistsException>(() =>
            store.PutAsync(new PutRequest(bucket, "keep.txt") { Overwrite = false }, TestStreams.NonSeekable(TestStreams.Bytes(9 * MiB)), null, Ct));

        Assert.Equal("original"u8.ToArray(), await store.ReadAllAsync(new ObjectRef(bucket, "keep.txt")));
        var fresh = await store.PutBytesAsync(bucket, "fresh.txt", "x"u8.ToArray(), overwrite: false);
        Assert.Equal(1, fresh.Size);
    }

    [Fact]
    public async Task Put_to_a_missing_bucket_says_the_bucket_does_not_exist()
    {
        var (server, store, _) = await BucketAsync();
        var missing = "missing-" + Guid.NewGuid().ToString("N")[..12];

        var small = await Assert.ThrowsAsync<BucketNotFoundException>(() => store.PutBytesAsync(missing, "k", [1]));
        Assert.Equal(missing, small.Bucket);
        await Assert.ThrowsAsync<BucketNotFoundException>(() =>
            store.PutAsync(new PutRequest(missing, "k") { Length = 9 * MiB }, TestStreams.NonSeekable(new byte[9 * MiB]), null, Ct));
        Assert.DoesNotContain(missing, (await server.Client.ListBucketsAsync(Ct)).Buckets?.Select(b => b.BucketName) ?? []);
    }

    [Fact]
    public void Options_below_S3_limits_are_refused_with_the_limit_in_the_message()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new S3ObjectStore(new S3StoreOptions { PartSize = MiB }));
        Assert.Contains("5 MiB", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new S3ObjectStore(new S3StoreOptions { Concurrency = 0 }));
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(new S3StoreOptions { EndpointUrl = "ftp://x" }));
    }
}
