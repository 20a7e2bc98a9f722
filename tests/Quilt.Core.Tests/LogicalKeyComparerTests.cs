using Quilt.Core.Json;
using Quilt.Core.Manifests;

namespace Quilt.Core.Tests;

public sealed class LogicalKeyComparerTests
{
    [Theory]
    [InlineData("a/b", "a.txt", -1)] // the folder a sorts before the name a.txt
    [InlineData("a/b", "a-b", -1)]
    [InlineData("a", "a/b", -1)]
    [InlineData("a", "a-b", -1)]
    [InlineData("a/b/c", "a/b", 1)]
    [InlineData("a/b", "a/b", 0)]
    [InlineData("B/x", "a", -1)]
    [InlineData("x/\uE000", "x/\U0001F600", -1)]
    public void Orders_keys_as_quilt3_walks_its_tree(string x, string y, int sign)
    {
        Assert.Equal(sign, Math.Sign(LogicalKeyComparer.Instance.Compare(x, y)));
        Assert.Equal(-sign, Math.Sign(LogicalKeyComparer.Instance.Compare(y, x)));
    }

    [Fact]
    public void Agrees_with_comparing_segment_by_segment_on_random_keys()
    {
        string[] pieces = ["a", "b", "/", "-", ".", " ", "é", "\uE000", "\U0001F600", ""];
        var random = new Random(11);
        for (var i = 0; i < 50_000; i++)
        {
            var x = string.Concat(Enumerable.Range(0, random.Next(6)).Select(_ => pieces[random.Next(pieces.Length)]));
            var y = string.Concat(Enumerable.Range(0, random.Next(6)).Select(_ => pieces[random.Next(pieces.Length)]));
            Assert.True(Math.Sign(BySegments(x, y)) == Math.Sign(LogicalKeyComparer.Instance.Compare(x, y)), $"'{x}' vs '{y}'");
        }
    }

    /// <summary>The definition: split at '/', compare segment lists by code point, a list that runs out first sorts first.</summary>
    private static int BySegments(string x, string y)
    {
        var a = x.Split('/');
        var b = y.Split('/');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var c = CodePointComparer.Instance.Compare(a[i], b[i]);
            if (c != 0)
                return c;
        }
        return a.Length.CompareTo(b.Length);
    }
}
