using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Json;
using Quilt.Core.Manifests;

namespace Quilt.Core.Tests;

/// <summary>
/// Manifests of several megabytes: the reader parses blocks of lines in parallel and the top hash serializes entries in
/// parallel, so order, line numbers and the hash must come out as a one-line-at-a-time reading gives them.
/// </summary>
public sealed class LargeManifestTests
{
    private const int EntryCount = 30_000; // about 7 MB: several of the reader's blocks and the hasher's rounds

    [Fact]
    public async Task A_large_manifest_reads_back_whole_in_order_with_the_top_hash_of_its_definition()
    {
        var manifest = Create(EntryCount);
        var bytes = ManifestWriter.ToBytes(manifest);

        var read = await ManifestReader.ReadAsync(new MemoryStream(bytes), TestContext.Current.CancellationToken);

        Assert.Equal(manifest.Entries.Select(e => e.LogicalKey), read.Entries.Select(e => e.LogicalKey));
        Assert.Equal(bytes, ManifestWriter.ToBytes(read));
        Assert.Equal(TopHashByDefinition(manifest), read.TopHash);
    }

    [Fact]
    public async Task A_stream_that_returns_a_few_bytes_at_a_time_reads_the_same()
    {
        var bytes = ManifestWriter.ToBytes(Create(5_000));
        var whole = await ManifestReader.ReadAsync(new MemoryStream(bytes), TestContext.Current.CancellationToken);

        var trickled = await ManifestReader.ReadAsync(new TrickleStream(bytes, 977), TestContext.Current.CancellationToken);

        Assert.Equal(whole.TopHash, trickled.TopHash);
        Assert.Equal(bytes, ManifestWriter.ToBytes(trickled));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(12_345)]
    [InlineData(EntryCount + 1)] // the last line
    public async Task A_bad_line_deep_in_a_large_manifest_is_named_by_its_number(int badLine)
    {
        var lines = Lines(Create(EntryCount));
        lines[badLine - 1] = "{\"logical_key\": \"x\", not json";

        var ex = await Assert.ThrowsAsync<ManifestFormatException>(() => ReadAsync(lines));

        Assert.StartsWith($"Manifest line {badLine} is not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_of_several_bad_lines_is_the_one_reported()
    {
        var lines = Lines(Create(EntryCount));
        lines[20_000] = "not json";
        lines[9_000] = "[1]";

        var ex = await Assert.ThrowsAsync<ManifestFormatException>(() => ReadAsync(lines));

        Assert.StartsWith("Manifest line 9001:", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(17_000)]
    public async Task An_empty_line_before_more_entries_is_refused_by_its_number(int emptyLine)
    {
        var lines = Lines(Create(EntryCount));
        lines[emptyLine - 1] = "";

        var ex = await Assert.ThrowsAsync<ManifestFormatException>(() => ReadAsync(lines));

        Assert.Equal($"Manifest line {emptyLine} is empty; a manifest has one JSON object per line.", ex.Message);
    }

    [Theory]
    [InlineData("", "An entry has an empty logical key.")]
    public async Task A_bad_entry_deep_in_a_large_manifest_is_named_by_its_line(string logicalKey, string expected)
    {
        var lines = Lines(Create(EntryCount));
        lines[23_455] = $$$"""{"logical_key": "{{{logicalKey}}}", "physical_keys": ["s3://b/k"], "size": 1, "hash": {"type": "SHA256", "value": "x"}}""";
        lines[27_000] = """{"logical_key": "neg", "physical_keys": ["s3://b/k"], "size": -1, "hash": {"type": "SHA256", "value": "x"}}""";

        var ex = await Assert.ThrowsAsync<ManifestFormatException>(() => ReadAsync(lines));
        Assert.StartsWith($"Manifest line 23456: {expected}", ex.Message, StringComparison.Ordinal);

        lines[23_455] = lines[23_454];
        ex = await Assert.ThrowsAsync<ManifestFormatException>(() => ReadAsync(lines));
        Assert.Equal("Manifest line 27001: Entry 'neg' has a negative size.", ex.Message);
    }

    [Fact]
    public async Task Entries_out_of_order_across_blocks_are_put_in_tree_order()
    {
        // Each half is in order, so every block is; only where the halves meet is the order broken.
        var manifest = Create(EntryCount);
        var lines = Lines(manifest);
        var half = EntryCount / 2;
        string[] swapped = [lines[0], .. lines[(1 + half)..], .. lines[1..(1 + half)]];

        var read = await ReadAsync(swapped);

        Assert.Equal(manifest.Entries.Select(e => e.LogicalKey), read.Entries.Select(e => e.LogicalKey));
        Assert.Equal(manifest.TopHash, read.TopHash);
    }

    [Fact]
    public async Task Empty_lines_at_the_end_and_CRLF_line_ends_are_accepted()
    {
        var manifest = Create(EntryCount);
        var text = string.Join("\r\n", Lines(manifest)) + "\r\n\r\n\n";

        var read = await ManifestReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), TestContext.Current.CancellationToken);

        Assert.Equal(manifest.TopHash, read.TopHash);
        Assert.Equal(EntryCount, read.Entries.Count);
    }

    [Fact]
    public async Task A_line_longer_than_a_block_is_read()
    {
        // Entry metadata of 3 MB: one line spans several of the reader's blocks.
        var big = new string('m', 3 << 20);
        var entry = new ManifestEntry("big.txt", ["s3://b/big.txt"], 1, new ObjectHash(ObjectHash.Sha256ChunkedType, "x"),
            ManifestEntry.MetaWithUserMeta(JsonValue.Create(big)));
        var manifest = new Manifest(Manifest.CreatePackageMeta("m"), [entry, .. Create(1_000).Entries]);

        var read = await ManifestReader.ReadAsync(new MemoryStream(ManifestWriter.ToBytes(manifest)), TestContext.Current.CancellationToken);

        Assert.Equal(big, read.Find("big.txt")!.UserMeta!.GetValue<string>());
        Assert.Equal(TopHashByDefinition(manifest), read.TopHash);
    }

    private static Manifest Create(int count) =>
        new(Manifest.CreatePackageMeta("large", JsonNode.Parse("""{"k": "v", "n": 1.5}""")),
            Enumerable.Range(0, count).Select(i => new ManifestEntry(
                $"dir-{i % 37:D2}/sub-{i / 37 % 11}/file-{i:D6}{(i % 5 == 0 ? "-é" : "")}.csv",
                [$"s3://bucket/data/file-{i:D6}.csv?versionId=v{i}"],
                1000 + i,
                new ObjectHash(ObjectHash.Sha256ChunkedType, Convert.ToBase64String(SHA256.HashData(BitConverter.GetBytes(i)))),
                i % 7 == 0 ? ManifestEntry.MetaWithUserMeta(JsonNode.Parse($$"""{"i": {{i}}, "tag": "t\u00e9{{i}}"}""")) : null)));

    private static string[] Lines(Manifest manifest) =>
        Encoding.UTF8.GetString(ManifestWriter.ToBytes(manifest)).TrimEnd('\n').Split('\n');

    private static Task<Manifest> ReadAsync(string[] lines) =>
        ManifestReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")), TestContext.Current.CancellationToken);

    /// <summary>The top hash as quilt3 defines it, by the general serializer: SHA-256 over sort_keys JSON, line by line.</summary>
    private static string TopHashByDefinition(Manifest manifest)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.ASCII.GetBytes(PythonJson.Serialize(manifest.PackageMeta, PythonJsonStyle.Canonical)));
        foreach (var e in manifest.Entries)
        {
            var line = new JsonObject
            {
                ["size"] = e.Size,
                ["meta"] = e.Meta?.DeepClone() ?? new JsonObject(),
                ["logical_key"] = e.LogicalKey,
                ["hash"] = new JsonObject { ["value"] = e.Hash.Value, ["type"] = e.Hash.Type },
            };
            sha.AppendData(Encoding.ASCII.GetBytes(PythonJson.Serialize(line, PythonJsonStyle.Canonical)));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>A stream that hands out at most a few bytes per read, as a slow network does.</summary>
    private sealed class TrickleStream(byte[] data, int maxRead) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);
    }
}
