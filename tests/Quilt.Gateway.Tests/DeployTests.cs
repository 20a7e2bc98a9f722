using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>What running the gateway in production needs: /readyz, `check --probe`, `token`, and JSON logs that stay quiet and keep secrets out.</summary>
public sealed class DeployTests(GatewayFixture gateway)
{
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A config file as an admin would write it, for the shared fixture's S3 server, keys and bucket.</summary>
    private string WriteConfig(TempDirectory dir, Action<JsonObject>? change = null)
    {
        var config = new JsonObject
        {
            ["listen"] = "http://127.0.0.1:0",
            ["jwt"] = new JsonObject
            {
                ["issuers"] = new JsonArray(Tokens.Issuer),
                ["audiences"] = new JsonArray(Tokens.Audience),
                ["hs256Secret"] = gateway.Tokens.Secret,
            },
            ["s3"] = new JsonObject { ["endpoint"] = gateway.S3.EndpointUrl, ["region"] = gateway.S3.Region },
            ["roles"] = new JsonObject
            {
                ["uploader"] = new JsonObject { ["grants"] = new JsonArray(new JsonObject { ["bucket"] = gateway.Data, ["prefix"] = "incoming/", ["read"] = true, ["write"] = true }) },
            },
            ["audit"] = new JsonObject { ["sqlitePath"] = "gateway.db" },
        };
        change?.Invoke(config);
        var path = dir.Combine("gateway.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static async Task<(int Exit, string Output, string Error)> RunCliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await GatewayCli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Readyz_answers_without_a_token_when_s3_and_the_database_answer()
    {
        using var response = await gateway.GetAsync(null, "/readyz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["s3"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["database"]!.GetValue<string>());
        // Not audited, and asking again is served from the short cache.
        using var again = await gateway.GetAsync(null, "/readyz");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.DoesNotContain(await gateway.AllAuditAsync(), e => e.Target?.Contains("readyz", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Readyz_answers_503_naming_s3_when_s3_does_not_answer_and_says_no_more()
    {
        var port = ClosedPort();
        await using var instance = await GatewayInstance.StartAsync(gateway, o => o.S3.Endpoint = $"http://127.0.0.1:{port}");
        using var response = await instance.SendAsync(HttpMethod.Get, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(text)!;
        Assert.Equal("not ready", body["status"]!.GetValue<string>());
        Assert.Equal("failed", body["checks"]!["s3"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["database"]!.GetValue<string>());
        // Anyone may ask: where S3 is and why it failed stay in the log.
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Data, text, StringComparison.Ordinal);
        // Liveness is another matter: the process is up.
        using var live = await instance.SendAsync(HttpMethod.Get, "/healthz");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, string Body)> ReadyzAsync(GatewayInstance instance)
    {
        using var response = await instance.SendAsync(HttpMethod.Get, "/readyz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static void AssertOnlyTheDatabaseFailed(string text)
    {
        var body = JsonNode.Parse(text)!;
        Assert.Equal("not ready", body["status"]!.GetValue<string>());
        Assert.Equal("failed", body["checks"]!["database"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["s3"]!.GetValue<string>());
    }

    [Fact]
    public async Task Readyz_answers_503_naming_the_database_while_postgresql_refuses_connections_and_200_when_it_is_back()
    {
        var ct = TestContext.Current.CancellationToken;
        const string password = "readyz-password-never-shown";
        var database = new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync(ct)) { Password = password };
        var clock = new ShiftedClock();
        var logs = new LogCapture();
        await using var instance = await GatewayInstance.StartAsync(gateway, o =>
        {
            o.Audit.Postgres = database.ConnectionString;
            o.Search.ReconcileAtStart = false;
        }, logs, clock);
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(instance)).Status);

        await PostgresServer.SetConnectionsAllowedAsync(database.ConnectionString, allowed: false, ct);
        try
        {
            clock.Offset += TimeSpan.FromSeconds(3); // past the 2 s an answer is kept
            var (status, text) = await ReadyzAsync(instance);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            AssertOnlyTheDatabaseFailed(text);
            // Anyone may ask: no connection string, host, port, database name or password in the answer ...
            foreach (var secret in new[] { password, database.Database!, database.Host!, database.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "Host=" })
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            // ... the log says why, still without the password.
            Assert.Contains(logs.Lines, l => l.Contains("Readiness: database postgresql", StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Lines, l => l.Contains(password, StringComparison.Ordinal));
        }
        finally
        {
            await PostgresServer.SetConnectionsAllowedAsync(database.ConnectionString, allowed: true, ct);
        }

        // Back: ready again once the cached answer is old (a pooled connection the server ended may fail one round more).
        var back = HttpStatusCode.ServiceUnavailable;
        for (var round = 0; round < 5 && back != HttpStatusCode.OK; round++)
        {
            clock.Offset += TimeSpan.FromSeconds(3);
            back = (await ReadyzAsync(instance)).Status;
        }
        Assert.Equal(HttpStatusCode.OK, back);
    }

    [Fact]
    public async Task Readyz_answers_503_naming_the_database_when_the_sqlite_file_cannot_be_opened_and_200_when_it_is_back()
    {
        var clock = new ShiftedClock();
        await using var instance = await GatewayInstance.StartAsync(gateway, o => o.Search.ReconcileAtStart = false, time: clock);
        var path = instance.Options.Audit.SqlitePath;
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(instance)).Status);

        // The file moved away (a volume gone, say) and something SQLite cannot open in its place. The gateway's pooled
        // connections still hold the old file open, so only opening the path afresh shows the database is gone.
        var aside = path + ".aside";
        File.Move(path, aside);
        Directory.CreateDirectory(path);
        clock.Offset += TimeSpan.FromSeconds(3);
        var (status, text) = await ReadyzAsync(instance);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        AssertOnlyTheDatabaseFailed(text);
        Assert.DoesNotContain(Path.GetFileName(path), text, StringComparison.Ordinal);

        Directory.Delete(path);
        File.Move(aside, path);
        clock.Offset += TimeSpan.FromSeconds(3);
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(instance)).Status);
    }

    [Fact]
    public async Task Check_probe_reaches_s3_the_database_and_the_upstream_and_fails_naming_what_did_not_answer()
    {
        using var dir = new TempDirectory("quilt-gateway-probe");
        var upstream = new Uri(gateway.BaseUrl, "/graphql").AbsoluteUri;
        var good = WriteConfig(dir, c => c["upstream"] = new JsonObject { ["url"] = upstream });
        var (exit, output, error) = await RunCliAsync("check", "--probe", "--config", good);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"ok   s3 bucket {gateway.Data} (role uploader)", output, StringComparison.Ordinal);
        Assert.Contains("ok   database sqlite", output, StringComparison.Ordinal);
        // Without a token the registry answers 401: it is there.
        Assert.Contains($"ok   upstream {upstream}: answered HTTP 401", output, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Tokens.Secret, output + error, StringComparison.Ordinal);

        var port = ClosedPort();
        var bad = WriteConfig(dir, c =>
        {
            c["s3"]!["endpoint"] = $"http://127.0.0.1:{port}";
            c["upstream"] = new JsonObject { ["url"] = $"http://127.0.0.1:{port}/graphql" };
        });
        (exit, output, error) = await RunCliAsync("check", "--probe", "--config", bad);
        Assert.Equal(1, exit);
        Assert.Contains($"FAIL s3 bucket {gateway.Data} (role uploader)", output, StringComparison.Ordinal);
        Assert.Contains($"FAIL upstream http://127.0.0.1:{port}/graphql", output, StringComparison.Ordinal);
        Assert.Contains("ok   database sqlite", output, StringComparison.Ordinal);
        Assert.Contains("2 of 3 probes failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_mints_a_development_token_the_gateway_accepts_with_a_warning()
    {
        using var dir = new TempDirectory("quilt-gateway-token");
        var config = WriteConfig(dir);
        var subject = GatewayFixture.NewSubject("minted");
        var (exit, output, error) = await RunCliAsync("token", "--config", config, "--user", subject, "--role", "uploader", "--expires", "10m");
        Assert.True(exit == 0, error);
        Assert.Contains("Warning", error, StringComparison.Ordinal);
        Assert.Contains("development", error, StringComparison.Ordinal);
        var token = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.DoesNotContain(token, error, StringComparison.Ordinal);

        var me = await gateway.DataAsync(token, "{ me { name role { name } } }");
        Assert.Equal(subject, me["me"]!["name"]!.GetValue<string>());
        Assert.Equal("uploader", me["me"]!["role"]!["name"]!.GetValue<string>());
        var expires = new JsonWebToken(token).ValidTo;
        Assert.InRange(expires, DateTime.UtcNow.AddMinutes(5), DateTime.UtcNow.AddMinutes(11));

        // Refused: a role the gateway does not have, a lifetime out of range.
        Assert.Equal(2, (await RunCliAsync("token", "--config", config, "--user", subject, "--role", "nosuch")).Exit);
        Assert.Equal(2, (await RunCliAsync("token", "--config", config, "--user", subject, "--expires", "30d")).Exit);
    }

    [Fact]
    public async Task Health_exits_zero_only_when_healthz_answers()
    {
        var (exit, output, _) = await RunCliAsync("health", "--url", new Uri(gateway.BaseUrl, "/healthz").AbsoluteUri);
        Assert.True(exit == 0, output);
        Assert.Equal(1, (await RunCliAsync("health", "--url", $"http://127.0.0.1:{ClosedPort()}/healthz")).Exit);
    }

    [Fact]
    public async Task Token_refuses_when_the_gateway_verifies_with_a_jwks_only()
    {
        using var dir = new TempDirectory("quilt-gateway-token-jwks");
        var jwks = dir.Combine("jwks.json");
        await File.WriteAllTextAsync(jwks, gateway.Tokens.Jwks(), TestContext.Current.CancellationToken);
        var config = WriteConfig(dir, c =>
        {
            c["jwt"]!.AsObject().Remove("hs256Secret");
            c["jwt"]!["jwksFile"] = jwks;
        });
        var (exit, output, error) = await RunCliAsync("token", "--config", config, "--user", "alice", "--role", "uploader");
        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("JWKS", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_quilt_registry_token_without_iss_or_aud_is_accepted_only_beside_an_upstream_with_a_shared_secret()
    {
        // As Quilt's registry signs them: HS256 with the stack's secret, claims id, uuid and exp only.
        var subject = GatewayFixture.NewSubject("quilt-user");
        var quiltToken = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["id"] = subject, ["uuid"] = Guid.NewGuid().ToString() },
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(gateway.Tokens.Secret)), SecurityAlgorithms.HmacSha256),
        });
        void QuiltJwt(GatewayOptions o)
        {
            o.Jwt.Issuers.Clear();
            o.Jwt.Audiences.Clear();
            o.Jwt.JwksFile = null;
            o.Jwt.SubjectClaim = "id";
            o.Users[subject] = new UserOptions { Roles = ["uploader"] };
        }

        await using (var sidecar = await GatewayInstance.StartAsync(gateway, o =>
        {
            QuiltJwt(o);
            o.Upstream.Url = new Uri(gateway.BaseUrl, "/graphql").AbsoluteUri;
        }))
        {
            var grants = (await sidecar.DataAsync(quiltToken, "{ myGrants { bucket prefix write } }"))["myGrants"]!.AsArray();
            Assert.Contains(grants, g => g!["prefix"]!.GetValue<string>() == "incoming/" && g["write"]!.GetValue<bool>());
        }

        // Without an upstream, or with a JWKS whose keys may sign for others, iss and aud stay required.
        var noUpstream = gateway.CreateOptions(null!, "unused.db");
        QuiltJwt(noUpstream);
        var problems = Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(noUpstream)).Problems;
        Assert.Contains(problems, p => p.StartsWith("jwt.issuers is empty", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("jwt.audiences is empty", StringComparison.Ordinal));
        using var dir = new TempDirectory("quilt-gateway-unbound");
        var jwks = dir.Combine("jwks.json");
        await File.WriteAllTextAsync(jwks, gateway.Tokens.Jwks(), TestContext.Current.CancellationToken);
        var withJwks = gateway.CreateOptions(jwks, "unused.db");
        QuiltJwt(withJwks);
        withJwks.Jwt.JwksFile = jwks;
        withJwks.Upstream.Url = "https://registry.example.com/graphql";
        Assert.Contains(Assert.Throws<GatewayConfigurationException>(() => OptionsValidator.Validate(withJwks)).Problems,
            p => p.StartsWith("jwt.issuers is empty", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_logs_are_one_object_per_line_one_line_per_request_and_carry_no_token()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("quilt-gateway-jsonlogs");
        var config = WriteConfig(dir, c => c["jwt"]!.AsObject().Remove("hs256Secret"));
        var subject = GatewayFixture.NewSubject("jsonlog");
        var token = gateway.Tokens.Hs256(subject, "uploader");
        var forged = gateway.Tokens.Forged(subject, "uploader");

        // The real program, configured as a deployment would be: secret and log format from the environment.
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir.Path,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "quilt-gateway.dll"), "--config", config })
            start.ArgumentList.Add(arg);
        start.Environment["QUILT_GATEWAY_JWT__HS256SECRET"] = gateway.Tokens.Secret;
        start.Environment["QUILT_GATEWAY_LOGGING__FORMAT"] = "json";
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var baseUrl = await WaitForAsync(lines, l => ListeningUrl(l), ct);
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
            async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string? bearer, string? body = null)
            {
                using var request = new HttpRequestMessage(method, path);
                if (bearer is not null)
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                if (body is not null)
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.SendAsync(request, ct);
                return response.StatusCode;
            }
            const string Me = """{"query":"{ me { name } }"}""";
            Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, "/healthz", null));
            var ready = await SendAsync(HttpMethod.Get, "/readyz", null);
            Assert.True(ready == HttpStatusCode.OK, $"/readyz answered {ready}:\n{string.Join("\n", lines)}");
            Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Post, "/graphql", token, Me));
            Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Post, $"/graphql?token={token}", token, Me));
            Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, $"/browse/{subject}-session/a.txt?token={forged}", forged));
            // Each request's line is written once it is answered; wait (bounded) for the last one.
            await WaitForAsync(lines, l => l.Contains("/browse/{session}/a.txt", StringComparison.Ordinal) && l.Contains("answered 401", StringComparison.Ordinal) ? l : null, ct);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        var all = lines.Where(l => l.Length > 0).ToList();
        var objects = all.Select(l => JsonNode.Parse(l) as JsonObject).ToList();
        Assert.All(objects, o => Assert.NotNull(o));
        Assert.All(objects, o => Assert.NotNull(o!["Category"]));
        var requestLines = objects.Where(o => o!["Category"]!.GetValue<string>() == "Quilt.Gateway.Requests").Select(o => o!["Message"]!.GetValue<string>()).ToList();
        // One line per request at Information; health and readiness probes only at Debug; nothing from ASP.NET per request.
        Assert.Equal(3, requestLines.Count);
        Assert.DoesNotContain(requestLines, l => l.Contains("healthz", StringComparison.Ordinal) || l.Contains("readyz", StringComparison.Ordinal));
        Assert.DoesNotContain(objects, o => o!["Category"]!.GetValue<string>().StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        // No token, signature, secret or query string in any line.
        foreach (var secret in token.Split('.').Skip(1).Concat(forged.Split('.').Skip(1)).Append(gateway.Tokens.Secret))
            Assert.DoesNotContain(all, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(all, l => l.Contains("token=", StringComparison.Ordinal));
        Assert.Contains(requestLines, l => l.StartsWith("POST /graphql?… answered 200", StringComparison.Ordinal));
    }

    private static string? ListeningUrl(string line)
    {
        const string Marker = "Now listening on: ";
        var at = line.IndexOf(Marker, StringComparison.Ordinal);
        if (at < 0)
            return null;
        var rest = line[(at + Marker.Length)..];
        var end = rest.IndexOf('"', StringComparison.Ordinal);
        return end < 0 ? rest.Trim() : rest[..end];
    }

    /// <summary>Waits (at most a minute) for a line that <paramref name="match"/> turns into a value.</summary>
    private static async Task<string> WaitForAsync(System.Collections.Concurrent.ConcurrentQueue<string> lines, Func<string, string?> match, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 600; i++)
        {
            foreach (var line in lines)
            {
                if (match(line) is { } value)
                    return value;
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException("The gateway did not log the expected line; it logged:\n" + string.Join("\n", lines));
    }
}
