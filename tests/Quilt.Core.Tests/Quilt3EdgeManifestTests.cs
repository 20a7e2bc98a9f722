using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core.Json;
using Quilt.Core.Manifests;

namespace Quilt.Core.Tests;

/// <summary>Every odd manifest quilt3 writes and reads is read as quilt3 reads it: the same top hash, the same keys.</summary>
public sealed class Quilt3EdgeManifestTests
{
    [Theory]
    [MemberData(nameof(EdgeFixtures.Cases), MemberType = typeof(EdgeFixtures))]
    public async Task Reads_each_quilt3_edge_manifest_with_quilt3s_top_hash_and_keys(string name)
    {
        await using var stream = File.OpenRead(EdgeFixtures.ManifestPath(name));
        var manifest = await ManifestReader.ReadAsync(stream, TestContext.Current.CancellationToken);
        Assert.Equal(EdgeFixtures.LogicalKeys(name), manifest.Entries.Select(e => e.LogicalKey));
        Assert.Equal(EdgeFixtures.TopHash(name), manifest.TopHash);
    }

    /// <summary>
    /// What quilt3 writes when it dumps the manifest it loaded, where that differs from the file: the last of repeated
    /// keys, <c>meta: null</c> as <c>{}</c>, and the line 'd' (no '/') as the package's user_meta.
    /// </summary>
    private static readonly Dictionary<string, (int Line, string Text)[]> Rewritten = new(StringComparer.Ordinal)
    {
        ["duplicate_json_keys_user_meta"] = [(0, """{"version": "v0", "user_meta": {"a": 3, "b": 2}, "message": "m"}""")],
        ["duplicate_keys_entry_meta"] = [(1, """{"logical_key": "a.txt", "physical_keys": ["file:///fixtures/x"], "size": 1, "hash": {"type": "sha2-256-chunked", "value": "CjJcowPrMBTEOuAElw80NjTbF2+haXvMjJ76yUYmSI0="}, "meta": {"user_meta": {"k": 2}}}""")],
        ["entry_meta_null"] = [(1, """{"logical_key": "a.txt", "physical_keys": ["file:///fixtures/x"], "size": 1, "hash": {"type": "sha2-256-chunked", "value": "CjJcowPrMBTEOuAElw80NjTbF2+haXvMjJ76yUYmSI0="}, "meta": {}}""")],
        ["dir_line_without_slash"] = [(0, """{"version": "v0", "message": "m", "user_meta": {"x": 1}}"""), (1, "")],
    };

    [Theory]
    [MemberData(nameof(EdgeFixtures.Cases), MemberType = typeof(EdgeFixtures))]
    public async Task Writing_an_edge_manifest_again_gives_the_lines_quilt3_writes_and_its_top_hash(string name)
    {
        var original = await File.ReadAllBytesAsync(EdgeFixtures.ManifestPath(name), TestContext.Current.CancellationToken);
        var expected = Encoding.UTF8.GetString(original).Split('\n').ToList();
        foreach (var (line, text) in Rewritten.GetValueOrDefault(name, []).Reverse())
        {
            if (text.Length == 0)
                expected.RemoveAt(line);
            else
                expected[line] = text;
        }

        var written = ManifestWriter.ToBytes(ManifestReader.Read(original));

        Assert.Equal(string.Join('\n', expected), Encoding.UTF8.GetString(written));
        var again = ManifestReader.Read(written);
        Assert.Equal(EdgeFixtures.TopHash(name), again.TopHash);
        Assert.Equal(EdgeFixtures.LogicalKeys(name), again.Entries.Select(e => e.LogicalKey));
    }

    [Fact]
    public void A_size_written_as_a_float_is_a_whole_byte_count_hashed_as_the_float()
    {
        var manifest = ManifestReader.Read(File.ReadAllBytes(EdgeFixtures.ManifestPath("size_float")));
        var entry = Assert.Single(manifest.Entries);
        Assert.Equal(1, entry.Size);
        Assert.True(entry.SizeIsFloat);
        Assert.Equal(1, manifest.TotalSize);
    }

