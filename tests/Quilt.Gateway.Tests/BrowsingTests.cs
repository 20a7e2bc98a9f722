using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>Browsing sessions: downloads (with Range) and links inside the scope, nothing outside it or after it expires.</summary>
public sealed class BrowsingTests(GatewayFixture gateway)
{
    private const string Create = """
        mutation($scope: String!, $ttl: Int!) {
          browsingSessionCreate(scope: $scope, ttl: $ttl) {
            __typename
            ... on BrowsingSession { id expires }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private const string Link = """
        mutation($id: ID!, $path: String!) {
          browsingSessionLink(id: $id, path: $path, ttl: 30) {
            __typename
            ... on BrowsingSessionLink { url expires object { key size version } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private async Task<string> SessionAsync(string token, string scope, int ttl = 180)
    {
        var result = (await gateway.DataAsync(token, Create, new { scope, ttl }))["browsingSessionCreate"]!;
        Assert.True(result["__typename"]!.GetValue<string>() == "BrowsingSession", result.ToJsonString());
        return result["id"]!.GetValue<string>();
    }

    private async Task<(string Subject, string Token, string Prefix)> SeedAsync(string role = "reader")
    {
        var subject = GatewayFixture.NewSubject("browse");
        var prefix = $"shared/{subject}/";
        await gateway.PutAsync(gateway.Data, prefix + "hello.txt", Encoding.UTF8.GetBytes("hello, browsing world"), "text/plain");
        await gateway.PutAsync(gateway.Data, prefix + "dir/nested.txt", Encoding.UTF8.GetBytes("nested"), "text/plain");
        await gateway.PutAsync(gateway.Data, $"private/{subject}.txt", Encoding.UTF8.GetBytes("not for the session"), "text/plain");
        return (subject, gateway.Tokens.Hs256(subject, role), prefix);
    }

    [Fact]
    public async Task Objects_inside_a_prefix_session_download_whole_and_by_range()
    {
        var (subject, token, prefix) = await SeedAsync();
        var id = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}");

        using (var whole = await gateway.GetAsync(token, $"/browse/{id}/hello.txt"))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal("hello, browsing world", await whole.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal("text/plain", whole.Content.Headers.ContentType!.MediaType);
            Assert.Equal("nosniff", whole.Headers.GetValues("X-Content-Type-Options").Single());
        }
        using (var part = await gateway.GetAsync(token, $"/browse/{id}/hello.txt", r => r.Headers.Range = new RangeHeaderValue(7, 14)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
            Assert.Equal("browsing", await part.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal("bytes 7-14/21", part.Content.Headers.ContentRange!.ToString());
        }
        using (var tail = await gateway.GetAsync(token, $"/browse/{id}/hello.txt", r => r.Headers.Range = new RangeHeaderValue(null, 5)))
            Assert.Equal("world", await tail.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using (var beyond = await gateway.GetAsync(token, $"/browse/{id}/hello.txt", r => r.Headers.Range = new RangeHeaderValue(100, 200)))
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
        using (var nested = await gateway.GetAsync(token, $"/browse/{id}/dir/nested.txt"))
            Assert.Equal("nested", await nested.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "browsingSessionCreate" && e.Outcome == AuditOutcome.Allowed && e.Target == $"s3://{gateway.Data}/{prefix}");
        Assert.Contains(audit, e => e.Action == "download" && e.Target!.StartsWith($"s3://{gateway.Data}/{prefix}hello.txt?versionId=", StringComparison.Ordinal) && e.Details!["range"]?.GetValue<string>() == "7-14");
    }

    [Fact]
    public async Task Nothing_outside_the_scope_is_served()
    {
        var (subject, token, prefix) = await SeedAsync();
        var id = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}");
        foreach (var path in new[] { $"%2E%2E/%2E%2E/private/{subject}.txt", $"..%2F..%2Fprivate%2F{subject}.txt", "dir/../../../private/x.txt", $"dir/%2E%2E/%2E%2E/%2E%2E/private/{subject}.txt" })
        {
            using var response = await gateway.GetAsync(token, $"/browse/{id}/{path}");
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("not for the session", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }

        // One-object sessions serve that object only.
        var single = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}hello.txt");
        using (var ok = await gateway.GetAsync(token, $"/browse/{single}/hello.txt"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var sibling = await gateway.GetAsync(token, $"/browse/{single}/dir/nested.txt"))
            Assert.Equal(HttpStatusCode.Forbidden, sibling.StatusCode);

        var link = (await gateway.DataAsync(token, Link, new { id = single, path = "dir/nested.txt" }))["browsingSessionLink"]!;
        Assert.Equal("OperationError", link["__typename"]!.GetValue<string>());
        Assert.Contains(await gateway.AuditAsync(subject), e => e.Action == "download" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task A_session_is_its_creators_only()
    {
        var (_, token, prefix) = await SeedAsync();
        var id = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}");
        var thief = GatewayFixture.NewSubject("thief");
        using var response = await gateway.GetAsync(gateway.Tokens.Hs256(thief, "reader"), $"/browse/{id}/hello.txt");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(await gateway.AuditAsync(thief), e => e.Action == "download" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task A_role_cannot_open_a_session_on_what_it_may_not_read()
    {
        var (subject, _, prefix) = await SeedAsync();
        var outsider = gateway.Tokens.Hs256(subject, "outsider");
        var result = (await gateway.DataAsync(outsider, Create, new { scope = $"s3://{gateway.Data}/{prefix}", ttl = 60 }))["browsingSessionCreate"]!;
        Assert.Equal("OperationError", result["__typename"]!.GetValue<string>());
        Assert.Equal("Forbidden", result["name"]!.GetValue<string>());

        var bad = (await gateway.DataAsync(outsider, Create, new { scope = "https://example.test/x", ttl = 60 }))["browsingSessionCreate"]!;
        Assert.Equal("InvalidInput", bad["__typename"]!.GetValue<string>());
        Assert.Equal("scope", bad["errors"]![0]!["path"]!.GetValue<string>());

        var tooLong = (await gateway.DataAsync(outsider, Create, new { scope = $"s3://{gateway.Other}/", ttl = 10_000_000 }))["browsingSessionCreate"]!;
        Assert.Equal("InvalidInput", tooLong["__typename"]!.GetValue<string>());
        Assert.Contains(await gateway.AuditAsync(subject), e => e.Action == "browsingSessionCreate" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task An_expired_or_disposed_session_serves_nothing_and_refresh_extends_it()
    {
        var (subject, token, prefix) = await SeedAsync();
        var shortLived = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}", ttl: 1);
        var longLived = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}", ttl: 1);
        var refreshed = (await gateway.DataAsync(token, "mutation($id: ID!) { browsingSessionRefresh(id: $id, ttl: 600) { __typename ... on BrowsingSession { expires } } }",
            new { id = longLived }))["browsingSessionRefresh"]!;
        Assert.Equal("BrowsingSession", refreshed["__typename"]!.GetValue<string>());

        await Task.Delay(TimeSpan.FromMilliseconds(1500), TestContext.Current.CancellationToken);
        using (var expired = await gateway.GetAsync(token, $"/browse/{shortLived}/hello.txt"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
            Assert.Contains("expired", await expired.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        var link = (await gateway.DataAsync(token, Link, new { id = shortLived, path = "hello.txt" }))["browsingSessionLink"]!;
        Assert.Equal("OperationError", link["__typename"]!.GetValue<string>());
        using (var alive = await gateway.GetAsync(token, $"/browse/{longLived}/hello.txt"))
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

        var disposed = (await gateway.DataAsync(token, "mutation($id: ID!) { browsingSessionDispose(id: $id) { __typename } }", new { id = longLived }))["browsingSessionDispose"]!;
        Assert.Equal("Ok", disposed["__typename"]!.GetValue<string>());
        using (var gone = await gateway.GetAsync(token, $"/browse/{longLived}/hello.txt"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var audit = await gateway.AuditAsync(subject);
        Assert.Contains(audit, e => e.Action == "download" && e.Outcome == AuditOutcome.Denied && (e.Details?["reason"]?.GetValue<string>() ?? "").Contains("expired", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.Action == "browsingSessionRefresh" && e.Outcome == AuditOutcome.Allowed);
        Assert.Contains(audit, e => e.Action == "browsingSessionDispose" && e.Outcome == AuditOutcome.Allowed);
    }

    [Fact]
    public async Task A_link_is_a_short_lived_presigned_get_that_needs_no_token()
    {
        var (subject, token, prefix) = await SeedAsync();
        var id = await SessionAsync(token, $"s3://{gateway.Data}/{prefix}");
        var link = (await gateway.DataAsync(token, Link, new { id, path = "hello.txt" }))["browsingSessionLink"]!;
        Assert.True(link["__typename"]!.GetValue<string>() == "BrowsingSessionLink", link.ToJsonString());
        Assert.Equal(21, link["object"]!["size"]!.GetValue<double>());
        var expires = DateTimeOffset.Parse(link["expires"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(expires <= DateTimeOffset.UtcNow.AddSeconds(31));

        using var plain = new HttpClient();
        var text = await plain.GetStringAsync(new Uri(link["url"]!.GetValue<string>()), TestContext.Current.CancellationToken);
        Assert.Equal("hello, browsing world", text);
        var line = Assert.Single(await gateway.AuditAsync(subject), e => e.Action == "browsingSessionLink");
        Assert.Equal(AuditOutcome.Allowed, line.Outcome);
        Assert.NotNull(line.Details!["expires"]);
    }
}
