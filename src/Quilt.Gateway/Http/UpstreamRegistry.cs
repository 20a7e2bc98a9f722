using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQLParser.AST;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.GraphQL;
using Quilt.Gateway.Identity;
using Quilt.Gateway.Services;

namespace Quilt.Gateway.Http;

/// <summary>
/// Sidecar mode: the Quilt registry beside which the gateway runs. A GraphQL request whose top-level fields are all
/// Quilt's own is forwarded to it unchanged with the caller's token, and its answer (status, body, the headers that
/// matter) streamed back unchanged; one whose fields are all the gateway's additions (the <c>extend type</c> fields of
/// schema.graphql) is served here; one that mixes both is refused. With <c>upstream.roles: upstream</c>, a caller's roles
/// and active role are the upstream's <c>me</c>, cached briefly per token (keyed by the token's SHA-256, never the token).
/// </summary>
public sealed partial class UpstreamRegistry : IDisposable
{
    public const string MixedOperationCode = "MIXED_OPERATION";
    private const int MaxCachedTokens = 10_000;
    private const int MaxMeAnswerBytes = 1024 * 1024;
    private const string MeQuery = """{"query":"query GatewayRoles { me { name email isAdmin role { name } roles { name } } }"}""";

    /// <summary>Quilt's own search queries; served here, not forwarded, with <c>upstream.search: gateway</c>.</summary>
    internal static readonly string[] SearchFields = ["searchPackages", "searchObjects", "searchMorePackages", "searchMoreObjects"];

    // What the upstream needs to answer as it would answer the client; never cookies or proxy headers.
    private static readonly string[] ForwardedRequestHeaders = ["Authorization", "Accept", "Accept-Language", "User-Agent", "X-Request-Id"];
    private static readonly string[] PassedResponseHeaders = ["Cache-Control", "WWW-Authenticate", "Retry-After", "Vary", "X-Request-Id"];
    private static readonly string[] PassedContentHeaders = ["Content-Type", "Content-Encoding", "Content-Language"];

    private readonly GatewayOptions _options;
    private readonly UpstreamOptions _upstream;
    private readonly Uri _url;
    private readonly QueryLimits _limits;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, UpstreamMe> _roles = new(StringComparer.Ordinal);

