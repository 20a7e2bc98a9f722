namespace Quilt.Testing;

/// <summary>Deterministic test bytes and streams that behave like network input (no seeking, failures midway).</summary>
public static class TestStreams
{
    /// <summary><paramref name="size"/> bytes with byte[i] = (i*31 + seed) % 256, as the quilt3 fixtures make large files.</summary>
    public static byte[] Bytes(int size, int seed = 0)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
            bytes[i] = (byte)((i * 31L + seed) % 256);
        return bytes;
    }

    /// <summary>A read-only stream over <paramref name="bytes"/> that cannot seek and has no known length.</summary>
    public static Stream NonSeekable(byte[] bytes) => new ForwardOnlyStream(new MemoryStream(bytes, writable: false), null, null);

    /// <summary>As <see cref="NonSeekable"/>, but reading past <paramref name="failAfter"/> bytes throws <paramref name="failure"/>.</summary>
    public static Stream FailingAfter(byte[] bytes, long failAfter, Exception failure) =>
        new ForwardOnlyStream(new MemoryStream(bytes, writable: false), failAfter, () => throw failure);

    /// <summary>As <see cref="NonSeekable"/>, but reading past <paramref name="after"/> bytes first runs <paramref name="action"/> (e.g. cancels).</summary>
    public static Stream RunningAfter(byte[] bytes, long after, Action action) =>
        new ForwardOnlyStream(new MemoryStream(bytes, writable: false), after, action);

    /// <summary>
    /// <paramref name="source"/> read forward only; reading past <paramref name="after"/> bytes first runs
    /// <paramref name="action"/> (e.g. waits, as a stalled disk or network would). Disposing it disposes the source.
    /// </summary>
    public static Stream RunningAfter(Stream source, long after, Action action) => new ForwardOnlyStream(source, after, action);

    /// <summary>As <see cref="NonSeekable"/>, calling <paramref name="onRead"/> with the bytes read so far after each read.</summary>
    public static Stream Observed(byte[] bytes, Action<long> onRead) =>
        new ForwardOnlyStream(new MemoryStream(bytes, writable: false), null, null, onRead);

    private sealed class ForwardOnlyStream(Stream inner, long? triggerAt, Action? trigger, Action<long>? onRead = null) : Quilt.Storage.ForwardReadStream
    {
        private long _position;
        private bool _triggered;

        public override long Length => throw new NotSupportedException("This test stream has no known length.");
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(Span<byte> buffer)
        {
            if (triggerAt is { } at && !_triggered && _position + buffer.Length > at)
            {
                // Hand out the bytes up to the trigger point first, so that the failure lands exactly there.
                if (_position < at)
                    buffer = buffer[..(int)(at - _position)];
                else
                {
                    _triggered = true;
                    trigger?.Invoke();
                }
            }
            var n = inner.Read(buffer);
            _position += n;
            onRead?.Invoke(_position);
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
