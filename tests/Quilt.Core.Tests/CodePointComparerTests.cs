using System.Text;
using Quilt.Core.Json;

namespace Quilt.Core.Tests;

public sealed class CodePointComparerTests
{
    [Fact]
    public void Orders_a_private_use_character_before_an_emoji_as_UTF8_bytes_do_unlike_UTF16_ordinal()
    {
        Assert.True(string.CompareOrdinal("\uE000", "\U0001F600") > 0, "premise: UTF-16 ordinal order differs");
        Assert.True(CodePointComparer.Instance.Compare("\uE000", "\U0001F600") < 0);
        Assert.True(CodePointComparer.Instance.Compare("\uFFFD", "\U00010000") < 0);
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("", "a", -1)]
    [InlineData("a", "a/", -1)]
    [InlineData("a/b", "a.txt", 1)]
    [InlineData("B", "a", -1)]
    [InlineData("\U0001F600", "\U0001F601", -1)]
    public void Compares_like_UTF8_bytes(string x, string y, int sign) =>
        Assert.Equal(sign, Math.Sign(CodePointComparer.Instance.Compare(x, y)));

    [Fact]
    public void Agrees_with_UTF8_byte_order_on_random_strings()
    {
        string[] pieces = ["a", "/", "é", "\u07FF", "\u0800", "\uD7FF", "\uE000", "\uFFFF", "\U00010000", "\U0001F600", "\U0010FFFF", ""];
        var random = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            var x = string.Concat(Enumerable.Range(0, random.Next(4)).Select(_ => pieces[random.Next(pieces.Length)]));
            var y = string.Concat(Enumerable.Range(0, random.Next(4)).Select(_ => pieces[random.Next(pieces.Length)]));
            var expected = Math.Sign(Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)));
            Assert.True(expected == Math.Sign(CodePointComparer.Instance.Compare(x, y)), $"'{x}' vs '{y}'");
        }
    }

    [Fact]
    public void Handles_nulls_like_other_comparers()
    {
        Assert.Equal(0, CodePointComparer.Instance.Compare(null, null));
        Assert.True(CodePointComparer.Instance.Compare(null, "") < 0);
        Assert.True(CodePointComparer.Instance.Compare("", null) > 0);
    }
}
