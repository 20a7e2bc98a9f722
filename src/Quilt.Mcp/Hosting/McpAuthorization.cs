using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Configuration;
using Quilt.Registry;

namespace Quilt.Mcp.Hosting;

/// <summary>
/// MCP authorization over Streamable HTTP (the MCP specification's 2025-06-18 / 2025-11-25 authorization): this server
/// is an OAuth 2.1 protected resource. It publishes RFC 9728 metadata naming its authorization server, answers a
/// request without a valid token with 401 and <c>WWW-Authenticate: Bearer resource_metadata=…</c>, accepts only tokens
/// minted for itself (audience = its resource identifier), and checks scopes per tool family: read tools (ReadOnly)
/// need <see cref="AuthSettings.ReadScope"/>, the others <see cref="AuthSettings.WriteScope"/> (403
/// <c>insufficient_scope</c> naming it). In registry mode the caller's token is exchanged, never forwarded.
/// </summary>
internal static partial class McpAuthorization
{
    public const string MetadataPath = "/.well-known/oauth-protected-resource";

    // How much of a request body is read to learn which tool it calls; a call whose name comes later is checked when it runs.
    private const int PeekBytes = 64 * 1024;

    public static void AddServices(IServiceCollection services, IMcpServerBuilder mcp, AuthSettings auth)
    {
        var client = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var validator = new AccessTokenValidator(auth, client);
        services.AddSingleton(validator);
        services.AddSingleton(new RegistryTokenExchange(auth, validator, client));
        // Where the call runs, whatever the HTTP check could see: the scope of the tool's family.
        mcp.WithRequestFilters(filters => filters.AddCallToolFilter(next => async (request, cancellationToken) =>
        {
            var needed = request.MatchedPrimitive is McpServerTool tool && tool.ProtocolTool.Annotations?.ReadOnlyHint == true ? AuthSettings.ReadScope : AuthSettings.WriteScope;
            if (!AccessTokenValidator.ScopesOf(request.User).Contains(needed))
            {
                return new CallToolResult
                {
                    IsError = true,
                    Content = [new TextContentBlock { Text = MissingScope(needed, request.Params?.Name) }],
                };
            }
            return await next(request, cancellationToken);
        }));
    }

    /// <summary>The metadata documents and the check of every request to the MCP endpoint.</summary>
    public static void Use(WebApplication app, ServerSettings settings, HttpSettings http, AuthSettings auth)
    {
        var guard = new Guard(app, settings, http, auth);
        // RFC 9728: at the root, and with the resource's path appended (what the 401's resource_metadata points to).
        app.MapGet(MetadataPath, guard.WriteMetadataAsync);
        app.MapGet(MetadataPath + http.Path, guard.WriteMetadataAsync);
        app.Use(guard.InvokeAsync);
    }

    private static string MissingScope(string scope, string? tool) =>
        $"{(tool is null ? "This request" : $"The tool '{tool}'")} needs the OAuth scope '{scope}', which your access token does not grant. "
        + $"Authorize again asking for '{scope}' (read tools need '{AuthSettings.ReadScope}', tools that change data '{AuthSettings.WriteScope}').";

    private sealed partial class Guard(WebApplication app, ServerSettings settings, HttpSettings http, AuthSettings auth)
    {
        private readonly ILogger _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Quilt.Mcp.Authorization");
        private Uri? _resource;
        private Dictionary<string, bool>? _readOnlyTools;

        /// <summary>This server's resource identifier: the configured one, else its first endpoint (known once it listens).</summary>
        private Uri Resource => _resource ??= auth.Resource ?? new Uri(QuiltMcpServer.EndpointsOf(app, http)[0]);

        private string MetadataUrl
        {
            get
            {
                var resource = Resource;
                var path = resource.AbsolutePath.TrimEnd('/');
                return resource.GetLeftPart(UriPartial.Authority) + MetadataPath + path;
            }
        }

