using System.Text;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>The additions for the MCP tools: listing a prefix and one object's info, within the role's read grants.</summary>
public sealed class ObjectTests(GatewayFixture gateway)
{
    private const string List = """
        query($b: String!, $p: String, $first: Int, $after: String) {
          bucketObjects(bucket: $b, prefix: $p, first: $first, after: $after) {
            __typename
            ... on BucketObjectList { prefix objects { key size modified etag } prefixes cursor }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    private const string Head = """
        query($b: String!, $k: String!) {
          bucketObject(bucket: $b, key: $k) {
            __typename
            ... on S3Object { key size contentType version etag modified }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    [Fact]
    public async Task A_prefix_lists_its_objects_and_folders_page_by_page()
    {
        var subject = GatewayFixture.NewSubject("list");
        var prefix = $"listing/{subject}/";
        for (var i = 0; i < 3; i++)
            await gateway.PutAsync(gateway.Data, $"{prefix}f{i}.txt", Encoding.UTF8.GetBytes(new string('x', i + 1)));
        await gateway.PutAsync(gateway.Data, $"{prefix}sub/inner.txt", "i"u8.ToArray());
        var token = gateway.Tokens.Hs256(subject, "reader");

        var first = (await gateway.DataAsync(token, List, new { b = gateway.Data, p = prefix, first = 2 }))["bucketObjects"]!;
        Assert.Equal("BucketObjectList", first["__typename"]!.GetValue<string>());
        var cursor = first["cursor"]!.GetValue<string>();
        var second = (await gateway.DataAsync(token, List, new { b = gateway.Data, p = prefix, first = 2, after = cursor }))["bucketObjects"]!;
        var keys = first["objects"]!.AsArray().Concat(second["objects"]!.AsArray()).Select(o => o!["key"]!.GetValue<string>()).ToList();
        var prefixes = first["prefixes"]!.AsArray().Concat(second["prefixes"]!.AsArray()).Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal([$"{prefix}f0.txt", $"{prefix}f1.txt", $"{prefix}f2.txt"], keys);
        Assert.Equal([$"{prefix}sub/"], prefixes);
    }

    [Fact]
    public async Task A_listing_shows_only_what_the_role_may_read()
    {
        var subject = GatewayFixture.NewSubject("narrow");
        await gateway.PutAsync(gateway.Data, $"big/{subject}.bin", "b"u8.ToArray());
        var bulk = gateway.Tokens.Hs256(subject, "bulk");
        var root = (await gateway.DataAsync(bulk, List, new { b = gateway.Data, p = "" }))["bucketObjects"]!;
        Assert.Equal("BucketObjectList", root["__typename"]!.GetValue<string>());
        Assert.Equal(["big/"], root["prefixes"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Empty(root["objects"]!.AsArray());

        var outside = (await gateway.DataAsync(bulk, List, new { b = gateway.Data, p = "shared/" }))["bucketObjects"]!;
        Assert.Equal("OperationError", outside["__typename"]!.GetValue<string>());
        Assert.Equal("Forbidden", outside["name"]!.GetValue<string>());
        Assert.Contains(await gateway.AuditAsync(subject), e => e.Action == "bucketObjects" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public async Task Object_info_is_a_head_within_the_roles_rights()
    {
        var subject = GatewayFixture.NewSubject("head");
        var key = $"info/{subject}.json";
        await gateway.PutAsync(gateway.Data, key, "{\"a\": 1}"u8.ToArray(), "application/json");
        var info = (await gateway.DataAsync(gateway.Tokens.Hs256(subject, "reader"), Head, new { b = gateway.Data, k = key }))["bucketObject"]!;
        Assert.Equal("S3Object", info["__typename"]!.GetValue<string>());
        Assert.Equal(8, info["size"]!.GetValue<double>());
        Assert.Equal("application/json", info["contentType"]!.GetValue<string>());
        Assert.NotNull(info["version"]);

        var missing = (await gateway.DataAsync(gateway.Tokens.Hs256(subject, "reader"), Head, new { b = gateway.Data, k = key + ".nope" }))["bucketObject"]!;
        Assert.Equal("InvalidInput", missing["__typename"]!.GetValue<string>());
        Assert.Equal("NotFound", missing["errors"]![0]!["name"]!.GetValue<string>());

        var denied = (await gateway.DataAsync(gateway.Tokens.Hs256(subject, "outsider"), Head, new { b = gateway.Data, k = key }))["bucketObject"]!;
        Assert.Equal("OperationError", denied["__typename"]!.GetValue<string>());
        Assert.Equal("Forbidden", denied["name"]!.GetValue<string>());
    }

    // The gateway took a key ending in '/' (a folder marker) for an object; the tools never did. Now both refuse it.
    [Fact]
    public async Task A_folder_marker_is_not_an_object_key()
    {
        var subject = GatewayFixture.NewSubject("marker");
        var marker = $"info/{subject}/";
        await gateway.PutAsync(gateway.Data, marker, []);
        await gateway.PutAsync(gateway.Data, marker + "inside.txt", "i"u8.ToArray());
        var token = gateway.Tokens.Hs256(subject, "reader");

        var refused = (await gateway.DataAsync(token, Head, new { b = gateway.Data, k = marker }))["bucketObject"]!;
        Assert.Equal("InvalidInput", refused["__typename"]!.GetValue<string>());
        Assert.Contains("empty path segment", refused["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var inside = (await gateway.DataAsync(token, Head, new { b = gateway.Data, k = marker + "inside.txt" }))["bucketObject"]!;
        Assert.Equal("S3Object", inside["__typename"]!.GetValue<string>());
    }
}
