using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Requests refused for their token are audited without letting anyone flood the trail: a bounded number of lines of
/// bounded size per client and minute, then one line that counts the rest. GET /healthz needs no token and writes nothing.
/// </summary>
public sealed class RefusalAuditTests(GatewayFixture gateway)
{
    private const int PerMinute = 5;

    /// <summary>A clock that stands still until the test moves it.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task A_flood_of_bad_tokens_to_long_paths_writes_few_small_audit_lines_and_counts_the_rest()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var instance = await GatewayInstance.StartAsync(gateway, o => o.Audit.RefusalsPerMinute = PerMinute, time: clock);
        var store = instance.Services.GetRequiredService<IAuditStore>();
        var longPath = "/graphql/" + new string('p', 7000);
        var forged = gateway.Tokens.Forged(GatewayFixture.NewSubject("flood") + new string('s', 3000), "publisher");

        const int Flood = 40;
        for (var i = 0; i < Flood; i++)
        {
            using var response = await instance.SendAsync(HttpMethod.Get, longPath, forged);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var lines = await AllAsync(store);
        Assert.Equal(PerMinute, lines.Count);
        Assert.All(lines, AssertSmall);
        Assert.All(lines, e => Assert.Contains("signature", e.Details!["reason"]!.GetValue<string>(), StringComparison.Ordinal));

        // A minute later the next refusal is recorded again, after one line that counts the ones that were not.
        clock.Now += TimeSpan.FromSeconds(61);
        using (var response = await instance.SendAsync(HttpMethod.Get, longPath, forged))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        lines = await AllAsync(store);
        Assert.Equal(PerMinute + 2, lines.Count);
        Assert.All(lines, AssertSmall);
        var counted = Assert.Single(lines, e => e.Details?["refusedNotRecorded"] is not null);
        Assert.Equal(Flood - PerMinute, counted.Details!["refusedNotRecorded"]!.GetValue<long>());
        Assert.Equal("127.0.0.1", counted.Details["client"]!.GetValue<string>());
        Assert.Equal(AuditOutcome.Denied, counted.Outcome);
    }

    [Fact]
    public async Task A_flood_of_forged_part_urls_shares_the_same_bounded_budget()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var instance = await GatewayInstance.StartAsync(gateway, o => o.Audit.RefusalsPerMinute = PerMinute, time: clock);
        var store = instance.Services.GetRequiredService<IAuditStore>();

        // Part URLs need no token (their secret is the proof), so anyone can send made-up ones.
        const int Flood = 40;
        for (var i = 0; i < Flood; i++)
        {
            using var body = new ByteArrayContent(new byte[16]);
            using var response = await instance.SendAsync(HttpMethod.Put, $"/uploads/{i:x32}/parts/1?secret={new string('s', 2000)}", content: body);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        var lines = await AllAsync(store);
        Assert.Equal(PerMinute, lines.Count);
        Assert.All(lines, e => Assert.Equal("multipartUploadPart", e.Action));
        Assert.All(lines, e => Assert.True((e.Details?.ToJsonString().Length ?? 0) <= 1024));
        Assert.All(lines, e => Assert.DoesNotContain("sss", e.Details?.ToJsonString() ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Healthz_answers_without_a_token_and_writes_no_audit_line()
    {
        await using var instance = await GatewayInstance.StartAsync(gateway);
        var store = instance.Services.GetRequiredService<IAuditStore>();
        var before = (await AllAsync(store)).Count;
        foreach (var token in new[] { null, "not.a.jwt" })
        {
            using var response = await instance.SendAsync(HttpMethod.Get, "/healthz", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok", (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Trim());
        }
        Assert.Equal(before, (await AllAsync(store)).Count);

        // Everything else still needs a token.
        using (var graphql = await instance.SendAsync(HttpMethod.Get, "/graphql"))
            Assert.Equal(HttpStatusCode.Unauthorized, graphql.StatusCode);
    }

    [Fact]
    public void One_budget_covers_an_ipv4_address_or_a_whole_ipv6_64()
    {
        static string Key(string address) => Services.RefusalAudit.ClientKey(IPAddress.Parse(address));
        // One host usually holds a whole /64: cycling through its addresses must not buy a fresh budget each time.
        Assert.Equal(Key("2001:db8:1:2::1"), Key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        Assert.NotEqual(Key("2001:db8:1:2::1"), Key("2001:db8:1:3::1"));
        Assert.Equal("192.0.2.7", Key("192.0.2.7"));
        Assert.Equal("192.0.2.7", Key("::ffff:192.0.2.7"));
        Assert.NotEqual(Key("192.0.2.7"), Key("192.0.2.8"));
    }

    private static async Task<IReadOnlyList<AuditEvent>> AllAsync(IAuditStore store) =>
        await store.ReadAsync(new AuditQuery { Limit = 10_000 }, TestContext.Current.CancellationToken);

    private static void AssertSmall(AuditEvent e)
    {
        Assert.Equal("token", e.Action);
        Assert.True((e.Target?.Length ?? 0) <= 300, $"target of {e.Target?.Length} characters");
        var details = e.Details?.ToJsonString() ?? "";
        Assert.True(details.Length <= 1024, $"details of {details.Length} characters: {details[..Math.Min(200, details.Length)]}…");
    }
}
