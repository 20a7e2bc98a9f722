using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;

namespace Quilt.Bench;

/// <summary>
/// Load on the gateway over loopback: N clients (default 50) each loop generateUploadUrl + a presigned POST of a small
/// random file for a while (QUILT_BENCH_GATEWAY_SECONDS; default 60 s as the issue asks, 10 s with QUILT_BENCH_QUICK=1), against the S3 server
/// that QUILT_TEST_S3_ENDPOINT names (scripts/s3-server.sh). Then every object is read back and hashed, and every
/// upload is looked up in the audit trail. Prints one markdown table.
/// </summary>
public static class GatewayBench
{
    public static async Task RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var endpoint = BenchRun.S3Endpoint;
        if (endpoint is null)
        {
            await output.WriteLineAsync("Gateway load: skipped, no S3 server. Start one and run again: eval \"$(bash scripts/s3-server.sh start /tmp/quilt-s3 7490)\"; export QUILT_TEST_S3_ENDPOINT=$AWS_ENDPOINT_URL_S3");
            return;
        }
        var seconds = Setting("QUILT_BENCH_GATEWAY_SECONDS", BenchRun.Quick ? 10 : 60);
        var clients = Setting("QUILT_BENCH_GATEWAY_CLIENTS", 50);
        var accessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "TESTKEY";
        var secretKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "TESTSECRET";
        var region = Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";

