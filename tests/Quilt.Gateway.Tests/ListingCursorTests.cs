using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Listing cursors are opaque, sealed by the gateway and bound to the listing and the caller: paging reveals no key
/// outside the caller's grant, and a crafted, altered or borrowed cursor is refused.
/// </summary>
public sealed class ListingCursorTests(GatewayFixture gateway)
{
    private const string List = """
        query($b: String!, $p: String, $d: String, $first: Int, $after: String) {
          bucketObjects(bucket: $b, prefix: $p, delimiter: $d, first: $first, after: $after) {
            __typename
            ... on BucketObjectList { objects { key } prefixes cursor }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private async Task<JsonNode> ListAsync(string token, string prefix, string? after, string delimiter = "/", int first = 1) =>
        (await gateway.DataAsync(token, List, new { b = gateway.Data, p = prefix, d = delimiter, first, after }))["bucketObjects"]!;

    [Fact]
    public async Task A_role_limited_to_a_prefix_cannot_reach_keys_outside_it_by_crafting_after()
    {
        var subject = GatewayFixture.NewSubject("crafter");
        var hidden = $"secret-{subject}/plans.txt";
        await gateway.PutAsync(gateway.Data, hidden, "not for the bulk role"u8.ToArray());
        await gateway.PutAsync(gateway.Data, $"big/{subject}.bin", "b"u8.ToArray());
        // The bulk role reads only big/; listing the bucket root shows it just that folder.
        var token = gateway.Tokens.Hs256(subject, "bulk");

        // S3's own continuation tokens (Ceph's is the next key) and made-up strings are not cursors.
        foreach (var crafted in new[] { $"secret-{subject}/", hidden, "big/", Convert.ToBase64String(Encoding.UTF8.GetBytes(hidden)), "AAAA" })
        {
            foreach (var delimiter in new[] { "/", "" })
            {
                var page = await ListAsync(token, "", crafted, delimiter);
                Assert.True(page["__typename"]!.GetValue<string>() == "InvalidInput", $"after '{crafted}' (delimiter '{delimiter}'): {page.ToJsonString()}");
                Assert.Equal("after", page["errors"]![0]!["path"]!.GetValue<string>());
                Assert.Contains("not a cursor", page["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.DoesNotContain("plans.txt", page.ToJsonString(), StringComparison.Ordinal);
            }
        }
        Assert.Contains(await gateway.AuditAsync(subject), e => e.Action == "bucketObjects" && e.Outcome == AuditOutcome.Denied
            && (e.Details?["reason"]?.GetValue<string>() ?? "").Contains("not a cursor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cursors_page_through_a_listing_without_revealing_the_next_key()
    {
        var subject = GatewayFixture.NewSubject("pager");
        var prefix = $"cursors/{subject}/";
        var keys = Enumerable.Range(0, 4).Select(i => $"{prefix}k{i}.txt").ToList();
        foreach (var key in keys)
            await gateway.PutAsync(gateway.Data, key, "x"u8.ToArray());
        var token = gateway.Tokens.Hs256(subject, "reader");

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await ListAsync(token, prefix, cursor);
            Assert.Equal("BucketObjectList", page["__typename"]!.GetValue<string>());
            seen.AddRange(page["objects"]!.AsArray().Select(o => o!["key"]!.GetValue<string>()));
            cursor = page["cursor"]?.GetValue<string>();
            if (cursor is not null)
            {
                // Opaque: no key (nor the folder's name) readable in the cursor, as it is or decoded.
                Assert.DoesNotContain(subject, cursor, StringComparison.Ordinal);
                Assert.DoesNotContain(subject, Decoded(cursor), StringComparison.Ordinal);
            }
        }
        while (cursor is not null && seen.Count < 10);
        Assert.Equal(keys, seen);
    }

    private static string Decoded(string cursor)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor.Replace('+', '-').Replace('/', '_').TrimEnd('=')));
        }
        catch (FormatException)
        {
            return "";
        }
    }

    [Fact]
    public async Task A_cursor_works_only_for_its_own_listing_user_and_role_and_unaltered()
    {
        var subject = GatewayFixture.NewSubject("bound");
        var prefix = $"cursors/{subject}/";
        for (var i = 0; i < 3; i++)
            await gateway.PutAsync(gateway.Data, $"{prefix}sub/k{i}.txt", "x"u8.ToArray());
        var token = gateway.Tokens.Hs256(subject, "reader", "uploader");
        var cursor = (await ListAsync(token, prefix + "sub/", null))["cursor"]!.GetValue<string>();
        Assert.Equal("BucketObjectList", (await ListAsync(token, prefix + "sub/", cursor))["__typename"]!.GetValue<string>());

        async Task RefusedAsync(string who, string asToken, string listPrefix, string after, string delimiter = "/")
        {
            var page = await ListAsync(asToken, listPrefix, after, delimiter);
            Assert.True(page["__typename"]!.GetValue<string>() == "InvalidInput", $"{who}: {page.ToJsonString()}");
            Assert.Equal("after", page["errors"]![0]!["path"]!.GetValue<string>());
        }

        await RefusedAsync("another prefix", token, prefix, cursor);
        await RefusedAsync("the bucket root", token, "", cursor);
        await RefusedAsync("another delimiter", token, prefix + "sub/", cursor, delimiter: "");
        await RefusedAsync("another user", gateway.Tokens.Hs256(GatewayFixture.NewSubject("thief"), "reader"), prefix + "sub/", cursor);
        var altered = cursor[..^2] + (cursor[^2] == 'A' ? 'B' : 'A') + cursor[^1];
        await RefusedAsync("an altered cursor", token, prefix + "sub/", altered);

        var switched = await gateway.DataAsync(token, "mutation { switchRole(roleName: \"uploader\") { __typename } }");
        Assert.Equal("Me", switched["switchRole"]!["__typename"]!.GetValue<string>());
        await RefusedAsync("another role", token, prefix + "sub/", cursor);
    }
}
