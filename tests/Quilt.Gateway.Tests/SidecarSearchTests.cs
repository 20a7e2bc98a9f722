using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Who answers Quilt's search queries in sidecar mode (upstream.search), against a stock-mode gateway standing in for
/// the Quilt stack. A bucket of its own holds one object the role may read and one it may not. In each test the server
/// that must not answer has its search switched off, so an answer with hits shows which of the two gave it.
/// </summary>
public sealed class SidecarSearchTests(GatewayFixture gateway) : IAsyncLifetime
{
    private const string Role = "open-reader";
    private const string Readable = "open/atlas-sidecar.txt";
    private const string AlsoReadable = "open/more/atlas-sidecar.txt";
    private const string Hidden = "closed/atlas-sidecar.txt";

    private const string SearchObjects = """
        query($b: [String!], $size: Int) {
          searchObjects(buckets: $b, searchString: "atlas") {
            __typename
            ... on ObjectsSearchResultSet { total firstPage(size: $size) { cursor hits { key } } }
            ... on OperationError { name message }
          }
        }
        """;

    private string _bucket = "";

    public async ValueTask InitializeAsync()
    {
        _bucket = await gateway.S3.CreateBucketAsync();
        await gateway.PutAsync(_bucket, Readable, Encoding.UTF8.GetBytes("a sidecar atlas anyone in the role may read"));
        await gateway.PutAsync(_bucket, AlsoReadable, Encoding.UTF8.GetBytes("another sidecar atlas in the role's grants"));
        await gateway.PutAsync(_bucket, Hidden, Encoding.UTF8.GetBytes("a sidecar atlas outside the role's grants"));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Only this test's bucket, and only its open/ prefix, for the one role.</summary>
    private void Configure(GatewayOptions options, bool searchEnabled)
    {
        options.Roles.Clear();
        options.Users.Clear();
        options.Roles[Role] = new RoleOptions { Grants = [new GrantOptions { Bucket = _bucket, Prefix = "open/", Read = true }] };
        options.Search.Enabled = searchEnabled;
        options.Search.ReconcileAtStart = false;
        options.Search.ReconcileIntervalSeconds = 0;
    }

    private static Task ReconcileAsync(GatewayInstance instance) =>
        instance.Services.GetRequiredService<SearchReconciler>().RunOnceAsync(TestContext.Current.CancellationToken);

    private static List<string> Keys(JsonNode page) => page["hits"]!.AsArray().Select(h => h!["key"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task By_default_search_is_forwarded_to_the_upstream_and_answered_by_its_index()
    {
        await using var upstream = await GatewayInstance.StartAsync(gateway, o => Configure(o, searchEnabled: true));
        await ReconcileAsync(upstream);
        await using var sidecar = await GatewayInstance.StartAsync(gateway, o =>
        {
            Configure(o, searchEnabled: false);
            o.Upstream.Url = new Uri(upstream.BaseUrl, "/graphql").AbsoluteUri;
            o.Upstream.Roles = UpstreamOptions.RolesFromUpstreamMe;
        });
        Assert.Equal(UpstreamOptions.SearchAtUpstream, sidecar.Options.Upstream.Search);
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("search-fwd"), Role);

        // The sidecar's own search is off: hits can only be the upstream's.
        var direct = await upstream.DataAsync(token, SearchObjects, new { b = new[] { _bucket }, size = 10 });
        var forwarded = await sidecar.DataAsync(token, SearchObjects, new { b = new[] { _bucket }, size = 10 });
        Assert.Equal("ObjectsSearchResultSet", forwarded["searchObjects"]!["__typename"]!.GetValue<string>());
        Assert.Equal([Readable, AlsoReadable], Keys(direct["searchObjects"]!["firstPage"]!));
        Assert.Equal(Keys(direct["searchObjects"]!["firstPage"]!), Keys(forwarded["searchObjects"]!["firstPage"]!));
    }

    [Fact]
    public async Task With_upstream_search_gateway_the_sidecar_answers_from_its_own_index_inside_the_callers_grants()
    {
        await using var upstream = await GatewayInstance.StartAsync(gateway, o => Configure(o, searchEnabled: false));
        await using var sidecar = await GatewayInstance.StartAsync(gateway, o =>
        {
            Configure(o, searchEnabled: true);
            o.Upstream.Url = new Uri(upstream.BaseUrl, "/graphql").AbsoluteUri;
            o.Upstream.Roles = UpstreamOptions.RolesFromUpstreamMe;
            o.Upstream.Search = UpstreamOptions.SearchAtGateway;
        });
        await ReconcileAsync(sidecar);
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("search-local"), Role);

        // The upstream cannot search here; the sidecar can, and shows only what the role may read.
        var atUpstream = await upstream.DataAsync(token, SearchObjects, new { b = new[] { _bucket }, size = 1 });
        Assert.Equal("OperationError", atUpstream["searchObjects"]!["__typename"]!.GetValue<string>());
        var local = await sidecar.DataAsync(token, SearchObjects, new { b = new[] { _bucket }, size = 1 });
        Assert.Equal(2, local["searchObjects"]!["total"]!.GetValue<int>());
        var first = Keys(local["searchObjects"]!["firstPage"]!);

        // The next page is the sidecar's too (searchMoreObjects, with the cursor it sealed): together, all the role may read.
        var cursor = local["searchObjects"]!["firstPage"]!["cursor"]!.GetValue<string>();
        var more = await sidecar.DataAsync(token, "query($c: String!) { searchMoreObjects(after: $c, size: 10) { __typename ... on ObjectsSearchResultSetPage { hits { key } } } }",
            new { c = cursor });
        Assert.Equal("ObjectsSearchResultSetPage", more["searchMoreObjects"]!["__typename"]!.GetValue<string>());
        Assert.Equal([Readable, AlsoReadable], first.Concat(Keys(more["searchMoreObjects"]!)).Order(StringComparer.Ordinal));

        // Search is now one of the sidecar's own fields: a request that mixes it with a forwarded one runs nothing.
        var (status, mixed) = await sidecar.GraphQLAsync(token, "{ me { name } searchObjects(searchString: \"atlas\") { __typename } }", null, "/graphql",
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("MIXED_OPERATION", mixed["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        // Quilt's other operations are still forwarded.
        Assert.NotNull((await sidecar.DataAsync(token, "{ me { name } }"))["me"]);
    }

    [Theory]
    [InlineData("elasticsearch", "upstream.search 'elasticsearch' is not \"upstream\"")]
    [InlineData("", "upstream.search '' is not \"upstream\"")]
    public async Task Another_value_of_upstream_search_stops_the_start_with_a_clear_error(string value, string expected)
    {
        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayInstance.StartAsync(gateway, o =>
        {
            o.Upstream.Url = "https://registry.example.com/graphql";
            o.Upstream.Search = value;
        }));
        Assert.Contains(expected, string.Join("\n", ex.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_search_gateway_with_the_gateways_search_off_stops_the_start()
    {
        var ex = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayInstance.StartAsync(gateway, o =>
        {
            o.Upstream.Url = "https://registry.example.com/graphql";
            o.Upstream.Search = "Gateway";
            o.Search.Enabled = false;
        }));
        Assert.Contains("upstream.search is \"gateway\" but search.enabled is false", string.Join("\n", ex.Problems), StringComparison.Ordinal);
    }
}
