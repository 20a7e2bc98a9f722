using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Quilt.Mcp.Configuration;
using Quilt.Packages;
using Quilt.Storage;
using Quilt.Storage.Local;

namespace Quilt.Bench;

/// <summary>Package create from a local folder of 2,000 files totalling 400 MB, into the local registry.</summary>
public static class PackageBench
{
    private static readonly int Files = BenchRun.Quick ? 200 : 2_000;
    private const int FileSize = 200_000;

    public static async Task RunAsync(TextWriter output)
    {
        var root = Path.Combine(Path.GetTempPath(), "quilt-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var data = Path.Combine(root, "data");
            var buffer = new byte[FileSize];
            for (var i = 0; i < Files; i++)
            {
                var dir = Path.Combine(data, $"part-{i / 100:D2}");
                Directory.CreateDirectory(dir);
                RandomNumberGenerator.Fill(buffer);
                await File.WriteAllBytesAsync(Path.Combine(dir, $"file-{i:D4}.bin"), buffer);
            }
            var store = new LocalFolderStore(Path.Combine(root, "store"));
            var registry = new PackageRegistry(store, "bench");
            var service = new PackageService(new ObjectLocator([store], allowLocalFilesOutsideStores: true));
            var total = (double)Files * FileSize;

            var reference = await TimeAsync(() => service.CreateAsync(registry,
                new CreatePackageRequest("bench/in-place", EntrySources.FromLocalPath(data)) { CopyData = false }));
            var copy = await TimeAsync(() => service.CreateAsync(registry,
                new CreatePackageRequest("bench/copied", EntrySources.FromLocalPath(data))));

            // The same files through the package_create tool as a client calls it (local files are always copied in).
            double tool;
            var settings = new ServerSettings { Storage = new StorageSettings { Kind = StorageKind.Local, LocalRoot = Path.Combine(root, "store") }, AllowedBuckets = ["bench"] };
            await using (var mcp = await InProcessMcp.StartAsync(settings))
            {
                var arguments = JsonSerializer.Serialize(new { package = "bench/tool", registry = "bench", sources = new[] { new { uri = data } } });
                JsonElement result = default;
                tool = await TimeAsync(async () => result = await mcp.CallAsync("package_create", arguments));
                if (result.GetProperty("entries").GetInt32() != Files)
                    throw new InvalidOperationException($"package_create made {result.GetProperty("entries")} entries, expected {Files}.");
            }

            output.WriteLine($"Package create, {Files:N0} local files, {total / 1e6:F0} MB, local registry (files in the page cache).");
            output.WriteLine();
            output.WriteLine("| what | seconds | MB/s | files/s |");
            output.WriteLine("| --- | ---: | ---: | ---: |");
            output.WriteLine($"| create, data referenced in place (hash only) | {reference:F2} | {total / 1e6 / reference:F0} | {Files / reference:F0} |");
            output.WriteLine($"| create, data copied into the registry (hash while copying) | {copy:F2} | {total / 1e6 / copy:F0} | {Files / copy:F0} |");
            output.WriteLine($"| package_create MCP tool (in-process client), copied into the registry | {tool:F2} | {total / 1e6 / tool:F0} | {Files / tool:F0} |");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var sw = Stopwatch.StartNew();
        await action();
        return sw.Elapsed.TotalSeconds;
    }
}
