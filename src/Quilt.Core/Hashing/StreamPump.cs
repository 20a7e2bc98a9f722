using System.Buffers;

namespace Quilt.Core.Hashing;

/// <summary>Something that takes an object's bytes in order: a hasher or a digest of one chunk.</summary>
internal interface IByteSink
{
    void Append(ReadOnlySpan<byte> data);
}

/// <summary>Sums bytes from parallel readers and reports the running total.</summary>
internal sealed class ProgressCounter(IProgress<long> progress)
{
    private long _total;

    public void Add(long bytes) => progress.Report(Interlocked.Add(ref _total, bytes));

    public static ProgressCounter? For(IProgress<long>? progress) => progress is null ? null : new ProgressCounter(progress);
}

internal static class StreamPump
{
    /// <summary>Large reads keep per-call overhead (network, syscalls) small against the hashing.</summary>
    public const int BufferSize = 1024 * 1024;

    /// <summary>
    /// Reads exactly <paramref name="length"/> bytes from <paramref name="stream"/> into <paramref name="sink"/>,
    /// with pooled buffers, never the whole object. The next read runs while the previous buffer is hashed,
    /// so a network stream and the CPU work at the same time.
    /// With <paramref name="requireEnd"/> the stream must end there (a whole object); without, bytes after are left unread (a range).
    /// </summary>
    public static async Task PumpAsync(
        Stream stream, long length, bool requireEnd, IByteSink sink, ProgressCounter? progress, string? subject,
        CancellationToken cancellationToken)
    {
        // Small objects rent small buffers; the second buffer only exists when there is a next read to overlap.
        var current = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(length, 1, BufferSize));
        byte[]? spare = null;
        long done = 0;
        var pending = default(ValueTask<int>);
        var reading = false;
        try
        {
            if (length > 0)
            {
                pending = stream.ReadAsync(current.AsMemory(0, NextReadSize(current, length)), cancellationToken);
                reading = true;
            }

            while (reading)
            {
                reading = false; // before the await: a failed ValueTask must not be awaited again below
                var read = await pending;
                if (read == 0)
                    throw new ObjectSizeMismatchException(length, done, subject);
                done += read;

                var filled = current;
                if (done < length)
                {
                    spare ??= ArrayPool<byte>.Shared.Rent(current.Length);
                    (current, spare) = (spare, current);
                    pending = stream.ReadAsync(current.AsMemory(0, NextReadSize(current, length - done)), cancellationToken);
                    reading = true;
                }

                sink.Append(filled.AsSpan(0, read));
                progress?.Add(read);
            }

            if (requireEnd)
            {
                var extra = await stream.ReadAsync(current.AsMemory(0, 1), cancellationToken);
                if (extra > 0)
                    throw new ObjectSizeMismatchException(length, length + extra, subject);
            }
        }
        finally
        {
            // A read still in flight writes into a buffer: let it land before the buffer goes back to the pool.
            if (reading)
            {
                try
                {
                    await pending;
                }
                catch
                {
                    // The failure that got us here is the one to report.
                }
            }
            ArrayPool<byte>.Shared.Return(current);
            if (spare is not null)
                ArrayPool<byte>.Shared.Return(spare);
        }
    }

    private static int NextReadSize(byte[] buffer, long remaining) => (int)Math.Min(buffer.Length, remaining);
}
