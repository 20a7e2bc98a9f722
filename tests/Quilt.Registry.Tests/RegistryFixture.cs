using System.Net;
using System.Text;
using Amazon.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway;
using Quilt.Gateway.Configuration;
using Quilt.Storage;
using Quilt.Testing;

[assembly: AssemblyFixture(typeof(Quilt.Registry.Tests.RegistryFixture))]

namespace Quilt.Registry.Tests;

/// <summary>
/// Two real gateways on 127.0.0.1 in front of the real S3 test server: one as quilt-gateway serves (with uploads) and
/// one configured as a stock Quilt registry (uploads.enabled = false: no generateUploadUrl in its schema). Tokens are
/// HS256 JWTs minted here with the gateways' shared secret, as the Quilt registry signs them.
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    public const string Issuer = "https://quilt.test";
    public const string Audience = "quilt-gateway";
    public const long WriterLimit = 64L * 1024 * 1024;

    private readonly TempDirectory _dir = new("quilt-registry-test");
    private readonly string _secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
    private readonly List<WebApplication> _apps = [];

    public S3TestServer S3 { get; private set; } = null!;
    public IAmazonS3 RawS3 => S3.Client;

    /// <summary>A versioned bucket: "reader" reads all of it, "writer" also writes it, "limited" reads only limited/.</summary>
    public string Data { get; private set; } = "";

    /// <summary>A versioned bucket of its own for workflows tests: its .quilt/workflows/config.yml would bind every package in <see cref="Data"/>.</summary>
    public string Workflows { get; private set; } = "";
    /// <summary>A bucket only "writer" may read and write, for promotions out of <see cref="Data"/>.</summary>
    public string Promoted { get; private set; } = "";
    public Uri Gateway { get; private set; } = null!;
    public Uri StockRegistry { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    public async ValueTask InitializeAsync()
    {
        S3 = await S3TestServer.GetAsync();
        Data = await S3.CreateBucketAsync(versioned: true);
        Workflows = await S3.CreateBucketAsync(versioned: true);
        Promoted = await S3.CreateBucketAsync(versioned: true);
        Gateway = await StartAsync("gateway.db", uploads: true);
        StockRegistry = await StartAsync("stock.db", uploads: false);
    }

    private async Task<Uri> StartAsync(string database, bool uploads)
    {
        var options = new GatewayOptions
        {
            Listen = "http://127.0.0.1:0",
            Jwt = new JwtOptions { Issuers = [Issuer], Audiences = [Audience], Hs256Secret = _secret },
            S3 = new S3Options { Endpoint = S3.EndpointUrl, Region = S3.Region },
            Audit = new AuditOptions { SqlitePath = _dir.Combine(database), SqliteDurable = false },
            Uploads = new UploadOptions { Enabled = uploads },
            Buckets = { [Data] = new BucketOptions { Title = "Registry test data" }, [Workflows] = new BucketOptions { Title = "Workflows test data" } },
        };
        options.Roles["reader"] = new RoleOptions { Grants = [new GrantOptions { Bucket = Data, Prefix = "", Read = true }] };
        options.Roles["writer"] = new RoleOptions
        {
            Grants =
            [
                new GrantOptions { Bucket = Data, Prefix = "", Read = true, Write = true, MaxUploadBytes = WriterLimit },
                new GrantOptions { Bucket = Workflows, Prefix = "", Read = true, Write = true, MaxUploadBytes = WriterLimit },
                new GrantOptions { Bucket = Promoted, Prefix = "", Read = true, Write = true, MaxUploadBytes = WriterLimit },
            ],
        };
        options.Roles["limited"] = new RoleOptions { Grants = [new GrantOptions { Bucket = Data, Prefix = "limited/", Read = true }] };
        var app = await GatewayHost.BuildAsync(options, logging => logging.ClearProviders());
        await app.StartAsync();
        _apps.Add(app);
        return new Uri(GatewayHost.Addresses(app).Single());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Http.Dispose();
        _dir.Dispose();
    }

    /// <summary>A valid HS256 token for a new subject holding <paramref name="role"/>.</summary>
    public string Token(string role, TimeSpan? lifetime = null) => Token(role, $"{role}-{Guid.NewGuid():N}"[..(role.Length + 13)], lifetime);

    /// <summary>A valid HS256 token for <paramref name="subject"/> holding <paramref name="role"/>.</summary>
    public string Token(string role, string subject, TimeSpan? lifetime = null) => Token([role], subject, lifetime);

    /// <summary>A valid HS256 token for <paramref name="subject"/> holding <paramref name="roles"/>, the first its default.</summary>
    public string Token(string[] roles, string subject, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var role = roles[0];
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["email"] = subject + "@example.test", ["roles"] = roles, ["role"] = role },
            IssuedAt = now.AddMinutes(-2),
            NotBefore = now.AddMinutes(-2),
            Expires = now + (lifetime ?? TimeSpan.FromHours(1)),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(_secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A store that acts as <paramref name="role"/> through the gateway (or the stock registry).</summary>
    public RegistryApiObjectStore Store(string role, bool stock = false, RegistryStoreOptions? options = null) =>
        StoreWithToken(Token(role), stock, options);

    public RegistryApiObjectStore StoreWithToken(string token, bool stock = false, RegistryStoreOptions? options = null) =>
        new(new RegistryApiClient(Http, stock ? StockRegistry : Gateway, new FixedRegistryToken(token)), options);

    /// <summary>A package registry in <paramref name="bucket"/> whose revisions are published by the registry's packageConstruct, as in registry mode.</summary>
    public static Quilt.Packages.PackageRegistry RegistryOf(RegistryApiObjectStore store, string bucket) =>
        new(store, bucket, new RegistryApiPublisher(store.Client));

    /// <summary>The actions the gateway (with uploads) audited for <paramref name="subject"/>, oldest first.</summary>
    public async Task<IReadOnlyList<string>> AuditedActionsAsync(string subject)
    {
        var store = (Quilt.Gateway.Data.IAuditStore)_apps[0].Services.GetService(typeof(Quilt.Gateway.Data.IAuditStore))!;
        var events = await store.ReadAsync(new Quilt.Gateway.Data.AuditQuery { Subject = subject, Limit = 1000 }, TestContext.Current.CancellationToken);
        return events.Select(e => e.Action).ToList();
    }

    public async Task<bool> ExistsAsync(string key)
    {
        try
        {
            await RawS3.GetObjectMetadataAsync(Data, key, TestContext.Current.CancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<byte[]> ReadRawAsync(string key, string? versionId = null)
    {
        using var response = await RawS3.GetObjectAsync(new Amazon.S3.Model.GetObjectRequest { BucketName = Data, Key = key, VersionId = versionId },
            TestContext.Current.CancellationToken);
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Writes an object with S3's own credentials (test setup, not through the registry); returns its version id.</summary>
    public async Task<string?> PutRawAsync(string key, byte[] content, string contentType = "application/octet-stream", Dictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream(content);
        var request = new Amazon.S3.Model.PutObjectRequest { BucketName = Data, Key = key, InputStream = stream, ContentType = contentType };
        foreach (var (name, value) in metadata ?? [])
            request.Metadata[name] = value;
        var response = await RawS3.PutObjectAsync(request, TestContext.Current.CancellationToken);
        return response.VersionId;
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, TestContext.Current.CancellationToken);
            return buffer.ToArray();
        }
    }

    public static ObjectRef Ref(string bucket, string key, string? version = null) => new(bucket, key, version);
}
