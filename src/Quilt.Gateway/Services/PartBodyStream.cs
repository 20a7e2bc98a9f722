using System.Security.Cryptography;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

/// <summary>
/// A part's request body on its way to S3: at most <paramref name="length"/> bytes, hashed (MD5, what S3's part ETag
/// is) as they pass, and an error rather than a short part when the body ends early. The body itself is left open.
/// </summary>
internal sealed class PartBodyStream(Stream body, long length) : ForwardReadStream
{
#pragma warning disable CA5351 // MD5 is what S3 reports as a part's ETag; it checks what S3 stored, it protects no secret.
    private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    public override long Length => length;

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    private string? _md5Hex;

    /// <summary>The MD5 of the whole part, as S3 writes it in an ETag (lowercase hex); null until all of it was read.</summary>
    public string? Md5Hex => _md5Hex;

    public override int Read(Span<byte> buffer)
    {
        if (BytesRead >= length || buffer.IsEmpty)
            return 0;
        return Account(buffer, body.Read(buffer[..(int)Math.Min(buffer.Length, length - BytesRead)]));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (BytesRead >= length || buffer.IsEmpty)
            return 0;
        var read = await body.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - BytesRead)], cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span, read);
    }

    private int Account(ReadOnlySpan<byte> buffer, int read)
    {
        // Ending early must fail the S3 request, not send a part shorter than its Content-Length says.
        if (read == 0)
            throw new IOException($"The part's body ended after {BytesRead} of its {length} bytes.");
        _md5.AppendData(buffer[..read]);
        BytesRead += read;
        // Taken now: whoever sends the stream may dispose it before the answer is read.
        if (BytesRead == length)
            _md5Hex = Convert.ToHexStringLower(_md5.GetHashAndReset());
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _md5.Dispose();
        base.Dispose(disposing);
    }
}
