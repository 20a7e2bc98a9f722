using System.IO.Hashing;
using System.Security.Cryptography;

namespace Quilt.Core.Hashing;

/// <summary>
/// Hashes objects from streams: one object, one object in parallel ranges, or many objects at once.
/// Always streams with pooled buffers; never holds a whole object in memory.
/// Progress reports are the running total of bytes hashed; parallel methods report from several threads.
/// </summary>
public static class ObjectHashing
{
    /// <summary>The hash of bytes already in memory (manifests, small test data).</summary>
    public static ObjectHash Compute(ReadOnlySpan<byte> data, string type = ObjectHash.Sha256ChunkedType)
    {
        using var hasher = new ObjectHasher(type, data.Length);
        hasher.Append(data);
        return hasher.Finish();
    }

    /// <summary>
    /// Hashes the whole of <paramref name="stream"/> (read from its current position to its end), which must
    /// hold exactly <paramref name="size"/> bytes. The caller keeps ownership of the stream.
    /// </summary>
    /// <exception cref="ObjectSizeMismatchException">The stream ended early or had more bytes.</exception>
    /// <exception cref="UnsupportedHashTypeException">Unknown <paramref name="type"/>.</exception>
    public static async Task<ObjectHash> ComputeAsync(
        Stream stream, long size, string type = ObjectHash.Sha256ChunkedType, IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return await ComputeCoreAsync(stream, size, type, ProgressCounter.For(progress), subject: null, cancellationToken);
    }

    /// <summary>
    /// Whether <paramref name="stream"/> holds an object of <paramref name="size"/> bytes whose hash is
    /// <paramref name="expected"/>, of any known type. A stream of another length does not match.
    /// </summary>
    /// <exception cref="UnsupportedHashTypeException">The expected hash's type is unknown; nothing is read.</exception>
    public static async Task<bool> VerifyAsync(
        Stream stream, long size, ObjectHash expected, IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(expected);
        ThrowIfUnknown(expected.Type);
        try
        {
            var actual = await ComputeCoreAsync(stream, size, expected.Type, ProgressCounter.For(progress), subject: null, cancellationToken);
            return actual.Matches(expected);
        }
        catch (ObjectSizeMismatchException)
        {
            return false;
        }
    }

