using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;

namespace Quilt.Core.Tests;

public sealed class ManifestTests
{
    [Theory]
    [MemberData(nameof(Fixtures.Cases), MemberType = typeof(Fixtures))]
    public async Task Reads_quilt3_manifests_and_reproduces_their_top_hash(string name)
    {
        await using var stream = File.OpenRead(Fixtures.ManifestPath(name));
        var manifest = await ManifestReader.ReadAsync(stream, TestContext.Current.CancellationToken);
        Assert.Equal(Fixtures.ExpectedTopHash(name), manifest.TopHash);
        Assert.Equal(Path.GetFileName(Fixtures.ManifestPath(name)), manifest.TopHash);
    }

    [Theory]
    [MemberData(nameof(Fixtures.Cases), MemberType = typeof(Fixtures))]
    public async Task Writes_manifests_byte_for_byte_as_quilt3(string name)
    {
        var original = await File.ReadAllBytesAsync(Fixtures.ManifestPath(name), TestContext.Current.CancellationToken);
        var manifest = ManifestReader.Read(original);
        Assert.Equal(original, ManifestWriter.ToBytes(manifest));
    }

    [Fact]
    public void A_package_built_from_the_metadata_fixture_inputs_gets_quilt3s_top_hash()
    {
        // The same inputs quilt3 was given: package metadata, entry metadata, message; hashes and sizes of the files.
        var userMeta = JsonNode.Parse("""{"description": "résumé ✓", "tags": ["a", "b"], "n": 3, "ok": true, "none": null, "nested": {"z": 1, "a": {"y": [1, 2, {"k": "v"}]}}}""");
        var meta = Manifest.CreatePackageMeta("métadonnées", userMeta);
        var entries = new[]
        {
            new ManifestEntry("with space/a b.txt", ["file:///elsewhere/a%20b.txt"], 2, new ObjectHash(ObjectHash.Sha256ChunkedType, "8dUBgfNQlTX72TLoT3m2kbZT3gibdBTdsNe7TM4nN/E=")),
            new ManifestEntry("README.md", ["s3://bucket/README.md"], 5, new ObjectHash(ObjectHash.Sha256ChunkedType, "6A+by1PA8Xb8NryNMtRwrlCY/5CvkvTNmOgYYkdYYM0="),
                ManifestEntry.MetaWithUserMeta(JsonNode.Parse("""{"kind": "doc", "order": 1}"""))),
            new ManifestEntry("naïve/ファイル.txt", ["file:///x"], 12, new ObjectHash(ObjectHash.Sha256ChunkedType, "+VZYsMP4UxcHaxsSN1szhbKqm0/VDImFOiftygEkMYM=")),
        };
        var manifest = new Manifest(meta, entries);
        Assert.Equal(Fixtures.ExpectedTopHash("metadata"), manifest.TopHash);
        Assert.Equal(["README.md", "naïve/ファイル.txt", "with space/a b.txt"], manifest.Entries.Select(e => e.LogicalKey));
        // The package line is written in quilt3's key order, non-ASCII as is.
        var firstLine = System.Text.Encoding.UTF8.GetString(ManifestWriter.ToBytes(manifest)).Split('\n')[0];
        var quilt3Line = File.ReadAllLines(Fixtures.ManifestPath("metadata"))[0];
        Assert.Equal(quilt3Line, firstLine);
    }

    [Fact]
    public void Physical_keys_do_not_change_the_top_hash_but_metadata_does()
    {
        var hash = new ObjectHash(ObjectHash.Sha256ChunkedType, "QX1oEF2xhEashCFe5lblB2mxfPkgSFpqzWUG4PE34MI=");
        var a = new Manifest(Manifest.CreatePackageMeta(null), [new ManifestEntry("only.txt", ["file:///a/only.txt"], 5, hash)]);
        var b = new Manifest(Manifest.CreatePackageMeta(null), [new ManifestEntry("only.txt", ["s3://b/only.txt?versionId=1"], 5, hash)]);
        var c = new Manifest(Manifest.CreatePackageMeta("changed"), [new ManifestEntry("only.txt", ["file:///a/only.txt"], 5, hash)]);
        Assert.Equal(Fixtures.ExpectedTopHash("nometa"), a.TopHash);
        Assert.Equal(a.TopHash, b.TopHash);
        Assert.NotEqual(a.TopHash, c.TopHash);
    }

    [Fact]
    public void Entries_sort_folder_by_folder_as_quilt3_walks_the_tree()
    {
        var h = new ObjectHash(ObjectHash.Sha256ChunkedType, "x");
        var m = new Manifest(Manifest.CreatePackageMeta(null),
            new[] { "a.txt", "a/b", "a-b", "B", "a/a/z", "\ue000", "😀" }.Select(k => new ManifestEntry(k, ["file:///k"], 1, h)));
        Assert.Equal(["B", "a/a/z", "a/b", "a-b", "a.txt", "\ue000", "😀"], m.Entries.Select(e => e.LogicalKey));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1}\n", "no hash")]
    [InlineData("{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1.5, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}}\n", "size")]
    [InlineData("{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}\n", "line 2")]
    [InlineData("{\"version\": \"v0\"}\nnot json\n", "line 2")]
    [InlineData("[1]\n", "package line")]
    [InlineData("{\"version\": \"v0\"}\n{\"logical_key\": \"d\"}\n", "neither physical_keys")]
    [InlineData("{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}}\n{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}}\n", "Duplicate")]
    [InlineData("{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}}\n{\"logical_key\": \"a/b\", \"physical_keys\": [\"s3://b/a\"], \"size\": 1, \"hash\": {\"type\": \"SHA256\", \"value\": \"x\"}}\n", "both a file and a folder")]
    public void Malformed_manifests_fail_with_a_message_naming_the_problem(string text, string expectedInMessage)
    {
        var ex = Assert.Throws<ManifestFormatException>(() => ManifestReader.Read(System.Text.Encoding.UTF8.GetBytes(text)));
        Assert.Contains(expectedInMessage, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_metadata_lines_round_trip_and_stay_out_of_the_top_hash()
    {
        var text = "{\"version\": \"v0\", \"message\": null}\n{\"logical_key\": \"sub/\", \"meta\": {\"k\": 1}}\n"
            + "{\"logical_key\": \"only.txt\", \"physical_keys\": [\"file:///fixtures/only.txt\"], \"size\": 5, \"hash\": {\"type\": \"sha2-256-chunked\", \"value\": \"QX1oEF2xhEashCFe5lblB2mxfPkgSFpqzWUG4PE34MI=\"}, \"meta\": {}}\n";
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var manifest = ManifestReader.Read(bytes);
        Assert.Single(manifest.DirectoryMetadata);
        Assert.Equal(Fixtures.ExpectedTopHash("nometa"), manifest.TopHash);
        Assert.Equal(bytes, ManifestWriter.ToBytes(manifest));
    }
}
