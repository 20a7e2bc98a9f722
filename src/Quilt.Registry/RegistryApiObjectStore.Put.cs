using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Quilt.Storage;
using Quilt.Storage.S3;
using static Quilt.Storage.S3.S3ObjectNames;

namespace Quilt.Registry;

// Uploads: one presigned POST (generateUploadUrl) for small objects; for large ones the registry's multipart upload,
// parts PUT in parallel to the part URLs it hands out (quilt-gateway's own, which stream to S3, or presigned S3 URLs;
// either way no token is sent and the answer's ETag is kept), completed by the registry, and aborted on any failure or
// cancellation. Refusals of either kind come as S3-style XML errors, read by S3RefusalAsync.
public sealed partial class RegistryApiObjectStore
{
    /// <summary>The registry's upload mutations; a registry without them (stock Quilt) cannot upload.</summary>
    public static readonly IReadOnlySet<string> UploadFields =
        new HashSet<string>(StringComparer.Ordinal) { "generateUploadUrl", "multipartUploadCreate", "multipartUploadComplete", "multipartUploadAbort" };

    public async Task<PutResult> PutAsync(PutRequest request, Stream content, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(content);
        var target = new ObjectRef(request.Bucket, request.Key);
        CheckRef(target);
        if (request.Length is < 0)
            throw new ArgumentOutOfRangeException(nameof(request), request.Length, "The content length cannot be negative.");
        if (request.Metadata is { Count: > 0 })
        {
            // The presigned POST's policy names every field S3 accepts; the registry signs no x-amz-meta-* fields.
            throw new StorageException(
                $"User metadata cannot be set on {target} through a registry: its upload URLs carry no metadata fields. Upload without metadata " +
                "(put metadata in the package entry instead).");
        }

        try
        {
            // Fail before sending any bytes. (The registry has no conditional write: a writer racing this one could still win.)
            if (!request.Overwrite && await HeadOrNullAsync(target, cancellationToken).ConfigureAwait(false) is not null)
                throw new ObjectExistsException(target);

            var length = request.Length ?? (content.CanSeek ? content.Length - content.Position : null);
            FileStream? spool = null;
            try
            {
                if (length is null)
                {
                    // Both upload kinds need the size first (the POST's Content-Length, the multipart plan): spool to disk, not memory.
                    spool = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                    await content.CopyToAsync(spool, cancellationToken).ConfigureAwait(false);
                    spool.Position = 0;
                    length = spool.Length;
                    content = spool;
                }
                return length.Value < _options.MultipartThreshold
                    ? await PostAsync(request, target, content, length.Value, progress, cancellationToken).ConfigureAwait(false)
                    : await PutMultipartAsync(request, target, content, length.Value, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (spool is not null)
                    await spool.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (RegistryFeatureMissingException ex) when (UploadFields.Contains(ex.Field))
        {
            throw new UploadNotSupportedException(target, _client.BaseUrl, ex);
        }
    }

    private async Task<PutResult> PostAsync(PutRequest request, ObjectRef target, Stream content, long length, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var operation = $"get an upload URL for {target}";
        var data = await _client.ExecuteAsync(RegistryOperations.GenerateUploadUrl,
            new JsonObject { ["bucket"] = target.Bucket, ["key"] = target.Key, ["contentType"] = request.ContentType },
            operation, cancellationToken).ConfigureAwait(false);
        var upload = data["generateUploadUrl"] as JsonObject ?? throw new RegistryException($"The registry answered nothing to {operation}.");
        var url = new Uri(upload["uploadUrl"]!.GetValue<string>());

        // S3's POST form: every signed field first, the file last.
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in upload["fields"]!.AsObject())
            form.Add(new StringContent(value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "", Encoding.UTF8), name);
        var fileName = target.Key[(target.Key.LastIndexOf('/') + 1)..];
        form.Add(new KnownLengthContent(content, length, request.ContentType, progress), "file", fileName.Length == 0 ? "file" : fileName);

        // No Authorization header: this goes to S3, which must never see the registry token.
        using var post = new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
        using var response = await SendToS3Async(post, target, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw await S3RefusalAsync(response, target, cancellationToken).ConfigureAwait(false);
        var etag = response.Headers.ETag?.Tag;
        var version = response.Headers.TryGetValues("x-amz-version-id", out var versions) ? versions.FirstOrDefault() : null;
        if (etag is null)
        {
            var info = await HeadOrNullAsync(target, cancellationToken).ConfigureAwait(false);
            etag = info?.ETag;
            version ??= info?.VersionId;
        }
        return new PutResult(target.Bucket, target.Key, length, Unquote(etag), string.IsNullOrEmpty(version) || version == "null" ? null : version);
    }

    private async Task<PutResult> PutMultipartAsync(PutRequest request, ObjectRef target, Stream content, long length, IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        var operation = $"start a multipart upload to {target}";
        var data = await _client.ExecuteAsync(RegistryOperations.MultipartUploadCreate, new JsonObject
        {
            ["bucket"] = target.Bucket,
            ["key"] = target.Key,
            ["size"] = length,
            ["contentType"] = request.ContentType,
            ["partSize"] = S3StoreOptions.PartSizeFor(length, _options.PartSize),
        }, operation, cancellationToken).ConfigureAwait(false);
        var upload = RegistryApiClient.Expect(data["multipartUploadCreate"], "MultipartUpload", operation);
        var id = upload["id"]!.GetValue<string>();
        var plan = upload["parts"]!.AsArray().OfType<JsonObject>()
            .Select(p => (Number: p["partNumber"]!.GetValue<int>(), Url: new Uri(p["uploadUrl"]!.GetValue<string>()), Size: (long)p["size"]!.GetValue<double>()))
            .OrderBy(p => p.Number).ToList();
        if (plan.Sum(p => p.Size) != length || plan.Any(p => p.Size is < 0 or > int.MaxValue))
            throw new RegistryException($"The registry planned parts for {target} that do not add up to its {length} bytes. Nothing was written.");

        using var parts = new ParallelParts<(int Number, string ETag)>(_options.Concurrency, cancellationToken);
        JsonObject done;
        try
        {
            long total = 0;
            foreach (var (number, url, size) in plan)
            {
                var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, size));
                await parts.WaitForSlotAsync(buffer).ConfigureAwait(false);
                int count;
                try
                {
                    count = await content.ReadAtLeastAsync(buffer.AsMemory(0, (int)size), (int)size, throwOnEndOfStream: false, parts.Token).ConfigureAwait(false);
                }
                catch
                {
                    parts.ReleaseUnused(buffer);
                    throw;
                }
                total += count;
                if (count < size)
                {
                    parts.ReleaseUnused(buffer);
                    await UploadStreams.CheckLengthAsync(content, total, length, parts.Token).ConfigureAwait(false);
                }
                parts.Start(buffer, async token =>
                {
                    using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(buffer, 0, count) };
                    using var response = await SendToS3Async(put, target, token).ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode)
                        throw await S3RefusalAsync(response, target, token).ConfigureAwait(false);
                    var etag = response.Headers.ETag?.Tag
                        ?? throw new RegistryException($"S3 answered part {number} of {target} without an ETag; the upload cannot be completed.");
                    progress?.Report(parts.AddDone(count));
                    return (number, etag);
                });
            }
            await UploadStreams.CheckLengthAsync(content, total, length, parts.Token).ConfigureAwait(false);
            var etags = await parts.WhenAllAsync().ConfigureAwait(false);

            var completeOperation = $"complete the upload to {target}";
            var partsInput = new JsonArray(etags.OrderBy(e => e.Number)
                .Select(e => (JsonNode)new JsonObject { ["partNumber"] = e.Number, ["etag"] = e.ETag }).ToArray());
            var completed = await _client.ExecuteAsync(RegistryOperations.MultipartUploadComplete,
                new JsonObject { ["id"] = id, ["parts"] = partsInput }, completeOperation, cancellationToken).ConfigureAwait(false);
            done = RegistryApiClient.Expect(completed["multipartUploadComplete"], "S3Object", completeOperation);
        }
        catch (Exception ex)
        {
            var failure = await parts.StopAsync(ex).ConfigureAwait(false);
            await AbortAsync(id).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
                throw new OperationCanceledException($"Uploading {target} was cancelled; the partial upload was aborted.", failure, cancellationToken);
            if (failure is StorageException)
                ExceptionDispatchInfo.Throw(failure);
            throw new RegistryException($"Uploading {target} failed: {failure.Message} The partial upload was aborted; nothing was written.", failure);
        }
        var etag = Unquote(Text(done["etag"]));
        var version = Text(done["version"]);
        if (etag is null)
        {
            // Some S3 servers (Ceph) leave the ETag out of a completed upload's answer; taken from a HEAD of that version.
            var info = await HeadOrNullAsync(target with { VersionId = version }, cancellationToken).ConfigureAwait(false);
            etag = info?.ETag;
        }
        return new PutResult(target.Bucket, target.Key, length, etag, version);
    }

    private async Task AbortAsync(string id)
    {
        // Not the caller's token: a cancelled upload must still be cleaned up; its own failure must not hide the first
        // (the registry also aborts uploads left past their expiry).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _client.ExecuteAsync(RegistryOperations.MultipartUploadAbort, new JsonObject { ["id"] = id }, "abort the multipart upload", timeout.Token)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StorageException or OperationCanceledException or HttpRequestException)
        {
            // Reported by the original failure; the registry sweeps the rest.
        }
    }

    private async Task<HttpResponseMessage> SendToS3Async(HttpRequestMessage request, ObjectRef target, CancellationToken cancellationToken)
    {
        // A body cannot be sent twice, and S3 servers close idle connections at will: a pooled connection that died
        // meanwhile would fail the upload. One connection per request (loopback or keep-alive savings are small next to a part).
        request.Headers.ConnectionClose = true;
        try
        {
            return await _client.Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"Could not reach S3 at {request.RequestUri?.GetLeftPart(UriPartial.Authority)} to upload {target}: {ex.Message}", ex);
        }
    }

    /// <summary>S3's XML error as a storage exception: what S3 refused and why.</summary>
    private static async Task<StorageException> S3RefusalAsync(HttpResponseMessage response, ObjectRef target, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? code = null, message = null;
        try
        {
            var xml = XDocument.Parse(text);
            code = xml.Root?.Element("Code")?.Value;
            message = xml.Root?.Element("Message")?.Value;
        }
        catch (System.Xml.XmlException)
        {
            // Not S3's XML: the status says enough.
        }
        var why = string.Join(": ", new[] { code, message }.Where(s => !string.IsNullOrEmpty(s)));
        if (why.Length == 0)
            why = $"HTTP {(int)response.StatusCode}";
        return code switch
        {
            "EntityTooLarge" => new StorageException($"S3 refused {target}: it is larger than your role may upload there ({why}). Nothing was written."),
            _ when response.StatusCode == HttpStatusCode.Forbidden =>
                new AccessDeniedException($"S3 refused the upload of {target} ({why}); the upload URL may have expired. Nothing was written."),
            _ => new StorageException(string.Create(CultureInfo.InvariantCulture, $"S3 refused the upload of {target} ({why}). Nothing was written.")),
        };
    }
}
