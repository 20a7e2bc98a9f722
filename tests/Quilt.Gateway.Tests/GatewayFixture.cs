using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Testing;

[assembly: AssemblyFixture(typeof(Quilt.Gateway.Tests.GatewayFixture))]

namespace Quilt.Gateway.Tests;

/// <summary>
/// One gateway per test process, on 127.0.0.1 (port chosen by the OS), in front of the real S3 test server, with an
/// HS256 secret and a JWKS (RS256, ES256), SQLite audit in a scratch folder, and every log line captured.
/// Tests use their own subjects so role switches do not interfere.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const long UploaderLimit = 64 * 1024;
    public const long BulkLimit = 12L * 1024 * 1024;

    /// <summary>A users.* entry keyed by subject (roles: publisher).</summary>
    public const string KnownSubject = "users-entry-subject";

    /// <summary>A users.* entry keyed by e-mail (roles: publisher, admin).</summary>
    public const string KnownEmail = "alice@users-entry.test";

    private readonly TempDirectory _dir = new("quilt-gateway-test");
    private WebApplication? _app;

    public Tokens Tokens { get; } = new();
    public LogCapture Logs { get; } = new();
    public S3TestServer S3 { get; private set; } = null!;
    public IAmazonS3 RawS3 => S3.Client;
    public string Data { get; private set; } = "";
    public string Other { get; private set; } = "";
    public GatewayOptions Options { get; private set; } = null!;
    public Uri BaseUrl { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public string Directory => _dir.Path;

    public async ValueTask InitializeAsync()
    {
        S3 = await S3TestServer.GetAsync();
        Data = await S3.CreateBucketAsync(versioned: true);
        Other = await S3.CreateBucketAsync();
        var jwks = _dir.Combine("jwks.json");
        await File.WriteAllTextAsync(jwks, Tokens.Jwks());
        Options = CreateOptions(jwks, _dir.Combine("gateway.db"));
        _app = await GatewayHost.BuildAsync(Options, logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(Logs);
        });
        await _app.StartAsync();
        BaseUrl = new Uri(GatewayHost.Addresses(_app).Single());
    }

    public GatewayOptions CreateOptions(string jwksFile, string sqlitePath)
    {
        var options = new GatewayOptions
        {
            Listen = "http://127.0.0.1:0",
            Jwt = new JwtOptions { Issuers = [Tokens.Issuer], Audiences = [Tokens.Audience], Hs256Secret = Tokens.Secret, JwksFile = jwksFile },
            S3 = new S3Options { Endpoint = S3.EndpointUrl, Region = S3.Region },
            Audit = new AuditOptions { SqlitePath = sqlitePath },
            Buckets = { [Data] = new BucketOptions { Title = "Test data", Description = "Where the tests write", Tags = ["test"] } },
        };
        options.Roles["reader"] = new RoleOptions { Grants = [new GrantOptions { Bucket = Data, Prefix = "", Read = true }] };
        options.Roles["uploader"] = new RoleOptions
        {
            Grants =
            [
                new GrantOptions { Bucket = Data, Prefix = "", Read = true },
                new GrantOptions { Bucket = Data, Prefix = "incoming/", Read = true, Write = true, MaxUploadBytes = UploaderLimit },
            ],
        };
        options.Roles["bulk"] = new RoleOptions
        {
            Grants = [new GrantOptions { Bucket = Data, Prefix = "big/", Read = true, Write = true, MaxUploadBytes = BulkLimit }],
        };
        options.Roles["publisher"] = new RoleOptions
        {
            Grants = [new GrantOptions { Bucket = Data, Prefix = "", Read = true, Write = true, MaxUploadBytes = 10L * 1024 * 1024 }],
        };
        options.Roles["outsider"] = new RoleOptions { Grants = [new GrantOptions { Bucket = Other, Prefix = "", Read = true, Write = true }] };
        // Roles by configuration for tokens without role claims: one user known by subject, one by (verified) e-mail.
        options.Users[KnownSubject] = new UserOptions { Roles = ["publisher"] };
        options.Users[KnownEmail] = new UserOptions { Roles = ["publisher"], Admin = true };
        // Every test here sends refused requests from 127.0.0.1; the refusal rate limit has tests of its own.
        options.Audit.RefusalsPerMinute = 1_000_000;
        return options;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Http.Dispose();
        Tokens.Dispose();
        _dir.Dispose();
    }

    /// <summary>Runs a GraphQL operation with a bearer token; returns the HTTP status and the JSON body.</summary>
    public async Task<(HttpStatusCode Status, JsonNode Body)> GraphQLAsync(string? token, string query, object? variables = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "/graphql"))
        {
            Content = JsonContent.Create(new { query, variables }),
        };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonNode.Parse(text) ?? new JsonObject());
    }

    /// <summary>Runs an operation that must succeed without GraphQL errors; returns "data".</summary>
    public async Task<JsonNode> DataAsync(string token, string query, object? variables = null)
    {
        var (status, body) = await GraphQLAsync(token, query, variables);
        Assert.True(status == HttpStatusCode.OK && body["errors"] is null,
            $"HTTP {(int)status}: {body.ToJsonString()}\n{string.Join("\n", Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).TakeLast(3))}");
        return body["data"]!;
    }

    /// <summary>The last error lines the gateway logged, for failure messages.</summary>
    public string RecentErrors() => string.Join("\n", Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).TakeLast(3));

    public async Task<HttpResponseMessage> GetAsync(string? token, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, path));
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        configure?.Invoke(request);
        return await Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Audit lines for a subject, oldest first.</summary>
    public Task<IReadOnlyList<AuditEvent>> AuditAsync(string subject) =>
        AuditStore.ReadAsync(new AuditQuery { Subject = subject, Limit = 10_000 }, TestContext.Current.CancellationToken);

    /// <summary>Every audit line, oldest first.</summary>
    public Task<IReadOnlyList<AuditEvent>> AllAuditAsync() =>
        AuditStore.ReadAsync(new AuditQuery { Limit = 10_000 }, TestContext.Current.CancellationToken);

    /// <summary>The running gateway's own audit store.</summary>
    public IAuditStore AuditStore => _app!.Services.GetRequiredService<IAuditStore>();

    /// <summary>The running gateway's shared state (uploads in progress and their parts, sessions, role choices).</summary>
    public IStateStore StateStore => _app!.Services.GetRequiredService<IStateStore>();

    /// <summary>POSTs a file to a presigned POST (fields first, then the file); returns S3's status and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> PostFileAsync(JsonNode uploadUrlResult, byte[] content, string? contentType = null,
        Action<Dictionary<string, string>>? tamper = null)
    {
        var fields = uploadUrlResult["fields"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
        tamper?.Invoke(fields);
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
            form.Add(new StringContent(value, Encoding.UTF8), name);
        var file = new ByteArrayContent(content);
        if (contentType is not null)
            file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        form.Add(file, "file", "upload.bin");
        using var response = await Http.PostAsync(new Uri(uploadUrlResult["uploadUrl"]!.GetValue<string>()), form, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async Task<bool> ExistsAsync(string bucket, string key)
    {
        try
        {
            await RawS3.GetObjectMetadataAsync(bucket, key, TestContext.Current.CancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<byte[]> ReadAsync(string bucket, string key)
    {
        using var response = await RawS3.GetObjectAsync(bucket, key, TestContext.Current.CancellationToken);
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        return buffer.ToArray();
    }

    public async Task PutAsync(string bucket, string key, byte[] content, string contentType = "application/octet-stream")
    {
        using var stream = new MemoryStream(content);
        await RawS3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = key, InputStream = stream, ContentType = contentType },
            TestContext.Current.CancellationToken);
    }

    public static string NewSubject(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}

/// <summary>Collects every log line (message, state values and exception text) of the gateway under test.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            owner.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{values}] {exception}");
        }
    }
}
