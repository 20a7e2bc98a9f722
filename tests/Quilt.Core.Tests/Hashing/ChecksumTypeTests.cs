using System.Buffers.Binary;
using System.Text;
using Quilt.Core.Hashing;

namespace Quilt.Core.Tests.Hashing;

/// <summary>SHA256 and CRC64NVME against values known independently of this code.</summary>
public sealed class ChecksumTypeTests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")] // sha256sum
    public void Sha256_is_lowercase_hex_of_the_whole_object(string text, string expected) =>
        Assert.Equal(new ObjectHash("SHA256", expected), ObjectHashing.Compute(Encoding.ASCII.GetBytes(text), ObjectHash.Sha256Type));

    [Fact]
    public async Task Sha256_of_a_large_fixture_file_matches_sha256sum()
    {
        // sha256sum of basic's sub/nine.bin (9,000,000 bytes, seed 7), generated with Python.
        await using var stream = new PatternStream(9_000_000, seed: 7);

        var hash = await ObjectHashing.ComputeAsync(stream, 9_000_000, ObjectHash.Sha256Type, null, TestContext.Current.CancellationToken);

        Assert.Equal("b9f12e6684c5695ca9edce9106504e8919803611b1402b20c551971c27214595", hash.Value);
    }

    [Theory]
    [InlineData("123456789", 0xAE8B14860A799888UL)]        // the catalogue check value of CRC-64/NVME
    [InlineData("Hello, World!", 15323988402725835341UL)]  // quilt3's own test value
    [InlineData("", 0UL)]                                   // quilt3 and S3: eight zero bytes
    public void Crc64Nvme_matches_known_values(string text, ulong expectedCrc)
    {
        var hash = ObjectHashing.Compute(Encoding.ASCII.GetBytes(text), ObjectHash.Crc64NvmeType);

        Assert.Equal(ObjectHash.Crc64NvmeType, hash.Type);
        Assert.Equal(BigEndianBase64(expectedCrc), hash.Value);
    }

    [Fact]
    public void Crc64Nvme_check_value_is_base64_of_big_endian_bytes() =>
        Assert.Equal("rosUhgp5mIg=", ObjectHashing.Compute("123456789"u8, ObjectHash.Crc64NvmeType).Value);

    [Fact]
    public void Crc64Nvme_of_megabytes_matches_bitwise_reference()
    {
        var data = new byte[3 * 1024 * 1024 + 13];
        new Random(42).NextBytes(data);
        using var hasher = new ObjectHasher(ObjectHash.Crc64NvmeType, data.Length);
        for (var offset = 0; offset < data.Length; offset += 100_003)
            hasher.Append(data.AsSpan(offset, Math.Min(100_003, data.Length - offset)));

        Assert.Equal(BigEndianBase64(BitwiseCrc64Nvme(data)), hasher.Finish().Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(65_537)]
    [InlineData(100_000)]
    public void Crc64Nvme_combine_joins_consecutive_pieces(int split)
    {
        var data = new byte[100_000];
        new Random(split).NextBytes(data);

        var joined = Crc64NvmeCombine.Combine(
            BitwiseCrc64Nvme(data.AsSpan(0, split)), BitwiseCrc64Nvme(data.AsSpan(split)), data.Length - split);

        Assert.Equal(BitwiseCrc64Nvme(data), joined);
    }

    [Fact]
    public async Task Crc64Nvme_in_parallel_ranges_equals_sequential()
    {
        const long size = 2 * 8 * 1024 * 1024 + 12_345; // three chunks, the last one short
        var ranges = new List<(long, long)>();
        await using var whole = new PatternStream(size, seed: 5);
        var sequential = await ObjectHashing.ComputeAsync(whole, size, ObjectHash.Crc64NvmeType, null, TestContext.Current.CancellationToken);

        var parallel = await ObjectHashing.ComputeParallelAsync(size, ObjectHash.Crc64NvmeType, (offset, length, _) =>
        {
            lock (ranges)
                ranges.Add((offset, length));
            return Task.FromResult<Stream>(new PatternStream(offset, length, seed: 5));
        }, maxDegreeOfParallelism: 3, progress: null, TestContext.Current.CancellationToken);

        Assert.Equal(sequential, parallel);
        Assert.Equal(3, ranges.Count);
        Assert.Equal(BigEndianBase64(BitwiseCrc64Nvme(PatternStream.Bytes(size, seed: 5))), parallel.Value);
    }

    /// <summary>CRC-64/NVME one bit at a time, straight from its definition (reflected, init and xor-out all ones).</summary>
    internal static ulong BitwiseCrc64Nvme(ReadOnlySpan<byte> data)
    {
        var crc = ulong.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x9A6C9329AC4BC9B5UL : crc >> 1;
        }
        return ~crc;
    }

    private static string BigEndianBase64(ulong crc)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }
}
