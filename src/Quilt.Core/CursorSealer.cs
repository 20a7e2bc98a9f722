using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Quilt.Core;

/// <summary>
/// Seals the state a paged answer hands its caller as a cursor: AES-GCM under a key derived (HKDF-SHA256) from a
/// secret for one purpose, with what the cursor is good for (a listing, a search, a caller) as associated data. A
/// caller can neither read the state nor make, alter or reuse a cursor for anything else it was not sealed for;
/// <see cref="Open"/> then answers null, never something else. The one sealer of listing and search cursors.
/// </summary>
public sealed class CursorSealer
{
    /// <summary>Longer than any cursor made here; anything longer is refused unread.</summary>
    public const int MaxCursorLength = 64 * 1024;

    private const byte Version = 1;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int HeaderBytes = 1 + NonceBytes + TagBytes;

    private readonly byte[] _key;

    /// <param name="secret">Kept by the caller (a database, a setting): the same secret and purpose open the same cursors.</param>
    /// <param name="purpose">Names the kind of cursor, so that one secret's cursors of one kind never open as another's.</param>
    public CursorSealer(ReadOnlySpan<byte> secret, string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        if (secret.IsEmpty)
            throw new ArgumentException("A cursor secret cannot be empty.", nameof(secret));
        _key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, _key, salt: [], info: Encoding.UTF8.GetBytes(purpose));
    }

    /// <summary>The cursor for <paramref name="state"/>, good only for exactly <paramref name="binding"/>.</summary>
    public string Seal(ReadOnlySpan<byte> state, params ReadOnlySpan<string?> binding)
    {
        var sealedBytes = new byte[HeaderBytes + state.Length];
        sealedBytes[0] = Version;
        var nonce = sealedBytes.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagBytes))
            aes.Encrypt(nonce, state, sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(1 + NonceBytes, TagBytes), AssociatedData(binding));
        return Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The state inside <paramref name="cursor"/>; null unless it was sealed here for exactly <paramref name="binding"/>.</summary>
    public byte[]? Open(string? cursor, params ReadOnlySpan<string?> binding)
    {
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
        var state = new byte[sealedBytes.Length - HeaderBytes];
        try
        {
            using var aes = new AesGcm(_key, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(1, NonceBytes), sealedBytes.AsSpan(HeaderBytes), sealedBytes.AsSpan(1 + NonceBytes, TagBytes), state, AssociatedData(binding));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        return state;
    }

    /// <summary>The binding's fields, each length-prefixed (null as -1), so that no two bindings share a byte form.</summary>
    private static byte[] AssociatedData(ReadOnlySpan<string?> binding)
    {
        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var field in binding)
        {
            var bytes = field is null ? [] : Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(length, field is null ? -1 : bytes.Length);
            buffer.Write(length);
            buffer.Write(bytes);
        }
        return buffer.ToArray();
    }
}
