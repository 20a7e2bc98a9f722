using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.OAuth;

/// <summary>
/// The key the authorization server signs access tokens with (ES256, P-256). Made at the first start and kept in the
/// database with the gateway's other secrets, so every instance signs with, and publishes, the same key.
/// </summary>
public sealed class OAuthKeys : IDisposable
{
    private const string SecretName = "oauth-signing-key-es256";
    private readonly ECDsa _key;

    private OAuthKeys(ECDsa key)
    {
        _key = key;
        var spki = key.ExportSubjectPublicKeyInfo();
        KeyId = Base64UrlEncoder.Encode(SHA256.HashData(spki))[..16];
        SigningKey = new ECDsaSecurityKey(key) { KeyId = KeyId };
        var p = key.ExportParameters(false);
        // The public key only: what clients and MCP servers verify tokens with.
        Jwks = new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "EC", ["crv"] = "P-256", ["use"] = "sig", ["alg"] = SecurityAlgorithms.EcdsaSha256, ["kid"] = KeyId,
                    ["x"] = Base64UrlEncoder.Encode(p.Q.X), ["y"] = Base64UrlEncoder.Encode(p.Q.Y),
                },
            },
        };
    }

    public string KeyId { get; }

    public ECDsaSecurityKey SigningKey { get; }

    public IReadOnlyDictionary<string, object> Jwks { get; }

    public SigningCredentials Credentials => new(SigningKey, SecurityAlgorithms.EcdsaSha256);

    public static async Task<OAuthKeys> LoadAsync(IStateStore state, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        string candidate;
        using (var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            candidate = Convert.ToBase64String(fresh.ExportPkcs8PrivateKey());
        var stored = await state.GetOrAddSecretAsync(SecretName, candidate, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(stored), out _);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        return new OAuthKeys(key);
    }

    public void Dispose() => _key.Dispose();
}
