using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using static Quilt.Storage.S3.S3ObjectNames;

namespace Quilt.Storage.S3;

/// <summary>A multipart upload S3 holds that was neither completed nor aborted.</summary>
public sealed record IncompleteUpload(string Bucket, string Key, string UploadId, DateTimeOffset Initiated);

// Leftovers: multipart uploads that a killed process or an S3 outage left incomplete. Their parts stay stored (and billed)
// until the upload is aborted, by the journal's sweep, by quilt-mcp cleanup, or by a bucket lifecycle rule.
public sealed partial class S3ObjectStore
{
    /// <summary>Which S3 this store talks to, as the upload journal records it: the endpoint URL, or AWS and the region.</summary>
    public string EndpointId => Client.Config.ServiceURL is { Length: > 0 } url
        ? url.TrimEnd('/')
        : "aws:" + (Client.Config.RegionEndpoint?.SystemName ?? "default");

    private Task<IReadOnlyList<JournaledUpload>>? _startupSweep;

    private MultipartJournal? StartJournal(S3StoreOptions options)
    {
        if (options.UploadJournalFolder is not { } folder)
            return null;
        var journal = new MultipartJournal(folder);
        // In the background: start-up must not wait on S3, and a store that is never used still cleans up after a killed one.
        _startupSweep = Task.Run(async () =>
        {
            try
            {
                return await AbortAbandonedUploadsAsync(journal, CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogSweepFailed(_logger, ex);
                return (IReadOnlyList<JournaledUpload>)[];
            }
        });
        return journal;
    }

    /// <summary>
    /// Aborts the uploads to this endpoint that the journal records for processes that are gone (or whose abort failed),
    /// and forgets them. Returns those aborted (or found gone already) since this store opened, the background sweep's
    /// included. Uploads S3 still refuses to abort stay recorded.
    /// </summary>
    public async Task<IReadOnlyList<JournaledUpload>> AbortAbandonedUploadsAsync(CancellationToken cancellationToken = default)
    {
        if (_journal is null)
            return [];
        var first = _startupSweep is { } sweep ? await sweep.WaitAsync(cancellationToken) : [];
        return [.. first, .. await AbortAbandonedUploadsAsync(_journal, cancellationToken)];
    }

    private async Task<IReadOnlyList<JournaledUpload>> AbortAbandonedUploadsAsync(MultipartJournal journal, CancellationToken cancellationToken)
    {
        var done = new List<JournaledUpload>();
        foreach (var upload in journal.Abandoned(EndpointId))
        {
            try
            {
                await AbortUploadAsync(upload.Bucket, upload.Key, upload.UploadId, cancellationToken);
            }
            catch (StorageException ex)
            {
                LogAbandonedAbortFailed(_logger, upload.UploadId, $"s3://{upload.Bucket}/{upload.Key}", ex);
                continue;
            }
            MultipartJournal.Remove(upload.File);
            done.Add(upload);
        }
        return done;
    }

    /// <summary>The incomplete multipart uploads under <paramref name="prefix"/> in <paramref name="bucket"/>, oldest first.</summary>
    public async Task<IReadOnlyList<IncompleteUpload>> ListIncompleteUploadsAsync(string bucket, string prefix, CancellationToken cancellationToken = default)
    {
        CheckBucket(bucket);
        ArgumentNullException.ThrowIfNull(prefix);
        var uploads = new List<IncompleteUpload>();
        string? keyMarker = null, uploadIdMarker = null;
        while (true)
        {
            var page = await Call("list the incomplete uploads of", bucket, null, () => Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest
            {
                BucketName = bucket,
                Prefix = prefix.Length == 0 ? null : prefix,
                KeyMarker = keyMarker,
                UploadIdMarker = uploadIdMarker,
            }, cancellationToken));
            foreach (var upload in page.MultipartUploads ?? [])
                uploads.Add(new IncompleteUpload(bucket, upload.Key, upload.UploadId, ToOffset(upload.Initiated)));
            if (page.IsTruncated != true || (string.IsNullOrEmpty(page.NextKeyMarker) && string.IsNullOrEmpty(page.NextUploadIdMarker)))
                break;
            (keyMarker, uploadIdMarker) = (page.NextKeyMarker, page.NextUploadIdMarker);
        }
        return uploads.OrderBy(u => u.Initiated).ThenBy(u => u.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>Aborts one multipart upload, freeing its parts. One that is gone already (completed or aborted) is not an error.</summary>
    public async Task AbortUploadAsync(string bucket, string key, string uploadId, CancellationToken cancellationToken = default)
    {
        CheckBucket(bucket);
        ArgumentException.ThrowIfNullOrEmpty(uploadId);
        try
        {
            await Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchUpload" || ex.StatusCode == HttpStatusCode.NotFound)
        {
            // Nothing left to abort.
        }
        catch (Exception ex) when (S3Errors.Map(ex, "abort an upload to", bucket, new ObjectRef(bucket, key), Endpoint) is { } mapped)
        {
            throw mapped;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aborting the abandoned multipart upload {UploadId} to {Target} failed; it stays in the upload journal for the next try")]
    private static partial void LogAbandonedAbortFailed(ILogger logger, string uploadId, string target, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping the upload journal for abandoned multipart uploads failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
