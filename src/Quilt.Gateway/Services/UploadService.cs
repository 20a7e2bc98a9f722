using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;

namespace Quilt.Gateway.Services;

public sealed record UploadUrl(string Url, IReadOnlyDictionary<string, string> Fields, DateTimeOffset Expires, long MaxBytes);

public sealed record MultipartPart(int PartNumber, string Url, long Size);

public sealed record MultipartUpload(string Id, string Bucket, string Key, long Size, long PartSize, IReadOnlyList<MultipartPart> Parts, DateTimeOffset Expires);

public sealed record CompletedPart(int PartNumber, string ETag);

public sealed record UploadedObject(string Bucket, string Key, string? VersionId, long Size, DateTimeOffset Modified, string? ETag);

/// <summary>
/// Hands out upload rights for single keys: presigned POST policies (S3 enforces the key, the content type and the size)
/// and gateway-controlled multipart uploads (presigned UploadPart URLs; the gateway checks the parts and completes).
/// Every issue, completion and refusal is audited.
/// </summary>
public sealed class UploadService(GatewayOptions options, RolePolicy policy, S3Access s3, AuditLog audit, IStateStore state, TimeProvider time)
{
    public const long MinPartSize = 5L * 1024 * 1024;
    public const long MaxPartSize = 5L * 1024 * 1024 * 1024;
    public const int MaxParts = 10_000;

    public async Task<UploadUrl> GenerateUploadUrlAsync(Caller caller, string bucket, string key, string? contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "generateUploadUrl";
        var target = $"s3://{bucket}/{key}";
        var grant = await AuthorizeWriteAsync(caller, Action, bucket, key, contentType, cancellationToken).ConfigureAwait(false);

        var expires = time.GetUtcNow().AddSeconds(options.Uploads.UrlTtlSeconds);
        var request = new CreatePresignedPostRequest
        {
            BucketName = bucket,
            Key = key,
            Expires = expires.UtcDateTime,
            Conditions =
            [
                S3PostCondition.ExactMatch("key", key),
                S3PostCondition.ContentLengthRange(0, grant.MaxUploadBytes),
            ],
        };
        if (contentType is not null)
        {
            request.Conditions.Add(S3PostCondition.ExactMatch("Content-Type", contentType));
            request.Fields ??= new Dictionary<string, string>(StringComparer.Ordinal);
            request.Fields["Content-Type"] = contentType;
        }
        var response = await CallS3Async(caller, Action, target, () => s3.ClientFor(caller.Role).CreatePresignedPostAsync(request), cancellationToken).ConfigureAwait(false);
        var url = PresignedUrl(response.Url);

        await audit.AllowedAsync(caller, Action, target,
            SqlGatewayStore.Details(("expires", expires), ("maxBytes", grant.MaxUploadBytes), ("contentType", contentType), ("grant", grant.ToString())),
            cancellationToken).ConfigureAwait(false);
        return new UploadUrl(url, new Dictionary<string, string>(response.Fields, StringComparer.Ordinal), expires, grant.MaxUploadBytes);
    }

    public async Task<MultipartUpload> CreateMultipartAsync(Caller caller, string bucket, string key, long size, string? contentType, long? partSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "multipartUploadCreate";
        var target = $"s3://{bucket}/{key}";
        var grant = await AuthorizeWriteAsync(caller, Action, bucket, key, contentType, cancellationToken).ConfigureAwait(false);
        if (size < 1)
            throw await DenyAsync(caller, Action, target, GatewayException.Invalid($"size {size} is not a positive number of bytes.", "size"), cancellationToken).ConfigureAwait(false);
        if (size > grant.MaxUploadBytes)
        {
            throw await DenyAsync(caller, Action, target, GatewayException.Denied(
                $"{size} bytes is more than role '{caller.Role}' may upload to {grant} ({grant.MaxUploadBytes} bytes at most).", "size"), cancellationToken).ConfigureAwait(false);
        }
        var part = ChoosePartSize(size, partSize);
        if (part is null)
        {
            throw await DenyAsync(caller, Action, target, GatewayException.Invalid(
                $"partSize {partSize} does not work for {size} bytes: use {MinPartSize} to {MaxPartSize} bytes and at most {MaxParts} parts, or leave it out.", "partSize"),
                cancellationToken).ConfigureAwait(false);
        }

        var client = s3.ClientFor(caller.Role);
        var created = time.GetUtcNow();
        var expires = created.AddSeconds(options.Uploads.UrlTtlSeconds);
        var initiate = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key };
        if (contentType is not null)
            initiate.ContentType = contentType;
        var started = await CallS3Async(caller, Action, target, () => client.InitiateMultipartUploadAsync(initiate, cancellationToken), cancellationToken).ConfigureAwait(false);

