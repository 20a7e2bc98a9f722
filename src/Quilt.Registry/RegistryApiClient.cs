using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Storage;

namespace Quilt.Registry;

/// <summary>
/// Talks to a Quilt registry's GraphQL API (POST {registry}/graphql) with the caller's bearer token. GraphQL errors
/// become exceptions with messages for users: FORBIDDEN → <see cref="AccessDeniedException"/>, a field the registry does
/// not have → <see cref="RegistryFeatureMissingException"/>, 401 → <see cref="RegistryAuthenticationException"/>.
/// The token is only ever put in the Authorization header: never in a message or a log line.
/// </summary>
public sealed class RegistryApiClient
{
    private readonly HttpClient _http;
    private readonly IRegistryTokenSource _tokens;

    public RegistryApiClient(HttpClient http, Uri registryUrl, IRegistryTokenSource tokens)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(registryUrl);
        ArgumentNullException.ThrowIfNull(tokens);
        _http = http;
        _tokens = tokens;
        BaseUrl = NormalizeBaseUrl(registryUrl);
        GraphQLUrl = new Uri(BaseUrl, "graphql");
    }

    /// <summary>The registry's root, ending with '/': https://registry.example.com/.</summary>
    public Uri BaseUrl { get; }

    public Uri GraphQLUrl { get; }

    public HttpClient Http => _http;

    /// <summary>
    /// A short, stable name for the current token (a hash prefix), to keep what belongs to one user apart from another's
    /// (browsing sessions). Not reversible to the token.
    /// </summary>
    public string CallerKey
    {
        get
        {
            var token = _tokens.Token ?? "";
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..32];
        }
    }

    /// <summary>Accepts https://host, https://host/ or https://host/graphql; only http(s).</summary>
    public static Uri NormalizeBaseUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            throw new ArgumentException($"Invalid registry URL '{url}': give the registry's http(s) address, such as https://registry.example.com.");
        if (!string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment) || !string.IsNullOrEmpty(url.UserInfo))
            throw new ArgumentException($"Invalid registry URL '{url}': give it without query, fragment or user name.");
        var path = url.AbsolutePath;
        if (path.EndsWith("/graphql", StringComparison.Ordinal))
            path = path[..^"graphql".Length];
        if (!path.EndsWith('/'))
            path += "/";
        return new UriBuilder(url) { Path = path }.Uri;
    }

    /// <summary>Adds the bearer token to a request for the registry (GraphQL or /browse).</summary>
    public void Authorize(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var token = _tokens.Token;
        if (string.IsNullOrWhiteSpace(token))
            throw new RegistryAuthenticationException(
                $"No registry token for this request: the registry at {BaseUrl} needs a Quilt JWT or API key (Authorization: Bearer …).");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>
    /// Runs one operation and returns its "data". <paramref name="operation"/> names what it was for in messages
    /// ("list s3://bucket/prefix").
    /// </summary>
    public async Task<JsonObject> ExecuteAsync(string document, JsonObject? variables, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var body = new JsonObject { ["query"] = document, ["variables"] = variables ?? new JsonObject() };
        using var request = new HttpRequestMessage(HttpMethod.Post, GraphQLUrl)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        Authorize(request);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"Could not reach the registry at {BaseUrl} to {operation}: {ex.Message}. Check the registry URL and the network.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"The registry at {BaseUrl} did not answer in time to {operation}. Try again later.", ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonObject? json = null;
            try
            {
                json = JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException)
            {
                // Not JSON: reported by status below.
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new RegistryAuthenticationException(
                    $"The registry at {BaseUrl} did not accept the {TokenKind} ({FirstMessage(json) ?? "HTTP 401"}). {NewTokenAdvice}");
            }
            if (json?["errors"] is JsonArray { Count: > 0 } errors)
                throw ErrorFor(errors, operation);
            if (!response.IsSuccessStatusCode || json is null)
            {
                throw new RegistryException(
                    $"The registry at {BaseUrl} answered HTTP {(int)response.StatusCode} to {operation}{(json is null ? " without a GraphQL response" : "")}. " +
                    "Check that the URL is the registry's (it serves POST /graphql) and try again later.");
            }
            return json["data"] as JsonObject
                ?? throw new RegistryException($"The registry at {BaseUrl} answered {operation} with no data. Try again later.");
        }
    }

    private Exception ErrorFor(JsonArray errors, string operation)
    {
        var first = errors[0] as JsonObject;
        var message = first?["message"]?.GetValueKind() == JsonValueKind.String ? first["message"]!.GetValue<string>() : "unknown error";
        var code = first?["extensions"]?["code"]?.GetValueKind() == JsonValueKind.String ? first["extensions"]!["code"]!.GetValue<string>() : null;

        // "Cannot query field 'x' on type 'Mutation'." (graphql-dotnet, graphql-core): a registry without that feature.
        const string CannotQuery = "Cannot query field ";
        if (message.StartsWith(CannotQuery, StringComparison.Ordinal))
        {
            var rest = message[CannotQuery.Length..].TrimStart('\'', '"');
            var end = rest.IndexOfAny(['\'', '"']);
            var field = end < 0 ? rest : rest[..end];
            return new RegistryFeatureMissingException(field,
                $"The registry at {BaseUrl} does not offer '{field}', which is needed to {operation}. It is an older or stock Quilt registry without that feature.");
        }
        return code switch
        {
            "FORBIDDEN" => new AccessDeniedException($"The registry refused to {operation}: {message}"),
            "UNAUTHENTICATED" => new RegistryAuthenticationException($"The registry at {BaseUrl} did not accept the {TokenKind} ({message}). {NewTokenAdvice}"),
            "NOT_FOUND" => new RegistryException($"Could not {operation}: {message}"),
            "BAD_REQUEST" => new RegistryException($"The registry refused to {operation}: {message}"),
            _ => new RegistryException($"The registry failed to {operation}: {message}"),
        };
    }

    private string TokenKind => RegistryStores.IsApiKey(_tokens.Token) ? "API key" : "token";

    // Only for a token the registry did not accept (401): a new one helps there, and nowhere else (a token without a
    // role or a right is refused with 403 or FORBIDDEN, which a new token of the same user would not change).
    private string NewTokenAdvice => RegistryStores.IsApiKey(_tokens.Token)
        ? "The key may be revoked or expired: create a new one (quilt3.api_keys.create, or apiKeyCreate) and retry with it."
        : "Get a new Quilt token (sign in again) and retry.";

    private static string? FirstMessage(JsonObject? json) =>
        json?["errors"] is JsonArray { Count: > 0 } errors && errors[0]?["message"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;

    /// <summary>
    /// The object of a union result (the arm named <paramref name="expected"/>), or the failure it reports as an
    /// exception: Forbidden → access denied, NotFound → <paramref name="notFound"/> (else a registry error).
    /// </summary>
    public static JsonObject Expect(JsonNode? result, string expected, string operation, Func<string, StorageException>? notFound = null)
    {
        if (result is not JsonObject obj)
            throw new RegistryException($"The registry answered nothing to {operation}. Try again later.");
        var typename = obj["__typename"]?.GetValue<string>();
        if (typename == expected)
            return obj;
        switch (typename)
        {
            case "OperationError":
            {
                var name = obj["name"]?.GetValue<string>();
                var message = obj["message"]?.GetValue<string>() ?? "unknown error";
                throw name switch
                {
                    "Forbidden" => new AccessDeniedException($"The registry refused to {operation}: {message}"),
                    "NotFound" when notFound is not null => notFound(message),
                    _ => new RegistryException($"Could not {operation}: {message}"),
                };
            }
            case "InvalidInput":
            {
                var error = obj["errors"] is JsonArray { Count: > 0 } list ? list[0] as JsonObject : null;
                var name = error?["name"]?.GetValue<string>();
                var message = error?["message"]?.GetValue<string>() ?? "invalid input";
                var path = error?["path"]?.GetValue<string>();
                if (name == "NotFound" && notFound is not null)
                    throw notFound(message);
                throw new RegistryInputException($"The registry refused to {operation}: {message}{(path is null ? "" : $" (argument {path})")}", path);
            }
            default:
                throw new RegistryException($"The registry answered {operation} with an unexpected {typename ?? "result"}.");
        }
    }
}
