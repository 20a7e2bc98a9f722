using System.Diagnostics;

namespace Quilt.Cli.Tests;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the built quilt-mcp tool as a separate process, as a user or script would.</summary>
internal sealed class CliRunner(string root)
{
    public string Root { get; } = root;

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    private static string ToolDll => Path.Combine(AppContext.BaseDirectory, "quilt-mcp.dll");

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(ToolDll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["QUILT_MCP_ROOT"] = Root;
        psi.Environment.Remove("QUILT_MCP_STORAGE");
        psi.Environment.Remove("QUILT_MCP_REGISTRY");
        foreach (var (k, v) in Environment)
            psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"quilt-mcp {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout;
    }
}