        var count = (int)((size + part.Value - 1) / part.Value);
        var parts = new MultipartPart[count];
        for (var i = 0; i < count; i++)
        {
            var url = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
            {
                BucketName = bucket,
                Key = key,
                Verb = HttpVerb.PUT,
                UploadId = started.UploadId,
                PartNumber = i + 1,
                Expires = expires.UtcDateTime,
                Protocol = s3.PresignHttp ? Protocol.HTTP : Protocol.HTTPS,
            }).ConfigureAwait(false);
            parts[i] = new MultipartPart(i + 1, url, Math.Min(part.Value, size - (long)i * part.Value));
        }

        var id = NewId();
        await state.CreateUploadAsync(new MultipartUploadRecord(id, caller.Subject, caller.Role, bucket, key, started.UploadId, size, part.Value, contentType, created, expires),
            cancellationToken).ConfigureAwait(false);
        await audit.AllowedAsync(caller, Action, target,
            SqlGatewayStore.Details(("upload", id), ("size", size), ("partSize", part.Value), ("parts", count), ("expires", expires),
                ("maxBytes", grant.MaxUploadBytes), ("contentType", contentType), ("grant", grant.ToString())),
            cancellationToken).ConfigureAwait(false);
        return new MultipartUpload(id, bucket, key, size, part.Value, parts, expires);
    }

    public async Task<UploadedObject> CompleteMultipartAsync(Caller caller, string id, IReadOnlyList<CompletedPart> parts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parts);
        const string Action = "multipartUploadComplete";
        var upload = await FindUploadAsync(caller, Action, id, cancellationToken).ConfigureAwait(false);
        var target = $"s3://{upload.Bucket}/{upload.Key}";
        // The role must still have the right now, not only when the upload began.
        var decision = policy.CheckObject(upload.Role, upload.Bucket, upload.Key, AccessKind.Write);
        if (!decision.Allowed || !caller.User.HasRole(upload.Role))
            throw await DenyAsync(caller, Action, target, GatewayException.Denied(decision.Reason ?? $"role '{upload.Role}' is no longer granted to you."), cancellationToken).ConfigureAwait(false);
        if (time.GetUtcNow() > upload.Expires)
            throw await DenyAsync(caller, Action, target, GatewayException.Denied($"multipart upload {id} expired at {upload.Expires:O}; start a new one."), cancellationToken).ConfigureAwait(false);

        var client = s3.ClientFor(upload.Role);
        var listed = await ListPartsAsync(caller, Action, client, upload, cancellationToken).ConfigureAwait(false);
        var problem = CheckParts(upload, parts, listed, decision.Grant!.MaxUploadBytes);
        if (problem is not null)
        {
            throw await DenyAsync(caller, Action, target, GatewayException.Invalid(problem + " Upload the missing or wrong parts again (same URLs) and complete again, or abort.", "parts"),
                cancellationToken).ConfigureAwait(false);
        }

        var complete = new CompleteMultipartUploadRequest { BucketName = upload.Bucket, Key = upload.Key, UploadId = upload.S3UploadId };
        complete.AddPartETags(parts.OrderBy(p => p.PartNumber).Select(p => new PartETag(p.PartNumber, listed[p.PartNumber].ETag)));
        var done = await CallS3Async(caller, Action, target, () => client.CompleteMultipartUploadAsync(complete, cancellationToken), cancellationToken).ConfigureAwait(false);
        await state.DeleteUploadAsync(id, cancellationToken).ConfigureAwait(false);
        var versionId = string.IsNullOrEmpty(done.VersionId) ? null : done.VersionId;
        await audit.AllowedAsync(caller, Action, target,
            SqlGatewayStore.Details(("upload", id), ("size", upload.Size), ("parts", parts.Count), ("version", versionId), ("etag", done.ETag)),
            cancellationToken).ConfigureAwait(false);
        return new UploadedObject(upload.Bucket, upload.Key, versionId, upload.Size, time.GetUtcNow(), done.ETag);
    }

    public async Task AbortMultipartAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "multipartUploadAbort";
        var upload = await FindUploadAsync(caller, Action, id, cancellationToken).ConfigureAwait(false);
        var target = $"s3://{upload.Bucket}/{upload.Key}";
        await AbortInS3Async(upload, cancellationToken).ConfigureAwait(false);
        await state.DeleteUploadAsync(id, cancellationToken).ConfigureAwait(false);
        await audit.AllowedAsync(caller, Action, target, SqlGatewayStore.Details(("upload", id)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Aborts uploads past their expiry (their part URLs no longer work); returns how many.</summary>
    public async Task<int> AbortExpiredAsync(CancellationToken cancellationToken)
    {
        var expired = await state.ExpiredUploadsAsync(time.GetUtcNow(), 100, cancellationToken).ConfigureAwait(false);
        foreach (var upload in expired)
        {
            await AbortInS3Async(upload, cancellationToken).ConfigureAwait(false);
            if (await state.DeleteUploadAsync(upload.Id, cancellationToken).ConfigureAwait(false))
            {
                await audit.WriteAsync(upload.Subject, upload.Role, "multipartUploadExpire", $"s3://{upload.Bucket}/{upload.Key}", AuditOutcome.Allowed,
                    SqlGatewayStore.Details(("upload", upload.Id), ("expired", upload.Expires)), null, cancellationToken).ConfigureAwait(false);
            }
        }
        return expired.Count;
    }

    private async Task AbortInS3Async(MultipartUploadRecord upload, CancellationToken cancellationToken)
    {
        try
        {
            await s3.ClientFor(upload.Role).AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = upload.Bucket,
                Key = upload.Key,
                UploadId = upload.S3UploadId,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone (completed or aborted elsewhere): nothing left to clean.
        }
    }

    private async Task<MultipartUploadRecord> FindUploadAsync(Caller caller, string action, string id, CancellationToken cancellationToken)
    {
        var upload = string.IsNullOrEmpty(id) ? null : await state.GetUploadAsync(id, cancellationToken).ConfigureAwait(false);
        // Another user's upload is reported exactly like a missing one.
        if (upload is null || upload.Subject != caller.Subject)
        {
            throw await DenyAsync(caller, action, null, GatewayException.Missing(
                $"No multipart upload '{id}' of yours is in progress (it was completed, aborted or has expired). Start one with multipartUploadCreate.", "id"),
                cancellationToken).ConfigureAwait(false);
        }
        return upload;
    }

    private async Task<Dictionary<int, PartDetail>> ListPartsAsync(Caller caller, string action, IAmazonS3 client, MultipartUploadRecord upload, CancellationToken cancellationToken)
    {
        var result = new Dictionary<int, PartDetail>();
        int? marker = null;
        while (true)
        {
            var request = new ListPartsRequest { BucketName = upload.Bucket, Key = upload.Key, UploadId = upload.S3UploadId, MaxParts = 1000 };
            if (marker is not null)
                request.PartNumberMarker = marker.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var page = await CallS3Async(caller, action, $"s3://{upload.Bucket}/{upload.Key}", () => client.ListPartsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var p in page.Parts ?? [])
                result[p.PartNumber ?? 0] = new PartDetail(p.PartNumber ?? 0, p.Size ?? 0, p.ETag);
            if (page.IsTruncated != true)
                break;
            marker = page.NextPartNumberMarker;
        }
        return result;
    }

    private sealed record PartDetail(int Number, long Size, string ETag);

    private static string? CheckParts(MultipartUploadRecord upload, IReadOnlyList<CompletedPart> given, Dictionary<int, PartDetail> listed, long maxBytes)
    {
        var count = (int)((upload.Size + upload.PartSize - 1) / upload.PartSize);
        if (given.Count != count || given.Select(p => p.PartNumber).Distinct().Count() != count || given.Any(p => p.PartNumber < 1 || p.PartNumber > count))
            return $"Give each of the {count} parts (numbers 1 to {count}) exactly once.";
        long total = 0;
        foreach (var p in given)
        {
            if (!listed.TryGetValue(p.PartNumber, out var stored))
                return $"Part {p.PartNumber} has not been uploaded.";
            if (!string.Equals(Unquote(stored.ETag), Unquote(p.ETag), StringComparison.Ordinal))
                return $"Part {p.PartNumber}'s ETag {p.ETag} is not the one S3 holds for it.";
            var expected = Math.Min(upload.PartSize, upload.Size - (long)(p.PartNumber - 1) * upload.PartSize);
            if (stored.Size != expected)
                return $"Part {p.PartNumber} holds {stored.Size} bytes, but must hold {expected}.";
            total += stored.Size;
        }
        if (total != upload.Size || total > maxBytes)
            return $"The parts add up to {total} bytes, not the declared {upload.Size} (limit {maxBytes}).";
        return null;
    }

    private static string Unquote(string? etag) => (etag ?? "").Trim('"');

    /// <summary>The part size for an upload: the client's when valid, else the default raised to fit 10,000 parts.</summary>
    public long? ChoosePartSize(long size, long? requested)
    {
        if (requested is { } r)
            return r is >= MinPartSize and <= MaxPartSize && (size + r - 1) / r <= MaxParts ? r : null;
        var part = Math.Max(options.Uploads.DefaultPartSize, (size + MaxParts - 1) / MaxParts);
        // Round up to a whole MiB so parts are easy to reason about.
        part = (part + (1 << 20) - 1) / (1 << 20) * (1 << 20);
        return part <= MaxPartSize ? part : null;
    }

    private async Task<Grant> AuthorizeWriteAsync(Caller caller, string action, string bucket, string key, string? contentType, CancellationToken cancellationToken)
    {
        var target = $"s3://{bucket}/{key}";
        if (!ObjectKeys.IsValidBucketName(bucket))
            throw await DenyAsync(caller, action, target, GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", "bucket"), cancellationToken).ConfigureAwait(false);
        var bad = ObjectKeys.Validate(key) ?? (key.EndsWith('/') ? "it ends with '/'" : null);
        if (bad is not null)
            throw await DenyAsync(caller, action, target, GatewayException.Invalid($"Key '{key}' cannot be uploaded: {bad}.", "key"), cancellationToken).ConfigureAwait(false);
        if (contentType is not null && (contentType.Length is 0 or > 255 || contentType.Any(char.IsControl)))
            throw await DenyAsync(caller, action, target, GatewayException.Invalid("contentType must be a MIME type such as text/csv (1-255 characters).", "contentType"), cancellationToken).ConfigureAwait(false);
        var decision = policy.CheckObject(caller.Role, bucket, key, AccessKind.Write);
        if (!decision.Allowed)
            throw await DenyAsync(caller, action, target, GatewayException.Denied(decision.Reason!), cancellationToken).ConfigureAwait(false);
        return decision.Grant!;
    }

    private async Task<GatewayException> DenyAsync(Caller caller, string action, string? target, GatewayException error, CancellationToken cancellationToken)
    {
        await audit.DeniedAsync(caller, action, target, error.Message, null, cancellationToken).ConfigureAwait(false);
        return error;
    }

    private async Task<T> CallS3Async<T>(Caller caller, string action, string target, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex)
        {
            var message = ex.StatusCode switch
            {
                HttpStatusCode.NotFound => $"S3 says {target} cannot be reached ({ex.ErrorCode}): check that the bucket exists.",
                HttpStatusCode.Forbidden => $"S3 refused the gateway's credentials for {target} ({ex.ErrorCode}): the gateway's S3 role lacks this right; tell an admin.",
                _ => $"S3 failed for {target}: {ex.ErrorCode} ({(int)ex.StatusCode}). Try again; if it persists, tell an admin.",
            };
            await audit.FailedAsync(caller, action, target, message, null, cancellationToken).ConfigureAwait(false);
            throw new GatewayException(ex.StatusCode == HttpStatusCode.NotFound ? GatewayException.NotFound : "S3_ERROR", message);
        }
        catch (AmazonServiceException ex)
        {
            var message = $"S3 could not be reached for {target}: {ex.Message}";
            await audit.FailedAsync(caller, action, target, message, null, cancellationToken).ConfigureAwait(false);
            throw new GatewayException("S3_ERROR", message);
        }
    }

    private string PresignedUrl(string url)
    {
        // The SDK presigns https even for an http endpoint (a loopback test server); the policy does not cover the scheme.
        if (s3.PresignHttp && url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return "http://" + url["https://".Length..];
        return url;
    }

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
