using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;

namespace Quilt.Gateway.Services;

/// <summary>What a listing cursor is good for: one listing (bucket, prefix, delimiter) by one caller (subject, role).</summary>
public sealed record ListingCursorBinding(string Bucket, string Prefix, string? Delimiter, string Subject, string Role)
{
    /// <summary>The fields, each length-prefixed, so that no two bindings share a byte form.</summary>
    internal byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var field in new[] { Bucket, Prefix, Delimiter, Subject, Role })
        {
            var bytes = field is null ? [] : Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(length, field is null ? -1 : bytes.Length);
            buffer.Write(length);
            buffer.Write(bytes);
        }
        return buffer.ToArray();
    }
}

/// <summary>
/// Listing cursors as callers see them: S3's continuation token sealed with AES-GCM under the gateway's key, with the
/// listing and the caller as associated data. A caller can neither read the token (S3 servers such as Ceph use the next
/// key, which may lie outside the caller's grant) nor make, alter or reuse one for another listing, user or role.
/// </summary>
public sealed class ListingCursors
{
    /// <summary>The name of the generated secret in the database.</summary>
    public const string SecretName = "listing-cursor";

    // Longer than any cursor made here (S3 tokens stay well under 1 KiB); anything longer is refused unread.
    private const int MaxCursorLength = 8192;
    private const byte Version = 1;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int HeaderBytes = 1 + NonceBytes + TagBytes;

    private readonly byte[] _key;

    public ListingCursors(byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: "quilt-gateway listing cursor v1"u8.ToArray());
    }

    /// <summary>With <see cref="GatewayOptions.CursorSecret"/>, or else the secret kept in the database (made at the first start).</summary>
    public static async Task<ListingCursors> CreateAsync(GatewayOptions options, IStateStore state, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        if (!string.IsNullOrEmpty(options.CursorSecret))
            return new ListingCursors(Encoding.UTF8.GetBytes(options.CursorSecret));
        var stored = await state.GetOrAddSecretAsync(SecretName, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return new ListingCursors(Convert.FromBase64String(stored));
    }

    /// <summary>The cursor for <paramref name="continuationToken"/> in the listing <paramref name="binding"/> names.</summary>
    public string Seal(ListingCursorBinding binding, string continuationToken)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentNullException.ThrowIfNull(continuationToken);
        var plain = Encoding.UTF8.GetBytes(continuationToken);
        var sealedBytes = new byte[HeaderBytes + plain.Length];
        sealedBytes[0] = Version;
        var nonce = sealedBytes.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagBytes))
            aes.Encrypt(nonce, plain, sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(1 + NonceBytes, TagBytes), binding.ToBytes());
        return Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The continuation token inside <paramref name="cursor"/>; null unless this gateway sealed it for exactly this listing and caller.</summary>
    public string? Open(ListingCursorBinding binding, string cursor)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (string.IsNullOrEmpty(cursor) || cursor.Length > MaxCursorLength)
            return null;
        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return null;
        }
        if (sealedBytes.Length < HeaderBytes || sealedBytes[0] != Version)
            return null;
        var plain = new byte[sealedBytes.Length - HeaderBytes];
        try
        {
            using var aes = new AesGcm(_key, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(1, NonceBytes), sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(1 + NonceBytes, TagBytes), plain, binding.ToBytes());
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        return Encoding.UTF8.GetString(plain);
    }
}
