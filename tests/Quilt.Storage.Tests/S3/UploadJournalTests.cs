using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Quilt.Storage.S3;
using Quilt.Testing;
using static Quilt.Storage.Tests.S3.S3Test;

namespace Quilt.Storage.Tests.S3;

/// <summary>
/// Multipart uploads nobody will finish (the process was killed, or S3 failed the abort) are aborted by the next store
/// opened with the same upload journal, on the real S3 server; uploads of processes still running are left alone.
/// </summary>
public sealed class UploadJournalTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly TempDirectory _journal = new("quilt-upload-journal");

    public void Dispose() => _journal.Dispose();

    private static async Task<string> StartUploadAsync(S3TestServer server, string bucket, string key)
    {
        var upload = await server.Client.InitiateMultipartUploadAsync(bucket, key, Ct);
        using var part = new MemoryStream(TestStreams.Bytes(5 * MiB));
        await server.Client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = bucket, Key = key, UploadId = upload.UploadId, PartNumber = 1, InputStream = part, PartSize = part.Length,
        }, Ct);
        return upload.UploadId;
    }

    /// <summary>A journal entry as a process with <paramref name="pid"/> wrote it before it was killed.</summary>
    private string WriteEntry(string endpoint, string bucket, string key, string uploadId, int pid, DateTimeOffset? processStarted)
    {
        Directory.CreateDirectory(_journal.Path);
        var file = _journal.Combine($"{pid}-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, new JsonObject
        {
            ["endpoint"] = endpoint,
            ["bucket"] = bucket,
            ["key"] = key,
            ["uploadId"] = uploadId,
            ["started"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O", CultureInfo.InvariantCulture),
            ["pid"] = pid,
            ["processStarted"] = processStarted?.ToString("O", CultureInfo.InvariantCulture),
        }.ToJsonString());
        return file;
    }

    private static async Task<int> DeadProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync(Ct);
        return process.Id;
    }

    private static async Task WaitUntilGoneAsync(S3TestServer server, string bucket, string uploadId)
    {
        // The sweep runs in the background: poll for its effect (a deadline, not a timing assertion).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await PendingUploadsAsync(server, bucket)).Any(u => u.UploadId == uploadId))
        {
            Assert.True(DateTime.UtcNow < deadline, $"upload {uploadId} was not aborted by the journal sweep");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Opening_a_store_aborts_the_uploads_of_a_process_that_is_gone_and_keeps_those_of_a_running_one()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        string endpoint;
        using (var probe = server.CreateStore())
            endpoint = probe.EndpointId;
        var killed = await StartUploadAsync(server, bucket, "killed.bin");
        var killedEntry = WriteEntry(endpoint, bucket, "killed.bin", killed, await DeadProcessIdAsync(), DateTimeOffset.UtcNow.AddMinutes(-6));
        var running = await StartUploadAsync(server, bucket, "running.bin");
        using (var self = Process.GetCurrentProcess())
            WriteEntry(endpoint, bucket, "running.bin", running, Environment.ProcessId, self.StartTime.ToUniversalTime());
        var elsewhere = await StartUploadAsync(server, bucket, "elsewhere.bin");
        WriteEntry("http://another-endpoint.invalid", bucket, "elsewhere.bin", elsewhere, await DeadProcessIdAsync(), null);

        using var store = server.CreateStore(server.StoreOptions with { UploadJournalFolder = _journal.Path });
        await WaitUntilGoneAsync(server, bucket, killed);

        // Waits for the background sweep to finish (it forgets an entry after S3 confirmed the abort).
        Assert.Equal([killed], (await store.AbortAbandonedUploadsAsync(Ct)).Select(u => u.UploadId));
        Assert.False(File.Exists(killedEntry));
        // Still in progress, or for another S3: not this store's to abort.
        Assert.Equal(["elsewhere.bin", "running.bin"], (await PendingUploadsAsync(server, bucket)).Select(u => u.Key).Order(StringComparer.Ordinal));
        await server.Client.AbortMultipartUploadAsync(bucket, "running.bin", running, Ct);
        await server.Client.AbortMultipartUploadAsync(bucket, "elsewhere.bin", elsewhere, Ct);
    }

    [Fact]
    public async Task An_upload_whose_abort_failed_is_aborted_by_the_next_store()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var (client, faults) = FaultInjectingS3.Wrap(server.Client);
        faults.FailWhen = (method, _) => method.Name == nameof(server.Client.AbortMultipartUploadAsync);
        var options = new S3StoreOptions { PartSize = 5 * MiB, UploadJournalFolder = _journal.Path };
        using (var failing = new S3ObjectStore(client, options))
        {
            var stream = TestStreams.FailingAfter(TestStreams.Bytes(12 * MiB), 6 * MiB, new IOException("source vanished"));
            await Assert.ThrowsAsync<IOException>(() => failing.PutAsync(new PutRequest(bucket, "k"), stream, null, Ct));
        }
        var left = Assert.Single(await PendingUploadsAsync(server, bucket));
        Assert.Single(Directory.GetFiles(_journal.Path));

        // The same (still running) process, a new store: the orphaned upload is aborted all the same.
        using var store = new S3ObjectStore(server.Client, options);
        await WaitUntilGoneAsync(server, bucket, left.UploadId);
        // The entry is forgotten once the sweep has seen the abort succeed: wait for the sweep, then look.
        Assert.Equal([left.UploadId], (await store.AbortAbandonedUploadsAsync(Ct)).Select(u => u.UploadId));
        Assert.Empty(Directory.GetFiles(_journal.Path));
    }

    [Fact]
    public async Task A_finished_or_aborted_upload_leaves_no_journal_entry()
    {
        var (server, _, bucket) = await BucketAsync();
        using var store = server.CreateStore(new S3StoreOptions { PartSize = 5 * MiB, UploadJournalFolder = _journal.Path });
        await store.PutAsync(new PutRequest(bucket, "whole.bin"), TestStreams.NonSeekable(TestStreams.Bytes(11 * MiB)), null, Ct);
        var stream = TestStreams.FailingAfter(TestStreams.Bytes(12 * MiB), 6 * MiB, new IOException("source vanished"));
        await Assert.ThrowsAsync<IOException>(() => store.PutAsync(new PutRequest(bucket, "broken.bin"), stream, null, Ct));

        Assert.Empty(Directory.Exists(_journal.Path) ? Directory.GetFiles(_journal.Path) : []);
        Assert.Empty(await PendingUploadsAsync(server, bucket));
    }
}
