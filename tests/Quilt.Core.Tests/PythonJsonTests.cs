using System.Text.Json.Nodes;
using Quilt.Core.Json;

namespace Quilt.Core.Tests;

/// <summary>Expected strings were produced by CPython 3.11's json module on the same inputs.</summary>
public sealed class PythonJsonTests
{
    [Theory]
    [InlineData("1.0", "1.0")]
    [InlineData("1e20", "1e+20")]
    [InlineData("1E+20", "1e+20")]
    [InlineData("1e-7", "1e-07")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("123456789012345678.0", "1.2345678901234568e+17")]
    [InlineData("1e16", "1e+16")]
    [InlineData("1e15", "1000000000000000.0")]
    [InlineData("-0.0", "-0.0")]
    [InlineData("-0", "0")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("0.1", "0.1")]
    [InlineData("100.0", "100.0")]
    [InlineData("2.5e-05", "2.5e-05")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    [InlineData("1e22", "1e+22")]
    [InlineData("9007199254740993", "9007199254740993")]
    [InlineData("12345678901234567.0", "1.2345678901234568e+16")]
    [InlineData("0.000123", "0.000123")]
    public void Numbers_follow_python_int_and_float_repr(string json, string expected)
    {
        var node = JsonNode.Parse(json);
        Assert.Equal(expected, PythonJson.Serialize(node, PythonJsonStyle.Canonical));
        Assert.Equal(expected, PythonJson.Serialize(node, PythonJsonStyle.Manifest));
    }

    private const string Sample = """{"b": "é ✓ \u007f \u0001 \n\t\"\\ 😀", "a": 1, "ä": 2, "\ue000": 3, "😀": 4, "Z": [1.0, null, true]}""";

    [Fact]
    public void Canonical_sorts_keys_by_code_point_and_escapes_non_ascii()
    {
        Assert.Equal(
            """{"Z":[1.0,null,true],"a":1,"b":"\u00e9 \u2713 \u007f \u0001 \n\t\"\\ \ud83d\ude00","\u00e4":2,"\ue000":3,"\ud83d\ude00":4}""",
            PythonJson.Serialize(JsonNode.Parse(Sample), PythonJsonStyle.Canonical));
    }

    [Fact]
    public void Manifest_style_keeps_insertion_order_and_writes_utf8()
    {
        Assert.Equal(
            "{\"b\": \"é ✓ \u007f \\u0001 \\n\\t\\\"\\\\ 😀\", \"a\": 1, \"ä\": 2, \"\ue000\": 3, \"😀\": 4, \"Z\": [1.0, null, true]}",
            PythonJson.Serialize(JsonNode.Parse(Sample), PythonJsonStyle.Manifest));
    }

    [Fact]
    public void Values_built_in_code_keep_their_python_type()
    {
        var obj = new JsonObject { ["f"] = 2.0, ["i"] = 2, ["l"] = 5_000_000_000L, ["s"] = "x", ["n"] = null, ["b"] = false };
        Assert.Equal("""{"b":false,"f":2.0,"i":2,"l":5000000000,"n":null,"s":"x"}""", PythonJson.Serialize(obj, PythonJsonStyle.Canonical));
    }

    [Fact]
    public void Non_finite_floats_are_refused_in_manifests_but_hashed_as_python_does()
    {
        var node = JsonNode.Parse("""{"x": 1e400}""");
        Assert.Equal("""{"x":Infinity}""", PythonJson.Serialize(node, PythonJsonStyle.Canonical));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => PythonJson.Serialize(node, PythonJsonStyle.Manifest));
    }

    [Fact]
    public void Code_point_order_puts_astral_characters_after_private_use()
    {
        var keys = new[] { "😀", "\ue000", "z", "a" };
        Array.Sort(keys, CodePointComparer.Instance);
        Assert.Equal(new[] { "a", "z", "\ue000", "😀" }, keys);
    }

    [Fact]
    public void A_lone_surrogate_is_escaped_when_hashing_and_in_a_manifest_line()
    {
        // Built from char codes: a lone surrogate in an attribute's string does not survive compilation.
        (string Value, string Canonical)[] cases =
        [
            ("a" + (char)0xD800 + "b", "\"a\\ud800b\""),
            (((char)0xDC00).ToString(), "\"\\udc00\""),
            ("x" + (char)0xD83D, "\"x\\ud83d\""),
        ];
        foreach (var (value, canonical) in cases)
        {
            // json.dumps escapes it with ensure_ascii; written as UTF-8 (ensure_ascii=False) Python fails to encode it, so a
            // manifest line gets the same escape, which reads back as the same string.
            var node = JsonValue.Create(value);
            Assert.Equal(canonical, PythonJson.Serialize(node, PythonJsonStyle.Canonical));
            Assert.Equal(canonical, PythonJson.Serialize(node, PythonJsonStyle.Manifest));
            var read = PythonJson.Parse(System.Text.Encoding.UTF8.GetBytes(canonical));
            Assert.Equal(value, read!.GetValue<string>());
        }
    }

    [Fact]
    public void Long_plain_runs_between_escapes_are_written_whole()
    {
        var text = new string('a', 100) + "\"" + new string('b', 70) + "\u00e9" + new string('c', 40) + "\ud83d\ude00";
        var expectedCanonical = "\"" + new string('a', 100) + "\\\"" + new string('b', 70) + "\\u00e9" + new string('c', 40) + "\\ud83d\\ude00\"";
        var expectedManifest = "\"" + new string('a', 100) + "\\\"" + new string('b', 70) + "\u00e9" + new string('c', 40) + "\ud83d\ude00\"";
        Assert.Equal(expectedCanonical, PythonJson.Serialize(JsonValue.Create(text), PythonJsonStyle.Canonical));
        Assert.Equal(expectedManifest, PythonJson.Serialize(JsonValue.Create(text), PythonJsonStyle.Manifest));
    }
}
