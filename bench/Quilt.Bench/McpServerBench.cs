using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Quilt.Testing;

namespace Quilt.Bench;

/// <summary>
/// The MCP server as a client meets it (issue 4), each figure from a real server process:
/// time from process start to the answer of <c>initialize</c> for each build of the server given;
/// the stdio round trip of <c>bucket_object_info</c> (p50/p99 over 1,000 calls) on the local folder and on S3;
/// a 1 GB upload and download to the loopback S3 server through the MCP tools, through the CLI and through
/// <c>aws s3 cp</c> in the same run, with each process's peak memory (VmHWM) and a check of the bytes.
/// Settings: QUILT_BENCH_SERVERS ("label=path;label=path", the first is used for the calls and transfers),
/// QUILT_TEST_S3_ENDPOINT (S3 parts skipped without it), QUILT_BENCH_TRANSFER_MB (default 1024; 128 in a quick run).
/// </summary>
public static class McpServerBench
{
    private const int StartupRuns = 20;
    private const int RoundTrips = 1_000;
    private const int TransferRuns = 2;

    public static async Task RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var servers = BenchRun.PublishedServers;
        if (servers.Count == 0)
        {
            await output.WriteLineAsync("MCP server: skipped, QUILT_BENCH_SERVERS is not set (scripts/bench.sh publishes the server and sets it).");
            return;
        }
        var endpoint = BenchRun.S3Endpoint;
        var work = Path.Combine(Path.GetTempPath(), "quilt-mcp-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            await StartupAsync(output, servers, work);
            await output.WriteLineAsync();
            await RoundTripAsync(output, servers[0].Path, work, endpoint);
            if (endpoint is not null)
            {
                await output.WriteLineAsync();
                await TransferAsync(output, servers[0].Path, work, endpoint);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task StartupAsync(TextWriter output, IReadOnlyList<(string Label, string Path)> servers, string work)
    {
        await output.WriteLineAsync($"Start-up: process start to the answer of initialize over stdio, and on to the answer of the first tools/list, {StartupRuns} runs per build (local folder storage).");
        await output.WriteLineAsync();
        await output.WriteLineAsync("| build | min ms | p50 ms | max ms | first tools/list p50 ms | max ms |");
        await output.WriteLineAsync("| --- | ---: | ---: | ---: | ---: | ---: |");
        const string initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1.0"}}}""";
        const string listTools = """{"jsonrpc":"2.0","method":"notifications/initialized"}""" + "\n" + """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""";
        foreach (var (label, path) in servers)
        {
            var times = new List<double>();
            var listed = new List<double>();
            for (var i = 0; i < StartupRuns + 1; i++)
            {
                var sw = Stopwatch.StartNew();
                using var process = Process.Start(ServerStartInfo(path, LocalEnvironment(work)))!;
                await process.StandardInput.WriteLineAsync(initialize);
                await process.StandardInput.FlushAsync();
                var elapsed = await AnswerAsync(process, "\"id\":1", label, "initialize");
                await process.StandardInput.WriteLineAsync(listTools);
                await process.StandardInput.FlushAsync();
                var toolsListed = await AnswerAsync(process, "\"id\":2", label, "tools/list");
                process.StandardInput.Close();
                if (!process.WaitForExit(10_000))
                    process.Kill();
                if (i > 0) // the first run warms the disk cache for this build
                {
                    times.Add(elapsed);
                    listed.Add(toolsListed);
                }

                async Task<double> AnswerAsync(Process server, string id, string build, string method)
                {
                    string? line;
                    while ((line = await server.StandardOutput.ReadLineAsync()) is not null && !line.Contains(id, StringComparison.Ordinal))
                    {
                    }
                    if (line is null)
                        throw new InvalidOperationException($"{build}: the server closed stdout before answering {method}: {await server.StandardError.ReadToEndAsync()}");
                    return sw.Elapsed.TotalMilliseconds;
                }
            }
            times.Sort();
            listed.Sort();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {times[0]:F0} | {Percentile(times, 0.5):F0} | {times[^1]:F0} | {Percentile(listed, 0.5):F0} | {listed[^1]:F0} |"));
        }
    }

    private static async Task RoundTripAsync(TextWriter output, string server, string work, string? endpoint)
    {
        await output.WriteLineAsync($"Round trip of bucket_object_info over stdio, {RoundTrips:N0} calls after 50 warm-up calls, one client (the C# SDK's).");
        await output.WriteLineAsync();
        await output.WriteLineAsync("| storage | p50 ms | p99 ms | max ms | calls/s |");
        await output.WriteLineAsync("| --- | ---: | ---: | ---: | ---: |");
        await RoundTripRowAsync(output, "local folder", server, LocalEnvironment(work), "local");
        if (endpoint is not null)
        {
            var bucket = await CreateBucketAsync(endpoint, "mcpbench-rt");
            await RoundTripRowAsync(output, "S3 (loopback Ceph)", server, S3Environment(), bucket);
        }
    }

    private static async Task RoundTripRowAsync(TextWriter output, string label, string server, IDictionary<string, string> environment, string bucket)
    {
        await using var session = await ServerSession.StartAsync(server, environment);
        var uri = $"s3://{bucket}/bench/info.txt";
        await session.CallAsync("bucket_objects_put", new() { ["objects"] = new JsonArray(new JsonObject { ["uri"] = uri, ["text"] = "hello" }) });
        var arguments = new JsonObject { ["uri"] = uri };
        for (var i = 0; i < 50; i++)
            await session.CallAsync("bucket_object_info", arguments);
        var times = new List<double>(RoundTrips);
        var total = Stopwatch.StartNew();
        for (var i = 0; i < RoundTrips; i++)
        {
            var sw = Stopwatch.StartNew();
            await session.CallAsync("bucket_object_info", arguments);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        var seconds = total.Elapsed.TotalSeconds;
        times.Sort();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {Percentile(times, 0.5):F2} | {Percentile(times, 0.99):F2} | {times[^1]:F2} | {RoundTrips / seconds:F0} |"));
    }

    private static async Task TransferAsync(TextWriter output, string server, string work, string endpoint)
    {
        var megabytes = int.TryParse(Environment.GetEnvironmentVariable("QUILT_BENCH_TRANSFER_MB"), out var mb) && mb > 0 ? mb : BenchRun.Quick ? 128 : 1024;
        var size = megabytes * 1024L * 1024;
        var bucket = await CreateBucketAsync(endpoint, "mcpbench-xfer");
        var source = Path.Combine(work, "upload.bin");
        var expected = await WriteRandomFileAsync(source, size);

        var aws = Environment.GetEnvironmentVariable("QUILT_BENCH_AWS") ?? "aws";
        var awsVersion = (await BenchRun.RunTimedAsync(aws, ["--version"], S3Environment())).Output.Trim();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Transfer of a {size / 1e9:F2} GB file (random bytes, in the page cache) to and from the loopback S3 server; best of {TransferRuns} runs, "
            + $"peak memory (VmHWM) of the process doing the transfer; every download compared by SHA-256. Peer: {awsVersion}."));
        await output.WriteLineAsync();
        await output.WriteLineAsync("| tool | direction | seconds | MB/s | peak MB |");
        await output.WriteLineAsync("| --- | --- | ---: | ---: | ---: |");

        var s3Environment = S3Environment();
        var awsEndpoint = new[] { "--endpoint-url", endpoint };
        // Each object is deleted once checked: the loopback server keeps everything in a few GiB of memory.
        using var s3 = BenchRun.CreateS3Client(endpoint);
        Task DeleteAsync(string key) => s3.DeleteObjectAsync(bucket, key);
        await TransferRowsAsync(output, "aws s3 cp", size, expected, work, DeleteAsync,
            key => BenchRun.RunTimedAsync(aws, ["s3", "cp", "--only-show-errors", source, $"s3://{bucket}/{key}", .. awsEndpoint], s3Environment),
            (key, target) => BenchRun.RunTimedAsync(aws, ["s3", "cp", "--only-show-errors", $"s3://{bucket}/{key}", target, .. awsEndpoint], s3Environment));
        await TransferRowsAsync(output, "quilt-mcp object put/get (CLI)", size, expected, work, DeleteAsync,
            key => BenchRun.RunTimedAsync(server, ["object", "put", source, $"s3://{bucket}/{key}"], s3Environment),
            (key, target) => BenchRun.RunTimedAsync(server, ["object", "get", $"s3://{bucket}/{key}", target], s3Environment));
        await TransferRowsAsync(output, "MCP bucket_objects_put / bucket_object_fetch", size, expected, work, DeleteAsync,
            async key =>
            {
                await using var session = await ServerSession.StartAsync(server, s3Environment);
                var sw = Stopwatch.StartNew();
                await session.CallAsync("bucket_objects_put", new()
                {
                    ["objects"] = new JsonArray(new JsonObject { ["uri"] = $"s3://{bucket}/{key}", ["localPath"] = source }),
                });
                return new BenchRun.Timed(sw.Elapsed.TotalSeconds, session.PeakMegabytes(), "");
            },
            async (key, target) =>
            {
                await using var session = await ServerSession.StartAsync(server, s3Environment);
                var sw = Stopwatch.StartNew();
                await session.CallAsync("bucket_object_fetch", new() { ["uri"] = $"s3://{bucket}/{key}", ["destination"] = target });
                return new BenchRun.Timed(sw.Elapsed.TotalSeconds, session.PeakMegabytes(), "");
            });
    }

    private static async Task TransferRowsAsync(TextWriter output, string tool, long size, string expectedSha256, string work,
        Func<string, Task> delete, Func<string, Task<BenchRun.Timed>> upload, Func<string, string, Task<BenchRun.Timed>> download)
    {
        BenchRun.Timed? bestUp = null, bestDown = null;
        for (var run = 0; run < TransferRuns; run++)
        {
            var key = $"transfer/{Guid.NewGuid():N}.bin";
            var up = await upload(key);
            var target = Path.Combine(work, "download.bin");
            File.Delete(target);
            var down = await download(key, target);
            var actual = await Sha256FileAsync(target);
            if (actual != expectedSha256)
                throw new InvalidOperationException($"{tool}: the downloaded file differs from the uploaded one (SHA-256 {actual}, expected {expectedSha256}).");
            File.Delete(target);
            await delete(key);
            bestUp = Best(bestUp, up);
            bestDown = Best(bestDown, down);
        }
        foreach (var (direction, timed) in new[] { ("upload", bestUp!), ("download", bestDown!) })
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"| {tool} | {direction} | {timed.Seconds:F2} | {size / 1e6 / timed.Seconds:F0} | {timed.PeakMegabytes:F0} |"));
        }

        // Fastest time; the peak memory reported is the largest seen in any run, so it is not flattered by the choice.
        static BenchRun.Timed Best(BenchRun.Timed? best, BenchRun.Timed run) => best is null ? run
            : new BenchRun.Timed(Math.Min(best.Seconds, run.Seconds), Math.Max(best.PeakMegabytes, run.PeakMegabytes), "");
    }

    /// <summary>A server process of its own with an SDK client on its stdio, so its peak memory can be read while it runs.</summary>
    internal sealed class ServerSession : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly McpClient _client;

        private ServerSession(Process process, McpClient client)
        {
            _process = process;
            _client = client;
        }

        public static async Task<ServerSession> StartAsync(string server, IDictionary<string, string> environment)
        {
            var process = Process.Start(ServerStartInfo(server, environment))!;
            _ = process.StandardError.ReadToEndAsync(); // keep the pipe drained; the server logs there
            var client = await McpClient.CreateAsync(new StreamClientTransport(process.StandardInput.BaseStream, process.StandardOutput.BaseStream));
            return new ServerSession(process, client);
        }

        /// <summary>Calls a tool; returns its structured result (a tool error throws, with its text).</summary>
        public async Task<JsonElement> CallAsync(string tool, JsonObject arguments)
        {
            var values = arguments.ToDictionary(p => p.Key, p => (object?)JsonSerializer.SerializeToElement(p.Value));
            var result = await _client.CallToolAsync(tool, values);
            if (result.IsError == true)
                throw new InvalidOperationException($"{tool} failed: {McpClientJson.Text(result)}");
            return result.StructuredContent ?? default;
        }

        /// <summary>VmHWM: the most resident memory the server has had since it started.</summary>
        public double PeakMegabytes()
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
                _process.Kill();
            _process.Dispose();
        }
    }

    private static ProcessStartInfo ServerStartInfo(string server, IDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(server)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        return info;
    }

    private static Dictionary<string, string> LocalEnvironment(string work) => new()
    {
        ["QUILT_MCP_STORAGE"] = "local",
        ["QUILT_MCP_ROOT"] = Path.Combine(work, "local-root"),
    };

    internal static Dictionary<string, string> S3Environment() => new()
    {
        ["QUILT_MCP_STORAGE"] = "s3",
        ["QUILT_MCP_PATH_STYLE"] = "1",
        ["AWS_ENDPOINT_URL_S3"] = Environment.GetEnvironmentVariable("QUILT_TEST_S3_ENDPOINT")!,
        ["AWS_ACCESS_KEY_ID"] = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "TESTKEY",
        ["AWS_SECRET_ACCESS_KEY"] = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "TESTSECRET",
        ["AWS_REGION"] = Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1",
    };

    private static async Task<string> CreateBucketAsync(string endpoint, string prefix)
    {
        using var s3 = BenchRun.CreateS3Client(endpoint);
        var bucket = prefix + "-" + Guid.NewGuid().ToString("N")[..10];
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return bucket;
    }

    private static async Task<string> WriteRandomFileAsync(string path, long size)
    {
        var buffer = new byte[8 << 20];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
        for (long written = 0; written < size; written += buffer.Length)
        {
            var chunk = (int)Math.Min(buffer.Length, size - written);
            RandomNumberGenerator.Fill(buffer.AsSpan(0, chunk));
            sha.AppendData(buffer, 0, chunk);
            await file.WriteAsync(buffer.AsMemory(0, chunk));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static async Task<string> Sha256FileAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
