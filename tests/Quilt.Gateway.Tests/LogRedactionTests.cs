using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Quilt.Gateway.Tests;

/// <summary>
/// No log line, at any level, shows a token, a browsing session id or a query string: a whole session (tokens, also
/// in ?token=, uploads, downloads, links, refusals) is run against a gateway that logs everything, scopes included.
/// </summary>
public sealed class LogRedactionTests(GatewayFixture gateway)
{
    [Fact]
    public async Task A_full_session_logged_at_trace_level_shows_no_token_session_id_or_query_string()
    {
        var logs = new ScopedLogCapture();
        var ct = TestContext.Current.CancellationToken;
        var subject = GatewayFixture.NewSubject("logged");
        var token = gateway.Tokens.Hs256(subject, "uploader");
        var forged = gateway.Tokens.Forged(subject, "uploader");
        var prefix = $"shared/{subject}/";
        await gateway.PutAsync(gateway.Data, prefix + "hello.txt", Encoding.UTF8.GetBytes("hello, logs"), "text/plain");
        var secrets = new List<string>();
        foreach (var jwt in new[] { token, forged })
            secrets.AddRange(jwt.Split('.').Skip(1));

        await using (var instance = await GatewayInstance.StartAsync(gateway, logs: logs))
        {
            async Task<JsonNode> DataAsync(string query, object? variables = null, string path = "/graphql")
            {
                var (status, body) = await instance.GraphQLAsync(token, query, variables, path, ct);
                Assert.True(status == HttpStatusCode.OK && body["errors"] is null, $"HTTP {(int)status}: {body.ToJsonString()}");
                return body["data"]!;
            }

            // The token, and also in the query string as some clients send it.
            await DataAsync("{ me { name } }");
            await DataAsync("{ me { name } }", path: $"/graphql?token={token}");

            // An upload through a presigned POST.
            var upload = (await DataAsync("mutation($b: String!, $k: String!) { generateUploadUrl(bucket: $b, key: $k) { uploadUrl fields expires } }",
                new { b = gateway.Data, k = $"incoming/{subject}.txt" }))["generateUploadUrl"]!;
            var (posted, postBody) = await gateway.PostFileAsync(upload, "uploaded"u8.ToArray());
            Assert.True(posted == HttpStatusCode.NoContent, postBody);
            secrets.Add(upload["fields"]!.AsObject().Single(f => f.Key.Equals("x-amz-signature", StringComparison.OrdinalIgnoreCase)).Value!.GetValue<string>());

            // A browsing session: downloads (the id in the path, the token in the query too), a link, a refusal.
            var id = (await DataAsync("mutation($s: String!) { browsingSessionCreate(scope: $s, ttl: 300) { ... on BrowsingSession { id } } }",
                new { s = $"s3://{gateway.Data}/{prefix}" }))["browsingSessionCreate"]!["id"]!.GetValue<string>();
            secrets.Add(id);
            foreach (var path in new[] { $"/browse/{id}/hello.txt", $"/browse/{id}/hello.txt?token={token}", $"/BROWSE/{id}/hello.txt" })
            {
                using var download = await instance.SendAsync(HttpMethod.Get, path, token);
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                Assert.Equal("hello, logs", await download.Content.ReadAsStringAsync(ct));
            }
            var link = (await DataAsync("mutation($id: ID!) { browsingSessionLink(id: $id, path: \"hello.txt\", ttl: 30) { ... on BrowsingSessionLink { url } } }",
                new { id }))["browsingSessionLink"]!["url"]!.GetValue<string>();
            using (var linked = await gateway.Http.GetAsync(new Uri(link), ct))
                Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
            secrets.Add(System.Web.HttpUtility.ParseQueryString(new Uri(link).Query)["X-Amz-Signature"]!);
            using (var refused = await instance.SendAsync(HttpMethod.Get, $"/browse/{id}/hello.txt?token={forged}", forged))
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            using (var tokenInPath = await instance.SendAsync(HttpMethod.Get, $"/{token}", token))
                Assert.Equal(HttpStatusCode.NotFound, tokenInPath.StatusCode);
            await DataAsync("mutation($id: ID!) { browsingSessionDispose(id: $id) { __typename } }", new { id });
        }

        var lines = logs.Lines.ToList();
        foreach (var secret in secrets.Where(s => s.Length >= 16))
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("token=", StringComparison.OrdinalIgnoreCase));
        // Requests are still logged, with their secrets masked.
        Assert.Contains(lines, l => l.Contains("GET /browse/{session}/hello.txt?… answered 200", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("POST /graphql?… answered 200", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("/browse/{session}/hello.txt", StringComparison.Ordinal) && l.Contains("signature", StringComparison.Ordinal));
    }

    /// <summary>Every log line with its state values, its scopes and its exception.</summary>
    private sealed class ScopedLogCapture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<string> Lines { get; } = new();

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ScopedLogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = new StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
                if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                    line.Append(" [").AppendJoin(";", pairs.Select(p => $"{p.Key}={p.Value}")).Append(']');
                owner._scopes.ForEachScope((scope, text) =>
                {
                    text.Append(" {").Append(scope);
                    if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                        text.Append(' ').AppendJoin(";", values.Select(p => $"{p.Key}={p.Value}"));
                    text.Append('}');
                }, line);
                if (exception is not null)
                    line.Append(' ').Append(exception);
                owner.Lines.Enqueue(line.ToString());
            }
        }
    }
}
