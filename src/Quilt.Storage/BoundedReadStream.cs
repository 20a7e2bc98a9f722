namespace Quilt.Storage;

/// <summary>
/// A read-only, forward-only window of at most <paramref name="length"/> bytes over a stream positioned at its start
/// (a byte range of a local file); disposing it disposes the inner stream.
/// </summary>
public sealed class BoundedReadStream(Stream inner, long length) : ForwardReadStream
{
    private long _remaining = length;

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0 || buffer.IsEmpty)
            return 0;
        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0 || buffer.IsEmpty)
            return 0;
        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        _remaining -= read;
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
