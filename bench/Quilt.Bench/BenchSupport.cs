using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Quilt.Mcp.Configuration;
using Quilt.Mcp.Hosting;
using Quilt.Testing;

namespace Quilt.Bench;

/// <summary>Settings and figures the suites share within one run.</summary>
public static class BenchRun
{
    /// <summary>QUILT_BENCH_QUICK=1 (scripts/bench.sh --quick): smaller sizes for a smoke run; the figures are not the issue's.</summary>
    public static bool Quick { get; } = Environment.GetEnvironmentVariable("QUILT_BENCH_QUICK") is "1" or "true";

    private static double? s_rawOneCore;

    /// <summary>
    /// Raw SHA-256 on one core (SHA256.HashData over 64 MiB, best of 3), MB/s: measured once per run, by the hashing suite
    /// when it runs, so every "% of raw SHA-256" in one run divides by the same figure.
    /// </summary>
    public static double RawSha256OneCore
    {
        get
        {
            if (s_rawOneCore is { } v)
                return v;
            var data = new byte[64 * 1024 * 1024];
            RandomNumberGenerator.Fill(data);
            SHA256.HashData(data);
            var best = double.MaxValue;
            for (var i = 0; i < 3; i++)
            {
                var sw = Stopwatch.StartNew();
                SHA256.HashData(data);
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            s_rawOneCore = data.Length / best / 1e6;
            return s_rawOneCore.Value;
        }
        set => s_rawOneCore = value;
    }

    /// <summary>The S3 server to measure against (QUILT_TEST_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3), or null.</summary>
    public static string? S3Endpoint
    {
        get
        {
            var endpoint = Environment.GetEnvironmentVariable("QUILT_TEST_S3_ENDPOINT") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3");
            if (string.IsNullOrEmpty(endpoint))
                return null;
            // The store takes credentials from the SDK's chain: default to the test server's (scripts/s3-server.sh).
            if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is null)
            {
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "TESTKEY");
                Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "TESTSECRET");
            }
            return endpoint;
        }
    }

    public static string S3SigningRegion => Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";

    /// <summary>A raw AWS SDK client for the benchmark's own setup and its GET baseline.</summary>
    public static AmazonS3Client CreateS3Client(string endpoint) => new(
        new BasicAWSCredentials(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "TESTKEY",
            Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "TESTSECRET"),
        new AmazonS3Config
        {
            ServiceURL = endpoint,
            AuthenticationRegion = S3SigningRegion,
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public sealed record Timed(double Seconds, double PeakMegabytes, string Output);

    /// <summary>Runs a command under GNU time for its wall time and peak resident memory (the process's own, not its children's).</summary>
    public static async Task<Timed> RunTimedAsync(string command, IReadOnlyList<string> arguments, IDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-f", "QUILT_BENCH_TIME %e %M", command, .. arguments])
            info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var timeLine = stderr.Split('\n').LastOrDefault(l => l.StartsWith("QUILT_BENCH_TIME ", StringComparison.Ordinal));
        if (process.ExitCode != 0 || timeLine is null)
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed (exit {process.ExitCode}): {stderr}");
        var parts = timeLine.Split(' ');
        var printed = await stdout + string.Join('\n', stderr.Split('\n').Where(l => l != timeLine));
        return new Timed(double.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture) / 1024, printed);
    }

    /// <summary>Published builds of the server to measure, from QUILT_BENCH_SERVERS ("label=path;label=path"; scripts/bench.sh sets it).</summary>
    public static IReadOnlyList<(string Label, string Path)> PublishedServers { get; } = ParseServers(Environment.GetEnvironmentVariable("QUILT_BENCH_SERVERS"));

    private static List<(string Label, string Path)> ParseServers(string? setting) =>
        (setting ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => item.Split('=', 2))
            .Select(pair => pair.Length == 2 ? (pair[0], pair[1]) : (Path.GetFileName(pair[0]), pair[0]))
            .ToList();

    public static string F(double value, int decimals = 0) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    public static async Task<double> SecondsAsync(Func<Task> action)
    {
        var sw = Stopwatch.StartNew();
        await action();
        return sw.Elapsed.TotalSeconds;
    }
}

/// <summary>
/// The Quilt MCP server as the product builds it (AddQuiltMcpServer) and a real MCP client, joined in process
/// (<see cref="InProcessMcpServer"/>): the benchmarks time tool calls as a client sees them, JSON both ways included,
/// without a child process.
/// </summary>
public sealed class InProcessMcp : IAsyncDisposable
{
    private readonly InProcessMcpServer _server;
    private readonly McpClient _client;

    private InProcessMcp(InProcessMcpServer server, McpClient client)
    {
        _server = server;
        _client = client;
    }

    public static async Task<InProcessMcp> StartAsync(ServerSettings settings)
    {
        var server = InProcessMcpServer.Start((services, input, output) =>
            services.AddQuiltMcpServer(settings).WithStreamServerTransport(input, output));
        return new InProcessMcp(server, await server.ConnectAsync());
    }

    /// <summary>Calls a tool with arguments written as JSON; a tool error throws, with its text.</summary>
    public async Task<JsonElement> CallAsync(string tool, string argumentsJson, IProgress<ProgressNotificationValue>? progress = null)
    {
        var result = await _client.CallToolWithJsonAsync(tool, argumentsJson, progress);
        if (result.IsError == true || result.StructuredContent is null)
            throw new InvalidOperationException($"{tool} failed: " + McpClientJson.Text(result));
        return result.StructuredContent.Value;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
