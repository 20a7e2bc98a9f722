using System.Collections.Concurrent;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Policy;
using Quilt.Storage;
using Quilt.Storage.S3;

namespace Quilt.Gateway.Storage;

/// <summary>
/// The gateway's S3 clients, one per Quilt role: the gateway's own credentials, temporary credentials of the IAM
/// role configured for that Quilt role (STS AssumeRole, renewed before they expire), or the static keys of the
/// role's own S3 user (Ceph, MinIO). Clients never see any of them, and none is logged or audited.
/// </summary>
public sealed class S3Access : IDisposable
{
    private readonly GatewayOptions _options;
    private readonly RolePolicy _policy;
    private readonly Lazy<AWSCredentials?> _baseCredentials;
    private readonly ConcurrentDictionary<string, Lazy<(AmazonS3Client Client, S3ObjectStore Store)>> _byRole = new(StringComparer.Ordinal);
    private readonly Lazy<(AmazonS3Client Client, S3ObjectStore Store)> _shared;

    public S3Access(GatewayOptions options, RolePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _policy = policy;
        _baseCredentials = new Lazy<AWSCredentials?>(ResolveBaseCredentials);
        _shared = new Lazy<(AmazonS3Client, S3ObjectStore)>(() => Create(null));
    }

    /// <summary>The endpoint presigned URLs point at, or null for AWS.</summary>
    public string? Endpoint => S3Clients.Endpoint(_options.S3.Endpoint);

    /// <summary>Whether presigned URLs use plain http (an http:// endpoint, as a loopback test server).</summary>
    public bool PresignHttp => Endpoint?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true;

    public IAmazonS3 ClientFor(string role) => Entry(role).Client;

    public IObjectStore StoreFor(string role) => Entry(role).Store;

    /// <summary>The store with the gateway's own credentials (no role's): what the search index is fed with.</summary>
    public IObjectStore GatewayStore => _shared.Value.Store;

