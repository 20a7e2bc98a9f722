using Quilt.Core.Hashing;

namespace Quilt.Core.Tests.Hashing;

/// <summary>Every entry hash quilt3 8.0.0 wrote in the fixtures, reproduced from the entries' bytes.</summary>
public sealed class FixtureHashTests
{
    public static TheoryData<string, string> AllEntries()
    {
        var data = new TheoryData<string, string>();
        foreach (var caseName in Quilt3Fixtures.Cases)
            foreach (var entry in Quilt3Fixtures.Entries(caseName))
                data.Add(caseName, entry.LogicalKey);
        return data;
    }

    [Fact]
    public void Fixtures_are_all_present_with_their_entries()
    {
        var counts = Quilt3Fixtures.Cases.ToDictionary(c => c, c => Quilt3Fixtures.Entries(c).Count);

        Assert.Equal(new Dictionary<string, int> { ["basic"] = 4, ["metadata"] = 3, ["nometa"] = 1, ["boundaries"] = 3 }, counts);
        Assert.All(Quilt3Fixtures.Cases.SelectMany(Quilt3Fixtures.Entries),
            e => Assert.Equal(ObjectHash.Sha256ChunkedType, e.Hash.Type));
    }

    [Theory]
    [MemberData(nameof(AllEntries))]
    public async Task Streaming_hash_equals_quilt3(string caseName, string logicalKey)
    {
        var entry = Quilt3Fixtures.Find(caseName, logicalKey);
        await using var stream = entry.Open();

        var hash = await ObjectHashing.ComputeAsync(stream, entry.Size, ObjectHash.Sha256ChunkedType, null, TestContext.Current.CancellationToken);

        Assert.Equal(entry.Hash, hash);
    }

    [Theory]
    [MemberData(nameof(AllEntries))]
    public async Task Parallel_ranged_hash_equals_quilt3(string caseName, string logicalKey)
    {
        var entry = Quilt3Fixtures.Find(caseName, logicalKey);

        var hash = await ObjectHashing.ComputeParallelAsync(
            entry.Size, ObjectHash.Sha256ChunkedType,
            (offset, length, _) => Task.FromResult(entry.OpenRange(offset, length)),
            maxDegreeOfParallelism: 2, progress: null, TestContext.Current.CancellationToken);

        Assert.Equal(entry.Hash, hash);
    }

    [Theory]
    [MemberData(nameof(AllEntries))]
    public async Task Verify_accepts_quilt3_hash(string caseName, string logicalKey)
    {
        var entry = Quilt3Fixtures.Find(caseName, logicalKey);
        await using var stream = entry.Open();

        Assert.True(await ObjectHashing.VerifyAsync(stream, entry.Size, entry.Hash, null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Small_entries_hash_in_memory_as_quilt3()
    {
        foreach (var entry in Quilt3Fixtures.Cases.SelectMany(Quilt3Fixtures.Entries).Where(e => e.FilePath is not null))
            Assert.Equal(entry.Hash, ObjectHashing.Compute(File.ReadAllBytes(entry.FilePath!)));
    }

    [Fact]
    public void Empty_object_is_sha256_of_nothing_not_hashed_twice()
    {
        var hash = ObjectHashing.Compute([]);

        Assert.Equal(new ObjectHash("sha2-256-chunked", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="), hash);
        Assert.Equal(Quilt3Fixtures.Find("basic", "empty.txt").Hash, hash);
    }
}
