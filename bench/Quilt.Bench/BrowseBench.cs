using System.Diagnostics;
using Quilt.Mcp.Configuration;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Storage.S3;
using static Quilt.Bench.BenchRun;

namespace Quilt.Bench;

/// <summary>
/// Issue 5: package_browse of the root of a 100,000-entry package, through the MCP tool (in-process client), in the local
/// registry and in the S3 registry. Cold: a new server, so the tool reads the manifest (and checks its top hash) before it
/// lists one folder level; warm: the same server again, the manifest in its cache.
/// </summary>
public static class BrowseBench
{
    private const int Entries = 100_000;
    private const string Package = "bench/big";

    public static async Task RunAsync(TextWriter output)
    {
        var runs = Quick ? 3 : 5;
        var manifest = ManifestBench.CreateManifest(Entries);
        var root = Path.Combine(Path.GetTempPath(), "quilt-bench-browse-" + Guid.NewGuid().ToString("N")[..8]);
        var rows = new List<string>();
        try
        {
            // A local registry is a folder under the root, as a bucket is.
            Directory.CreateDirectory(Path.Combine(root, "bench"));
            await new PackageRegistry(new LocalFolderStore(root), "bench").PublishAsync(Package, manifest);
            rows.Add(await MeasureAsync("local folder", new ServerSettings
            {
                Storage = new StorageSettings { Kind = StorageKind.Local, LocalRoot = root },
                AllowedBuckets = ["bench"],
            }, "bench", runs));

            if (S3Endpoint is { } endpoint)
            {
                var bucket = "browsebench-" + Guid.NewGuid().ToString("N")[..12];
                using (var s3 = new S3ObjectStore(new S3StoreOptions { EndpointUrl = endpoint, Region = S3SigningRegion, ForcePathStyle = true }))
                {
                    await s3.Client.PutBucketAsync(bucket);
                    await new PackageRegistry(s3, bucket).PublishAsync(Package, manifest);
                }
                rows.Add(await MeasureAsync("S3 (loopback server)", new ServerSettings
                {
                    Storage = new StorageSettings { Kind = StorageKind.S3, EndpointUrl = endpoint, Region = S3SigningRegion, ForcePathStyle = true },
                    AllowedBuckets = [bucket],
                }, bucket, runs));
            }
            else
            {
                rows.Add("| S3 (loopback server) | skipped: no S3 server | | | | | |");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        await output.WriteLineAsync($"package_browse of the root of a {Entries:N0}-entry package (issue 5), through the MCP tool (in-process client), page of 100. "
            + $"First call: the first browse in this process (includes JIT). Cold: a new server, manifest not cached (read + top hash check + one folder level), median of {runs}. "
            + $"Warm: same server, manifest cached, median of {runs}. Cold CPU s: processor time of this process during the cold call (the S3 server's is not counted).");
        await output.WriteLineAsync();
        await output.WriteLineAsync("| registry | first call s | cold s (median) | cold s (best) | cold CPU s (median) | warm s (median) | warm s (best) |");
        await output.WriteLineAsync("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
            await output.WriteLineAsync(row);
    }

    private static async Task<string> MeasureAsync(string label, ServerSettings settings, string registry, int runs)
    {
        var arguments = $$"""{"package": "{{Package}}", "registry": "{{registry}}", "pageSize": 100}""";
        double first;
        await using (var mcp = await InProcessMcp.StartAsync(settings))
            first = await BrowseAsync(mcp, arguments);

        var cold = new List<double>();
        var coldCpu = new List<double>();
        var warm = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            await using var mcp = await InProcessMcp.StartAsync(settings);
            using var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            cold.Add(await BrowseAsync(mcp, arguments));
            process.Refresh();
            coldCpu.Add((process.TotalProcessorTime - cpuBefore).TotalSeconds);
            if (i == 0)
            {
                for (var j = 0; j < runs; j++)
                    warm.Add(await BrowseAsync(mcp, arguments));
            }
        }
        return $"| {label} | {F(first, 3)} | {F(Median(cold), 3)} | {F(cold.Min(), 3)} | {F(Median(coldCpu), 3)} | {F(Median(warm), 4)} | {F(warm.Min(), 4)} |";
    }

    private static async Task<double> BrowseAsync(InProcessMcp mcp, string arguments)
    {
        System.Text.Json.JsonElement result = default;
        var seconds = await SecondsAsync(async () => result = await mcp.CallAsync("package_browse", arguments));
        var entries = result.GetProperty("packageEntries").GetInt32();
        if (entries != Entries || result.GetProperty("folders").GetArrayLength() != 100)
            throw new InvalidOperationException($"package_browse saw {entries} entries, expected {Entries} in 100 root folders.");
        return seconds;
    }
}
