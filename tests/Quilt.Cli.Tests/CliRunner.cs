using System.Diagnostics;

namespace Quilt.Cli.Tests;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the built quilt-mcp tool as a separate process, as a user or script would.</summary>
internal sealed class CliRunner(string root)
{
    public string Root { get; } = root;

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The tool's XDG_STATE_HOME (its upload journal is below it), beside the root rather than in the user's home.</summary>
    public string StateHome => Root + "-state";

    private static string ToolDll => Path.Combine(AppContext.BaseDirectory, "quilt-mcp.dll");

    /// <summary>Starts the tool with standard input left open for the test to write (or not) and the process to kill.</summary>
    public Process Start(params string[] args)
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
        psi.Environment["XDG_STATE_HOME"] = StateHome;
        psi.Environment.Remove("QUILT_MCP_STORAGE");
        psi.Environment.Remove("QUILT_MCP_REGISTRY");
        foreach (var (k, v) in Environment)
            psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        using var process = Start(args);
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
