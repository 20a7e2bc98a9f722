using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.S3;
using static Quilt.Storage.S3.S3ObjectNames;

namespace Quilt.Registry;

/// <summary>
/// Objects through a Quilt registry with only a JWT: listing and info from the registry's GraphQL API, reads through
/// browsing sessions (GET /browse/{session}/{path}, with Range), links from browsingSessionLink, and uploads through
/// generateUploadUrl (a presigned POST) or, for large files, the registry's multipart upload. The client never holds
/// AWS credentials. There is no copy or delete: a registry offers neither.
/// </summary>
public sealed partial class RegistryApiObjectStore : IObjectStore
{
    private readonly RegistryApiClient _client;
    private readonly RegistryStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly BrowsingSessions _sessions;

    public RegistryApiObjectStore(RegistryApiClient client, RegistryStoreOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new RegistryStoreOptions();
        _options.Validate();
        _time = time ?? TimeProvider.System;
        _sessions = new BrowsingSessions(client, _options, _time);
    }

    public RegistryApiClient Client => _client;

    public string Scheme => "s3";

    public TimeSpan MaxDownloadUrlLifetime => _options.MaxLinkLifetime;

    /// <summary>The registry does not say; objects it reports carry their version ids when there are any.</summary>
    public Task<bool> IsVersionedAsync(string bucket, CancellationToken cancellationToken = default) => Task.FromResult(false);

    public async Task<IReadOnlyList<BucketInfo>> ListBucketsAsync(CancellationToken cancellationToken = default)
    {
        var data = await _client.ExecuteAsync(RegistryOperations.BucketConfigs, null, "list the buckets", cancellationToken).ConfigureAwait(false);
        return data["bucketConfigs"] is JsonArray buckets
            ? buckets.OfType<JsonObject>().Select(b => new BucketInfo(b["name"]!.GetValue<string>(), null)).ToList()
            : [];
    }

    public async Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckBucket(request.Bucket);
        var operation = $"list s3://{request.Bucket}/{request.Prefix}";
        var variables = new JsonObject
        {
            ["bucket"] = request.Bucket,
            ["prefix"] = request.Prefix,
            // Explicitly null: the field's default delimiter is "/".
            ["delimiter"] = request.Delimiter,
            ["first"] = request.PageSize,
            ["after"] = request.ContinuationToken,
        };
        var data = await _client.ExecuteAsync(RegistryOperations.BucketObjects, variables, operation, cancellationToken).ConfigureAwait(false);
        var page = RegistryApiClient.Expect(data["bucketObjects"], "BucketObjectList", operation, m => new BucketNotFoundException(request.Bucket));
        var objects = page["objects"]!.AsArray().OfType<JsonObject>().Select(o => new ObjectSummary(
            o["key"]!.GetValue<string>(), (long)o["size"]!.GetValue<double>(), Time(o["modified"]), Unquote(Text(o["etag"])))).ToList();
        var prefixes = page["prefixes"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        return new ObjectListing(objects, prefixes, Text(page["cursor"]));
    }