    // Parts are sent by hand: the SDK's UploadPart wants a seekable stream, and a part is streamed, never buffered.
    private readonly HttpClient _partHttp = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
    {
        // A part takes as long as its client takes to send it; a client that stops cancels the request.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Sends one part to S3 UploadPart with a request built here alone (a presigned PUT for exactly this upload and
    /// part, Content-Length <paramref name="length"/>, and no other header: nothing a client sent reaches S3). Returns
    /// S3's ETag; throws <see cref="AmazonS3Exception"/> with S3's error code when S3 refuses.
    /// </summary>
    public async Task<string?> UploadPartAsync(string role, string bucket, string key, string uploadId, int partNumber, Stream content, long length,
        CancellationToken cancellationToken)
    {
        var url = await ClientFor(role).GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = bucket,
            Key = key,
            Verb = HttpVerb.PUT,
            UploadId = uploadId,
            PartNumber = partNumber,
            // S3 checks the expiry when the request starts; the body may take longer.
            Expires = DateTime.UtcNow.AddMinutes(15),
            Protocol = PresignHttp ? Protocol.HTTP : Protocol.HTTPS,
        }).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StreamContent(content, 1 << 16) };
        request.Content.Headers.ContentLength = length;
        // A body cannot be sent twice: no pooled connection that S3 may have closed meanwhile.
        request.Headers.ConnectionClose = true;
        using var response = await _partHttp.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return response.Headers.ETag?.Tag ?? (response.Headers.TryGetValues("ETag", out var raw) ? raw.FirstOrDefault() : null);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? code = null;
        try
        {
            code = System.Xml.Linq.XDocument.Parse(text).Root?.Element("Code")?.Value;
        }
        catch (System.Xml.XmlException)
        {
            // Not S3's XML: the status says enough.
        }
        code ??= response.StatusCode.ToString();
        throw new AmazonS3Exception($"S3 refused the part: {code}", ErrorType.Sender, code, null, response.StatusCode);
    }

    private (AmazonS3Client Client, S3ObjectStore Store) Entry(string role)
    {
        if (_options.Roles.TryGetValue(role, out var keys) && keys.HasOwnS3Keys())
            return _byRole.GetOrAdd(role, r => new Lazy<(AmazonS3Client, S3ObjectStore)>(() => Create(null, keys.S3AccessKeyId, ReadRoleSecret(r, keys)))).Value;
        var arn = _policy.Find(role)?.AssumeRoleArn;
        if (arn is null)
            return _shared.Value;
        return _byRole.GetOrAdd(role, r => new Lazy<(AmazonS3Client, S3ObjectStore)>(() => Create(arn))).Value;
    }

    /// <summary>The S3 secret of a role with keys of its own, from the setting or its file; the message never holds the secret.</summary>
    public static string ReadRoleSecret(string roleName, RoleOptions role)
    {
        ArgumentNullException.ThrowIfNull(role);
        if (!string.IsNullOrEmpty(role.S3SecretAccessKey))
            return role.S3SecretAccessKey;
        if (string.IsNullOrEmpty(role.S3SecretAccessKeyFile))
            throw new GatewayConfigurationException([$"roles.{roleName} has no S3 secret: set s3SecretAccessKeyFile or the environment variable."]);
        string secret;
        try
        {
            secret = File.ReadAllText(role.S3SecretAccessKeyFile).TrimEnd('\r', '\n');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GatewayConfigurationException([$"roles.{roleName}.s3SecretAccessKeyFile '{role.S3SecretAccessKeyFile}' cannot be read: {ex.Message}"]);
        }
        if (secret.Length == 0)
            throw new GatewayConfigurationException([$"roles.{roleName}.s3SecretAccessKeyFile '{role.S3SecretAccessKeyFile}' is empty: put the role's S3 secret key in it."]);
        return secret;
    }

    private (AmazonS3Client, S3ObjectStore) Create(string? assumeRoleArn, string? accessKeyId = null, string? secretAccessKey = null)
    {
        var region = S3Clients.FirstSet(_options.S3.Region, Environment.GetEnvironmentVariable("AWS_REGION"), Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"));
        var credentials = accessKeyId is not null ? new BasicAWSCredentials(accessKeyId, secretAccessKey) : _baseCredentials.Value;
        if (assumeRoleArn is not null)
            credentials = new AssumedRoleCredentials(credentials, assumeRoleArn, _options.S3, region);
        var client = S3Clients.Create(Endpoint, region, _options.S3.ForcePathStyle, credentials);
        return (client, new S3ObjectStore(client, new S3StoreOptions()));
    }

    private AWSCredentials? ResolveBaseCredentials()
    {
        var s3 = _options.S3;
        if (!string.IsNullOrEmpty(s3.AccessKeyId))
            return new BasicAWSCredentials(s3.AccessKeyId, s3.SecretAccessKey);
        if (!string.IsNullOrEmpty(s3.Profile))
        {
            try
            {
                return S3Clients.FromProfile(s3.Profile).Credentials;
            }
            catch (StorageException ex)
            {
                throw new GatewayConfigurationException([$"s3.profile: {ex.Message}"]);
            }
        }
        // The SDK's chain (environment, web identity, container or instance role), resolved by each client itself.
        return null;
    }

    public void Dispose()
    {
        _partHttp.Dispose();
        if (_shared.IsValueCreated)
            _shared.Value.Client.Dispose();
        foreach (var entry in _byRole.Values.Where(e => e.IsValueCreated))
            entry.Value.Client.Dispose();
    }

    /// <summary>Temporary credentials of one IAM role, assumed with the gateway's own and renewed before expiry.</summary>
    private sealed class AssumedRoleCredentials : RefreshingAWSCredentials
    {
        private static readonly TimeSpan Duration = TimeSpan.FromHours(1);
        private readonly AWSCredentials? _source;
        private readonly string _roleArn;
        private readonly S3Options _s3;
        private readonly string? _region;

        public AssumedRoleCredentials(AWSCredentials? source, string roleArn, S3Options s3, string? region)
        {
            _source = source;
            _roleArn = roleArn;
            _s3 = s3;
            _region = region;
            PreemptExpiryTime = TimeSpan.FromMinutes(5);
        }

        protected override CredentialsRefreshState GenerateNewCredentials() =>
            GenerateNewCredentialsAsync().GetAwaiter().GetResult();

        protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
        {
            var config = new AmazonSecurityTokenServiceConfig();
            if (_s3.StsEndpoint is not null)
            {
                config.ServiceURL = _s3.StsEndpoint;
                config.AuthenticationRegion = _region ?? "us-east-1";
            }
            else if (_region is not null)
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(_region);
            }
            var source = _source ?? await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync().ConfigureAwait(false);
            using var sts = new AmazonSecurityTokenServiceClient(source, config);
            var response = await sts.AssumeRoleAsync(new AssumeRoleRequest
            {
                RoleArn = _roleArn,
                RoleSessionName = "quilt-gateway",
                DurationSeconds = (int)Duration.TotalSeconds,
            }).ConfigureAwait(false);
            var c = response.Credentials;
            return new CredentialsRefreshState(new ImmutableCredentials(c.AccessKeyId, c.SecretAccessKey, c.SessionToken), c.Expiration ?? DateTime.UtcNow + Duration);
        }
    }
}
