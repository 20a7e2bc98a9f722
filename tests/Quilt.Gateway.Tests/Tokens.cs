using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Quilt.Gateway.Tests;

/// <summary>Makes JWTs the way an identity provider or the Quilt registry would, plus the broken kinds an attacker would.</summary>
public sealed class Tokens : IDisposable
{
    public const string Issuer = "https://quilt.test";
    public const string Audience = "quilt-gateway";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _strayRsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly JsonWebTokenHandler _handler = new();

    public Tokens()
    {
        Secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
    }

    /// <summary>The HS256 shared secret the gateway is configured with.</summary>
    public string Secret { get; }

    /// <summary>The public keys (RS256 "rsa-1", ES256 "ec-1") as a JWKS document.</summary>
    public string Jwks()
    {
        var rsa = _rsa.ExportParameters(false);
        var ec = _ec.ExportParameters(false);
        var keys = new JsonArray
        {
            new JsonObject { ["kty"] = "RSA", ["kid"] = "rsa-1", ["use"] = "sig", ["alg"] = "RS256", ["n"] = Base64UrlEncoder.Encode(rsa.Modulus), ["e"] = Base64UrlEncoder.Encode(rsa.Exponent) },
            new JsonObject { ["kty"] = "EC", ["kid"] = "ec-1", ["use"] = "sig", ["alg"] = "ES256", ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(ec.Q.X), ["y"] = Base64UrlEncoder.Encode(ec.Q.Y) },
        };
        return new JsonObject { ["keys"] = keys }.ToJsonString();
    }

    public static Dictionary<string, object> Claims(string subject, params string[] roles) => new()
    {
        ["sub"] = subject,
        ["email"] = subject + "@example.test",
        ["name"] = subject,
        ["roles"] = roles,
        ["role"] = roles.Length > 0 ? roles[0] : "",
    };

    /// <summary>A valid HS256 token for <paramref name="subject"/> with <paramref name="roles"/> (the first is the default).</summary>
    public string Hs256(string subject, params string[] roles) => Create(Claims(subject, roles), Hmac(Secret));

    /// <summary>A valid HS256 token with exactly <paramref name="claims"/> (plus iss, aud, iat, nbf, exp).</summary>
    public string Hs256WithClaims(Dictionary<string, object> claims) => Create(claims, Hmac(Secret));

    public string Admin(string subject, params string[] roles)
    {
        var claims = Claims(subject, roles);
        claims["admin"] = true;
        return Create(claims, Hmac(Secret));
    }

    public string Rs256(string subject, params string[] roles) =>
        Create(Claims(subject, roles), new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = "rsa-1" }, SecurityAlgorithms.RsaSha256));

    public string Es256(string subject, params string[] roles) =>
        Create(Claims(subject, roles), new SigningCredentials(new ECDsaSecurityKey(_ec) { KeyId = "ec-1" }, SecurityAlgorithms.EcdsaSha256));

    public string Expired(string subject, params string[] roles) =>
        Create(Claims(subject, roles), Hmac(Secret), expires: DateTime.UtcNow.AddHours(-1), notBefore: DateTime.UtcNow.AddHours(-2));

    public string WrongAudience(string subject, params string[] roles) => Create(Claims(subject, roles), Hmac(Secret), audience: "someone-else");

    public string WrongIssuer(string subject, params string[] roles) => Create(Claims(subject, roles), Hmac(Secret), issuer: "https://evil.test");

    /// <summary>Signed with another secret of the right length.</summary>
    public string Forged(string subject, params string[] roles) => Create(Claims(subject, roles), Hmac(Convert.ToBase64String(RandomNumberGenerator.GetBytes(48))));

    /// <summary>RS256 with a key the JWKS does not hold.</summary>
    public string UnknownKey(string subject, params string[] roles) =>
        Create(Claims(subject, roles), new SigningCredentials(new RsaSecurityKey(_strayRsa) { KeyId = "rsa-unknown" }, SecurityAlgorithms.RsaSha256));

    /// <summary>RS256 from a stray key that claims the kid of the real one.</summary>
    public string StolenKid(string subject, params string[] roles) =>
        Create(Claims(subject, roles), new SigningCredentials(new RsaSecurityKey(_strayRsa) { KeyId = "rsa-1" }, SecurityAlgorithms.RsaSha256));

    /// <summary>An unsigned token ("alg": "none") with valid claims.</summary>
    public static string AlgNone(string subject, params string[] roles)
    {
        var header = new JsonObject { ["alg"] = "none", ["typ"] = "JWT" };
        var payload = new JsonObject
        {
            ["sub"] = subject,
            ["roles"] = new JsonArray(roles.Select(r => (JsonNode)r).ToArray()),
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        };
        return Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString())) + ".";
    }

    /// <summary>An HS256 token whose header says it is HS256 but was "signed" with the RSA public key as the secret.</summary>
    public string KeyConfusion(string subject, params string[] roles)
    {
        var publicKeyBytes = _rsa.ExportSubjectPublicKeyInfo();
        return Create(Claims(subject, roles), new SigningCredentials(new SymmetricSecurityKey(publicKeyBytes) { KeyId = "rsa-1" }, SecurityAlgorithms.HmacSha256));
    }

    private static SigningCredentials Hmac(string secret) => new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256);

    private string Create(Dictionary<string, object> claims, SigningCredentials credentials, string issuer = Issuer, string audience = Audience,
        DateTime? expires = null, DateTime? notBefore = null)
    {
        var now = DateTime.UtcNow;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = notBefore ?? now,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddHours(1),
            SigningCredentials = credentials,
        });
    }

    public void Dispose()
    {
        _rsa.Dispose();
        _strayRsa.Dispose();
        _ec.Dispose();
    }
}
