using Quilt.Core.Hashing;

namespace Quilt.Packages;

/// <summary>
/// Passes a stream through while hashing what is read, so an upload and its hash need one read of the source.
/// </summary>
internal sealed class HashingReadStream(Stream inner, ObjectHasher hasher, IProgress<long>? progress = null) : Quilt.Storage.ForwardReadStream
{
    public override long Length => hasher.ExpectedSize;
    public override long Position { get => hasher.BytesAppended; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Consume(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Consume(buffer.Span[..n]);
        return n;
    }

    private void Consume(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return;
        hasher.Append(data);
        progress?.Report(data.Length);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
