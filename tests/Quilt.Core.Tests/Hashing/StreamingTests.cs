using Quilt.Core.Hashing;
using Quilt.Testing;

namespace Quilt.Core.Tests.Hashing;

public sealed class StreamingTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string> Types() => [.. ObjectHash.KnownTypes];

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Short_and_async_reads_hash_the_same_as_in_memory(string type)
    {
        var data = RandomBytes(3 * 1024 * 1024 + 77, seed: 1);
        await using var stream = new ChoppyStream(new MemoryStream(data), seed: 2);

        var hash = await ObjectHashing.ComputeAsync(stream, data.Length, type, null, Token);

        Assert.Equal(ObjectHashing.Compute(data, type), hash);
        Assert.True(stream.Reads > 4, "the stream should have been read in several pieces");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Appending_allocates_nothing(string type)
    {
        var piece = new byte[1024 * 1024 + 1]; // odd size: chunk boundaries fall inside appends
        const int pieces = 40;               // five 8 MiB chunks
        // Warm up every path (chunk boundaries, digest of digests) on a whole object first, so that first-time
        // JIT work is not counted as the hasher's allocation.
        using (var warmUp = new ObjectHasher(type, (long)piece.Length * pieces))
        {
            for (var i = 0; i < pieces; i++)
                warmUp.Append(piece);
            warmUp.Finish();
        }
        // Three measured rounds, the least counted: a runtime event on this thread (a tier-up, a timer) can add a
        // few bytes to one round, while an allocation in Append would show in every round, 39 times over.
        var least = long.MaxValue;
        ObjectHash? last = null;
        for (var round = 0; round < 3; round++)
        {
            using var hasher = new ObjectHasher(type, (long)piece.Length * pieces);
            hasher.Append(piece);

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 1; i < pieces; i++)
                hasher.Append(piece);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            last = hasher.Finish();
        }

        Assert.Equal(0, least);
        Assert.Equal(ObjectHashing.Compute(Enumerable.Repeat(piece, pieces).SelectMany(p => p).ToArray(), type), last);
    }

    [Fact]
    public async Task Stream_shorter_than_size_is_an_error_naming_both_sizes()
    {
        await using var stream = new MemoryStream(new byte[10]);

        var error = await Assert.ThrowsAsync<ObjectSizeMismatchException>(
            () => ObjectHashing.ComputeAsync(stream, 11, ObjectHash.Sha256ChunkedType, null, Token));

        Assert.Equal(11, error.ExpectedSize);
        Assert.Equal(10, error.ActualSize);
        Assert.Contains("ended after 10 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("hash it again", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_longer_than_size_is_an_error()
    {
        await using var stream = new MemoryStream(new byte[10]);

        var error = await Assert.ThrowsAsync<ObjectSizeMismatchException>(
            () => ObjectHashing.ComputeAsync(stream, 9, ObjectHash.Sha256ChunkedType, null, Token));

        Assert.Equal(9, error.ExpectedSize);
        Assert.Contains("more than the 9 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hasher_refuses_to_finish_short_or_take_too_much()
    {
        using var hasher = new ObjectHasher(ObjectHash.Sha256ChunkedType, 5);
        hasher.Append("abc"u8);

        var tooFew = Assert.Throws<ObjectSizeMismatchException>(() => hasher.Finish());
        Assert.Equal(3, tooFew.ActualSize);
        var tooMany = Assert.Throws<ObjectSizeMismatchException>(() => hasher.Append("def"u8));
        Assert.Equal(6, tooMany.ActualSize);

        hasher.Append("de"u8); // the refused append took nothing: the object can still be completed
        Assert.Equal(ObjectHashing.Compute("abcde"u8), hasher.Finish());
        Assert.Throws<InvalidOperationException>(() => hasher.Finish());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Verify_detects_a_one_byte_change(string type)
    {
        var data = RandomBytes(9 * 1024 * 1024, seed: 3); // two chunks
        var expected = ObjectHashing.Compute(data, type);
        Assert.True(await ObjectHashing.VerifyAsync(new MemoryStream(data), data.Length, expected, null, Token));

        data[data.Length / 2 + 1] ^= 0x01;

        Assert.False(await ObjectHashing.VerifyAsync(new MemoryStream(data), data.Length, expected, null, Token));
    }

    [Fact]
    public async Task Verify_says_no_for_an_object_of_another_size()
    {
        var expected = ObjectHashing.Compute("hello"u8);

        Assert.False(await ObjectHashing.VerifyAsync(new MemoryStream("hello!"u8.ToArray()), 5, expected, null, Token));
        Assert.False(await ObjectHashing.VerifyAsync(new MemoryStream("hell"u8.ToArray()), 5, expected, null, Token));
    }

    [Fact]
    public async Task Verify_accepts_uppercase_hex_for_sha256()
    {
        var expected = ObjectHashing.Compute("abc"u8, ObjectHash.Sha256Type);

        Assert.True(await ObjectHashing.VerifyAsync(
            new MemoryStream("abc"u8.ToArray()), 3, expected with { Value = expected.Value.ToUpperInvariant() }, null, Token));
    }

    [Fact]
    public async Task Verify_of_an_unknown_type_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<UnsupportedHashTypeException>(
            () => ObjectHashing.VerifyAsync(new MemoryStream([1]), 1, new ObjectHash("MD5", "abc"), null, Token));

        Assert.Equal("MD5", error.Type);
        Assert.Contains("Unknown hash type 'MD5'", error.Message, StringComparison.Ordinal);
        Assert.Contains("sha2-256-chunked, SHA256, CRC64NVME", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_type_names_are_exact()
    {
        Assert.Throws<UnsupportedHashTypeException>(() => new ObjectHasher("sha256", 0));
        Assert.False(ObjectHash.IsKnownType("Sha2-256-Chunked"));
        Assert.True(ObjectHash.IsKnownType("CRC64NVME"));
    }

    [Fact]
    public async Task Progress_reports_a_running_total_ending_at_the_size()
    {
        var data = RandomBytes(3 * 1024 * 1024 + 5, seed: 4);
        var progress = new RecordingProgress();

        await ObjectHashing.ComputeAsync(new MemoryStream(data), data.Length, ObjectHash.Sha256ChunkedType, progress, Token);

        Assert.NotEmpty(progress.Values);
        Assert.Equal(data.Length, progress.Values[^1]);
        Assert.Equal(progress.Values.Order(), progress.Values);
    }

    [Fact]
    public async Task Cancellation_stops_hashing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ObjectHashing.ComputeAsync(
            new ChoppyStream(new MemoryStream(new byte[1000]), seed: 1), 1000, ObjectHash.Sha256ChunkedType, null, cancelled.Token));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Parallel_chunk_hashing_equals_sequential(string type)
    {
        const long size = 5 * 8 * 1024 * 1024 + 3; // six chunks
        var ranges = new List<(long Offset, long Length)>();
        var progress = new RecordingProgress();
        await using var whole = new PatternStream(size, seed: 9);
        var sequential = await ObjectHashing.ComputeAsync(whole, size, type, null, Token);

        var parallel = await ObjectHashing.ComputeParallelAsync(size, type, (offset, length, _) =>
        {
            lock (ranges)
                ranges.Add((offset, length));
            return Task.FromResult<Stream>(new PatternStream(offset, length, seed: 9));
        }, maxDegreeOfParallelism: 2, progress, Token);

        Assert.Equal(sequential, parallel);
        Assert.Equal(size, progress.Values.Max());
        if (type == ObjectHash.Sha256Type)
            Assert.Equal([(0L, size)], ranges); // one whole-object hash cannot be split
        else
            Assert.Equal(
                Enumerable.Range(0, 6).Select(i => (i * 8L * 1024 * 1024, i < 5 ? 8L * 1024 * 1024 : 3L)),
                ranges.OrderBy(r => r.Offset));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task Parallel_hash_of_an_empty_object_opens_nothing(string type)
    {
        var hash = await ObjectHashing.ComputeParallelAsync(0, type,
            (_, _, _) => throw new InvalidOperationException("an empty object has no range to read"), 0, null, Token);

        Assert.Equal(ObjectHashing.Compute([], type), hash);
    }

    [Fact]
    public async Task Parallel_hash_reports_a_range_that_ends_early()
    {
        const long size = 2 * 8 * 1024 * 1024;

        var error = await Assert.ThrowsAsync<ObjectSizeMismatchException>(() => ObjectHashing.ComputeParallelAsync(
            size, ObjectHash.Sha256ChunkedType,
            (offset, length, _) => Task.FromResult<Stream>(new PatternStream(offset, offset == 0 ? length : length - 1, seed: 1)),
            2, null, Token));

        Assert.Equal(8 * 1024 * 1024, error.ExpectedSize);
        Assert.Contains("byte range 8,388,608", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_objects_hash_in_order_as_one_by_one()
    {
        var objects = Enumerable.Range(0, 60).Select(i => RandomBytes(i * 5_003, seed: i)).ToArray();
        var sources = objects.Select((data, i) =>
            new HashSource($"obj{i}", data.Length, _ => Task.FromResult<Stream>(new MemoryStream(data)))).ToArray();
        var progress = new RecordingProgress();

        var hashes = await ObjectHashing.ComputeManyAsync(sources, ObjectHash.Sha256ChunkedType, 2, progress, Token);

        Assert.Equal(objects.Select(o => ObjectHashing.Compute(o)), hashes);
        Assert.Equal(objects.Sum(o => (long)o.Length), progress.Values.Max());
    }

    [Fact]
    public async Task Many_objects_name_the_one_of_the_wrong_size()
    {
        var sources = new[]
        {
            new HashSource("good.csv", 3, _ => Task.FromResult<Stream>(new MemoryStream([1, 2, 3]))),
            new HashSource("data/changed.bin", 4, _ => Task.FromResult<Stream>(new MemoryStream([1, 2, 3]))),
        };

        var error = await Assert.ThrowsAsync<ObjectSizeMismatchException>(
            () => ObjectHashing.ComputeManyAsync(sources, ObjectHash.Sha256ChunkedType, 2, null, Token));

        Assert.StartsWith("data/changed.bin ended after 3 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_many_tells_which_objects_differ()
    {
        var objects = Enumerable.Range(0, 6).Select(i => RandomBytes(1000 + i, seed: i)).ToArray();
        var types = new[] { ObjectHash.Sha256ChunkedType, ObjectHash.Sha256Type, ObjectHash.Crc64NvmeType };
        var expected = objects.Select((o, i) => ObjectHashing.Compute(o, types[i % 3])).ToArray();
        objects[1][10] ^= 0xFF; // tampered
        var sources = objects.Select((data, i) =>
            new HashSource($"obj{i}", i == 4 ? data.Length + 1 : data.Length, _ => Task.FromResult<Stream>(new MemoryStream(data))))
            .ToArray();

        var results = await ObjectHashing.VerifyManyAsync(sources, expected, 2, null, Token);

        Assert.Equal([true, false, true, true, false, true], results);
    }
}
