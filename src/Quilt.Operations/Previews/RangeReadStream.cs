using Quilt.Storage;

namespace Quilt.Operations.Previews;

/// <summary>
/// A seekable read-only view of an object that fetches byte ranges on demand, so a reader that needs random access
/// (Parquet keeps its schema at the end) touches only what it reads. Small reads go through one cached block.
/// </summary>
internal sealed class RangeReadStream(IObjectStore store, ObjectRef obj, long length, CancellationToken cancellationToken) : Stream
{
    private const int BlockSize = 256 * 1024;
    private byte[]? _block;
    private long _blockStart = -1;
    private int _blockLength;
    private long _position;

    /// <summary>Bytes fetched from storage so far.</summary>
    public long BytesFetched { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => length + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) =>
        ReadAsync(buffer.AsMemory(offset, count), token).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken token = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
        var ct = linked.Token;
        if (_position >= length || buffer.Length == 0)
            return 0;
        var want = (int)Math.Min(buffer.Length, length - _position);

        if (_block is not null && _position >= _blockStart && _position < _blockStart + _blockLength)
        {
            var n = (int)Math.Min(want, _blockStart + _blockLength - _position);
            _block.AsMemory((int)(_position - _blockStart), n).CopyTo(buffer);
            _position += n;
            return n;
        }

        if (want >= BlockSize)
        {
            var n = await FetchAsync(_position, buffer[..want], ct);
            _position += n;
            return n;
        }

        // Near the end, cache the last block whole: the Parquet footer length and the footer itself are both there.
        var start = Math.Max(0, Math.Min(_position, length - BlockSize));
        var blockLength = (int)Math.Min(BlockSize, length - start);
        _block ??= new byte[BlockSize];
        _blockLength = await FetchAsync(start, _block.AsMemory(0, blockLength), ct);
        _blockStart = start;
        if (_position >= _blockStart + _blockLength)
            return 0;
        return await ReadAsync(buffer, token);
    }

    private async Task<int> FetchAsync(long offset, Memory<byte> into, CancellationToken ct)
    {
        await using var stream = await store.OpenReadAsync(obj, new ByteRange(offset, into.Length), ct);
        var total = await stream.ReadAtLeastAsync(into, into.Length, throwOnEndOfStream: false, ct);
        BytesFetched += total;
        return total;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
