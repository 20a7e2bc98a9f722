using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

public sealed record UploadUrl(string Url, IReadOnlyDictionary<string, string> Fields, DateTimeOffset Expires, long MaxBytes);

public sealed record MultipartPart(int PartNumber, string Url, long Size);

public sealed record MultipartUpload(string Id, string Bucket, string Key, long Size, long PartSize, IReadOnlyList<MultipartPart> Parts, DateTimeOffset Expires);

public sealed record CompletedPart(int PartNumber, string ETag);

public sealed record UploadedObject(string Bucket, string Key, string? VersionId, long Size, DateTimeOffset Modified, string? ETag);

/// <summary>A part PUT the gateway has checked and will stream to S3: exactly <see cref="Size"/> bytes for this part of this upload.</summary>
public sealed record PartUploadPlan(MultipartUploadRecord Upload, int PartNumber, long Size);

/// <summary>
/// Hands out upload rights for single keys: presigned POST policies (S3 enforces the key, the content type and the size)
/// and gateway-controlled multipart uploads. A multipart upload's parts go through the gateway itself (part URLs that
/// point here): it streams exactly each part's bytes to S3 UploadPart with its own request, so no client header (an
/// added x-amz-copy-source, say) ever reaches S3, records what S3 stored, and completes only with those parts.
/// Every issue, part, completion and refusal is audited.
/// </summary>
public sealed class UploadService(GatewayOptions options, RolePolicy policy, S3Access s3, AuditLog audit, RefusalAudit refusals, IStateStore state, TimeProvider time)
{
    public const long MinPartSize = MultipartPlan.MinPartSize;
    public const long MaxPartSize = MultipartPlan.MaxPartSize;
    public const int MaxParts = MultipartPlan.MaxParts;

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