        using var s3 = new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = endpoint,
            AuthenticationRegion = region,
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        var bucket = "gwbench-" + Guid.NewGuid().ToString("N")[..12];
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });

        var dir = Path.Combine(Path.GetTempPath(), "quilt-gateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        var options = new GatewayOptions
        {
            Listen = "http://127.0.0.1:0",
            Jwt = new JwtOptions { Issuers = ["https://bench.test"], Audiences = ["quilt-gateway"], Hs256Secret = secret },
            S3 = new S3Options { Endpoint = endpoint, Region = region, AccessKeyId = accessKey, SecretAccessKey = secretKey },
            Audit = new AuditOptions { SqlitePath = Path.Combine(dir, "gateway.db") },
        };
        options.Roles["bench"] = new RoleOptions { Grants = [new GrantOptions { Bucket = bucket, Prefix = "uploads/", Read = true, Write = true, MaxUploadBytes = 1 << 20 }] };

        var app = await GatewayHost.BuildAsync(options, l => l.ClearProviders());
        try
        {
            await app.StartAsync();
            var baseUrl = new Uri(GatewayHost.Addresses(app).Single());
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { Timeout = TimeSpan.FromSeconds(60) };
            var uploaded = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
            var urlLatencies = new ConcurrentBag<double>();
            var postLatencies = new ConcurrentBag<double>();
            var errors = new ConcurrentBag<string>();
            var retries = new ConcurrentBag<string>();
            var deadline = Stopwatch.StartNew();
            var limit = TimeSpan.FromSeconds(seconds);

            await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                var token = Token(secret, $"bench-client-{c}");
                var n = 0;
                var stage = "";
                while (deadline.Elapsed < limit)
                {
                    var key = $"uploads/client-{c}/file-{n++:D6}.bin";
                    try
                    {
                        var content = RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(1024, 16 * 1024));
                        var sw = Stopwatch.StartNew();
                        stage = "generateUploadUrl";
                        var result = await UploadUrlAsync(http, baseUrl, token, bucket, key);
                        urlLatencies.Add(sw.Elapsed.TotalMilliseconds);
                        sw.Restart();
                        stage = "POST to S3";
                        try
                        {
                            await PostAsync(http, result, content);
                        }
                        catch (HttpRequestException ex) when (ex.StatusCode is null)
                        {
                            // The S3 server dropped the connection (no answer): retry once with the same signed form, as a
                            // careful client does; counted, and an error only if the retry fails too.
                            retries.Add($"{stage}: {ex.Message}" + (ex.GetBaseException() is { } root && root != ex ? $" ({root.Message})" : ""));
                            await PostAsync(http, result, content);
                        }
                        postLatencies.Add(sw.Elapsed.TotalMilliseconds);
                        uploaded[key] = SHA256.HashData(content);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
                    {
                        // Which step failed and the innermost cause (a reset connection, a timeout, an error answer).
                        errors.Add($"{stage}: {ex.Message}" + (ex.GetBaseException() is { } root && root != ex ? $" ({root.Message})" : ""));
                    }
                }
            }))).ConfigureAwait(false);
            var elapsed = deadline.Elapsed.TotalSeconds;

            // Every object whole and correct?
            var lost = 0;
            var corrupted = 0;
            await Parallel.ForEachAsync(uploaded, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (item, ct) =>
            {
                try
                {
                    using var response = await s3.GetObjectAsync(bucket, item.Key, ct);
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[16 * 1024];
                    int read;
                    while ((read = await response.ResponseStream.ReadAsync(buffer, ct)) > 0)
                        sha.AppendData(buffer, 0, read);
                    if (!sha.GetHashAndReset().AsSpan().SequenceEqual(item.Value))
                        Interlocked.Increment(ref corrupted);
                }
                catch (AmazonS3Exception)
                {
                    Interlocked.Increment(ref lost);
                }
            });

            // Every upload in the audit trail?
            await using var audit = new SqliteGatewayStore(options.Audit.SqlitePath);
            var audited = new HashSet<string>(StringComparer.Ordinal);
            long? after = null;
            while (true)
            {
                var page = await audit.ReadAsync(new AuditQuery { Action = "generateUploadUrl", AfterId = after, Limit = 10_000 });
                foreach (var e in page.Where(e => e.Outcome == AuditOutcome.Allowed && e.Target is not null))
                    audited.Add(e.Target!);
                if (page.Count < 10_000)
                    break;
                after = page[^1].Id;
            }
            var unaudited = uploaded.Keys.Count(k => !audited.Contains($"s3://{bucket}/{k}"));

            var urls = urlLatencies.Order().ToArray();
            var posts = postLatencies.Order().ToArray();
            await output.WriteLineAsync($"Gateway load: {clients} clients for {seconds} s on loopback, generateUploadUrl + presigned POST of 1-16 KiB files to the S3 server, SQLite audit.");
            await output.WriteLineAsync();
            await output.WriteLineAsync("| clients | seconds | uploads | uploads/s | errors | POSTs retried | lost | corrupted | not audited | generateUploadUrl p50 ms | p99 ms | max ms | POST p50 ms | POST p99 ms |");
            await output.WriteLineAsync("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"| {clients} | {elapsed:F1} | {uploaded.Count} | {uploaded.Count / elapsed:F0} | {errors.Count} | {retries.Count} | {lost} | {corrupted} | {unaudited} | {Percentile(urls, 0.50):F1} | {Percentile(urls, 0.99):F1} | {(urls.Length == 0 ? 0 : urls[^1]):F1} | {Percentile(posts, 0.50):F1} | {Percentile(posts, 0.99):F1} |"));
            if (!errors.IsEmpty || !retries.IsEmpty)
                await output.WriteLineAsync();
            foreach (var group in errors.GroupBy(e => e).OrderByDescending(g => g.Count()).Take(5))
                await output.WriteLineAsync($"Errors: {group.Count()} × {group.Key}");
            foreach (var group in retries.GroupBy(e => e).OrderByDescending(g => g.Count()).Take(5))
                await output.WriteLineAsync($"Retried: {group.Count()} × {group.Key}");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<JsonNode> UploadUrlAsync(HttpClient http, Uri baseUrl, string token, string bucket, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/graphql"))
        {
            Content = JsonContent.Create(new
            {
                query = "mutation($b: String!, $k: String!, $t: String) { generateUploadUrl(bucket: $b, key: $k, contentType: $t) { uploadUrl fields expires } }",
                variables = new { b = bucket, k = key, t = "application/octet-stream" },
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        return body?["data"]?["generateUploadUrl"] ?? throw new InvalidOperationException($"generateUploadUrl failed ({(int)response.StatusCode}): {body?.ToJsonString()}");
    }

    private static async Task PostAsync(HttpClient http, JsonNode result, byte[] content)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in result["fields"]!.AsObject())
            form.Add(new StringContent(value!.GetValue<string>(), Encoding.UTF8), name);
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "upload.bin");
        // One connection per upload, as quilt-mcp's registry mode sends them: the S3 server (civetweb) closes kept-alive
        // connections at will, and a form already sent on a dying connection cannot be sent again.
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(result["uploadUrl"]!.GetValue<string>())) { Content = form };
        request.Headers.ConnectionClose = true;
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST to S3 failed ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync()}");
    }

    private static string Token(string secret, string subject) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "https://bench.test",
        Audience = "quilt-gateway",
        Claims = new Dictionary<string, object> { ["sub"] = subject, ["roles"] = new[] { "bench" } },
        Expires = DateTime.UtcNow.AddHours(2),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
    });

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;
}
