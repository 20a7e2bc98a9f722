using System.Security.Cryptography;
using Quilt.Core.Hashing;

namespace Quilt.Core.Tests.Hashing;

public sealed class ChunkingTests
{
    private const long MiB8 = 8L * 1024 * 1024;

    [Theory]
    [InlineData(0L, MiB8)]
    [InlineData(1L, MiB8)]
    [InlineData(MiB8, MiB8)]
    [InlineData(10_000 * MiB8, MiB8)]            // exactly 10,000 chunks: no doubling
    [InlineData(10_000 * MiB8 + 1, 2 * MiB8)]    // 10,001 chunks of 8 MiB: doubled
    [InlineData(10_001 * MiB8, 2 * MiB8)]
    [InlineData(20_000 * MiB8, 2 * MiB8)]        // exactly 10,000 chunks of 16 MiB
    [InlineData(20_000 * MiB8 + 1, 4 * MiB8)]
    [InlineData(5L * 1024 * 1024 * 1024 * 1024, 1024L * 1024 * 1024)] // 5 TiB, S3's largest object: 5,120 chunks of 1 GiB
    public void Chunk_size_doubles_while_more_than_10000_chunks(long objectSize, long expectedChunkSize)
    {
        var chunkSize = ObjectHasher.GetChunkSize(objectSize);

        Assert.Equal(expectedChunkSize, chunkSize);
        Assert.InRange(ObjectHasher.GetChunkCount(objectSize, chunkSize), 0, 10_000);
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(1L, 1L)]
    [InlineData(MiB8 - 1, 1L)]
    [InlineData(MiB8, 1L)]
    [InlineData(MiB8 + 1, 2L)]
    [InlineData(16L * 1024 * 1024 + 1, 3L)]
    public void Chunk_count_rounds_up(long objectSize, long expectedCount) =>
        Assert.Equal(expectedCount, ObjectHasher.GetChunkCount(objectSize, MiB8));

    [Fact]
    public void Negative_size_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ObjectHasher.GetChunkSize(-1));

    /// <summary>
    /// The chunk bookkeeping with a tiny chunk size, against SHA-256 of the chunk digests built by hand,
    /// with the bytes appended in uneven pieces that straddle chunk boundaries.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(1000)]
    public void Chunk_layout_matches_definition_for_any_append_pattern(int size)
    {
        const int chunkSize = 7;
        var data = new byte[size];
        new Random(size).NextBytes(data);
        var digests = new List<byte>();
        for (var offset = 0; offset < size; offset += chunkSize)
            digests.AddRange(SHA256.HashData(data.AsSpan(offset, Math.Min(chunkSize, size - offset))));
        var expected = Convert.ToBase64String(SHA256.HashData(digests.ToArray()));

        foreach (var pieceSeed in new[] { 1, 2, 3 })
        {
            using var hasher = ObjectHasher.CreateChunked(size, chunkSize);
            var random = new Random(pieceSeed);
            for (var offset = 0; offset < size;)
            {
                var piece = Math.Min(random.Next(0, 20), size - offset);
                hasher.Append(data.AsSpan(offset, piece));
                offset += piece;
            }

            Assert.Equal(new ObjectHash(ObjectHash.Sha256ChunkedType, expected), hasher.Finish());
        }
    }

    [Fact]
    public void Object_smaller_than_a_chunk_is_sha256_of_its_sha256()
    {
        var data = "hello"u8.ToArray();

        var expected = Convert.ToBase64String(SHA256.HashData(SHA256.HashData(data)));

        Assert.Equal(expected, ObjectHashing.Compute(data).Value);
    }
}
