using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace Quilt.Core.Hashing;

/// <summary>
/// Hashes one object incrementally, as quilt3 8.0.0 does: feed its bytes in order with <see cref="Append"/>,
/// then <see cref="Finish"/>. The total size must be known up front because the chunk size of
/// <see cref="ObjectHash.Sha256ChunkedType"/> depends on it. Appending allocates nothing.
/// Not thread-safe; one instance per object.
/// </summary>
public sealed class ObjectHasher : IDisposable, IByteSink
{
    /// <summary>quilt3's (and S3 multipart's) base chunk size: 8 MiB.</summary>
    public const long DefaultChunkSize = 8 * 1024 * 1024;

    /// <summary>The chunk size doubles while an object would have more chunks than this (S3's part limit).</summary>
    public const int MaxChunks = 10_000;

    private enum Kind { Sha256Chunked, Sha256, Crc64Nvme }

    private readonly Kind _kind;
    private readonly long _chunkSize;
    private readonly IncrementalHash? _hash;    // chunked: the current chunk; SHA256: the whole object
    private readonly IncrementalHash? _digests; // chunked: SHA-256 over the chunk digests, fed as chunks complete
    private readonly Crc64? _crc;
    private long _chunkFill;
    private long _appended;
    private bool _finished;

    /// <summary>A hasher for an object of <paramref name="expectedSize"/> bytes.</summary>
    /// <exception cref="UnsupportedHashTypeException"><paramref name="type"/> is not one of <see cref="ObjectHash.KnownTypes"/>.</exception>
    public ObjectHasher(string type, long expectedSize)
        : this(type, expectedSize, expectedSize >= 0 ? GetChunkSize(expectedSize) : DefaultChunkSize)
    {
    }

    private ObjectHasher(string type, long expectedSize, long chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        Type = type;
        ExpectedSize = expectedSize;
        _chunkSize = chunkSize;
        switch (type)
        {
            case ObjectHash.Sha256ChunkedType:
                _kind = Kind.Sha256Chunked;
                _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                _digests = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                break;
            case ObjectHash.Sha256Type:
                _kind = Kind.Sha256;
                _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                break;
            case ObjectHash.Crc64NvmeType:
                _kind = Kind.Crc64Nvme;
                _crc = new Crc64(Crc64ParameterSet.Nvme);
                break;
            default:
                throw new UnsupportedHashTypeException(type);
        }
    }

    /// <summary>A chunked hasher with a chosen chunk size, so tests can cover many chunks with few bytes.</summary>
    internal static ObjectHasher CreateChunked(long expectedSize, long chunkSize) =>
        new(ObjectHash.Sha256ChunkedType, expectedSize, chunkSize);

    public string Type { get; }

    public long ExpectedSize { get; }

    public long BytesAppended => _appended;

    /// <summary>
    /// The chunk size quilt3 uses for an object of <paramref name="objectSize"/> bytes: 8 MiB, doubled while
    /// the object would have more than 10,000 chunks. Also the part size whose S3 composite SHA-256 matches.
    /// </summary>
    public static long GetChunkSize(long objectSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(objectSize);
        var chunkSize = DefaultChunkSize;
        while (GetChunkCount(objectSize, chunkSize) > MaxChunks)
            chunkSize *= 2;
        return chunkSize;
    }

    /// <summary>How many chunks of <paramref name="chunkSize"/> an object of <paramref name="objectSize"/> bytes has (0 when empty).</summary>
    public static long GetChunkCount(long objectSize, long chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(objectSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        return objectSize / chunkSize + (objectSize % chunkSize == 0 ? 0 : 1);
    }

    /// <summary>Feeds the next bytes of the object.</summary>
    /// <exception cref="ObjectSizeMismatchException">More bytes than the expected size (nothing of <paramref name="data"/> is taken).</exception>
    public void Append(ReadOnlySpan<byte> data)
    {
        ThrowIfFinished();
        if (data.Length > ExpectedSize - _appended)
            throw new ObjectSizeMismatchException(ExpectedSize, _appended + data.Length);
        _appended += data.Length;
        switch (_kind)
        {
            case Kind.Sha256Chunked:
                AppendChunked(data);
                break;
            case Kind.Sha256:
                _hash!.AppendData(data);
                break;
            default:
                _crc!.Append(data);
                break;
        }
    }

    /// <summary>The object's hash. The hasher cannot be used after this succeeds.</summary>
    /// <exception cref="ObjectSizeMismatchException">Fewer bytes were appended than the expected size.</exception>
    public ObjectHash Finish()
    {
        ThrowIfFinished();
        if (_appended != ExpectedSize)
            throw new ObjectSizeMismatchException(ExpectedSize, _appended);
        _finished = true;

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        switch (_kind)
        {
            case Kind.Sha256Chunked:
                if (_chunkFill > 0)
                    CompleteChunk();
                // With no chunks (an empty object) this is SHA-256 of nothing, exactly as quilt3 has it.
                _digests!.GetHashAndReset(digest);
                return new ObjectHash(Type, Convert.ToBase64String(digest));
            case Kind.Sha256:
                _hash!.GetHashAndReset(digest);
                return new ObjectHash(Type, Convert.ToHexStringLower(digest));
            default:
                Span<byte> crc = stackalloc byte[sizeof(ulong)];
                BinaryPrimitives.WriteUInt64BigEndian(crc, _crc!.GetCurrentHashAsUInt64());
                return new ObjectHash(Type, Convert.ToBase64String(crc));
        }
    }

    public void Dispose()
    {
        _hash?.Dispose();
        _digests?.Dispose();
    }

    private void AppendChunked(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var take = (int)Math.Min(data.Length, _chunkSize - _chunkFill);
            _hash!.AppendData(data[..take]);
            _chunkFill += take;
            data = data[take..];
            if (_chunkFill == _chunkSize)
                CompleteChunk();
        }
    }

    private void CompleteChunk()
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        _hash!.GetHashAndReset(digest);
        _digests!.AppendData(digest);
        _chunkFill = 0;
    }

    private void ThrowIfFinished()
    {
        if (_finished)
            throw new InvalidOperationException("This hasher already finished its object; create a new ObjectHasher for the next one.");
    }
}
