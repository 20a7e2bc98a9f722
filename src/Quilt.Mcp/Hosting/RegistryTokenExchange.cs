using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Quilt.Mcp.Configuration;

namespace Quilt.Mcp.Hosting;

/// <summary>
/// Registry mode with OAuth: a caller's access token is for this server only, so it is never forwarded. This gets a
/// registry token for the same user by OAuth 2.0 Token Exchange (RFC 8693) at the authorization server's token endpoint,
/// authenticated as this server's exchange client, and keeps it (keyed by a hash of the access token) until shortly
/// before it expires.
/// </summary>
internal sealed class RegistryTokenExchange(AuthSettings auth, AccessTokenValidator validator, HttpClient http)
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private const int MaxCached = 10_000;

    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);

    /// <summary>The registry token for the caller holding <paramref name="accessToken"/>; throws <see cref="TokenExchangeException"/>.</summary>
    public async Task<string> RegistryTokenAsync(string accessToken, CancellationToken cancellationToken)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(accessToken)));
        if (_cache.TryGetValue(key, out var cached) && cached.Expires > DateTimeOffset.UtcNow)
            return cached.Token;

        Uri endpoint;
        try
        {
            var metadata = await validator.MetadataAsync(cancellationToken).ConfigureAwait(false);
            endpoint = metadata.TryGetProperty("token_endpoint", out var value) && value.GetString() is { } text
                ? new Uri(text)
                : throw new TokenExchangeException("the authorization server's metadata names no token_endpoint");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException or UriFormatException)
        {
            throw new TokenExchangeException($"the authorization server's metadata could not be read ({e.Message})");
        }

        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", GrantType),
            new("subject_token", accessToken),
            new("subject_token_type", AccessTokenType),
        };
        if (auth.RegistryAudience is { } audience)
            form.Add(new("audience", audience));
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        var basic = Uri.EscapeDataString(auth.ExchangeClientId ?? "") + ":" + Uri.EscapeDataString(auth.ExchangeClientSecret ?? "");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        string body;
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TokenExchangeException($"the authorization server could not be reached ({e.Message})");
        }
        using (response)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (!response.IsSuccessStatusCode)
                {
                    var error = root.TryGetProperty("error_description", out var d) ? d.GetString() : root.TryGetProperty("error", out var c) ? c.GetString() : null;
                    throw new TokenExchangeException($"the authorization server refused the token exchange ({(int)response.StatusCode}: {error})");
                }
                var token = root.GetProperty("access_token").GetString() ?? throw new TokenExchangeException("the exchange answered no access_token");
                var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) ? seconds : 300;
                if (_cache.Count >= MaxCached)
                {
                    foreach (var (k, v) in _cache)
                        if (v.Expires <= DateTimeOffset.UtcNow)
                            _cache.TryRemove(k, out _);
                    if (_cache.Count >= MaxCached)
                        _cache.Clear();
                }
                // Kept until a little before it expires, so no call starts with a token about to lapse.
                _cache[key] = (token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(0, lifetime - 30)));
                return token;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new TokenExchangeException($"the authorization server's answer to the token exchange is not a token response ({(int)response.StatusCode})");
            }
        }
    }
}

/// <summary>A registry token could not be had for the caller; the message says why (never a token).</summary>
internal sealed class TokenExchangeException(string message) : Exception(message);