    /// <summary>
    /// Starts a multipart upload whose part URLs are <paramref name="partUrlBase"/>/uploads/{id}/parts/{n}?secret=…
    /// (the gateway's own address as the client reaches it).
    /// </summary>
    public async Task<MultipartUpload> CreateMultipartAsync(
        Caller caller, string bucket, string key, long size, string? contentType, long? partSize, string partUrlBase, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(partUrlBase);
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

        var id = NewId();
        // The part URLs' capability: only its hash is stored, so the database (or the audit trail) hands out no part URLs.
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var count = PartCount(size, part.Value);
        var parts = new MultipartPart[count];
        var urlBase = $"{partUrlBase.TrimEnd('/')}/uploads/{id}/parts/";
        for (var i = 0; i < count; i++)
            parts[i] = new MultipartPart(i + 1, $"{urlBase}{i + 1}?secret={secret}", PartLength(size, part.Value, i + 1));

        await state.CreateUploadAsync(new MultipartUploadRecord(id, caller.Subject, caller.Role, bucket, key, started.UploadId, size, part.Value, contentType, created, expires,
            HashSecret(secret)), cancellationToken).ConfigureAwait(false);
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
        var recorded = (await state.GetPartsAsync(upload.Id, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.PartNumber);
        var listed = await ListPartsAsync(caller, Action, client, upload, cancellationToken).ConfigureAwait(false);
        var problem = CheckParts(upload, parts, recorded, listed, decision.Grant!.MaxUploadBytes);
        if (problem is not null)
        {
            throw await DenyAsync(caller, Action, target, GatewayException.Invalid(problem + " Upload the missing or wrong parts again (same URLs) and complete again, or abort.", "parts"),
                cancellationToken).ConfigureAwait(false);
        }

        var complete = new CompleteMultipartUploadRequest { BucketName = upload.Bucket, Key = upload.Key, UploadId = upload.S3UploadId };
        // Exactly the parts the gateway streamed itself: their ETags are the MD5s of the bytes it sent.
        complete.AddPartETags(parts.OrderBy(p => p.PartNumber).Select(p => new PartETag(p.PartNumber, recorded[p.PartNumber].ETag)));
        var done = await CallS3Async(caller, Action, target, () => client.CompleteMultipartUploadAsync(complete, cancellationToken), cancellationToken).ConfigureAwait(false);
        await state.DeleteUploadAsync(id, cancellationToken).ConfigureAwait(false);
        var versionId = string.IsNullOrEmpty(done.VersionId) ? null : done.VersionId;
        await audit.AllowedAsync(caller, Action, target,
            SqlGatewayStore.Details(("upload", id), ("size", upload.Size), ("parts", parts.Count), ("version", versionId), ("etag", done.ETag)),
            cancellationToken).ConfigureAwait(false);
        return new UploadedObject(upload.Bucket, upload.Key, versionId, upload.Size, time.GetUtcNow(), done.ETag);
    }

    /// <summary>
    /// Checks a part PUT before any byte is read: the upload exists, the URL's secret is its own, it has not expired,
    /// the role may still write the key, the part number is one of its parts, and <paramref name="contentLength"/> is
    /// exactly that part's size. Refusals are audited and say nothing about anything but this upload.
    /// </summary>
    public async Task<PartUploadPlan> AuthorizePartAsync(string id, int partNumber, string? secret, long? contentLength, string? clientAddress,
        CancellationToken cancellationToken)
    {
        var upload = IsId(id) ? await state.GetUploadAsync(id, cancellationToken).ConfigureAwait(false) : null;
        if (upload?.PartSecretHash is null || string.IsNullOrEmpty(secret) || !SecretMatches(secret, upload.PartSecretHash))
        {
            // Unknown upload or wrong secret: the same answer, so a URL cannot be used to probe for uploads.
            var refusal = GatewayException.Denied(
                "This part URL is not valid: its upload was completed, aborted or has expired, or the URL was altered. Use the part URLs multipartUploadCreate returned.");
            // Anyone can send these: bounded and rate-limited per client like refused tokens, so they cannot flood the trail.
            var path = IsId(id) ? $"/uploads/{id}/parts/{partNumber}" : "/uploads/…";
            await refusals.RecordAsync(PartAction, null, refusal.Message, IPAddress.TryParse(clientAddress, out var ip) ? ip : null, path, cancellationToken).ConfigureAwait(false);
            throw refusal;
        }

        async Task<GatewayException> Refuse(GatewayException error)
        {
            await audit.WriteAsync(upload.Subject, upload.Role, PartAction, $"s3://{upload.Bucket}/{upload.Key}", AuditOutcome.Denied,
                SqlGatewayStore.Details(("reason", error.Message), ("upload", upload.Id), ("part", partNumber), ("contentLength", contentLength)), clientAddress,
                cancellationToken).ConfigureAwait(false);
            return error;
        }

        if (time.GetUtcNow() > upload.Expires)
            throw await Refuse(GatewayException.Denied($"Multipart upload {upload.Id} expired at {upload.Expires:O}; start a new one.")).ConfigureAwait(false);
        var decision = policy.CheckObject(upload.Role, upload.Bucket, upload.Key, AccessKind.Write);
        if (!decision.Allowed)
            throw await Refuse(GatewayException.Denied(decision.Reason!)).ConfigureAwait(false);
        var count = PartCount(upload.Size, upload.PartSize);
        if (partNumber < 1 || partNumber > count)
            throw await Refuse(GatewayException.Invalid($"This upload has parts 1 to {count}; there is no part {partNumber}.")).ConfigureAwait(false);
        var size = PartLength(upload.Size, upload.PartSize, partNumber);
        if (contentLength is null)
            throw await Refuse(GatewayException.Invalid($"Send part {partNumber} with Content-Length: {size} (a body of unknown length is not accepted).")).ConfigureAwait(false);
        if (contentLength != size)
        {
            throw await Refuse(GatewayException.Invalid(
                $"Part {partNumber} holds exactly {size} bytes, but the request declares {contentLength}: send exactly that slice of the file.")).ConfigureAwait(false);
        }
        return new PartUploadPlan(upload, partNumber, size);
    }

    /// <summary>
    /// Streams a checked part to S3 UploadPart with the gateway's own request (none of the client's headers), hashing
    /// it (MD5) on the way; records the part when the ETag S3 answers is that MD5 and returns it, quoted as S3 does.
    /// </summary>
    public async Task<string> StorePartAsync(PartUploadPlan plan, Stream body, string? clientAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(body);
        var upload = plan.Upload;
        var target = $"s3://{upload.Bucket}/{upload.Key}";
        Task Audit(string outcome, string? reason, string? etag) =>
            audit.WriteAsync(upload.Subject, upload.Role, PartAction, target, outcome,
                SqlGatewayStore.Details(("upload", upload.Id), ("part", plan.PartNumber), ("size", plan.Size), ("etag", etag), ("reason", reason)), clientAddress,
                CancellationToken.None);

        using var hashed = new PartBodyStream(body, plan.Size);
        string? etag;
        try
        {
            etag = await s3.UploadPartAsync(upload.Role, upload.Bucket, upload.Key, upload.S3UploadId, plan.PartNumber, hashed, plan.Size, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonS3Exception || (ex is HttpRequestException && !cancellationToken.IsCancellationRequested && hashed.BytesRead == plan.Size))
        {
            // A body that stopped short is the client's failure, handled by the caller; this is S3's.
            var message = ex is AmazonS3Exception s3Error
                ? $"S3 refused part {plan.PartNumber} of {target}: {s3Error.ErrorCode} ({(int)s3Error.StatusCode}). Try again; if it persists, tell an admin."
                : $"S3 could not be reached for part {plan.PartNumber} of {target}. Try again; if it persists, tell an admin.";
            await Audit(AuditOutcome.Failed, message, null).ConfigureAwait(false);
            throw new GatewayException("S3_ERROR", message);
        }
        catch (Exception ex) when (ex is not GatewayException && hashed.Md5Hex is null)
        {
            // The client stopped sending (or went away) before the part was whole; S3 got no complete part.
            var message = $"Part {plan.PartNumber} ended after {hashed.BytesRead} of its {plan.Size} bytes, so it was not stored; send it again.";
            await Audit(AuditOutcome.Failed, message, null).ConfigureAwait(false);
            throw GatewayException.Invalid(message);
        }
        if (hashed.Md5Hex is not { } sent)
            throw GatewayException.Invalid($"Part {plan.PartNumber} ended after {hashed.BytesRead} of its {plan.Size} bytes; send it again.");

        var stored = Unquote(etag);
        if (!string.Equals(stored, sent, StringComparison.OrdinalIgnoreCase))
        {
            // Not recorded, so the upload cannot complete with it. SSE-KMS and SSE-C buckets answer ETags that are not MD5s.
            var message = $"S3 answered part {plan.PartNumber} with ETag {stored}, not the MD5 of the bytes the gateway sent ({sent}); the part is not recorded. " +
                "Upload it again; if this persists the bucket's encryption (SSE-KMS or SSE-C) hides the MD5, which multipart uploads through this gateway need.";
            await Audit(AuditOutcome.Failed, message, stored).ConfigureAwait(false);
            throw new GatewayException("S3_ERROR", message);
        }
        if (!await state.RecordPartAsync(upload.Id, new UploadedPartRecord(plan.PartNumber, plan.Size, sent), cancellationToken).ConfigureAwait(false))
        {
            throw GatewayException.Missing(
                $"Multipart upload {upload.Id} was completed or aborted while part {plan.PartNumber} was being sent; the part is not part of anything.");
        }
        await Audit(AuditOutcome.Allowed, null, sent).ConfigureAwait(false);
        return $"\"{sent}\"";
    }

    private const string PartAction = "multipartUploadPart";

    private static bool IsId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    private static string HashSecret(string secret) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    private static bool SecretMatches(string secret, string storedHash) =>
        secret.Length <= 128 && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(HashSecret(secret)), System.Text.Encoding.ASCII.GetBytes(storedHash));

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

    /// <summary>
    /// Null when the given parts are exactly the ones the gateway streamed and recorded, S3 holds those, and they add up
    /// to the declared size; else what is wrong. Never names a size the caller did not send (S3's view of a part that
    /// did not come through the gateway stays unsaid).
    /// </summary>
    private static string? CheckParts(MultipartUploadRecord upload, IReadOnlyList<CompletedPart> given, Dictionary<int, UploadedPartRecord> recorded,
        Dictionary<int, PartDetail> listed, long maxBytes)
    {
        var count = PartCount(upload.Size, upload.PartSize);
        if (given.Count != count || given.Select(p => p.PartNumber).Distinct().Count() != count || given.Any(p => p.PartNumber < 1 || p.PartNumber > count))
            return $"Give each of the {count} parts (numbers 1 to {count}) exactly once.";
        long total = 0;
        foreach (var p in given.OrderBy(p => p.PartNumber))
        {
            if (!recorded.TryGetValue(p.PartNumber, out var sent))
                return $"Part {p.PartNumber} has not been uploaded (PUT it to its part URL).";
            if (!string.Equals(sent.ETag, Unquote(p.ETag), StringComparison.OrdinalIgnoreCase))
                return $"Part {p.PartNumber}'s ETag {p.ETag} is not the one its upload was answered with.";
            if (sent.Size != PartLength(upload.Size, upload.PartSize, p.PartNumber))
                return $"Part {p.PartNumber} must hold {PartLength(upload.Size, upload.PartSize, p.PartNumber)} bytes.";
            if (!listed.TryGetValue(p.PartNumber, out var stored) || stored.Size != sent.Size || !string.Equals(Unquote(stored.ETag), sent.ETag, StringComparison.OrdinalIgnoreCase))
                return $"Part {p.PartNumber} in S3 is not the one uploaded through its part URL.";
            total += sent.Size;
        }
        if (total != upload.Size || total > maxBytes)
            return $"The parts do not add up to the declared {upload.Size} bytes (limit {maxBytes}).";
        return null;
    }

    // Within MaxParts: every upload's part size was chosen with MultipartPlan.Fits.
    private static int PartCount(long size, long partSize) => (int)MultipartPlan.PartCount(size, partSize);

    private static long PartLength(long size, long partSize, int number) => MultipartPlan.PartLength(size, partSize, number);

    private static string Unquote(string? etag) => (etag ?? "").Trim('"');

    /// <summary>The part size for an upload: the client's when valid, else the default raised to fit 10,000 parts.</summary>
    public long? ChoosePartSize(long size, long? requested)
    {
        if (requested is { } r)
            return MultipartPlan.Fits(size, r) ? r : null;
        var part = MultipartPlan.PartSizeFor(size, options.Uploads.DefaultPartSize);
        // Round up to a whole MiB so parts are easy to reason about.
        part = (part + (1 << 20) - 1) / (1 << 20) * (1 << 20);
        return part <= MaxPartSize ? part : null;
    }

    private async Task<Grant> AuthorizeWriteAsync(Caller caller, string action, string bucket, string key, string? contentType, CancellationToken cancellationToken)
    {
        var target = $"s3://{bucket}/{key}";
        if (!ObjectKeys.IsValidBucketName(bucket))
            throw await DenyAsync(caller, action, target, GatewayException.Invalid($"'{bucket}' is not a valid bucket name.", "bucket"), cancellationToken).ConfigureAwait(false);
        if (ObjectKeys.Validate(key) is { } bad)
            throw await DenyAsync(caller, action, target, GatewayException.Invalid($"Key '{key}' cannot be uploaded: {bad}.", "key"), cancellationToken).ConfigureAwait(false);
        // Manifests and revision pointers: an upload there could replace someone's published revision or forge a pointer.
        if (ObjectKeys.IsRegistryKey(key))
        {
            throw await DenyAsync(caller, action, target, GatewayException.Denied(
                $"Keys under {ObjectKeys.RegistryPrefix} hold the package registry (manifests and revision pointers) and are written only by packageConstruct: " +
                "upload the files under another prefix, then publish them with packageConstruct.", "key"), cancellationToken).ConfigureAwait(false);
        }
        if (contentType is not null && (contentType.Length is 0 or > 255 || contentType.Any(char.IsControl)))
            throw await DenyAsync(caller, action, target, GatewayException.Invalid("contentType must be a MIME type such as text/csv (1-255 characters).", "contentType"), cancellationToken).ConfigureAwait(false);
        var decision = policy.CheckObject(caller, bucket, key, AccessKind.Write);
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