        public async Task WriteMetadataAsync(HttpContext context)
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "max-age=300";
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("resource", Resource.OriginalString);
                json.WriteStartArray("authorization_servers");
                json.WriteStringValue(auth.Issuer.OriginalString.TrimEnd('/'));
                json.WriteEndArray();
                json.WriteStartArray("scopes_supported");
                json.WriteStringValue(AuthSettings.ReadScope);
                json.WriteStringValue(AuthSettings.WriteScope);
                json.WriteEndArray();
                json.WriteStartArray("bearer_methods_supported");
                json.WriteStringValue("header");
                json.WriteEndArray();
                json.WriteString("resource_name", "Quilt MCP server");
                json.WriteEndObject();
            }
            await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
        }

        public async Task InvokeAsync(HttpContext context, Func<Task> next)
        {
            if (!context.Request.Path.Equals(http.Path, StringComparison.Ordinal))
            {
                await next();
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            const string Bearer = "Bearer ";
            var token = header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? header[Bearer.Length..].Trim() : "";
            if (token.Length == 0)
            {
                await ChallengeAsync(context, StatusCodes.Status401Unauthorized, null, null, $"{AuthSettings.ReadScope} {AuthSettings.WriteScope}",
                    "This server needs an OAuth access token (Authorization: Bearer <token>). Its authorization server is named in " + MetadataUrl + ".");
                return;
            }
            var result = await context.RequestServices.GetRequiredService<AccessTokenValidator>().ValidateAsync(token, Resource, context.RequestAborted);
            if (result.User is null)
            {
                // The reason only, never the token.
                LogRefused(_logger, result.Problem!);
                await ChallengeAsync(context, StatusCodes.Status401Unauthorized, "invalid_token", result.Problem, null,
                    $"The access token was refused: {result.Problem}.");
                return;
            }
            context.User = result.User;
            if (HttpMethods.IsPost(context.Request.Method) && await RequiredScopeAsync(context) is { } needed)
            {
                var granted = AccessTokenValidator.ScopesOf(result.User);
                if (!granted.Contains(needed.Scope))
                {
                    // The scopes to ask for: those held already and the one missing, so a step-up keeps what worked.
                    var ask = string.Join(' ', granted.Where(s => s is AuthSettings.ReadScope or AuthSettings.WriteScope).Append(needed.Scope).Distinct(StringComparer.Ordinal));
                    await ChallengeAsync(context, StatusCodes.Status403Forbidden, "insufficient_scope", $"needs the scope {needed.Scope}", ask,
                        MissingScope(needed.Scope, needed.Tool));
                    return;
                }
            }
            if (!settings.IsRegistryMode)
            {
                await next();
                return;
            }
            string registryToken;
            try
            {
                registryToken = await context.RequestServices.GetRequiredService<RegistryTokenExchange>().RegistryTokenAsync(token, context.RequestAborted);
            }
            catch (TokenExchangeException e)
            {
                LogExchangeFailed(_logger, e.Message);
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                await context.Response.WriteAsync($"No registry token could be had for you: {e.Message}. Try again later, or tell the server's operator.");
                return;
            }
            using (AmbientRegistryToken.Use(registryToken))
                await next();
        }

        private Task ChallengeAsync(HttpContext context, int status, string? error, string? description, string? scope, string message)
        {
            var parts = new List<string>();
            if (error is not null)
                parts.Add($"error=\"{error}\"");
            if (description is not null)
                parts.Add($"error_description=\"{Quoted(description)}\"");
            if (scope is not null)
                parts.Add($"scope=\"{scope}\"");
            parts.Add($"resource_metadata=\"{MetadataUrl}\"");
            context.Response.StatusCode = status;
            context.Response.Headers.WWWAuthenticate = "Bearer " + string.Join(", ", parts);
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(message);
        }

        // A quoted-string may not hold '"' or '\'; error_description is limited to printable ASCII (RFC 6750).
        private static string Quoted(string text) => new(text.Select(c => c is '"' or '\\' || c < ' ' || c > '~' ? '\'' : c).ToArray());

        /// <summary>
        /// The scope a JSON-RPC request needs, read from the start of its body (which is then given back unread to the
        /// server): the tool family's for tools/call, the read scope for resources, prompts and completions; null for
        /// the rest (initialize, tools/list, notifications) and when the start does not tell.
        /// </summary>
        private async Task<(string Scope, string? Tool)?> RequiredScopeAsync(HttpContext context)
        {
            var body = context.Request.Body;
            var prefix = new byte[PeekBytes];
            var length = 0;
            int read;
            while (length < prefix.Length && (read = await body.ReadAsync(prefix.AsMemory(length), context.RequestAborted)) > 0)
                length += read;
            var complete = length < prefix.Length;
            context.Request.Body = new PrefixedReadStream(prefix, length, body);
            var (method, tool) = PeekCall(prefix.AsSpan(0, length), complete);
            switch (method)
            {
                case "tools/call" when tool is not null:
                    _readOnlyTools ??= context.RequestServices.GetServices<McpServerTool>()
                        .ToDictionary(t => t.ProtocolTool.Name, t => t.ProtocolTool.Annotations?.ReadOnlyHint == true, StringComparer.Ordinal);
                    // A name no tool has: the stricter scope (the call then fails as an unknown tool).
                    return (_readOnlyTools.GetValueOrDefault(tool) ? AuthSettings.ReadScope : AuthSettings.WriteScope, tool);
                case "resources/read" or "resources/list" or "resources/templates/list" or "resources/subscribe" or "prompts/get" or "prompts/list" or "completion/complete":
                    return (AuthSettings.ReadScope, null);
                default:
                    return null;
            }
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "Refused a request: {Reason}")]
        private static partial void LogRefused(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Token exchange for a registry token failed: {Reason}")]
        private static partial void LogExchangeFailed(ILogger logger, string reason);
    }

    /// <summary>The top-level "method" and params.name of a JSON-RPC message, as far as <paramref name="json"/> shows them.</summary>
    internal static (string? Method, string? Tool) PeekCall(ReadOnlySpan<byte> json, bool complete)
    {
        string? method = null, tool = null;
        var reader = new Utf8JsonReader(json, complete, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return (null, null);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isMethod = reader.ValueTextEquals("method");
                var isParams = reader.ValueTextEquals("params");
                if (!reader.Read())
                    break;
                if (isMethod && reader.TokenType == JsonTokenType.String)
                    method = reader.GetString();
                else if (isParams && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isName = reader.ValueTextEquals("name");
                        if (!reader.Read())
                            return (method, tool);
                        if (isName && reader.TokenType == JsonTokenType.String)
                            tool = reader.GetString();
                        else if (!reader.TrySkip())
                            return (method, tool);
                    }
                }
                else if (!reader.TrySkip())
                    break;
            }
        }
        catch (JsonException)
        {
            // Not JSON: the server answers that itself.
        }
        return (method, tool);
    }

    /// <summary>A body whose first bytes were read already: those, then the rest of the original.</summary>
    private sealed class PrefixedReadStream(byte[] prefix, int length, Stream rest) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < length)
            {
                var n = Math.Min(buffer.Length, length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < length)
                return ValueTask.FromResult(Read(buffer.Span));
            return rest.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
