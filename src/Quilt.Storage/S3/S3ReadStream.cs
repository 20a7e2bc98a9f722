using Amazon.S3.Model;

namespace Quilt.Storage.S3;

/// <summary>
/// The body of a GET, read as it arrives; disposing it releases the HTTP response. Length is the size of what
/// this stream yields (the range, when one was asked for).
/// </summary>
internal sealed class S3ReadStream(GetObjectResponse response, long length) : ForwardReadStream
{
    private readonly Stream _body = response.ResponseStream;
    private long _position;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("An S3 object stream cannot seek; open it again with a byte range instead.");
    }

    public override int Read(Span<byte> buffer)
    {
        var n = _body.Read(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("An S3 object stream cannot seek.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            response.Dispose();
        base.Dispose(disposing);
    }
}
