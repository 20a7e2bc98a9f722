using System.Text.Json.Nodes;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>The command line over packages quilt3 wrote with odd manifests, in the local default registry.</summary>
public sealed class Quilt3EdgeCliTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-cli-edge");
    private readonly CliRunner _cli;
    private readonly string _data;

    public Quilt3EdgeCliTests()
    {
        _cli = new CliRunner(_scratch.Combine("root"));
        _data = _scratch.Combine("data", "x");
        Directory.CreateDirectory(Path.GetDirectoryName(_data)!);
        File.WriteAllText(_data, "x");
    }

    public void Dispose() => _scratch.Dispose();

    private string Install(string name) =>
        Quilt3EdgeFixtures.Install(Path.Combine(_cli.Root, "local"), name, new Uri(_data).AbsoluteUri);

    public static TheoryData<string> Cases => new(Quilt3EdgeFixtures.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Browse_lists_the_keys_quilt3_lists(string name)
    {
        var package = Install(name);

        var browsed = JsonNode.Parse(await _cli.OkAsync("package", "browse", package, "--json"))!;

        Assert.Equal(Quilt3EdgeFixtures.TopHash(name), browsed["top_hash"]!.GetValue<string>());
        Assert.Equal(Quilt3EdgeFixtures.LogicalKeys(name), browsed["entries"]!.AsArray().Select(e => e!["logical_key"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Browse_shows_a_tab_in_a_key_escaped_on_its_own_line()
    {
        var output = await _cli.OkAsync("package", "browse", Install("key_tab"));
        Assert.Contains("  t\\u0009ab\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain('\t', output);
    }

    [Fact]
    public async Task Get_refuses_a_key_that_is_no_safe_path_naming_it_and_writes_nothing()
    {
        var dest = _scratch.Combine("out");

        var result = await _cli.RunAsync("package", "get", Install("key_leading_slash"), "--dest", dest);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Entry '/abs' cannot be written below", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest).Any());
    }

    [Fact]
    public async Task Get_writes_a_key_with_a_backslash_as_one_file_name()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "A backslash separates folders on Windows.");
        var dest = _scratch.Combine("out");

        await _cli.OkAsync("package", "get", Install("backslash_key"), "--dest", dest);

        Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(dest, "back\\slash.txt"), TestContext.Current.CancellationToken));
        Assert.Single(Directory.GetFileSystemEntries(dest));
    }
}
