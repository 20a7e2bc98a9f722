using System.Text;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway.Configuration;

namespace Quilt.Gateway.Identity;

/// <summary>Reads the keys tokens are verified with: the HS256 secret and JSON Web Key Sets.</summary>
public static class SigningKeys
{
    /// <summary>The HS256 secret bytes, or null when none is configured.</summary>
    public static byte[]? ReadHs256Secret(JwtOptions jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        if (!string.IsNullOrEmpty(jwt.Hs256Secret))
            return Encoding.UTF8.GetBytes(jwt.Hs256Secret);
        if (string.IsNullOrEmpty(jwt.Hs256SecretFile))
            return null;
        try
        {
            return Encoding.UTF8.GetBytes(File.ReadAllText(jwt.Hs256SecretFile).TrimEnd('\r', '\n'));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GatewayConfigurationException([$"jwt.hs256SecretFile '{jwt.Hs256SecretFile}' cannot be read: {ex.Message}"]);
        }
    }

    /// <summary>The signing keys of a JWKS file (RSA and EC public keys, each with its "kid").</summary>
    public static IReadOnlyList<SecurityKey> ReadJwksFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GatewayConfigurationException([$"jwt.jwksFile '{path}' cannot be read: {ex.Message}"]);
        }
        return ParseJwks(json, $"jwt.jwksFile '{path}'");
    }

    /// <summary>Parses a JWKS document; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyList<SecurityKey> ParseJwks(string json, string source)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json) { SkipUnresolvedJsonWebKeys = true };
        }
        catch (ArgumentException ex)
        {
            throw new GatewayConfigurationException([$"{source} is not a JSON Web Key Set: {ex.Message}"]);
        }
        var keys = new List<SecurityKey>();
        foreach (var key in set.Keys)
        {
            if (key.Kty is not (JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve))
                continue;
            // Private parts have no business in a verification key set.
            if (!string.IsNullOrEmpty(key.D))
                throw new GatewayConfigurationException([$"{source} holds a private key (kid '{key.Kid}'): publish only the public keys."]);
            if (string.IsNullOrEmpty(key.Kid))
                throw new GatewayConfigurationException([$"{source} has a key without \"kid\": give every key an id so tokens can name it."]);
            keys.Add(key);
        }
        if (keys.Count == 0)
            throw new GatewayConfigurationException([$"{source} holds no RSA or EC public key."]);
        return keys;
    }
}