    public UpstreamRegistry(GatewayOptions options, QueryLimits limits, TimeProvider time, ILogger<UpstreamRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _upstream = options.Upstream;
        _url = new Uri(_upstream.Url!);
        _limits = limits;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, _upstream.TimeoutSeconds)),
        })
        {
            // Each request has its own deadline (upstream.timeoutSeconds), linked to its client's.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var local = new HashSet<string>(AdditionFields(GatewaySchema.ReadSdl()), StringComparer.Ordinal);
        if (_upstream.SearchFromGatewayIndex)
            local.UnionWith(SearchFields);
        LocalFields = local;
    }

    /// <summary>The top-level Query and Mutation fields the gateway serves itself: its additions (and search, when configured so).</summary>
    public IReadOnlySet<string> LocalFields { get; }

    public bool RolesFromUpstream => _upstream.RolesFromUpstream;

    /// <summary>The fields of <c>extend type Query</c> and <c>extend type Mutation</c> in the SDL.</summary>
    internal static IReadOnlySet<string> AdditionFields(string sdl)
    {
        var document = GraphQLParser.Parser.Parse(sdl);
        var fields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in document.Definitions.OfType<GraphQLObjectTypeExtension>())
        {
            if (extension.Name.StringValue is "Query" or "Mutation" && extension.Fields is { } list)
                fields.UnionWith(list.Items.Select(f => f.Name.StringValue));
        }
        return fields;
    }

    /// <summary>
    /// Forwards POST /graphql when every top-level field of the operation is Quilt's own, refuses a mix; true when the
    /// request was answered here. False: the gateway serves it (its additions, or a request it answers with an error).
    /// </summary>
    public async Task<bool> TryForwardAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = http.Request;
        if (!HttpMethods.IsPost(request.Method) || !request.Path.Equals("/graphql", StringComparison.OrdinalIgnoreCase) || !request.HasJsonContentType())
            return false;
        // Bounded by maxRequestBytes (Kestrel refuses a longer body); kept to forward byte for byte or to serve here.
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await request.Body.CopyToAsync(buffer, http.RequestAborted);
            body = buffer.ToArray();
        }
        request.Body = new MemoryStream(body, writable: false);

        var fields = TopLevelFields(body);
        if (fields is null)
            return false;
        var local = fields.Where(LocalFields.Contains).Distinct(StringComparer.Ordinal).ToList();
        var forwarded = fields.Where(f => !LocalFields.Contains(f)).Distinct(StringComparer.Ordinal).ToList();
        if (forwarded.Count == 0)
            return false;
        if (local.Count > 0)
        {
            await Endpoints.WriteErrorAsync(http, StatusCodes.Status400BadRequest, MixedOperationCode,
                $"This request mixes fields the gateway serves itself ({string.Join(", ", local)}) with Quilt registry fields it forwards to the " +
                $"registry ({string.Join(", ", forwarded)}). Nothing was run: send them as two requests.");
            return true;
        }
        await ForwardAsync(http, body, invalidatesRoles: fields.Contains("switchRole"));
        return true;
    }

    /// <summary>The top-level field names of the operation the request runs (fragments expanded, __typename left out); null when it cannot tell.</summary>
    private List<string>? TopLevelFields(byte[] body)
    {
        string? query;
        string? operationName;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return null;
            query = root.TryGetProperty("query", out var q) && q.ValueKind == JsonValueKind.String ? q.GetString() : null;
            operationName = root.TryGetProperty("operationName", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
        // Over a limit or not parsing: the gateway's own endpoint answers with the reason, as in stock mode.
        if (string.IsNullOrEmpty(query) || _limits.Check(query, out var document) is not null || document is null)
            return null;
        var operations = document.Definitions.OfType<GraphQLOperationDefinition>().ToList();
        var operation = operationName is null
            ? (operations.Count == 1 ? operations[0] : null)
            : operations.FirstOrDefault(op => op.Name?.StringValue == operationName);
        if (operation is null)
            return null;
        var fragments = new Dictionary<string, GraphQLFragmentDefinition>(StringComparer.Ordinal);
        foreach (var fragment in document.Definitions.OfType<GraphQLFragmentDefinition>())
            fragments.TryAdd(fragment.FragmentName.Name.StringValue, fragment);
        var names = new List<string>();
        Collect(operation.SelectionSet, fragments, new HashSet<string>(StringComparer.Ordinal), names);
        return names;
    }

    private static void Collect(GraphQLSelectionSet set, Dictionary<string, GraphQLFragmentDefinition> fragments, HashSet<string> seen, List<string> names)
    {
        foreach (var selection in set.Selections)
        {
            switch (selection)
            {
                case GraphQLField field when field.Name.StringValue != "__typename":
                    names.Add(field.Name.StringValue);
                    break;
                case GraphQLInlineFragment inline:
                    Collect(inline.SelectionSet, fragments, seen, names);
                    break;
                case GraphQLFragmentSpread spread when seen.Add(spread.FragmentName.Name.StringValue)
                    && fragments.TryGetValue(spread.FragmentName.Name.StringValue, out var definition):
                    Collect(definition.SelectionSet, fragments, seen, names);
                    break;
            }
        }
    }

    private async Task ForwardAsync(HttpContext http, byte[] body, bool invalidatesRoles)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(TimeSpan.FromSeconds(_upstream.TimeoutSeconds));
        using var message = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(body) };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", http.Request.ContentType);
        foreach (var name in ForwardedRequestHeaders)
        {
            if (http.Request.Headers.TryGetValue(name, out var values))
                message.Headers.TryAddWithoutValidation(name, values.ToArray().OfType<string>());
        }
        var response = await SendAsync(http, message, deadline);
        if (response is null)
            return;
        using (response)
        {
            // A role switched at the upstream changes what this token may do here.
            if (invalidatesRoles)
                _roles.TryRemove(CacheKey(http.Request.Headers.Authorization.ToString()), out _);
            var length = response.Content.Headers.ContentLength;
            if (length > _upstream.MaxResponseBytes)
            {
                LogTooLarge(_logger, length.Value, _upstream.MaxResponseBytes);
                await Endpoints.WriteErrorAsync(http, StatusCodes.Status502BadGateway, "UPSTREAM_TOO_LARGE",
                    $"The Quilt registry's answer is {length} bytes, more than this gateway passes on ({_upstream.MaxResponseBytes}, " +
                    "upstream.maxResponseBytes). Ask for less at once: smaller pages, fewer fields.");
                return;
            }
            http.Response.StatusCode = (int)response.StatusCode;
            foreach (var name in PassedResponseHeaders)
            {
                if (response.Headers.TryGetValues(name, out var values))
                    http.Response.Headers[name] = values.ToArray();
            }
            foreach (var name in PassedContentHeaders)
            {
                if (response.Content.Headers.TryGetValues(name, out var values))
                    http.Response.Headers[name] = values.ToArray();
            }
            if (length is { } known)
                http.Response.ContentLength = known;
            await CopyBoundedAsync(http, response, deadline.Token);
        }
    }

    /// <summary>Sends to the upstream; on failure writes the client a 502/504 saying so and returns null.</summary>
    private async Task<HttpResponseMessage?> SendAsync(HttpContext http, HttpRequestMessage message, CancellationTokenSource deadline)
    {
        try
        {
            return await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            LogTimeout(_logger, _upstream.TimeoutSeconds);
            await Endpoints.WriteErrorAsync(http, StatusCodes.Status504GatewayTimeout, "UPSTREAM_TIMEOUT",
                $"The Quilt registry this gateway forwards to did not answer within {_upstream.TimeoutSeconds} s (upstream.timeoutSeconds). Try again later.");
            return null;
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(_logger, ex.Message);
            await Endpoints.WriteErrorAsync(http, StatusCodes.Status502BadGateway, "UPSTREAM_UNAVAILABLE",
                "The Quilt registry this gateway forwards to (upstream.url) could not be reached. Try again later; if it persists, tell the gateway's admin.");
            return null;
        }
    }

    private async Task CopyBoundedAsync(HttpContext http, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using (stream)
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    total += read;
                    if (total > _upstream.MaxResponseBytes)
                    {
                        LogTooLarge(_logger, total, _upstream.MaxResponseBytes);
                        // Part of the answer is out: cutting the connection keeps a client from taking a short answer for a whole one.
                        http.Abort();
                        return;
                    }
                    await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
        {
            if (!http.RequestAborted.IsCancellationRequested)
                LogCutShort(_logger, ex.Message);
            http.Abort();
        }
    }

    /// <summary>
    /// The caller with the roles and active role the upstream's <c>me</c> gives (limited to roles configured here, whose
    /// grants apply); null when the answer has been written here (refused, or the upstream could not say).
    /// </summary>
    public async Task<Caller?> CallerAsync(HttpContext http, GatewayUser user)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(user);
        var authorization = http.Request.Headers.Authorization.ToString();
        var key = CacheKey(authorization);
        var now = _time.GetUtcNow();
        if (!_roles.TryGetValue(key, out var me) || me.Expires <= now)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            deadline.CancelAfter(TimeSpan.FromSeconds(_upstream.TimeoutSeconds));
            me = await FetchMeAsync(http, authorization, deadline);
            if (me is null)
                return null;
            if (_upstream.RoleCacheSeconds > 0)
            {
                if (_roles.Count >= MaxCachedTokens)
                    Prune(now);
                _roles[key] = me with { Expires = now.AddSeconds(_upstream.RoleCacheSeconds) };
            }
        }
        var granted = me.Roles.Where(_options.Roles.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
        if (me.Role is null || !granted.Contains(me.Role))
        {
            var message = granted.Count == 0
                ? $"None of your Quilt roles ({string.Join(", ", me.Roles)}) has grants on this gateway: ask its admin to configure one (roles.*). Quilt's own operations still work."
                : $"Your active Quilt role '{me.Role}' has no grants on this gateway; switch to one that has (switchRole): {string.Join(", ", granted)}.";
            await Endpoints.WriteErrorAsync(http, StatusCodes.Status403Forbidden, "FORBIDDEN", message);
            return null;
        }
        var resolved = user with
        {
            GrantedRoles = granted,
            DefaultRole = me.Role,
            IsAdmin = user.IsAdmin || me.IsAdmin,
            Name = user.Name.Length == 0 || user.Name == user.Subject ? me.Name ?? user.Name : user.Name,
            Email = user.Email.Length == 0 ? me.Email ?? "" : user.Email,
        };
        return new Caller(resolved, me.Role, http.Connection.RemoteIpAddress?.ToString());
    }

    private async Task<UpstreamMe?> FetchMeAsync(HttpContext http, string authorization, CancellationTokenSource deadline)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(MeQuery, Encoding.UTF8, "application/json") };
        message.Headers.TryAddWithoutValidation("Authorization", authorization);
        var response = await SendAsync(http, message, deadline);
        if (response is null)
            return null;
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                await Endpoints.WriteErrorAsync(http, StatusCodes.Status401Unauthorized, "UNAUTHENTICATED",
                    $"Not authenticated: the Quilt registry refused this token (HTTP {(int)response.StatusCode}); sign in to Quilt again.");
                return null;
            }
            JsonNode? me = null;
            if (response.IsSuccessStatusCode && response.Content.Headers.ContentLength is null or <= MaxMeAnswerBytes)
            {
                try
                {
                    var text = await ReadLimitedAsync(response, deadline.Token);
                    me = text is null ? null : JsonNode.Parse(text)?["data"]?["me"];
                }
                catch (Exception ex) when (ex is JsonException or OperationCanceledException or HttpRequestException or IOException or InvalidOperationException)
                {
                    me = null;
                }
            }
            if (me is not JsonObject found)
            {
                LogNoMe(_logger, (int)response.StatusCode);
                await Endpoints.WriteErrorAsync(http, StatusCodes.Status502BadGateway, "UPSTREAM_ERROR",
                    $"The Quilt registry did not say which roles you have (HTTP {(int)response.StatusCode} to `me`). Try again later; if it persists, tell the gateway's admin.");
                return null;
            }
            static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var roles = (found["roles"] as JsonArray ?? []).Select(r => Text(r?["name"])).OfType<string>().ToList();
            var isAdmin = found["isAdmin"] is JsonValue admin && admin.TryGetValue<bool>(out var b) && b;
            return new UpstreamMe(Text(found["role"]?["name"]), roles, isAdmin, Text(found["name"]), Text(found["email"]), DateTimeOffset.MinValue);
        }
    }

    private static async Task<string?> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using (stream)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxMeAnswerBytes)
                    return null;
                buffer.Write(chunk, 0, read);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, entry) in _roles)
        {
            if (entry.Expires <= now)
                _roles.TryRemove(key, out _);
        }
        if (_roles.Count >= MaxCachedTokens)
            _roles.Clear();
    }

    // The cache is keyed by a hash: no token is kept in memory longer than its request.
    private static string CacheKey(string authorization) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(authorization)));

    public void Dispose() => _http.Dispose();

    private sealed record UpstreamMe(string? Role, IReadOnlyList<string> Roles, bool IsAdmin, string? Name, string? Email, DateTimeOffset Expires);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upstream registry did not answer within {Seconds} s")]
    private static partial void LogTimeout(ILogger logger, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upstream registry could not be reached: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An upstream answer of {Bytes} bytes is over upstream.maxResponseBytes ({Limit}); not passed on whole")]
    private static partial void LogTooLarge(ILogger logger, long bytes, long limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An upstream answer was cut short: {Reason}")]
    private static partial void LogCutShort(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upstream registry answered HTTP {Status} to me without the caller's roles")]
    private static partial void LogNoMe(ILogger logger, int status);
}
