using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Quilt.Gateway.Data;
using Quilt.Testing;

namespace Quilt.Gateway.Tests;

/// <summary>Reading the audit trail (admins only, or the audit command), and several instances sharing PostgreSQL.</summary>
public sealed class AuditTests(GatewayFixture gateway)
{
    private const string Events = """
        query($s: String, $a: String) { auditEvents(subject: $s, action: $a) { id time subject role action target outcome details } }
        """;

    [Fact]
    public async Task Admins_read_the_audit_trail_and_others_are_refused()
    {
        var subject = GatewayFixture.NewSubject("audited");
        var token = gateway.Tokens.Hs256(subject, "uploader");
        await gateway.DataAsync(token, "mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { expires } }", new { b = gateway.Data, k = $"incoming/{subject}.txt" });

        var admin = gateway.Tokens.Admin(GatewayFixture.NewSubject("admin"), "reader");
        var events = (await gateway.DataAsync(admin, Events, new { s = subject, a = "generateUploadUrl" }))["auditEvents"]!.AsArray();
        var line = Assert.Single(events)!;
        Assert.Equal("uploader", line["role"]!.GetValue<string>());
        Assert.Equal("allowed", line["outcome"]!.GetValue<string>());
        Assert.Equal($"s3://{gateway.Data}/incoming/{subject}.txt", line["target"]!.GetValue<string>());
        Assert.Equal(GatewayFixture.UploaderLimit, line["details"]!["maxBytes"]!.GetValue<long>());

        var nosy = GatewayFixture.NewSubject("nosy");
        var (status, body) = await gateway.GraphQLAsync(gateway.Tokens.Hs256(nosy, "publisher"), Events, new { s = subject });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(body["data"]?["auditEvents"]);
        Assert.Equal("FORBIDDEN", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains(await gateway.AuditAsync(nosy), e => e.Action == "auditEvents" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task The_audit_command_prints_the_trail_since_a_time()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("quilt-gateway-cli");
        var db = dir.Combine("audit.db");
        await using (var store = new SqliteGatewayStore(db))
        {
            await store.InitializeAsync(ct);
            var t0 = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
            await store.AppendAsync(new AuditRecord(t0, "alice", "uploader", "generateUploadUrl", "s3://b/incoming/a.txt", AuditOutcome.Allowed, SqlGatewayStore.Details(("maxBytes", 10L))), ct);
            await store.AppendAsync(new AuditRecord(t0.AddDays(1), "bob", "reader", "download", "s3://b/x", AuditOutcome.Denied, SqlGatewayStore.Details(("reason", "expired"))), ct);
        }
        var config = dir.Combine("gateway.json");
        await File.WriteAllTextAsync(config, """{ "audit": { "sqlitePath": "audit.db" } }""", ct);

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await GatewayCli.RunAsync(["audit", "--config", config, "--since", "2025-03-02", "--json"], output, error);
        Assert.True(code == 0, error.ToString());
        var line = JsonNode.Parse(Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal("bob", line["subject"]!.GetValue<string>());
        Assert.Equal("denied", line["outcome"]!.GetValue<string>());
        Assert.Equal("expired", line["details"]!["reason"]!.GetValue<string>());

        using var table = new StringWriter();
        Assert.Equal(0, await GatewayCli.RunAsync(["audit", "--config", config, "--subject", "alice"], table, error));
        Assert.Contains("generateUploadUrl", table.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("bob", table.ToString(), StringComparison.Ordinal);

        using var bad = new StringWriter();
        Assert.Equal(2, await GatewayCli.RunAsync(["audit", "--config", config, "--since", "yesterday-ish"], output, bad));
        Assert.Contains("--since", bad.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_instances_on_one_postgresql_share_sessions_roles_and_the_trail()
    {
        var ct = TestContext.Current.CancellationToken;
        var connection = await PostgresServer.CreateDatabaseAsync(ct);
        using var dir = new TempDirectory("quilt-gateway-pg-instances");
        var jwks = dir.Combine("jwks.json");
        await File.WriteAllTextAsync(jwks, gateway.Tokens.Jwks(), ct);
        var apps = new List<WebApplication>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var options = gateway.CreateOptions(jwks, dir.Combine($"unused-{i}.db"));
                options.Audit.Postgres = connection;
                var app = await GatewayHost.BuildAsync(options, l => l.ClearProviders(), cancellationToken: ct);
                await app.StartAsync(ct);
                apps.Add(app);
            }
            var (a, b) = (new Uri(GatewayHost.Addresses(apps[0]).Single()), new Uri(GatewayHost.Addresses(apps[1]).Single()));
            var subject = GatewayFixture.NewSubject("multi");
            var token = gateway.Tokens.Hs256(subject, "reader", "uploader");
            var key = $"incoming/{subject}.txt";
            await gateway.PutAsync(gateway.Data, key, "shared"u8.ToArray(), "text/plain");

            // Role switched on A is the role on B.
            var switched = await PostAsync(a, token, "mutation { switchRole(roleName: \"uploader\") { __typename } }");
            Assert.Equal("Me", switched["data"]!["switchRole"]!["__typename"]!.GetValue<string>());
            var me = await PostAsync(b, token, "{ me { role { name } } }");
            Assert.Equal("uploader", me["data"]!["me"]!["role"]!["name"]!.GetValue<string>());

            // A session made on A downloads on B.
            var created = await PostAsync(a, token, "mutation($s: String!) { browsingSessionCreate(scope: $s) { ... on BrowsingSession { id } } }", new { s = $"s3://{gateway.Data}/incoming/" });
            var id = created["data"]!["browsingSessionCreate"]!["id"]!.GetValue<string>();
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(b, $"/browse/{id}/{subject}.txt"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await gateway.Http.SendAsync(request, ct);
            Assert.Equal("shared", await response.Content.ReadAsStringAsync(ct));

            // A listing cursor from A continues the listing on B: the key that seals cursors is shared through the database.
            const string Page = """
                query($b: String!, $p: String, $after: String) {
                  bucketObjects(bucket: $b, prefix: $p, first: 1, after: $after) { ... on BucketObjectList { objects { key } cursor } ... on InvalidInput { errors { message } } }
                }
                """;
            for (var i = 0; i < 2; i++)
                await gateway.PutAsync(gateway.Data, $"incoming/{subject}/p{i}.txt", "p"u8.ToArray());
            var first = await PostAsync(a, token, Page, new { b = gateway.Data, p = $"incoming/{subject}/", after = (string?)null });
            var cursor = first["data"]!["bucketObjects"]!["cursor"]!.GetValue<string>();
            var second = await PostAsync(b, token, Page, new { b = gateway.Data, p = $"incoming/{subject}/", after = cursor });
            Assert.Equal($"incoming/{subject}/p1.txt", second["data"]!["bucketObjects"]!["objects"]![0]!["key"]!.GetValue<string>());

            await using var store = new PostgresGatewayStore(connection);
            var trail = await store.ReadAsync(new AuditQuery { Subject = subject }, ct);
            Assert.Contains(trail, e => e.Action == "switchRole");
            Assert.Contains(trail, e => e.Action == "browsingSessionCreate");
            Assert.Contains(trail, e => e.Action == "download" && e.Outcome == AuditOutcome.Allowed);
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
        }

        async Task<JsonNode> PostAsync(Uri baseUrl, string token, string query, object? variables = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/graphql")) { Content = JsonContent.Create(new { query, variables }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await gateway.Http.SendAsync(request, ct);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
        }
    }
}
