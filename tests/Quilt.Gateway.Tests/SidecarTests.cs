using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Tests;

/// <summary>
/// Sidecar mode against a stand-in for a real Quilt registry: a second gateway in stock mode (no upload API) on
/// loopback. Its bucket titles differ from the sidecar's own, so an answer shows which of the two served it.
/// </summary>
public sealed class SidecarTests(GatewayFixture gateway)
{
    private const string UpstreamTitle = "Served by the upstream";

    private const string Generate = """
        mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { uploadUrl fields expires } }
        """;

    private Task<GatewayInstance> StartUpstreamAsync(Action<GatewayOptions>? configure = null) =>
        GatewayInstance.StartAsync(gateway, o =>
        {
            o.Uploads.Enabled = false;
            o.Buckets[gateway.Data] = new BucketOptions { Title = UpstreamTitle };
            configure?.Invoke(o);
        });

    private Task<GatewayInstance> StartSidecarAsync(string upstreamUrl, Action<GatewayOptions>? configure = null) =>
        GatewayInstance.StartAsync(gateway, o =>
        {
            o.Upstream.Url = upstreamUrl;
            o.Upstream.Roles = UpstreamOptions.RolesFromUpstreamMe;
            configure?.Invoke(o);
        });

    private static string GraphQLUrl(GatewayInstance instance) => new Uri(instance.BaseUrl, "/graphql").AbsoluteUri;

