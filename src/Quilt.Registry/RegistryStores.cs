using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quilt.Registry;

/// <summary>Checks registry tokens before use (the store itself is opened by the composition root, Quilt.Operations.StoreConnection).</summary>
public static class RegistryStores
{
    public const string TokenVariable = "QUILT_REGISTRY_TOKEN";

    /// <summary>A Quilt API key (qk_…), as quilt3.login_with_api_key takes it; used instead of <see cref="TokenVariable"/> when set.</summary>
    public const string ApiKeyVariable = "QUILT_API_KEY";

    /// <summary>What every Quilt API key starts with; the registry takes it as a bearer token, like a JWT.</summary>
    public const string ApiKeyPrefix = "qk_";

    /// <summary>Whether <paramref name="token"/> is a Quilt API key rather than a JWT.</summary>
    public static bool IsApiKey(string? token) => token is not null && token.Trim().StartsWith(ApiKeyPrefix, StringComparison.Ordinal);

    /// <summary>
    /// The token registry mode acts with, from the environment: <see cref="ApiKeyVariable"/> (an API key) or
    /// <see cref="TokenVariable"/> (a JWT, or an API key too). Null with <paramref name="problem"/> set when it is missing
    /// or unusable (never quoting it).
    /// </summary>
    public static string? TokenFromEnvironment(Func<string, string?> environment, out string? problem, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var apiKey = environment(ApiKeyVariable) is { } k && !string.IsNullOrWhiteSpace(k) ? k.Trim() : null;
        var token = environment(TokenVariable) is { } t && !string.IsNullOrWhiteSpace(t) ? t.Trim() : null;
        if (apiKey is not null && token is not null && apiKey != token)
        {
            problem = $"Both {ApiKeyVariable} and {TokenVariable} are set: set only one (the API key, or the JWT).";
            return null;
        }
        if (apiKey is not null && !IsApiKey(apiKey))
        {
            problem = $"{ApiKeyVariable} is not a Quilt API key: a key starts with '{ApiKeyPrefix}' (create one with quilt3.api_keys.create). For a JWT, set {TokenVariable} instead.";
            return null;
        }
        var chosen = apiKey ?? token;
        problem = CheckToken(chosen, time);
        return problem is null ? chosen : null;
    }

    /// <summary>
    /// Checks a token given at start: present, and either an API key (qk_…) or shaped like a JWT and not expired. Returns the problem (never quoting the
    /// token), or null when it looks usable; only the registry can say whether it is valid.
    /// </summary>
    public static string? CheckToken(string? token, TimeProvider? time = null)
    {
        if (string.IsNullOrWhiteSpace(token))
            return $"Registry mode needs a Quilt token: set {ApiKeyVariable} to a Quilt API key ({ApiKeyPrefix}…), or {TokenVariable} to your Quilt token (the JWT the catalog issues you).";
        if (IsApiKey(token))
        {
            // An API key is opaque: only the registry can say whether it is valid, or when it expires.
            var key = token.Trim();
            return key.Length > ApiKeyPrefix.Length && key.All(c => c > ' ' && c < 0x7f)
                ? null
                : $"The Quilt API key is malformed: it is '{ApiKeyPrefix}' followed by printable characters, without spaces. Copy the whole secret.";
        }
        var parts = token.Trim().Split('.');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0)
            return $"{TokenVariable} is not a JWT (three base64url parts separated by '.'). Set it to your Quilt token, without 'Bearer '.";
        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlDecode(parts[1]))) as JsonObject;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            payload = null;
        }
        if (payload is null)
            return $"{TokenVariable} is not a JWT: its payload is not JSON. Set it to your Quilt token.";
        if (payload["exp"] is JsonValue exp && exp.TryGetValue<double>(out var seconds))
        {
            var expires = DateTimeOffset.FromUnixTimeSeconds((long)seconds);
            if (expires <= (time ?? TimeProvider.System).GetUtcNow())
                return $"The token in {TokenVariable} expired at {expires:u}. Get a new one (sign in to the catalog again) and restart.";
        }
        return null;
    }

    private static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
        return Convert.FromBase64String(s);
    }
}
