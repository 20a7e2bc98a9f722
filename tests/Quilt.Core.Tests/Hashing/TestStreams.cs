namespace Quilt.Core.Tests.Hashing;

/// <summary>
/// The fixtures' large files, generated on the fly: byte i is (i*31+seed) % 256. Starts at any offset,
/// so ranged reads see the same bytes as the whole file; never holds the file in memory.
/// </summary>
internal sealed class PatternStream(long offset, long length, int seed) : Stream
{
    private long _position;

    public PatternStream(long length, int seed) : this(0, length, seed) { }

    public static byte ByteAt(long index, int seed) => (byte)((index * 31 + seed) % 256);

    public static byte[] Bytes(long length, int seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] = ByteAt(i, seed);
        return bytes;
    }

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < count; i++)
            buffer[i] = ByteAt(offset + _position + i, seed);
        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// Wraps a stream the way a network does: every read completes later (after a yield) and returns fewer
/// bytes than asked, at random. Exercises the read-ahead and short-read handling of the hashing pump.
/// </summary>
internal sealed class ChoppyStream(Stream inner, int seed) : Stream
{
    private readonly Random _random = new(seed);

    public int Reads { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        Reads++;
        var count = buffer.Length <= 1 ? buffer.Length : _random.Next(1, buffer.Length + 1);
        return await inner.ReadAsync(buffer[..count], cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