    /// <summary>POSTs exactly <paramref name="body"/> to /graphql; returns status, Content-Type, WWW-Authenticate and the body text.</summary>
    private async Task<(HttpStatusCode Status, string? ContentType, string? Authenticate, string Body)> PostAsync(Uri baseUrl, string? token, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/graphql"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(),
            response.Headers.WwwAuthenticate.Count == 0 ? null : response.Headers.WwwAuthenticate.ToString(), text);
    }

    private static string Body(string query, object? variables = null) =>
        new JsonObject { ["query"] = query, ["variables"] = variables is null ? null : JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(variables)) }.ToJsonString();

    [Fact]
    public async Task Quilt_operations_are_forwarded_and_answered_exactly_as_the_upstream_answers()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream));
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("fwd"), "uploader", "reader");
        string[] bodies =
        [
            Body("{ me { name email isAdmin role { name } roles { name } } bucketConfigs { name title description } }"),
            new JsonObject { ["query"] = "query A { me { name } } query B { bucketConfigs { title } }", ["operationName"] = "B" }.ToJsonString(),
            Body("fragment F on Query { bucketConfigs { title } } { ...F }"),
            Body("mutation { switchRole(roleName: \"nosuch\") { __typename ... on InvalidInput { errors { message } } } }"),
            Body("{ __schema { mutationType { fields { name } } } }"),
            // The upstream's own errors: a field it does not have (GraphQL validation, HTTP 400).
            Body("{ noSuchField }"),
            Body("mutation { generateUploadUrlx: switchRole(roleName: \"reader\") { __typename } }"),
        ];
        foreach (var body in bodies)
        {
            var direct = await PostAsync(upstream.BaseUrl, token, body);
            var forwarded = await PostAsync(sidecar.BaseUrl, token, body);
            Assert.Equal(direct, forwarded);
        }

        // Served by the upstream, not by the sidecar (whose own title for the bucket is another).
        var answer = await PostAsync(sidecar.BaseUrl, token, bodies[0]);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Contains(UpstreamTitle, answer.Body, StringComparison.Ordinal);
        // The upstream's schema: no upload mutation in what introspection shows.
        var schema = await PostAsync(sidecar.BaseUrl, token, bodies[4]);
        Assert.DoesNotContain("generateUploadUrl", schema.Body, StringComparison.Ordinal);
        Assert.Contains("switchRole", schema.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(sidecar.BaseUrl, token, bodies[5])).Status);
    }

    [Fact]
    public async Task The_upstreams_refusals_pass_through_as_they_are()
    {
        // The sidecar accepts a second audience the upstream does not: the upstream refuses, the client sees its refusal.
        await using var upstream = await StartUpstreamAsync();
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream), o => o.Jwt.Audiences.Add("someone-else"));
        var token = gateway.Tokens.WrongAudience(GatewayFixture.NewSubject("refused"), "reader");
        var body = Body("{ me { name } }");

        var direct = await PostAsync(upstream.BaseUrl, token, body);
        var forwarded = await PostAsync(sidecar.BaseUrl, token, body);
        Assert.Equal(HttpStatusCode.Unauthorized, direct.Status);
        Assert.NotNull(direct.Authenticate);
        Assert.Equal(direct, forwarded);
    }

    [Fact]
    public async Task The_gateways_additions_are_served_by_the_sidecar_with_the_upstreams_role()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream));
        var subject = GatewayFixture.NewSubject("add");
        var token = gateway.Tokens.Hs256(subject, "uploader");
        var key = $"incoming/{subject}.txt";

        // The stock registry has no upload API ...
        var (status, stock) = await upstream.GraphQLAsync(token, Generate, new { b = gateway.Data, k = key }, "/graphql", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("generateUploadUrl", stock.ToJsonString(), StringComparison.Ordinal);
        // ... the sidecar serves it itself, as the role the upstream's me names.
        var url = (await sidecar.DataAsync(token, Generate, new { b = gateway.Data, k = key }))["generateUploadUrl"]!;
        var (posted, postBody) = await gateway.PostFileAsync(url, "through the sidecar"u8.ToArray());
        Assert.True(posted is HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.Created, postBody);
        Assert.Equal("through the sidecar", Encoding.UTF8.GetString(await gateway.ReadAsync(gateway.Data, key)));
        var line = Assert.Single(await sidecar.AuditStore.ReadAsync(new AuditQuery { Subject = subject }, TestContext.Current.CancellationToken),
            e => e.Action == "generateUploadUrl");
        Assert.Equal("uploader", line.Role);

        var listing = await sidecar.DataAsync(token, "query($b: String!, $p: String) { bucketObjects(bucket: $b, prefix: $p) { ... on BucketObjectList { objects { key } } } }",
            new { b = gateway.Data, p = "incoming/" });
        Assert.Contains(listing["bucketObjects"]!["objects"]!.AsArray(), o => o!["key"]!.GetValue<string>() == key);
    }

    [Fact]
    public async Task A_request_mixing_forwarded_and_local_fields_is_refused_and_runs_nothing()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream));
        var subject = GatewayFixture.NewSubject("mixed");
        var token = gateway.Tokens.Hs256(subject, "uploader", "reader");

        var mixed = $$"""
            mutation { switchRole(roleName: "reader") { __typename } generateUploadUrl(bucket: "{{gateway.Data}}", key: "incoming/{{subject}}") { uploadUrl } }
            """;
        var (status, body) = await sidecar.GraphQLAsync(token, mixed, null, "/graphql", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("MIXED_OPERATION", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        var message = body["errors"]![0]!["message"]!.GetValue<string>();
        Assert.Contains("generateUploadUrl", message, StringComparison.Ordinal);
        Assert.Contains("switchRole", message, StringComparison.Ordinal);
        Assert.Contains("two requests", message, StringComparison.Ordinal);

        // Neither half ran: the upstream's role is unchanged and nothing was handed out.
        var me = await upstream.DataAsync(token, "{ me { role { name } } }");
        Assert.Equal("uploader", me["me"]!["role"]!["name"]!.GetValue<string>());
        Assert.Empty(await upstream.AuditStore.ReadAsync(new AuditQuery { Subject = subject }, TestContext.Current.CancellationToken));
        Assert.Empty(await sidecar.AuditStore.ReadAsync(new AuditQuery { Subject = subject }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Roles_come_from_the_upstreams_me_and_follow_a_forwarded_switchRole()
    {
        var subject = GatewayFixture.NewSubject("me-roles");
        // Only the upstream knows this user's roles (as a Quilt registry does); the token names none.
        await using var upstream = await StartUpstreamAsync(o => o.Users[subject] = new UserOptions { Roles = ["reader", "uploader"] });
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream));
        var token = gateway.Tokens.Hs256WithClaims(new Dictionary<string, object> { ["sub"] = subject });
        var key = $"incoming/{subject}.bin";

        // A gateway with roles from its own configuration knows no role for this token: a valid token without a role
        // is forbidden (a new token would not help), not unauthorized.
        var (stockStatus, _) = await gateway.GraphQLAsync(token, "{ myGrants { bucket } }");
        Assert.Equal(HttpStatusCode.Forbidden, stockStatus);

        var grants = (await sidecar.DataAsync(token, "{ myGrants { bucket prefix read write } }"))["myGrants"]!.AsArray();
        Assert.All(grants, g => Assert.False(g!["write"]!.GetValue<bool>()));
        var (refusedStatus, refused) = await sidecar.GraphQLAsync(token, Generate, new { b = gateway.Data, k = key }, "/graphql", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, refusedStatus);
        Assert.Equal("FORBIDDEN", refused["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains("'reader'", refused["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // switchRole is Quilt's: forwarded, and the sidecar acts as the new role at once.
        var switched = await sidecar.DataAsync(token, "mutation { switchRole(roleName: \"uploader\") { ... on Me { role { name } } } }");
        Assert.Equal("uploader", switched["switchRole"]!["role"]!["name"]!.GetValue<string>());
        var url = (await sidecar.DataAsync(token, Generate, new { b = gateway.Data, k = key }))["generateUploadUrl"]!;
        Assert.Equal(key, url["fields"]!["key"]!.GetValue<string>());
        Assert.Contains(await upstream.AuditStore.ReadAsync(new AuditQuery { Subject = subject }, TestContext.Current.CancellationToken),
            e => e.Action == "switchRole" && e.Outcome == AuditOutcome.Allowed);
    }

    [Fact]
    public async Task A_bad_token_is_refused_by_the_sidecar_itself_and_never_forwarded()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream));
        var subject = GatewayFixture.NewSubject("forged");
        foreach (var token in new[] { gateway.Tokens.Forged(subject, "reader"), Tokens.AlgNone(subject, "reader"), gateway.Tokens.Expired(subject, "reader") })
        {
            var answer = await PostAsync(sidecar.BaseUrl, token, Body("{ me { name } }"));
            Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        }
        static bool Claims(AuditEvent e, string subject) => e.Details?["claimedSubject"]?.GetValue<string>() == subject;
        var all = new AuditQuery { Limit = 10_000 };
        Assert.Equal(3, (await sidecar.AuditStore.ReadAsync(all, TestContext.Current.CancellationToken)).Count(e => e.Action == "token" && Claims(e, subject)));
        // Nothing reached the upstream: it neither refused nor served anything for this subject.
        Assert.DoesNotContain(await upstream.AuditStore.ReadAsync(all, TestContext.Current.CancellationToken), e => e.Subject == subject || Claims(e, subject));
    }

    [Fact]
    public async Task An_upstream_that_is_down_gets_a_clear_error()
    {
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("down"), "uploader");
        // A port nobody listens on.
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using (var sidecar = await StartSidecarAsync($"http://127.0.0.1:{closedPort}/graphql"))
        {
            var (status, body) = await sidecar.GraphQLAsync(token, "{ me { name } }", null, "/graphql", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadGateway, status);
            Assert.Equal("UPSTREAM_UNAVAILABLE", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
            // The additions need the upstream's me for the role: the same clear error, nothing handed out.
            var (localStatus, local) = await sidecar.GraphQLAsync(token, "{ myGrants { bucket } }", null, "/graphql", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadGateway, localStatus);
            Assert.Contains("could not be reached", local["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

    }

    [Fact]
    public async Task An_upstream_that_never_answers_gets_a_timeout_error()
    {
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("silent"), "uploader");
        // One that takes the connection and never answers: a listening socket that never accepts (the kernel completes
        // the connection from its backlog, and nothing ever reads or answers).
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(16);
        await using (var sidecar = await StartSidecarAsync($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndPoint!).Port}/graphql", o => o.Upstream.TimeoutSeconds = 1))
        {
            var (status, body) = await sidecar.GraphQLAsync(token, "{ me { name } }", null, "/graphql", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.GatewayTimeout, status);
            Assert.Equal("UPSTREAM_TIMEOUT", body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
            Assert.Contains("upstream.timeoutSeconds", body["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_upstream_answer_over_the_limit_is_never_passed_on_whole()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var sidecar = await StartSidecarAsync(GraphQLUrl(upstream), o => o.Upstream.MaxResponseBytes = 1024);
        var token = gateway.Tokens.Hs256(GatewayFixture.NewSubject("big"), "uploader");
        var body = Body("{ __schema { types { name fields { name } } } }");
        Assert.True((await PostAsync(upstream.BaseUrl, token, body)).Body.Length > 4096);

        var outcome = await Record.ExceptionAsync(async () =>
        {
            var answer = await PostAsync(sidecar.BaseUrl, token, body);
            Assert.Equal(HttpStatusCode.BadGateway, answer.Status);
            Assert.Contains("upstream.maxResponseBytes", answer.Body, StringComparison.Ordinal);
        });
        // Either refused up front (502) or cut off mid-way (the client sees a broken answer, never a short "complete" one).
        Assert.True(outcome is null or HttpRequestException or IOException, outcome?.ToString());
    }
}