    /// <summary>
    /// Hashes one object by reading its chunks in parallel, each from its own ranged stream, so a large
    /// object uses every core (and several connections). <paramref name="openRange"/> gets (offset, length)
    /// and returns a stream whose first <c>length</c> bytes are those of the object at <c>offset</c>
    /// (e.g. a ranged GET); the hashing code disposes it. Ranges follow the chunk layout
    /// (<see cref="ObjectHasher.GetChunkSize"/>). <see cref="ObjectHash.Sha256Type"/> cannot be split and
    /// reads one range of the whole object. An empty object opens nothing.
    /// </summary>
    /// <param name="maxDegreeOfParallelism">Ranges read at once; 0 or less means one per core.</param>
    /// <exception cref="ObjectSizeMismatchException">A range ended before its length.</exception>
    /// <exception cref="UnsupportedHashTypeException">Unknown <paramref name="type"/>.</exception>
    public static async Task<ObjectHash> ComputeParallelAsync(
        long size, string type, Func<long, long, CancellationToken, Task<Stream>> openRange,
        int maxDegreeOfParallelism = 0, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(openRange);
        ThrowIfUnknown(type);

        var chunkSize = ObjectHasher.GetChunkSize(size);
        var chunkCount = ObjectHasher.GetChunkCount(size, chunkSize);
        var counter = ProgressCounter.For(progress);
        if (type == ObjectHash.Sha256Type || chunkCount <= 1)
        {
            if (size == 0)
                return Compute([], type);
            var stream = await openRange(0, size, cancellationToken);
            await using (stream)
                return await ComputeRangeAsync(stream, size, type, counter, cancellationToken);
        }

        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount,
            CancellationToken = cancellationToken,
        };
        return type == ObjectHash.Sha256ChunkedType
            ? await ChunkedSha256InParallelAsync(size, chunkSize, (int)chunkCount, openRange, options, counter)
            : await Crc64NvmeInParallelAsync(size, chunkSize, (int)chunkCount, openRange, options, counter);
    }

    /// <summary>
    /// Hashes many objects, up to <paramref name="maxDegreeOfParallelism"/> at once (0 or less: one per core).
    /// Results are in the order of <paramref name="sources"/>. The first failure cancels the rest and is thrown.
    /// </summary>
    public static async Task<ObjectHash[]> ComputeManyAsync(
        IReadOnlyList<HashSource> sources, string type = ObjectHash.Sha256ChunkedType, int maxDegreeOfParallelism = 0,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ThrowIfUnknown(type);
        var results = new ObjectHash[sources.Count];
        var counter = ProgressCounter.For(progress);
        await Parallel.ForEachAsync(
            Enumerable.Range(0, sources.Count), ManyOptions(maxDegreeOfParallelism, cancellationToken),
            async (i, token) => results[i] = await ComputeSourceAsync(sources[i], type, counter, token));
        return results;
    }

    /// <summary>
    /// Checks many objects against their expected hashes (each of its own type), up to
    /// <paramref name="maxDegreeOfParallelism"/> at once. Result i tells whether source i matches
    /// expected[i]; an object of another size does not match. Failing to read an object is thrown.
    /// </summary>
    /// <exception cref="UnsupportedHashTypeException">An expected hash has an unknown type; nothing is read.</exception>
    public static async Task<bool[]> VerifyManyAsync(
        IReadOnlyList<HashSource> sources, IReadOnlyList<ObjectHash> expected, int maxDegreeOfParallelism = 0,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(expected);
        if (sources.Count != expected.Count)
            throw new ArgumentException($"Got {sources.Count} sources but {expected.Count} expected hashes; give one hash per source.", nameof(expected));
        foreach (var hash in expected)
            ThrowIfUnknown(hash.Type);

        var results = new bool[sources.Count];
        var counter = ProgressCounter.For(progress);
        await Parallel.ForEachAsync(
            Enumerable.Range(0, sources.Count), ManyOptions(maxDegreeOfParallelism, cancellationToken),
            async (i, token) =>
            {
                try
                {
                    var actual = await ComputeSourceAsync(sources[i], expected[i].Type, counter, token);
                    results[i] = actual.Matches(expected[i]);
                }
                catch (ObjectSizeMismatchException)
                {
                    results[i] = false;
                }
            });
        return results;
    }

    private static ParallelOptions ManyOptions(int maxDegreeOfParallelism, CancellationToken cancellationToken) => new()
    {
        MaxDegreeOfParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount,
        CancellationToken = cancellationToken,
    };

    private static async Task<ObjectHash> ComputeSourceAsync(
        HashSource source, string type, ProgressCounter? counter, CancellationToken cancellationToken)
    {
        var stream = await source.OpenAsync(cancellationToken);
        await using (stream)
            return await ComputeCoreAsync(stream, source.Size, type, counter, source.Name, cancellationToken);
    }

    private static async Task<ObjectHash> ComputeCoreAsync(
        Stream stream, long size, string type, ProgressCounter? counter, string? subject, CancellationToken cancellationToken)
    {
        using var hasher = new ObjectHasher(type, size);
        await StreamPump.PumpAsync(stream, size, requireEnd: true, hasher, counter, subject, cancellationToken);
        return hasher.Finish();
    }

    // A range stream may go on past its length (a file stream positioned at the offset): read just the range.
    private static async Task<ObjectHash> ComputeRangeAsync(
        Stream stream, long size, string type, ProgressCounter? counter, CancellationToken cancellationToken)
    {
        using var hasher = new ObjectHasher(type, size);
        await StreamPump.PumpAsync(stream, size, requireEnd: false, hasher, counter, RangeName(0, size), cancellationToken);
        return hasher.Finish();
    }

    private static async Task<ObjectHash> ChunkedSha256InParallelAsync(
        long size, long chunkSize, int chunkCount, Func<long, long, CancellationToken, Task<Stream>> openRange,
        ParallelOptions options, ProgressCounter? counter)
    {
        var digests = new byte[chunkCount * SHA256.HashSizeInBytes];
        await Parallel.ForEachAsync(Enumerable.Range(0, chunkCount), options, async (i, token) =>
        {
            var offset = i * chunkSize;
            var length = Math.Min(chunkSize, size - offset);
            using var chunk = new Sha256Sink();
            var stream = await openRange(offset, length, token);
            await using (stream)
                await StreamPump.PumpAsync(stream, length, requireEnd: false, chunk, counter, RangeName(offset, length), token);
            chunk.Hash.GetHashAndReset(digests.AsSpan(i * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes));
        });
        return new ObjectHash(ObjectHash.Sha256ChunkedType, Convert.ToBase64String(SHA256.HashData(digests)));
    }

    private static async Task<ObjectHash> Crc64NvmeInParallelAsync(
        long size, long chunkSize, int chunkCount, Func<long, long, CancellationToken, Task<Stream>> openRange,
        ParallelOptions options, ProgressCounter? counter)
    {
        var crcs = new ulong[chunkCount];
        await Parallel.ForEachAsync(Enumerable.Range(0, chunkCount), options, async (i, token) =>
        {
            var offset = i * chunkSize;
            var length = Math.Min(chunkSize, size - offset);
            var crc = new Crc64Sink();
            var stream = await openRange(offset, length, token);
            await using (stream)
                await StreamPump.PumpAsync(stream, length, requireEnd: false, crc, counter, RangeName(offset, length), token);
            crcs[i] = crc.Crc.GetCurrentHashAsUInt64();
        });

        var combined = crcs[0];
        for (var i = 1; i < chunkCount; i++)
            combined = Crc64NvmeCombine.Combine(combined, crcs[i], Math.Min(chunkSize, size - i * chunkSize));
        Span<byte> bigEndian = stackalloc byte[sizeof(ulong)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bigEndian, combined);
        return new ObjectHash(ObjectHash.Crc64NvmeType, Convert.ToBase64String(bigEndian));
    }

    private static string RangeName(long offset, long length) =>
        $"The byte range {offset:N0}–{offset + length - 1:N0} of the object";

    private static void ThrowIfUnknown(string type)
    {
        if (!ObjectHash.IsKnownType(type))
            throw new UnsupportedHashTypeException(type);
    }

    private sealed class Sha256Sink : IByteSink, IDisposable
    {
        public IncrementalHash Hash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public void Append(ReadOnlySpan<byte> data) => Hash.AppendData(data);

        public void Dispose() => Hash.Dispose();
    }

    private sealed class Crc64Sink : IByteSink
    {
        public Crc64 Crc { get; } = new(Crc64ParameterSet.Nvme);

        public void Append(ReadOnlySpan<byte> data) => Crc.Append(data);
    }
}
