using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;

namespace Quilt.Bench;

/// <summary>
/// Reading a 100,000-entry manifest and computing its top hash, timed and with peak memory, each run in a fresh
/// process so the peak is the read's own (quilt3 8.0.0: about 1.6 s and 160 MB here).
/// </summary>
public static class ManifestBench
{
    private const int Entries = 100_000;
    private const int Runs = 5;

    public static async Task RunAsync(TextWriter output)
    {
        var path = Path.Combine(Path.GetTempPath(), "quilt-bench-manifest-" + Guid.NewGuid().ToString("N")[..8] + ".jsonl");
        try
        {
            var manifest = CreateManifest(Entries);
            await using (var file = File.Create(path))
                await ManifestWriter.WriteAsync(manifest, file);

            var self = Environment.ProcessPath!;
            var dll = typeof(ManifestBench).Assembly.Location;
            var times = new List<double>();
            var peaks = new List<double>();
            var cpu = new List<double>();
            for (var i = 0; i < Runs; i++)
            {
                var psi = self.EndsWith("dotnet", StringComparison.Ordinal)
                    ? new ProcessStartInfo(self, [dll, "manifest-read", path])
                    : new ProcessStartInfo(self, ["manifest-read", path]);
                psi.RedirectStandardOutput = true;
                using var child = Process.Start(psi)!;
                var line = (await child.StandardOutput.ReadToEndAsync()).Trim();
                await child.WaitForExitAsync();
                var parts = line.Split(' ');
                times.Add(double.Parse(parts[0], CultureInfo.InvariantCulture));
                peaks.Add(double.Parse(parts[1], CultureInfo.InvariantCulture));
                cpu.Add(double.Parse(parts[2], CultureInfo.InvariantCulture));
            }
            times.Sort();
            peaks.Sort();
            cpu.Sort();
            output.WriteLine($"Manifest read + top hash, {Entries:N0} entries ({new FileInfo(path).Length / 1e6:F1} MB), fresh process per run, {Runs} runs. "
                + "CPU s: processor time the read used (all threads), which a busy machine inflates less than the elapsed time.");
            output.WriteLine();
            output.WriteLine("| what | median s | best s | CPU s (median) | peak memory MB (median) |");
            output.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| Quilt MCP for .NET: ManifestReader + TopHash | {times[Runs / 2]:F3} | {times[0]:F3} | {cpu[Runs / 2]:F3} | {peaks[Runs / 2]:F0} |"));
            // What a user runs: the published command line, whole process (start-up included), for each build.
            foreach (var (label, server) in BenchRun.PublishedServers)
            {
                var runs = new List<BenchRun.Timed>();
                for (var i = 0; i < Runs; i++)
                    runs.Add(await BenchRun.RunTimedAsync(server, ["package", "tophash", path], new Dictionary<string, string>()));
                var seconds = runs.Select(r => r.Seconds).Order().ToList();
                var peak = runs.Select(r => r.PeakMegabytes).Order().ToList();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| `quilt-mcp package tophash` ({label} build, whole process incl. start-up) | {seconds[Runs / 2]:F2} | {seconds[0]:F2} | | {peak[Runs / 2]:F0} |"));
            }
            output.WriteLine("| quilt3 8.0.0 (figure from shared/README.md; PyPI is not reachable here) | 1.6 | | | 160 |");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A manifest of <paramref name="entries"/> entries shaped like a real data set: 100 top folders of 10 sub-folders,
    /// versioned s3:// physical keys, sha2-256-chunked hashes, package metadata.
    /// </summary>
    public static Manifest CreateManifest(int entries) =>
        new(Manifest.CreatePackageMeta("bench", JsonNode.Parse("""{"source": "bench", "n": 1}""")),
            Enumerable.Range(0, entries).Select(i => new ManifestEntry(
                $"dir-{i % 100:D3}/sub-{i / 100 % 10}/file-{i:D6}.csv",
                [$"s3://bench-bucket/data/dir-{i % 100:D3}/file-{i:D6}.csv?versionId=v{i}"],
                1000 + i,
                new ObjectHash(ObjectHash.Sha256ChunkedType, Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)))))));

    /// <summary>Prints "seconds peakMB cpuSeconds" for one read of the manifest at <paramref name="path"/>.</summary>
    public static async Task<int> ReadOnceAsync(string path, TextWriter output)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        Manifest manifest;
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            manifest = await ManifestReader.ReadAsync(stream);
        var topHash = manifest.TopHash;
        var seconds = sw.Elapsed.TotalSeconds;
        GC.KeepAlive(topHash);
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:F3} {process.PeakWorkingSet64 / 1e6:F0} {cpuSeconds:F3}"));
        return 0;
    }
}
