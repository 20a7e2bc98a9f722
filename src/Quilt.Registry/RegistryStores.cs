using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quilt.Registry;

/// <summary>Checks registry tokens before use (the store itself is opened by the composition root, Quilt.Operations.StoreConnection).</summary>
public static class RegistryStores
{
    public const string TokenVariable = "QUILT_REGISTRY_TOKEN";

    /// <summary>
    /// Checks a token given at start: present, shaped like a JWT, not expired. Returns the problem (never quoting the
    /// token), or null when it looks usable; only the registry can say whether it is valid.
    /// </summary>
    public static string? CheckToken(string? token, TimeProvider? time = null)
    {
        if (string.IsNullOrWhiteSpace(token))
            return $"Registry mode needs a Quilt JWT: set {TokenVariable} to your Quilt token (the JWT the catalog issues you).";
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