    [Fact]
    public void A_lone_surrogate_escape_is_kept_in_the_metadata()
    {
        var manifest = ManifestReader.Read(File.ReadAllBytes(EdgeFixtures.ManifestPath("lone_surrogate_escape")));
        Assert.Equal("\ud800", manifest.UserMeta!["s"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"logical_key\": \"a/b\", \"meta\": {\"k\": 1}}", "a/")]
    [InlineData("{\"logical_key\": \"a/b/\", \"meta\": {\"k\": 1}}", "a/b/")]
    public void A_directory_line_belongs_to_the_folder_holding_its_last_segment(string line, string folder)
    {
        var text = "{\"version\": \"v0\", \"message\": \"m\"}\n" + line + "\n"
            + "{\"logical_key\": \"a/b/c\", \"physical_keys\": [\"file:///x\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}, \"meta\": {}}\n";
        var manifest = ManifestReader.Read(Encoding.UTF8.GetBytes(text));
        var dir = Assert.Single(manifest.DirectoryMetadata);
        Assert.Equal(folder, dir.LogicalKey);
        Assert.Null(manifest.UserMeta);
    }

    [Theory]
    [InlineData("""{"a": 1, "b": 2, "a": 3}""", """{"a": 3, "b": 2}""")]
    [InlineData("""{"x": {"k": [1.0, 2], "k": 1e2}, "s": "\ud83d\ude00 \ud800"}""", """{"x": {"k": 100.0}, "s": "😀 \ud800"}""")]
    public void Json_is_read_as_pythons_json_loads_keeps_it(string json, string pythonDumps)
    {
        var node = PythonJson.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal(pythonDumps, PythonJson.Serialize(node, PythonJsonStyle.Manifest));
        Assert.IsType<JsonObject>(node);
    }

    [Fact]
    public async Task A_line_longer_than_the_cap_is_refused_naming_its_line_and_the_cap()
    {
        var head = "{\"version\": \"v0\", \"message\": \"m\"}\n"
            + "{\"logical_key\": \"a.txt\", \"physical_keys\": [\"file:///x\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}, \"meta\": {}}\n"
            + "{\"logical_key\": \"b.txt\", \"physical_keys\": [\"file:///x\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}, \"meta\": {\"user_meta\": {\"s\": \"";
        // Valid JSON, one byte over the cap: without one the reader would read it whole.
        var stream = new LongLineStream(Encoding.UTF8.GetBytes(head), ManifestReader.MaxLineBytes, Encoding.UTF8.GetBytes("\"}}}\n"));

        var ex = await Assert.ThrowsAsync<ManifestFormatException>(() => ManifestReader.ReadAsync(stream, TestContext.Current.CancellationToken));

        Assert.StartsWith("Manifest line 3 is longer than 64 MiB", ex.Message, StringComparison.Ordinal);
        // It stopped at the cap: the rest of the line was never read.
        Assert.True(stream.Position <= head.Length + ManifestReader.MaxLineBytes, $"read {stream.Position:N0} bytes");
    }

    [Fact]
    public async Task A_line_just_under_the_cap_is_read()
    {
        var head = "{\"version\": \"v0\", \"message\": \"";
        var tail = "\"}\n{\"logical_key\": \"a.txt\", \"physical_keys\": [\"file:///x\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}, \"meta\": {}}\n";
        var filler = ManifestReader.MaxLineBytes - head.Length - 3; // the line with its '"}' and newline fills the cap exactly
        var stream = new LongLineStream(Encoding.UTF8.GetBytes(head), filler, Encoding.UTF8.GetBytes(tail));

        var manifest = await ManifestReader.ReadAsync(stream, TestContext.Current.CancellationToken);

        Assert.Equal(filler, manifest.Message!.Length);
        Assert.Equal("a.txt", Assert.Single(manifest.Entries).LogicalKey);
    }

    /// <summary><paramref name="head"/>, then <paramref name="fill"/> bytes 'a', then <paramref name="tail"/>; never held whole.</summary>
    private sealed class LongLineStream(byte[] head, long fill, byte[] tail) : Stream
    {
        private long _position;

        public override int Read(Span<byte> buffer)
        {
            var n = 0;
            while (n < buffer.Length && _position < head.Length + fill + tail.Length)
            {
                var p = _position;
                buffer[n++] = p < head.Length ? head[p] : p < head.Length + fill ? (byte)'a' : tail[p - head.Length - fill];
                _position++;
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
