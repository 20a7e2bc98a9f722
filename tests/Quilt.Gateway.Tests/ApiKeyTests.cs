using System.Net;
using System.Text.Json.Nodes;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Quilt API keys through the gateway: created with Quilt's apiKeyCreate by a signed-in user, used as a bearer token
/// (acting as that user and role), listed under me.apiKeys, expiring, revoked with apiKeyRevoke, audited, stored only
/// hashed and never logged.
/// </summary>
public sealed class ApiKeyTests(GatewayFixture gateway)
{
    private const string Create = """
        mutation($name: String!, $days: Int!) {
          apiKeyCreate(input: { name: $name, expiresInDays: $days }) {
            __typename
            ... on APIKeyCreated { secret apiKey { id name fingerprint createdAt expiresAt lastUsedAt userEmail status } }
            ... on InvalidInput { errors { path message name } }
          }
        }
        """;

    private const string Revoke = """
        mutation($id: ID, $secret: String) { apiKeyRevoke(id: $id, secret: $secret) { __typename ... on InvalidInput { errors { path message name } } } }
        """;

    private const string MeQuery = "{ me { name email role { name } roles { name } apiKeys { id name fingerprint status lastUsedAt } } }";

    private static async Task<(string Id, string Secret)> CreateAsync(Func<string?, string, object?, Task<(HttpStatusCode, JsonNode)>> graphql, string token, string name, int days = 30)
    {
        var (status, body) = await graphql(token, Create, new { name, days });
        Assert.True(status == HttpStatusCode.OK && body["errors"] is null, body.ToJsonString());
        var created = body["data"]!["apiKeyCreate"]!;
        Assert.Equal("APIKeyCreated", created["__typename"]!.GetValue<string>());
        return (created["apiKey"]!["id"]!.GetValue<string>(), created["secret"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_key_acts_as_its_user_and_role_until_it_is_revoked()
    {
        var subject = GatewayFixture.NewSubject("keyuser");
        var jwt = gateway.Tokens.Hs256(subject, "uploader");
        var (id, secret) = await CreateAsync((t, q, v) => gateway.GraphQLAsync(t, q, v), jwt, "ci pipeline");
        Assert.StartsWith("qk_", secret, StringComparison.Ordinal);

        // The key is a bearer token of that user, with that user's role and rights (uploader may write incoming/ only).
        var me = (await gateway.DataAsync(secret, MeQuery))["me"]!;
        Assert.Equal("uploader", me["role"]!["name"]!.GetValue<string>());
        Assert.Equal(subject + "@example.test", me["email"]!.GetValue<string>());
        var listed = Assert.Single(me["apiKeys"]!.AsArray())!;
        Assert.Equal(id, listed["id"]!.GetValue<string>());
        Assert.Equal("ACTIVE", listed["status"]!.GetValue<string>());
        Assert.NotNull(listed["lastUsedAt"]);
        Assert.DoesNotContain(secret[3..], listed["fingerprint"]!.GetValue<string>(), StringComparison.Ordinal);
        var upload = await gateway.GraphQLAsync(secret, "mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { uploadUrl } }",
            new { b = gateway.Data, k = "elsewhere/x.txt" });
        Assert.Contains("may not write", upload.Body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // A key cannot mint keys: a leaked one must not outlive its own revocation.
        var (_, fromKey) = await gateway.GraphQLAsync(secret, Create, new { name = "child", days = 365 });
        Assert.Equal("InvalidInput", fromKey["data"]!["apiKeyCreate"]!["__typename"]!.GetValue<string>());
        Assert.Contains("sign-in token", fromKey["data"]!["apiKeyCreate"]!["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var revoked = await gateway.DataAsync(jwt, Revoke, new { id });
        Assert.Equal("Ok", revoked["apiKeyRevoke"]!["__typename"]!.GetValue<string>());
        var (status, body) = await gateway.GraphQLAsync(secret, MeQuery);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("revoked", body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty((await gateway.DataAsync(jwt, MeQuery))["me"]!["apiKeys"]!.AsArray());

        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "apiKeyCreate" && e.Outcome == AuditOutcome.Allowed && e.Target == "apiKey:" + id);
        Assert.Contains(audit, e => e.Action == "apiKeyCreate" && e.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, e => e.Action == "apiKeyRevoke" && e.Outcome == AuditOutcome.Allowed && e.Target == "apiKey:" + id);
        Assert.Contains(audit, e => e.Action == "generateUploadUrl" && e.Outcome == AuditOutcome.Denied);
        // Nothing in the trail or the logs holds the secret.
        Assert.DoesNotContain(await gateway.AllAuditAsync(), e => (e.Details?.ToJsonString() ?? "").Contains(secret[3..], StringComparison.Ordinal)
            || (e.Target ?? "").Contains(secret[3..], StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains(secret[3..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_revoked_by_its_secret_or_unknown_or_malformed_is_refused()
    {
        var subject = GatewayFixture.NewSubject("keyrev");
        var jwt = gateway.Tokens.Hs256(subject, "reader");
        var (_, secret) = await CreateAsync((t, q, v) => gateway.GraphQLAsync(t, q, v), jwt, "emergency");
        Assert.Equal("Ok", (await gateway.DataAsync(secret, Revoke, new { secret }))["apiKeyRevoke"]!["__typename"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.GraphQLAsync(secret, MeQuery)).Status);

        foreach (var wrong in new[] { "qk_" + new string('A', 43), "qk_", "qk_" + new string('x', 300), secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A') })
        {
            var (status, body) = await gateway.GraphQLAsync(wrong, MeQuery);
            Assert.True(status == HttpStatusCode.Unauthorized, $"{wrong.Length} chars: HTTP {(int)status} {body.ToJsonString()}");
        }

        // Revoking someone else's key by id does nothing and says so.
        var other = gateway.Tokens.Hs256(GatewayFixture.NewSubject("keyrev"), "reader");
        var (otherId, otherSecret) = await CreateAsync((t, q, v) => gateway.GraphQLAsync(t, q, v), other, "theirs");
        var refused = (await gateway.DataAsync(jwt, Revoke, new { id = otherId }))["apiKeyRevoke"]!;
        Assert.Equal("InvalidInput", refused["__typename"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await gateway.GraphQLAsync(otherSecret, MeQuery)).Status);

        // Bad input is an InvalidInput naming the argument, and nothing is created.
        var (_, tooLong) = await gateway.GraphQLAsync(jwt, Create, new { name = "k", days = 366 });
        Assert.Equal("input.expiresInDays", tooLong["data"]!["apiKeyCreate"]!["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Empty((await gateway.DataAsync(jwt, MeQuery))["me"]!["apiKeys"]!.AsArray());
    }

    [Fact]
    public async Task A_key_expires_and_only_its_hash_is_stored()
    {
        var clock = new ShiftedClock();
        await using var instance = await GatewayInstance.StartAsync(gateway, time: clock);
        var ct = TestContext.Current.CancellationToken;
        var subject = GatewayFixture.NewSubject("keyexp");
        var jwt = gateway.Tokens.Hs256(subject, "reader");
        var (id, secret) = await CreateAsync((t, q, v) => instance.GraphQLAsync(t, q, v, "/graphql", ct), jwt, "short", days: 1);
        Assert.Equal(HttpStatusCode.OK, (await instance.GraphQLAsync(secret, MeQuery, null, "/graphql", ct)).Status);

        clock.Offset = TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1);
        var (status, body) = await instance.GraphQLAsync(secret, MeQuery, null, "/graphql", ct);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("expired", body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var listed = (await instance.GraphQLAsync(jwt, "{ me { apiKeys(status: EXPIRED) { id status } } }", null, "/graphql", ct)).Body["data"]!["me"]!["apiKeys"]!.AsArray();
        Assert.Equal(id, Assert.Single(listed)!["id"]!.GetValue<string>());

        // The database holds no secret: only its SHA-256.
        var dbPath = instance.Options.Audit.SqlitePath;
        var bytes = await File.ReadAllBytesAsync(dbPath, ct);
        var walPath = dbPath + "-wal";
        var wal = File.Exists(walPath) ? await ReadSharedAsync(walPath) : [];
        foreach (var content in new[] { bytes, wal })
            Assert.DoesNotContain(secret[3..], System.Text.Encoding.ASCII.GetString(content), StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        return buffer.ToArray();
    }
}