    public async Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default) =>
        await HeadOrNullAsync(obj, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(obj);

    private async Task<ObjectInfo?> HeadOrNullAsync(ObjectRef obj, CancellationToken cancellationToken)
    {
        CheckRef(obj);
        var operation = $"look up {obj}";
        var variables = new JsonObject { ["bucket"] = obj.Bucket, ["key"] = obj.Key, ["version"] = obj.VersionId };
        var data = await _client.ExecuteAsync(RegistryOperations.BucketObject, variables, operation, cancellationToken).ConfigureAwait(false);
        JsonObject o;
        try
        {
            o = RegistryApiClient.Expect(data["bucketObject"], "S3Object", operation, _ => new ObjectNotFoundException(obj));
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (o["metadata"] is JsonObject meta)
        {
            foreach (var (name, value) in meta)
                metadata[name] = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "";
        }
        return new ObjectInfo(obj.Bucket, obj.Key, (long)o["size"]!.GetValue<double>(), Time(o["modified"]), Unquote(Text(o["etag"])),
            Text(o["version"]), Text(o["contentType"]), metadata);
    }

    public async Task<Stream> OpenReadAsync(ObjectRef obj, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        CheckRef(obj);
        if (range is { } r && (r.Offset < 0 || r.Length < 0))
            throw new ArgumentOutOfRangeException(nameof(range), "A byte range starts at 0 or later and has no negative length.");
        if (range is { Length: 0 })
            return new MemoryStream([], writable: false);

        for (var attempt = 0; ; attempt++)
        {
            var session = await _sessions.ForObjectAsync(obj, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            var url = BrowseUrl(session, obj);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            _client.Authorize(request);
            if (range is { } part)
                request.Headers.Range = new RangeHeaderValue(part.Offset, part.Length is { } n ? part.Offset + n - 1 : null);

            HttpResponseMessage response;
            try
            {
                response = await _client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new RegistryException($"Could not reach the registry at {_client.BaseUrl} to read {obj}: {ex.Message}", ex);
            }

            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                return new ResponseStream(response, body);
            }
            using (response)
            {
                var message = await ErrorMessageAsync(response, cancellationToken).ConfigureAwait(false);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.RequestedRangeNotSatisfiable:
                        // A range that starts at or past the end reads nothing, as from S3.
                        return new MemoryStream([], writable: false);
                    case HttpStatusCode.NotFound when attempt == 0:
                    case HttpStatusCode.Forbidden when attempt == 0 && message.Contains("expired", StringComparison.Ordinal):
                        // The session may be gone on the registry's side: once more with a new one.
                        _sessions.Forget(session);
                        continue;
                    case HttpStatusCode.NotFound:
                        throw new ObjectNotFoundException(obj);
                    case HttpStatusCode.Unauthorized:
                        throw new RegistryAuthenticationException($"The registry at {_client.BaseUrl} did not accept the token ({message}). Get a new Quilt token and retry.");
                    case HttpStatusCode.Forbidden:
                        throw new AccessDeniedException($"The registry refused to read {obj}: {message}");
                    default:
                        throw new RegistryException($"The registry at {_client.BaseUrl} answered HTTP {(int)response.StatusCode} to reading {obj}: {message}");
                }
            }
        }
    }

    public async Task<Uri> GetDownloadUrlAsync(ObjectRef obj, TimeSpan expiresIn, CancellationToken cancellationToken = default)
    {
        CheckRef(obj);
        if (expiresIn <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(expiresIn), expiresIn, "A link must live at least one second.");
        if (expiresIn > _options.MaxLinkLifetime)
        {
            throw new StorageException(
                $"The registry hands out download links for at most {_options.MaxLinkLifetime.TotalSeconds:N0} seconds; ask for {_options.MaxLinkLifetime.TotalSeconds:N0} or less.");
        }
        var session = await _sessions.ForObjectAsync(obj, expiresIn, cancellationToken).ConfigureAwait(false);
        var operation = $"make a download link for {obj}";
        var variables = new JsonObject
        {
            ["id"] = session.Id,
            ["path"] = obj.Key[session.Folder.Length..],
            ["ttl"] = (int)Math.Ceiling(expiresIn.TotalSeconds),
        };
        var data = await _client.ExecuteAsync(RegistryOperations.BrowsingSessionLink, variables, operation, cancellationToken).ConfigureAwait(false);
        var link = RegistryApiClient.Expect(data["browsingSessionLink"], "BrowsingSessionLink", operation, _ => new ObjectNotFoundException(obj));
        var version = Text(link["object"]?["version"]);
        if (obj.VersionId is not null && version != obj.VersionId)
        {
            throw new StorageException(
                $"The registry links only the current version of {obj.Bucket}/{obj.Key}, which is not version {obj.VersionId}. Read the version with the text or fetch tools instead.");
        }
        return new Uri(link["url"]!.GetValue<string>());
    }

    public Task<PutResult> CopyAsync(ObjectRef source, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default) =>
        throw new StorageException(
            $"Copying {source} to s3://{destinationBucket}/{destinationKey} is not possible through a registry: it has no copy operation. " +
            "Read the object and upload it to the new key instead (bucket_objects_put), or copy it with your own AWS credentials (aws s3 cp).");

    public Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default) =>
        throw new StorageException(
            $"Deleting {obj} is not possible through a registry: it has no delete operation. Delete it in the Quilt catalog, " +
            "or with your own AWS credentials (aws s3 rm).");

    public string ToPhysicalKey(ObjectRef obj)
    {
        CheckRef(obj);
        return PhysicalKey.S3(obj.Bucket, obj.Key, obj.VersionId).ToString();
    }

    public ObjectRef? FromPhysicalKey(string physicalKey) => S3ObjectNames.FromPhysicalKey(physicalKey);

    private Uri BrowseUrl(BrowsingSession session, ObjectRef obj)
    {
        var path = string.Join('/', obj.Key[session.Folder.Length..].Split('/').Select(Uri.EscapeDataString));
        var url = $"{_client.BaseUrl}browse/{Uri.EscapeDataString(session.Id)}/{path}";
        if (obj.VersionId is not null)
            url += "?versionId=" + Uri.EscapeDataString(obj.VersionId);
        return new Uri(url);
    }

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (JsonNode.Parse(text)?["errors"]?[0]?["message"] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                return v.GetValue<string>();
        }
        catch (JsonException)
        {
            // Not the registry's JSON error: the status says enough.
        }
        return $"HTTP {(int)response.StatusCode}";
    }

    private static string? Text(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private static DateTimeOffset Time(JsonNode? node) =>
        Text(node) is { } s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : default;

    private static string? Unquote(string? etag) => string.IsNullOrEmpty(etag) ? null : etag.Trim('"');
}
