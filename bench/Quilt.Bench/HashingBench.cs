using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Quilt.Core.Hashing;

namespace Quilt.Bench;

/// <summary>
/// Object hashing throughput against the machine's raw SHA-256 speed: one core, one stream, parallel chunks
/// of one object, and many small objects. In memory, so the figures are the hashing path's own cost.
/// </summary>
public static class HashingBench
{
    private static readonly int BigSize = (BenchRun.Quick ? 64 : 256) * 1024 * 1024;
    private static readonly int SmallCount = BenchRun.Quick ? 500 : 2_000;
    private const int SmallSize = 200 * 1000;
    private const int Rounds = 3;

    public static async Task RunAsync(TextWriter output, double? openSslOneCore = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var cores = Environment.ProcessorCount;
        var big = new byte[BigSize];
        RandomNumberGenerator.Fill(big);
        var small = Enumerable.Range(0, SmallCount).Select(_ => RandomNumberGenerator.GetBytes(SmallSize)).ToArray();
        var sources = small.Select((data, i) =>
            new HashSource($"small/{i}", data.Length, _ => Task.FromResult<Stream>(new MemoryStream(data, writable: false)))).ToArray();

        var raw = await BestMegabytesPerSecondAsync(BigSize, () =>
        {
            SHA256.HashData(big);
            return Task.CompletedTask;
        });
        var rawAllCores = await BestMegabytesPerSecondAsync((long)BigSize * cores, () =>
        {
            Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, _ => SHA256.HashData(big));
            return Task.CompletedTask;
        });
        var oneStream = await BestMegabytesPerSecondAsync(BigSize, () =>
            ObjectHashing.ComputeAsync(new MemoryStream(big, writable: false), BigSize));
        var parallelChunks = await BestMegabytesPerSecondAsync(BigSize, () =>
            ObjectHashing.ComputeParallelAsync(BigSize, ObjectHash.Sha256ChunkedType,
                (offset, length, _) => Task.FromResult<Stream>(new MemoryStream(big, (int)offset, (int)length, writable: false)),
                cores));
        var crcOneStream = await BestMegabytesPerSecondAsync(BigSize, () =>
            ObjectHashing.ComputeAsync(new MemoryStream(big, writable: false), BigSize, ObjectHash.Crc64NvmeType));
        var many = await BestMegabytesPerSecondAsync((long)SmallCount * SmallSize, () =>
            ObjectHashing.ComputeManyAsync(sources, ObjectHash.Sha256ChunkedType, cores));
        var filesPerSecond = many * 1e6 / SmallSize;

        BenchRun.RawSha256OneCore = raw;
        var ceiling = raw * cores;
        output.WriteLine($"Hashing, in memory, {cores} cores; best of {Rounds}. % of raw × cores: of raw SHA-256 on one core × {cores} = {ceiling:F0} MB/s "
            + $"(stricter than OpenSSL's: one call over a large buffer). % of raw, all cores: of raw SHA-256 on {cores} cores at once measured in this run ({rawAllCores:F0} MB/s); "
            + "on a quiet machine the two agree, on a busy one the second is the fair one. % of OpenSSL × cores: of `openssl speed` on one core × "
            + $"{cores}, the yardstick issue 3 names ({(openSslOneCore is { } o ? $"{o * cores:F0} MB/s" : "openssl missing")}).");
        output.WriteLine();
        output.WriteLine("| what | MB/s | % of raw × cores | % of raw, all cores | % of OpenSSL × cores |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        var openSslCeiling = openSslOneCore * cores;
        Row(output, $"raw SHA-256, one core (SHA256.HashData, {BigSize >> 20} MiB)", raw, ceiling, rawAllCores, openSslCeiling);
        Row(output, $"raw SHA-256, {cores} cores at once", rawAllCores, ceiling, rawAllCores, openSslCeiling);
        Row(output, "sha2-256-chunked, one stream (ComputeAsync)", oneStream, ceiling, rawAllCores, openSslCeiling);
        Row(output, $"sha2-256-chunked, parallel chunks of one object ({cores} ranges at once)", parallelChunks, ceiling, rawAllCores, openSslCeiling);
        Row(output, $"sha2-256-chunked, {SmallCount:N0} × 200 KB objects ({filesPerSecond:N0} files/s)", many, ceiling, rawAllCores, openSslCeiling);
        Row(output, "CRC64NVME, one stream (for comparison)", crcOneStream, ceiling, rawAllCores, openSslCeiling);
    }

    private static void Row(TextWriter output, string what, double megabytesPerSecond, double ceiling, double rawAllCores, double? openSslCeiling) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {megabytesPerSecond:F0} | {100 * megabytesPerSecond / ceiling:F0} % | {100 * megabytesPerSecond / rawAllCores:F0} % | "
            + $"{(openSslCeiling is { } o ? $"{100 * megabytesPerSecond / o:F0} %" : "")} |"));

    /// <summary>Runs once to warm up, then <see cref="Rounds"/> times; the best rate in MB/s (10^6 bytes).</summary>
    private static async Task<double> BestMegabytesPerSecondAsync(long bytesPerRun, Func<Task> run)
    {
        await run();
        var best = TimeSpan.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            await run();
            if (watch.Elapsed < best)
                best = watch.Elapsed;
        }
        return bytesPerRun / best.TotalSeconds / 1e6;
    }
}
