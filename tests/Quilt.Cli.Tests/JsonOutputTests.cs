using System.CommandLine;
using System.Text.Json.Nodes;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>README's claim: every command that prints a result takes --json, and prints JSON a script can parse.</summary>
public sealed class JsonOutputTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-cli-json");

    public void Dispose() => _scratch.Dispose();

    // object cat writes the object's own bytes; serve speaks MCP.
    private static readonly string[] WithoutJson = ["object cat", "serve"];

    [Fact]
    public void Every_command_that_prints_a_result_takes_json()
    {
        var leaves = Leaves(CliApp.Build(), "").ToList();
        Assert.Contains("package link", leaves.Select(l => l.Path));
        var missing = leaves.Where(l => !WithoutJson.Contains(l.Path) && l.Command.Options.All(o => o.Name != "--json")).Select(l => l.Path).ToList();
        Assert.Empty(missing);
    }

    private static IEnumerable<(string Path, Command Command)> Leaves(Command command, string path)
    {
        if (command.Subcommands.Count == 0)
            yield return (path, command);
        foreach (var sub in command.Subcommands)
        {
            foreach (var leaf in Leaves(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name))
                yield return leaf;
        }
    }

    [Fact]
    public async Task Each_commands_json_parses_and_holds_its_result()
    {
        var ct = TestContext.Current.CancellationToken;
        var cli = new CliRunner(_scratch.Combine("root"));
        var data = Directory.CreateDirectory(_scratch.Combine("data")).FullName;
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "alpha", ct);
        async Task<JsonNode> Json(params string[] args) => JsonNode.Parse(await cli.OkAsync([.. args, "--json"]))!;

        // object commands
        Assert.EndsWith("/bucket-a/a.txt", (await Json("object", "put", Path.Combine(data, "a.txt"), "s3://bucket-a/a.txt"))["uri"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("bucket-a", (await Json("object", "ls")).AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("a.txt", Assert.Single((await Json("object", "ls", "s3://bucket-a/")).AsArray())!["key"]!.GetValue<string>());
        var got = await Json("object", "get", "s3://bucket-a/a.txt", _scratch.Combine("got.txt"));
        Assert.Equal((_scratch.Combine("got.txt"), 5), (got["path"]!.GetValue<string>(), got["size"]!.GetValue<int>()));
        Assert.Equal("s3://bucket-a/b.txt", (await Json("object", "cp", "s3://bucket-a/a.txt", "s3://bucket-a/b.txt"))["destination"]!.GetValue<string>());
        Assert.StartsWith("file://", (await Json("object", "link", "s3://bucket-a/b.txt"))["url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True((await Json("object", "rm", "s3://bucket-a/b.txt"))["existed"]!.GetValue<bool>());

        // package commands
        var hash = (await Json("package", "create", "team/json", data, "-m", "one"))["top_hash"]!.GetValue<string>();
        await File.WriteAllTextAsync(_scratch.Combine("b.txt"), "beta", ct);
        var patched = (await Json("package", "patch", "team/json", "--add", $"b.txt={_scratch.Combine("b.txt")}", "-m", "two"))["top_hash"]!.GetValue<string>();
        Assert.Equal(2, (await Json("package", "browse", "team/json"))["entries"]!.AsArray().Count);
        Assert.Equal(2, (await Json("package", "get", "team/json", "--dest", _scratch.Combine("out"))).AsArray().Count);
        Assert.Equal(patched, Assert.Single((await Json("package", "list")).AsArray())!["top_hash"]!.GetValue<string>());
        Assert.Equal(2, (await Json("package", "revisions", "team/json")).AsArray().Count);
        Assert.Equal(["b.txt"], (await Json("package", "diff", "team/json", hash))["added"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(patched, (await Json("package", "link", "team/json"))["top_hash"]!.GetValue<string>());
        Assert.True((await Json("package", "verify", "team/json"))["ok"]!.GetValue<bool>());
        Assert.Equal(patched, (await Json("package", "push", "team/json", "--to", "s3://other"))["top_hash"]!.GetValue<string>());
        var manifest = Path.Combine(cli.Root, "local", ".quilt", "packages", patched);
        Assert.Equal(patched, (await Json("package", "tophash", manifest))["top_hash"]!.GetValue<string>());
        Assert.Equal(patched, (await Json("package", "delete", "team/json", patched))["deleted"]!.GetValue<string>());
    }
}
