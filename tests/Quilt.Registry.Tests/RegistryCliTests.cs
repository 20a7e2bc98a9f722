using System.Diagnostics;
using System.Text;
using Quilt.Testing;

namespace Quilt.Registry.Tests;

/// <summary>
/// The command line in registry mode: --registry-url sends object and package commands through the registry server
/// with only a Quilt JWT (no AWS credentials in the environment), and prints a refusal's structured details.
/// </summary>
public sealed class RegistryCliTests(RegistryFixture fx)
{
    private sealed record Run(int ExitCode, string Stdout, string Stderr);

    private static Task<Run> RunAsync(string token, params string[] args) => RunWithAsync("QUILT_REGISTRY_TOKEN", token, args);

    /// <summary>Runs the command line with the token in <paramref name="variable"/> (QUILT_REGISTRY_TOKEN or QUILT_API_KEY).</summary>
    private static async Task<Run> RunWithAsync(string variable, string token, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "quilt-mcp.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        // Registry mode needs no AWS credentials: none are given, so nothing can reach S3 but through the registry.
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("QUILT_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(name);
        psi.Environment[variable] = token;
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return new Run(process.ExitCode, await stdout, await stderr);
    }

    private static void Ok(Run run) => Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}{run.Stdout}");

    [Fact]
    public async Task Object_commands_go_through_the_registry_url()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("notes.txt");
        await File.WriteAllTextAsync(file, "through the registry\n", TestContext.Current.CancellationToken);
        var prefix = $"cli-{Guid.NewGuid():N}";
        var uri = $"s3://{fx.Data}/{prefix}/notes.txt";
        var registry = fx.Gateway.ToString();
        var token = fx.Token("writer");

        Ok(await RunAsync(token, "object", "put", file, uri, "--registry-url", registry));
        Assert.Equal("through the registry\n", Encoding.UTF8.GetString(await fx.ReadRawAsync($"{prefix}/notes.txt")));

        var cat = await RunAsync(token, "object", "cat", uri, "--registry-url", registry);
        Ok(cat);
        Assert.Equal("through the registry\n", cat.Stdout);

        var ls = await RunAsync(token, "object", "ls", $"s3://{fx.Data}/{prefix}/", "--registry-url", registry);
        Ok(ls);
        Assert.Contains("notes.txt", ls.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_an_api_key_role_switch_package_promote_and_delete_go_through_the_registry()
    {
        var subject = $"cli-key-{Guid.NewGuid():N}"[..20];
        var jwt = fx.Token(["reader", "writer"], subject);
        var created = await fx.StoreWithToken(jwt).Client.ExecuteAsync(
            "mutation { apiKeyCreate(input: { name: \"cli\" }) { ... on APIKeyCreated { secret } } }", null, "create a key", TestContext.Current.CancellationToken);
        var key = created["apiKeyCreate"]!["secret"]!.GetValue<string>();
        var registry = fx.Gateway.ToString();
        Task<Run> Cli(params string[] args) => RunWithAsync("QUILT_API_KEY", key, [.. args, "--registry-url", registry]);

        var roles = await Cli("role", "switch");
        Ok(roles);
        Assert.Equal("acting as reader; your roles: reader, writer", roles.Stdout.Trim());
        var switched = await Cli("role", "switch", "writer");
        Ok(switched);
        Assert.StartsWith("switched to writer", switched.Stdout, StringComparison.Ordinal);

        var name = $"team/clip{Guid.NewGuid():N}"[..20];
        using var dir = new TempDirectory();
        var file = dir.Combine("a.txt");
        await File.WriteAllTextAsync(file, "promoted by the cli", TestContext.Current.CancellationToken);
        Ok(await Cli("package", "create", name, file, "-m", "one", "--registry-bucket", fx.Data));
        Ok(await Cli("package", "promote", name, "--to", fx.Promoted, "-m", "released", "--registry-bucket", fx.Data));
        var promoted = await Cli("package", "revisions", name, "--registry-bucket", fx.Promoted);
        Ok(promoted);
        Assert.Contains("released", promoted.Stdout, StringComparison.Ordinal);

        var history = await Cli("package", "revisions", name, "--registry-bucket", fx.Promoted, "--json");
        var hash = System.Text.Json.Nodes.JsonNode.Parse(history.Stdout)!.AsArray()[0]!["top_hash"]!.GetValue<string>();
        var deleted = await Cli("package", "delete", name, hash, "--registry-bucket", fx.Promoted);
        Ok(deleted);
        Assert.Contains("is gone", deleted.Stdout, StringComparison.Ordinal);
        var actions = await fx.AuditedActionsAsync(subject);
        Assert.Contains("packagePromote", actions);
        Assert.Contains("packageRevisionDelete", actions);
        Assert.DoesNotContain(key, roles.Stdout + roles.Stderr + deleted.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Package_create_publishes_through_packageConstruct()
    {
        var key = $"cli-{Guid.NewGuid():N}/data.csv";
        await fx.PutRawAsync(key, "a,b\n1,2\n"u8.ToArray(), "text/csv");
        var subject = $"writer-{Guid.NewGuid():N}"[..20];
        var name = $"team/cli{Guid.NewGuid():N}"[..20];

        Ok(await RunAsync(fx.Token("writer", subject), "package", "create", name, $"s3://{fx.Data}/{key}", "-m", "through the registry", "--no-copy",
            "--registry-bucket", fx.Data, "--registry-url", fx.Gateway.ToString()));
        Assert.Contains("packageConstruct", await fx.AuditedActionsAsync(subject));
    }

    [Fact]
    public async Task A_registry_without_upload_refuses_put_with_the_structured_details_on_stderr()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("x.txt");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);
        var key = $"cli-{Guid.NewGuid():N}/x.txt";

        var run = await RunAsync(fx.Token("writer"), "object", "put", file, $"s3://{fx.Data}/{key}", "--registry-url", fx.StockRegistry.ToString());
        Assert.Equal(1, run.ExitCode);
        // The same refusal as bucket_objects_put gives: which object, why, and that nothing was written.
        Assert.Contains($"error: Writing s3://{fx.Data}/{key} failed: Uploading", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("No object was written", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"backend_feature_needed\":", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"workarounds\":", run.Stderr, StringComparison.Ordinal);
        Assert.False(await fx.ExistsAsync(key));
    }
}
