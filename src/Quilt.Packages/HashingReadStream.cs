using System.Globalization;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;

namespace Quilt.Packages;

/// <summary>
/// Passes a stream through while hashing what is read, so an upload and its hash need one read of the source.
/// <para>
/// With an <c>expected</c> entry the stream also checks the bytes against its recorded size and hash (of whatever type it
/// records): the read that would hand over the last byte throws <see cref="EntryMismatchException"/> instead when they do
/// not match, and so does a read that finds the data shorter or longer. An upload reading from it therefore never gets
/// the whole of data that is not what the manifest records, and is abandoned before it completes.
/// </para>
/// </summary>
internal sealed class HashingReadStream : Quilt.Storage.ForwardReadStream
{
    private readonly Stream _inner;
    private readonly ObjectHasher _hasher;
    private readonly IProgress<long>? _progress;
    private readonly ManifestEntry? _expected;
    private readonly ObjectHasher? _check;
    private ObjectHash? _hash;
    private bool _verified;

    public HashingReadStream(Stream inner, ObjectHasher hasher, IProgress<long>? progress = null, ManifestEntry? expected = null)
    {
        _inner = inner;
        _hasher = hasher;
        _progress = progress;
        _expected = expected;
        if (expected is not null && expected.Hash.Type != hasher.Type)
        {
            try
            {
                _check = EntryVerification.NewHasher(expected, hasher.ExpectedSize);
            }
            catch
            {
                // The stream was handed over: an entry that cannot be verified must not leave it open.
                inner.Dispose();
                throw;
            }
        }
    }

    public override long Length => _hasher.ExpectedSize;
    public override long Position { get => _hasher.BytesAppended; set => throw new NotSupportedException(); }

    /// <summary>
    /// The mismatch this stream found, if any: a store may wrap the exception a read throws into its own, so the caller
    /// reports this one.
    /// </summary>
    public EntryMismatchException? Mismatch { get; private set; }

    /// <summary>The hash (of the hasher's type) of everything read; the whole stream must have been read.</summary>
    public ObjectHash Hash => _hash ??= _hasher.Finish();

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        Consume(buffer[..n], endOfStream: n == 0 && !buffer.IsEmpty);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Consume(buffer.Span[..n], endOfStream: n == 0 && !buffer.IsEmpty);
        return n;
    }

    private void Consume(ReadOnlySpan<byte> data, bool endOfStream)
    {
        if (Mismatch is not null)
            throw Mismatch;
        if (_expected is not null)
        {
            if (data.Length > _hasher.ExpectedSize - _hasher.BytesAppended)
            {
                var recorded = _hasher.ExpectedSize.ToString("N0", CultureInfo.InvariantCulture);
                throw Fail(new EntryMismatchException(_expected, _hasher.BytesAppended + data.Length, null, $"more than {recorded}"));
            }
            if (endOfStream && _hasher.BytesAppended < _hasher.ExpectedSize)
                throw Fail(new EntryMismatchException(_expected, _hasher.BytesAppended, null));
        }
        if (!data.IsEmpty)
        {
            _hasher.Append(data);
            _check?.Append(data);
        }
        if (_expected is not null && !_verified && _hasher.BytesAppended == _hasher.ExpectedSize)
        {
            // Checked before the last bytes are handed over: a consumer never gets all of data that does not match.
            var actual = _check?.Finish() ?? Hash;
            if (!actual.Matches(_expected.Hash))
                throw Fail(new EntryMismatchException(_expected, _hasher.BytesAppended, actual));
            _verified = true;
        }
        if (!data.IsEmpty)
            _progress?.Report(data.Length);
    }

    private EntryMismatchException Fail(EntryMismatchException mismatch) => Mismatch = mismatch;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _check?.Dispose();
        }
        base.Dispose(disposing);
    }
}
