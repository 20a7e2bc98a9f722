using System.Text;
using Quilt.Core.Json;
using Quilt.Core.Manifests;

namespace Quilt.Core.Tests;

/// <summary>Quilt+ URIs as the catalog's parser reads them (issue 16): ':tag' is a pointer name, a part given twice is refused.</summary>
public sealed class QuiltUriRevisionTests
{
    [Theory]
    [InlineData("quilt+s3://reg#package=u/p:1796245179", null, "1796245179", ":1796245179")]
    [InlineData("quilt+s3://reg#package=u/p:latest", null, "latest", ":latest")]
    [InlineData("quilt+s3://reg#package=u/p@1796245179", "1796245179", null, "@1796245179")]
    [InlineData("quilt+s3://reg#package=u/p", null, null, null)]
    public void The_revision_says_whether_it_is_a_tag_or_a_hash(string text, string? hash, string? tag, string? revision)
    {
        var uri = QuiltUri.Parse(text);

        Assert.Equal(hash, uri.TopHash);
        Assert.Equal(tag, uri.Tag);
        Assert.Equal(revision, uri.Revision);
        Assert.Equal(text, uri.ToString());
    }

    [Theory]
    [InlineData("quilt+s3://reg#package=u/p&package=u/q", "\"package=\" more than once")]
    [InlineData("quilt+s3://reg#package=u/p&path=a&path=b", "\"path=\" more than once")]
    [InlineData("quilt+s3://reg#package=u/p&catalog=a&catalog=b", "\"catalog=\" more than once")]
    [InlineData("quilt+s3://reg#package=u/p:latest@abcdef", "both by hash ('@') and by tag (':')")]
    [InlineData("quilt+s3://reg#package=u/p:", "invalid tag ''")]
    [InlineData("quilt+s3://reg#package=u/p:..", "invalid tag '..'")]
    [InlineData("quilt+s3://reg#package=u/p:a%2Fb", "invalid tag 'a/b'")]
    public void What_the_catalog_refuses_is_refused_saying_why(string text, string problem)
    {
        var ex = Assert.Throws<FormatException>(() => QuiltUri.Parse(text));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_path_encoding_matches_the_catalogs_uri_builder()
    {
        // The catalog's stringify writes &path=${encodeURIComponent(path)}: '/' encoded too is read back the same.
        var uri = QuiltUri.Parse("quilt+s3://reg#package=u/p&path=dir%2Fa%20b%25.csv");
        Assert.Equal("dir/a b%.csv", uri.Path);
        Assert.Equal("quilt+s3://reg#package=u/p&path=dir/a%20b%25.csv", uri.ToString());
    }

    [Theory]
    [InlineData("a.txt", new[] { "a.txt" })]
    [InlineData("sub", new[] { "sub/b.txt", "sub/deeper/c.txt" })]
    [InlineData("sub/", new[] { "sub/b.txt", "sub/deeper/c.txt" })]
    [InlineData("sub/deeper/c.txt", new[] { "sub/deeper/c.txt" })]
    [InlineData("", new[] { "a.txt", "sub/b.txt", "sub/deeper/c.txt" })]
    [InlineData("su", new string[0])]
    public void A_path_names_an_entry_or_a_folders_entries(string path, string[] keys)
    {
        var manifest = ManifestReader.Read(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "quilt3-derived", "dir_meta", "manifest.jsonl")));

        Assert.Equal(keys, manifest.EntriesAt(path).Select(e => e.LogicalKey));
        Assert.Equal("{\"level\": 2}", PythonJson.Serialize(manifest.FindDirectoryMetadata("sub/deeper/")!.Meta, PythonJsonStyle.Manifest));
    }

    [Theory]
    [InlineData(4300, false)]
    [InlineData(4301, true)]
    public void Integers_of_more_digits_than_python_reads_are_found(int digits, bool found)
    {
        var node = PythonJson.Parse(Encoding.UTF8.GetBytes("{\"a\": [1, {\"n\": -" + new string('7', digits) + "}]}"));

        var problem = PythonNumberLimits.Find(node);

        Assert.Equal(found, problem is not null);
        if (found)
            Assert.Equal("$.a[1].n", problem!.Value.Path);
    }
}
