using System.Net;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>Every request's token is verified before anything is served; bad ones are refused, audited and never logged.</summary>
public sealed class IdentityTests(GatewayFixture gateway)
{
    private const string MeQuery = "query { me { name email isAdmin role { name } roles { name } } }";

    [Fact]
    public async Task Hs256_rs256_and_es256_tokens_are_accepted()
    {
        foreach (var make in new Func<string, string[], string>[] { gateway.Tokens.Hs256, gateway.Tokens.Rs256, gateway.Tokens.Es256 })
        {
            var subject = GatewayFixture.NewSubject("alg");
            var data = await gateway.DataAsync(make(subject, ["reader", "uploader"]), MeQuery);
            Assert.Equal(subject, data["me"]!["name"]!.GetValue<string>());
            Assert.Equal("reader", data["me"]!["role"]!["name"]!.GetValue<string>());
            Assert.Equal(["reader", "uploader"], data["me"]!["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
            Assert.False(data["me"]!["isAdmin"]!.GetValue<bool>());
        }
    }

    public static TheoryData<string> BadTokenKinds => ["expired", "forged", "none", "audience", "issuer", "unknown-key", "stolen-kid", "key-confusion", "garbage", "missing", "basic"];

    [Theory]
    [MemberData(nameof(BadTokenKinds))]
    public async Task Bad_tokens_are_refused_audited_and_serve_nothing(string kind)
    {
        var subject = GatewayFixture.NewSubject("bad");
        var t = gateway.Tokens;
        string? token = kind switch
        {
            "expired" => t.Expired(subject, "publisher"),
            "forged" => t.Forged(subject, "publisher"),
            "none" => Tokens.AlgNone(subject, "publisher"),
            "audience" => t.WrongAudience(subject, "publisher"),
            "issuer" => t.WrongIssuer(subject, "publisher"),
            "unknown-key" => t.UnknownKey(subject, "publisher"),
            "stolen-kid" => t.StolenKid(subject, "publisher"),
            "key-confusion" => t.KeyConfusion(subject, "publisher"),
            "garbage" => "not.a.jwt",
            _ => null,
        };
        var key = $"incoming/{subject}.txt";

        // A mutation that would hand out an upload URL, and a download path: neither may run.
        var (status, body) = kind == "basic"
            ? await SendBasicAsync()
            : await gateway.GraphQLAsync(token, "mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { uploadUrl fields expires } }",
                new { b = gateway.Data, k = key });
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Null(body["data"]);
        var message = body["errors"]![0]!["message"]!.GetValue<string>();
        Assert.StartsWith("Not authenticated: ", message, StringComparison.Ordinal);
        using (var download = await gateway.GetAsync(token, "/browse/anything/x.txt"))
            Assert.Equal(HttpStatusCode.Unauthorized, download.StatusCode);

        // Audited as a refused token (the claimed subject is kept, marked as such), and no URL was issued to anyone by that name.
        var refused = (await gateway.AllAuditAsync()).Where(e => e.Action == "token" && e.Details?["claimedSubject"]?.GetValue<string>() == subject).ToList();
        if (kind is not ("garbage" or "missing" or "basic"))
        {
            Assert.NotEmpty(refused);
            Assert.All(refused, e => Assert.Equal(AuditOutcome.Denied, e.Outcome));
            Assert.All(refused, e => Assert.Equal("anonymous", e.Subject));
        }
        Assert.Empty(await gateway.AuditAsync(subject));
        Assert.False(await gateway.ExistsAsync(gateway.Data, key));

        // The token itself is in no log line and no audit line.
        if (token is { Length: > 40 })
        {
            var signature = token[(token.LastIndexOf('.') + 1)..];
            var payload = token.Split('.')[1];
            Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains(payload, StringComparison.Ordinal) || (signature.Length > 0 && l.Contains(signature, StringComparison.Ordinal)));
            Assert.DoesNotContain(await gateway.AllAuditAsync(), e => (e.Details?.ToJsonString() ?? "").Contains(payload, StringComparison.Ordinal));
        }

        async Task<(HttpStatusCode, System.Text.Json.Nodes.JsonNode)> SendBasicAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseUrl, "/graphql"))
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { query = MeQuery }),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz");
            using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
            return (response.StatusCode, System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!);
        }
    }

    [Fact]
    public async Task Refusals_say_what_was_wrong()
    {
        var subject = GatewayFixture.NewSubject("why");
        async Task<string> Reason(string? token) => (await gateway.GraphQLAsync(token, MeQuery)).Body["errors"]![0]!["message"]!.GetValue<string>();
        Assert.Contains("expired", await Reason(gateway.Tokens.Expired(subject, "reader")), StringComparison.Ordinal);
        Assert.Contains("alg \"none\"", await Reason(Tokens.AlgNone(subject, "reader")), StringComparison.Ordinal);
        Assert.Contains("audience", await Reason(gateway.Tokens.WrongAudience(subject, "reader")), StringComparison.Ordinal);
        Assert.Contains("signature", await Reason(gateway.Tokens.Forged(subject, "reader")), StringComparison.Ordinal);
        Assert.Contains("unknown key", await Reason(gateway.Tokens.UnknownKey(subject, "reader")), StringComparison.Ordinal);
        Assert.Contains("Authorization", await Reason(null), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_without_any_configured_role_is_refused()
    {
        var subject = GatewayFixture.NewSubject("norole");
        var (status, body) = await gateway.GraphQLAsync(gateway.Tokens.Hs256(subject, "not-a-role"), MeQuery);
        // Valid but without a role: 403, as a new token of the same user would not help (401 would say it does).
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("FORBIDDEN", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains("no role is granted", body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Ask this gateway's admin for a role", body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SwitchRole_moves_among_granted_roles_only_and_is_remembered()
    {
        var subject = GatewayFixture.NewSubject("switch");
        var token = gateway.Tokens.Hs256(subject, "reader", "uploader");
        const string Switch = "mutation($r: String!) { switchRole(roleName: $r) { __typename ... on Me { role { name } } ... on InvalidInput { errors { path message name } } } }";

        var switched = await gateway.DataAsync(token, Switch, new { r = "uploader" });
        Assert.Equal("Me", switched["switchRole"]!["__typename"]!.GetValue<string>());
        Assert.Equal("uploader", switched["switchRole"]!["role"]!["name"]!.GetValue<string>());
        // Remembered for the next request.
        Assert.Equal("uploader", (await gateway.DataAsync(token, MeQuery))["me"]!["role"]!["name"]!.GetValue<string>());

        var refused = await gateway.DataAsync(token, Switch, new { r = "publisher" });
        Assert.Equal("InvalidInput", refused["switchRole"]!["__typename"]!.GetValue<string>());
        Assert.Contains("not granted", refused["switchRole"]!["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("uploader", (await gateway.DataAsync(token, MeQuery))["me"]!["role"]!["name"]!.GetValue<string>());

        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "switchRole" && e.Outcome == AuditOutcome.Allowed && e.Target == "uploader");
        Assert.Contains(audit, e => e.Action == "switchRole" && e.Outcome == AuditOutcome.Denied && e.Target == "publisher");
    }

    [Fact]
    public async Task BucketConfigs_and_grants_show_only_the_active_roles_buckets()
    {
        var subject = GatewayFixture.NewSubject("buckets");
        var outsider = await gateway.DataAsync(gateway.Tokens.Hs256(subject, "outsider"), "{ bucketConfigs { name title } myGrants { bucket prefix read write maxUploadBytes } }");
        Assert.Equal([gateway.Other], outsider["bucketConfigs"]!.AsArray().Select(b => b!["name"]!.GetValue<string>()));

        var uploader = await gateway.DataAsync(gateway.Tokens.Hs256(GatewayFixture.NewSubject("buckets"), "uploader"),
            "{ bucketConfigs { name title description tags relevanceScore browsable } myGrants { bucket prefix read write maxUploadBytes } }");
        var config = uploader["bucketConfigs"]!.AsArray().Single()!;
        Assert.Equal(gateway.Data, config["name"]!.GetValue<string>());
        Assert.Equal("Test data", config["title"]!.GetValue<string>());
        var write = uploader["myGrants"]!.AsArray().Single(g => g!["write"]!.GetValue<bool>())!;
        Assert.Equal("incoming/", write["prefix"]!.GetValue<string>());
        Assert.Equal(GatewayFixture.UploaderLimit, write["maxUploadBytes"]!.GetValue<double>());
    }

    [Fact]
    public async Task A_users_entry_is_matched_on_the_subject_or_a_verified_email_never_on_a_claimed_one()
    {
        // Mallory's own account at the identity provider claims alice's address: neither alice's roles nor admin follow.
        foreach (object? verified in new object?[] { null, false, "false" })
        {
            var claims = new Dictionary<string, object> { ["sub"] = GatewayFixture.NewSubject("mallory"), ["email"] = GatewayFixture.KnownEmail, ["name"] = "mallory" };
            if (verified is not null)
                claims["email_verified"] = verified;
            var (status, body) = await gateway.GraphQLAsync(gateway.Tokens.Hs256WithClaims(claims), MeQuery);
            Assert.True(status == HttpStatusCode.Forbidden, $"email_verified={verified ?? "absent"}: HTTP {(int)status} {body.ToJsonString()}");
            Assert.Contains("no role is granted", body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // The entry keyed by subject applies to that subject.
        var bySubject = await gateway.DataAsync(gateway.Tokens.Hs256WithClaims(new() { ["sub"] = GatewayFixture.KnownSubject }), MeQuery);
        Assert.Equal("publisher", bySubject["me"]!["role"]!["name"]!.GetValue<string>());
        Assert.False(bySubject["me"]!["isAdmin"]!.GetValue<bool>());

        // The entry keyed by e-mail applies when the provider says it verified the address.
        var verifiedEmail = new Dictionary<string, object> { ["sub"] = GatewayFixture.NewSubject("alice"), ["email"] = GatewayFixture.KnownEmail, ["email_verified"] = true };
        var byEmail = await gateway.DataAsync(gateway.Tokens.Hs256WithClaims(verifiedEmail), MeQuery);
        Assert.Equal("publisher", byEmail["me"]!["role"]!["name"]!.GetValue<string>());
        Assert.True(byEmail["me"]!["isAdmin"]!.GetValue<bool>());
    }
}
