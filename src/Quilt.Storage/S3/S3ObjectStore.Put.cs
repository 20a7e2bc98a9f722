using System.Buffers;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using static Quilt.Storage.S3.S3ObjectNames;

namespace Quilt.Storage.S3;

// Uploads and multipart copies: parts in parallel under a semaphore, the first failure cancels the rest,
// and an unfinished multipart upload is always aborted so that nothing half-written remains.
public sealed partial class S3ObjectStore
{
    public async Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(content);
        CheckBucket(request.Bucket);
        CheckKey(request.Key);
        S3Metadata.Check(request.Metadata);
        if (request.Length is < 0)
            throw new ArgumentOutOfRangeException(nameof(request), request.Length, "The content length cannot be negative.");
        var target = new ObjectRef(request.Bucket, request.Key);
        var length = request.Length ?? (content.CanSeek ? content.Length - content.Position : null);

        // Fail before sending any bytes; the write itself also carries If-None-Match for servers that honour it.
        if (!request.Overwrite && await HeadOrNullAsync(target, cancellationToken) is not null)
            throw new ObjectExistsException(target);

        if (length is { } known && (known < _options.MultipartThreshold || known == 0))
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)known);
            try
            {
                var count = await content.ReadAtLeastAsync(buffer.AsMemory(0, (int)known), (int)known, throwOnEndOfStream: false, cancellationToken);
                await UploadStreams.CheckLengthAsync(content, count, known, cancellationToken);
                return await PutSingleAsync(request, buffer, count, progress, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (length is null)
        {
            // Unknown length: the first part decides. A stream that ends within it and below the threshold is one PUT.
            var first = ArrayPool<byte>.Shared.Rent((int)_options.PartSize);
            var handedOver = false;
            try
            {
                var count = await content.ReadAtLeastAsync(first.AsMemory(0, (int)_options.PartSize), (int)_options.PartSize, throwOnEndOfStream: false, cancellationToken);
                if (count < _options.PartSize && (count < _options.MultipartThreshold || count == 0))
                    return await PutSingleAsync(request, first, count, progress, cancellationToken);
                handedOver = true;
                return await PutMultipartAsync(request, content, null, _options.PartSize, (first, count), progress, cancellationToken);
            }
            finally
            {
                if (!handedOver)
                    ArrayPool<byte>.Shared.Return(first);
            }
        }

        var size = length.Value;
        var partSize = MultipartPlan.PartSizeFor(size, _options.PartSize);
        if (partSize > Array.MaxLength)
            throw new StorageException($"{target} would be {size} bytes, more than S3 can hold in one object (5 TiB).");
        return await PutMultipartAsync(request, content, size, partSize, null, progress, cancellationToken);
    }

    private async Task<PutResult> PutSingleAsync(PutRequest request, byte[] buffer, int count, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var target = new ObjectRef(request.Bucket, request.Key);
        using var body = new MemoryStream(buffer, 0, count, writable: false);
        var put = new PutObjectRequest
        {
            BucketName = request.Bucket,
            Key = request.Key,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = request.ContentType,
            IfNoneMatch = request.Overwrite ? null : "*",
        };
        S3Metadata.AddTo(put.Metadata, request.Metadata);
        PutObjectResponse response;
        try
        {
            response = await Client.PutObjectAsync(put, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (!request.Overwrite && ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new ObjectExistsException(target);
        }
        catch (Exception ex) when (S3Errors.Map(ex, "write", request.Bucket, target, Endpoint) is { } mapped)
        {
            throw mapped;
        }
        progress?.Report(count);
        return new PutResult(request.Bucket, request.Key, count, Unquote(response.ETag), NullIfEmpty(response.VersionId));
    }

    /// <summary>
    /// Reads parts one after another from <paramref name="content"/> and uploads up to Concurrency of them at once.
    /// <paramref name="first"/> is a part already read (it is returned to the pool here).
    /// </summary>
    private async Task<PutResult> PutMultipartAsync(
        PutRequest request, Stream content, long? length, long partSize, (byte[] Buffer, int Count)? first,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var target = new ObjectRef(request.Bucket, request.Key);
        var initiate = new InitiateMultipartUploadRequest { BucketName = request.Bucket, Key = request.Key, ContentType = request.ContentType };
        S3Metadata.AddTo(initiate.Metadata, request.Metadata);
        var wording = new MultipartWording("start an upload to", "write",
            $"Uploading {target} was cancelled; the partial upload was aborted.", $"Uploading {target} failed");
        try
        {
            return await WriteInPartsAsync(target, initiate, request.Overwrite, wording, async (uploadId, parts) =>
            {
                long total = 0;
                for (var partNumber = 1; ; partNumber++)
                {
                    byte[] buffer;
                    int count;
                    if (partNumber == 1 && first is { } f)
                    {
                        (buffer, count) = f;
                        first = null;
                        await parts.WaitForSlotAsync(buffer);
                    }
                    else
                    {
                        buffer = ArrayPool<byte>.Shared.Rent((int)partSize);
                        await parts.WaitForSlotAsync(buffer);
                        try
                        {
                            count = await content.ReadAtLeastAsync(buffer.AsMemory(0, (int)partSize), (int)partSize, throwOnEndOfStream: false, parts.Token);
                        }
                        catch
                        {
                            parts.ReleaseUnused(buffer);
                            throw;
                        }
                    }

                    if (count == 0 && partNumber > 1)
                    {
                        parts.ReleaseUnused(buffer);
                        break;
                    }
                    if (partNumber > MultipartPlan.MaxParts)
                    {
                        parts.ReleaseUnused(buffer);
                        throw new StorageException(
                            $"Uploading {target}: the stream is longer than {MultipartPlan.MaxParts} parts of {partSize} bytes. " +
                            "Give the upload its length, or a larger part size.");
                    }
                    total += count;
                    if (length is { } declared && total > declared)
                    {
                        parts.ReleaseUnused(buffer);
                        throw new StorageException(
                            $"Uploading {target}: the stream has more bytes than its declared length of {declared}. Nothing was written.");
                    }

                    var number = partNumber;
                    parts.Start(buffer, async token =>
                    {
                        using var body = new MemoryStream(buffer, 0, count, writable: false);
                        var response = await Client.UploadPartAsync(new UploadPartRequest
                        {
                            BucketName = request.Bucket,
                            Key = request.Key,
                            UploadId = uploadId,
                            PartNumber = number,
                            PartSize = count,
                            InputStream = body,
                        }, token);
                        progress?.Report(parts.AddDone(count));
                        return new PartETag(number, response.ETag);
                    });

                    if (count < partSize || (length is { } l && total == l))
                        break;
                }

                if (length is { } expected)
                    await UploadStreams.CheckLengthAsync(content, total, expected, parts.Token);
                return total;
            }, cancellationToken);
        }
        finally
        {
            // A first part that never reached the upload (it failed to start, or stopped before part 1).
            if (first is { } unused)
                ArrayPool<byte>.Shared.Return(unused.Buffer);
        }
    }

    private async Task<PutResult> CopyMultipartAsync(ObjectRef source, ObjectInfo info, ObjectRef destination, CancellationToken cancellationToken)
    {
        var partSize = MultipartPlan.PartSizeFor(info.Size, _options.PartSize);
        var initiate = new InitiateMultipartUploadRequest { BucketName = destination.Bucket, Key = destination.Key, ContentType = info.ContentType };
        S3Metadata.AddTo(initiate.Metadata, info.Metadata);
        var wording = new MultipartWording("start a copy to", "copy to",
            $"Copying to {destination} was cancelled; the partial copy was aborted.", $"Copying {source} to {destination} failed");
        return await WriteInPartsAsync(destination, initiate, overwrite: true, wording, async (uploadId, parts) =>
        {
            var partNumber = 0;
            for (long offset = 0; offset < info.Size; offset += partSize)
            {
                var number = ++partNumber;
                var firstByte = offset;
                var lastByte = Math.Min(offset + partSize, info.Size) - 1;
                await parts.WaitForSlotAsync(null);
                parts.Start(null, async token =>
                {
                    var response = await Client.CopyPartAsync(new CopyPartRequest
                    {
                        SourceBucket = source.Bucket,
                        SourceKey = source.Key,
                        SourceVersionId = NullIfEmpty(source.VersionId),
                        DestinationBucket = destination.Bucket,
                        DestinationKey = destination.Key,
                        UploadId = uploadId,
                        PartNumber = number,
                        FirstByte = firstByte,
                        LastByte = lastByte,
                    }, token);
                    return new PartETag(number, response.ETag);
                });
            }
            return info.Size;
        }, cancellationToken);
    }

    /// <summary>How one kind of multipart write speaks of itself in its errors.</summary>
    private sealed record MultipartWording(string Start, string Operation, string Cancelled, string Failed);

    /// <summary>
    /// The skeleton every multipart write shares: start the upload (recorded in the journal), let
    /// <paramref name="sendParts"/> start its parts (it returns the bytes they hold), complete the upload with their
    /// ETags; on any failure stop the other parts and abort, so nothing half-written remains.
    /// </summary>
    private async Task<PutResult> WriteInPartsAsync(
        ObjectRef target, InitiateMultipartUploadRequest initiate, bool overwrite, MultipartWording wording,
        Func<string, ParallelParts<PartETag>, Task<long>> sendParts, CancellationToken cancellationToken)
    {
        var uploadId = (await Call(wording.Start, target.Bucket, target,
            () => Client.InitiateMultipartUploadAsync(initiate, cancellationToken))).UploadId;
        var journaled = _journal?.Record(EndpointId, target.Bucket, target.Key, uploadId);
        using var parts = new ParallelParts<PartETag>(_options.Concurrency, cancellationToken);
        long total;
        CompleteMultipartUploadResponse done;
        try
        {
            total = await sendParts(uploadId, parts);
            var etags = await parts.WhenAllAsync();
            var complete = new CompleteMultipartUploadRequest
            {
                BucketName = target.Bucket,
                Key = target.Key,
                UploadId = uploadId,
                PartETags = [.. etags.OrderBy(e => e.PartNumber)],
                // Ceph (Pacific) ignores this here, unlike on PutObject: the HEAD check before the upload is then the only guard.
                IfNoneMatch = overwrite ? null : "*",
            };
            try
            {
                done = await Client.CompleteMultipartUploadAsync(complete, cancellationToken);
            }
            catch (AmazonS3Exception ex) when (!overwrite && ex.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                throw new ObjectExistsException(target);
            }
        }
        catch (Exception ex)
        {
            var failure = await parts.StopAsync(ex);
            await AbortAsync(target, uploadId, journaled);
            if (cancellationToken.IsCancellationRequested)
                throw new OperationCanceledException(wording.Cancelled, failure, cancellationToken);
            if (S3Errors.Map(failure, wording.Operation, target.Bucket, target, Endpoint) is { } mapped)
                throw mapped;
            if (ReferenceEquals(failure, ex))
                throw;
            throw new StorageException($"{wording.Failed}: {failure.Message}", failure);
        }
        MultipartJournal.Remove(journaled);
        return await WrittenAsync(target, total, done.ETag, done.VersionId, cancellationToken);
    }

    /// <summary>
    /// The result of a finished write. Some S3-compatible servers (Ceph) leave the ETag out of
    /// CompleteMultipartUpload's answer, or the version id out of CopyObject's; a HEAD fills them in, taken only
    /// when its ETag is the one written (a write that lands between the two leaves the version id unknown).
    /// </summary>
    private async Task<PutResult> WrittenAsync(ObjectRef written, long size, string? etag, string? versionId, CancellationToken cancellationToken)
    {
        etag = Unquote(etag);
        versionId = NullIfEmpty(versionId);
        if (etag is null || (versionId is null && await IsVersionedOrUnknownAsync(written.Bucket, cancellationToken)))
        {
            var head = await HeadOrNullAsync(written with { VersionId = versionId }, cancellationToken);
            if (head is not null && (etag is null || Unquote(head.ETag) == etag))
            {
                etag ??= Unquote(head.ETag);
                versionId ??= NullIfEmpty(head.VersionId);
            }
        }
        return new PutResult(written.Bucket, written.Key, size, etag, versionId);
    }

    // Writers may lack s3:GetBucketVersioning; then the HEAD decides.
    private async Task<bool> IsVersionedOrUnknownAsync(string bucket, CancellationToken cancellationToken)
    {
        try
        {
            return await IsVersionedAsync(bucket, cancellationToken);
        }
        catch (AccessDeniedException)
        {
            return true;
        }
    }

    private async Task AbortAsync(ObjectRef target, string uploadId, string? journaled)
    {
        // Not the caller's token: a cancelled upload must still be cleaned up. Its own failure must not hide the first.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = target.Bucket,
                Key = target.Key,
                UploadId = uploadId,
            }, timeout.Token);
            MultipartJournal.Remove(journaled);
        }
        catch (Exception ex)
        {
            // Left in the journal for the next process (or quilt-mcp cleanup) to abort.
            if (journaled is not null)
                _journal?.MarkOrphaned(journaled);
            LogAbortFailed(_logger, target.ToString(), uploadId, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Aborting the multipart upload {UploadId} to {Target} failed; its parts stay billed until the next start aborts it, quilt-mcp cleanup, or a lifecycle rule (AbortIncompleteMultipartUpload)")]
    private static partial void LogAbortFailed(ILogger logger, string target, string uploadId, Exception exception);
}
