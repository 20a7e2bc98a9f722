using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Quilt.Gateway.Tests;

/// <summary>
/// A GraphQL document costs at most what the gateway allows: its fields once fragments are expanded, its depth and its
/// estimated cost are bounded before anything runs, and a request stops at the execution timeout or when its client
/// goes away. Every refusal names the limit.
/// </summary>
public sealed class QueryCostTests(GatewayFixture gateway)
{
    /// <summary>Posts a document; the guard makes a gateway that would work on it for minutes fail the test instead of hanging it.</summary>
    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string query, object? variables = null)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseUrl, "/graphql")) { Content = JsonContent.Create(new { query, variables }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gateway.Tokens.Hs256(GatewayFixture.NewSubject("cost"), "reader"));
        using var response = await gateway.Http.SendAsync(request, guard.Token);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(guard.Token))!);
    }

    private static string Message(JsonNode body) => body["errors"]![0]!["message"]!.GetValue<string>();

    [Fact]
    public async Task Fragments_that_spread_each_other_twice_are_refused_at_once_naming_the_field_limit()
    {
        // F0 spreads F1 twice, F1 spreads F2 twice, ...: 2^40 copies of "me { name }" once expanded.
        var document = new StringBuilder("query { ...F0 }\n");
        for (var i = 0; i < 40; i++)
            document.Append(System.Globalization.CultureInfo.InvariantCulture, $"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n");
        document.Append("fragment F40 on Query { me { name } }\n");

        var (status, body) = await PostAsync(document.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(body["data"]);
        Assert.Equal("QUERY_TOO_LARGE", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains($"more than {gateway.Options.GraphQL.MaxFields} fields", Message(body), StringComparison.Ordinal);
        Assert.Contains("graphql.maxFields", Message(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Twenty_thousand_repeated_fields_are_refused_naming_the_field_limit()
    {
        var (status, body) = await PostAsync("{ me { " + string.Join(' ', Enumerable.Repeat("name", 20_000)) + " } }");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("graphql.maxFields", Message(body), StringComparison.Ordinal);

        var (aliased, aliasBody) = await PostAsync("{ " + string.Join(' ', Enumerable.Range(0, 5_000).Select(i => $"a{i}: me {{ name }}")) + " }");
        Assert.Equal(HttpStatusCode.BadRequest, aliased);
        Assert.Contains("graphql.maxFields", Message(aliasBody), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deeply_nested_fields_are_refused_naming_the_depth_limit()
    {
        var inner = "__typename";
        for (var i = 0; i < 25; i++)
            inner = $"... on PackageDir {{ children {{ {inner} }} }}";
        var query = $"query($b: String!) {{ package(bucket: $b, name: \"x/y\") {{ revision {{ dir(path: \"\") {{ children {{ {inner} }} }} }} }} }}";

        var (status, body) = await PostAsync(query, new { b = gateway.Data });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("graphql.maxDepth", Message(body), StringComparison.Ordinal);
        Assert.Contains($"allows {gateway.Options.GraphQL.MaxDepth}", Message(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_large_pages_in_one_request_are_refused_naming_the_complexity_limit()
    {
        var pages = string.Join('\n', Enumerable.Range(0, 60).Select(i => $"a{i}: auditEvents(first: 1000) {{ id time subject role action target outcome details }}"));
        var (status, body) = await PostAsync("{ " + pages + " }");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("graphql.maxComplexity", Message(body), StringComparison.Ordinal);
        Assert.Contains($"allows {gateway.Options.GraphQL.MaxComplexity}", Message(body), StringComparison.Ordinal);

        // One page of the largest size is an ordinary request.
        var (ok, okBody) = await PostAsync("query($b: String!) { bucketObjects(bucket: $b, first: 1000) { ... on BucketObjectList { objects { key size modified etag } prefixes cursor } } }",
            new { b = gateway.Data });
        Assert.True(ok == HttpStatusCode.OK && okBody["errors"] is null, okBody.ToJsonString());
    }

    [Fact]
    public async Task The_standard_introspection_query_is_within_the_limits()
    {
        const string Introspection = """
            query IntrospectionQuery {
              __schema {
                queryType { name } mutationType { name } subscriptionType { name }
                types { ...FullType }
                directives { name description locations args { ...InputValue } }
              }
            }
            fragment FullType on __Type {
              kind name description
              fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
              inputFields { ...InputValue }
              interfaces { ...TypeRef }
              enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
              possibleTypes { ...TypeRef }
            }
            fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
            fragment TypeRef on __Type {
              kind name
              ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
            }
            """;
        var (status, body) = await PostAsync(Introspection);
        Assert.True(status == HttpStatusCode.OK && body["errors"] is null, body.ToJsonString()[..Math.Min(500, body.ToJsonString().Length)]);
        Assert.Contains(body["data"]!["__schema"]!["types"]!.AsArray(), t => t!["name"]!.GetValue<string>() == "BucketObjectList");
    }

    [Fact]
    public async Task A_request_that_outlasts_the_timeout_is_stopped_with_its_work_and_says_so()
    {
        await using var s3 = new StallingServer();
        await using var instance = await GatewayInstance.StartAsync(gateway, o =>
        {
            o.S3.Endpoint = s3.Url;
            o.GraphQL.TimeoutSeconds = 1;
        });
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("slow"), "reader");
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(TimeSpan.FromSeconds(60));

        // The listing waits on an S3 server that never answers: only the timeout can end it.
        var (status, body) = await instance.GraphQLAsync(token, "query($b: String!) { bucketObjects(bucket: $b) { __typename } }", new { b = gateway.Data }, "/graphql", guard.Token);
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("TIMEOUT", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains("limit of 1 s (graphql.timeoutSeconds)", Message(body), StringComparison.Ordinal);
        // The S3 request was cancelled too: its connection is closed.
        await s3.ClosedAsync(guard.Token);
    }

    [Fact]
    public async Task A_client_that_goes_away_cancels_the_work_of_its_request()
    {
        await using var s3 = new StallingServer();
        // No search reconciliation at start: its listing would be the stalled request this test waits for.
        await using var instance = await GatewayInstance.StartAsync(gateway, o =>
        {
            o.S3.Endpoint = s3.Url;
            o.Search.ReconcileAtStart = false;
        });
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("gone"), "reader");
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(TimeSpan.FromSeconds(60));
        using var client = CancellationTokenSource.CreateLinkedTokenSource(guard.Token);

        var request = instance.GraphQLAsync(token, "query($b: String!) { bucketObjects(bucket: $b) { __typename } }", new { b = gateway.Data }, "/graphql", client.Token);
        await s3.RequestReceivedAsync(guard.Token);
        await client.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await s3.ClosedAsync(guard.Token);
    }

    /// <summary>An "S3 server" that accepts connections and reads requests but never answers.</summary>
    private sealed class StallingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentBag<TcpClient> _connections = [];
        private readonly Task _accepting;

        public StallingServer()
        {
            _listener.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _accepting = AcceptAsync();
        }

        public string Url { get; }

        public Task RequestReceivedAsync(CancellationToken cancellationToken) => _received.Task.WaitAsync(cancellationToken);

        /// <summary>Completes when a connection that carried a request is closed by the other side.</summary>
        public Task ClosedAsync(CancellationToken cancellationToken) => _closed.Task.WaitAsync(cancellationToken);

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var connection = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _connections.Add(connection);
                    _ = DrainAsync(connection);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task DrainAsync(TcpClient connection)
        {
            var buffer = new byte[4096];
            var received = false;
            try
            {
                var stream = connection.GetStream();
                while (true)
                {
                    var n = await stream.ReadAsync(buffer, _stop.Token);
                    if (n == 0)
                        break;
                    received = true;
                    _received.TrySetResult();
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                if (_stop.IsCancellationRequested)
                    return;
            }
            if (received)
                _closed.TrySetResult();
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            foreach (var connection in _connections)
                connection.Dispose();
            await _accepting;
            _stop.Dispose();
        }
    }
}
