using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Quilt.Testing;

namespace Quilt.Bench;

/// <summary>
/// The table tools on a 1 GB Parquet file and a 1 GB CSV in the loopback S3 server (issue 13), through a real server
/// process (the first of QUILT_BENCH_SERVERS): table_describe, and a GROUP BY over all rows with table_query the first
/// time (fetch into the table cache + query) and cached; the server's peak memory (VmHWM); and, as the peer, the same
/// GROUP BY in DuckDB's own engine (bench/duckdb-peer, DuckDB's Node.js API, the same DuckDB release) reading the same
/// local file (the server's cached copy) in the same run, once as DuckDB's defaults run it and once with the statements
/// our sandbox sends (peer.mjs sandbox), which splits what is left into the sandbox's SQL and our process around it. The files are made by DuckDB (bench/duckdb-peer/peer.mjs generate: every value a function
/// of the row number) in a temporary folder, uploaded, and deleted with their bucket at the end.
/// Settings: QUILT_BENCH_SERVERS, QUILT_TEST_S3_ENDPOINT; QUILT_BENCH_TABLES_MB, the size of each file (default 1000; 70 with
/// QUILT_BENCH_QUICK=1).
/// </summary>
public static class TableBench
{
    private const int CachedRuns = 5;
    private const string Sql = "SELECT category, count(*) AS n, sum(amount) AS total, max(ts) AS latest FROM t GROUP BY category ORDER BY category";

    public static async Task RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var servers = BenchRun.PublishedServers;
        var endpoint = BenchRun.S3Endpoint;
        var peer = Repository.FindRoot() is { } root ? Path.Combine(root, "bench", "duckdb-peer") : null;
        // QUILT_BENCH_TABLES_STORAGE=local: the files in a local-folder store instead (when the S3 server cannot hold them).
        var local = Environment.GetEnvironmentVariable("QUILT_BENCH_TABLES_STORAGE") == "local";
        if (servers.Count == 0 || (endpoint is null && !local) || peer is null || !Directory.Exists(Path.Combine(peer, "node_modules")))
        {
            await output.WriteLineAsync("Tables: skipped; it needs QUILT_BENCH_SERVERS, QUILT_TEST_S3_ENDPOINT and `npm ci` in bench/duckdb-peer (scripts/bench.sh does all three).");
            return;
        }
        var (label, server) = servers[0];
        var work = Path.Combine(Path.GetTempPath(), "quilt-tables-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        using var s3 = local ? null : BenchRun.CreateS3Client(endpoint!);
        var bucket = "tablebench-" + Guid.NewGuid().ToString("N")[..10];
        if (s3 is null)
            Directory.CreateDirectory(Path.Combine(work, "root", bucket));
        else
            await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        try
        {
            // Rows for about QUILT_BENCH_TABLES_MB each (default 1000, 70 in a quick run; 34 MB per million rows of Parquet, 84 MB of CSV).
            var megabytes = long.TryParse(Environment.GetEnvironmentVariable("QUILT_BENCH_TABLES_MB"), CultureInfo.InvariantCulture, out var mb) && mb > 0
                ? mb
                : BenchRun.Quick ? 70 : 1000;
            var tables = new[] { ("parquet", megabytes * 30_000), ("csv", megabytes * 12_000) };
            var rows = new List<string>();
            foreach (var (format, count) in tables)
            {
                rows.Add(await MeasureAsync(format, count, server, peer, work, bucket, s3));
                await Console.Error.WriteLineAsync(rows[^1]); // a long run shows each row as it is measured
            }
            var runs = CachedRuns.ToString(CultureInfo.InvariantCulture);
            await output.WriteLineAsync(
                $"Tables (issue 13): a Parquet file and a CSV made by DuckDB, in {(s3 is null ? "a local-folder store" : "the loopback S3 server")}; the {label} server over stdio (C# SDK client), "
                + $"table cache in a temporary folder. GROUP BY: `{Sql}`; first: "
                + $"fetch into the cache + query, in a new server; cached: median of {runs}. Describe: median of {runs} after those "
                + $"(Parquet: the footer only, by byte ranges from {(s3 is null ? "the store" : "S3")}; CSV: a scan of the cached copy). Ours is timed by the client, "
                + "from sending tools/call to its answer. Peer: the same GROUP BY in DuckDB's own engine "
                + $"(Node.js API {PeerVersion(peer)}) on the server's cached copy, timed in its process from creating a new in-memory database to the rows read, "
                + $"median of {runs}, runs alternating with ours: with DuckDB's default settings (`read_parquet`/`read_csv` of the file), and with the statements "
                + "our sandbox sends (its settings, the view, the lock-down, the SELECT check, a read-only transaction, DESCRIBE, the paged VARCHAR cast). "
                + "Peak: the server's VmHWM over all its calls on that table.");
            await output.WriteLineAsync();
            await output.WriteLineAsync("| table | GB | rows | describe s | GROUP BY first s | GROUP BY cached s | DuckDB peer s | cached / peer | peer, our SQL s | cached / that | peak MB |");
            await output.WriteLineAsync("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in rows)
                await output.WriteLineAsync(row);
        }
        finally
        {
            // The loopback server keeps everything in memory: nothing of this suite stays there.
            if (s3 is not null)
            {
                var listing = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
                foreach (var o in listing.S3Objects ?? [])
                    await s3.DeleteObjectAsync(bucket, o.Key);
                await s3.DeleteBucketAsync(bucket);
            }
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> MeasureAsync(string format, long count, string server, string peer, string work, string bucket, Amazon.S3.IAmazonS3? s3)
    {
        var file = Path.Combine(work, "bench." + format);
        var generated = await NodeAsync(peer, "generate", format, count.ToString(CultureInfo.InvariantCulture), file);
        var bytes = generated.GetProperty("bytes").GetInt64();
        var key = $"tables/bench.{format}";
        var uri = $"s3://{bucket}/{key}";
        Dictionary<string, string> environment;
        if (s3 is null)
        {
            var stored = Path.Combine(work, "root", bucket, "tables", "bench." + format);
            Directory.CreateDirectory(Path.GetDirectoryName(stored)!);
            File.Copy(file, stored);
            environment = new() { ["QUILT_MCP_STORAGE"] = "local", ["QUILT_MCP_ROOT"] = Path.Combine(work, "root") };
        }
        else
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file, UseChunkEncoding = false });
            environment = McpServerBench.S3Environment();
        }
        environment["QUILT_MCP_TABLE_CACHE"] = Path.Combine(work, "cache-" + format);

        await using var session = await McpServerBench.ServerSession.StartAsync(server, environment);
        var query = new JsonObject { ["tables"] = new JsonArray(new JsonObject { ["uri"] = uri }), ["sql"] = Sql, ["limit"] = 1000 };
        JsonElement? result = null;
        var first = await TimeAsync(async () => result = await session.CallAsync("table_query", query));
        var ours = Checksum(result!.Value);
        // The very file the server reads: its copy in the table cache (the only one there; hidden files are the cache's own).
        var copy = Directory.GetFiles(environment["QUILT_MCP_TABLE_CACHE"]).Single(f => !Path.GetFileName(f).StartsWith('.'));
        var cached = new List<double>();
        var peerSeconds = new List<double>();
        var sandboxSeconds = new List<double>();
        for (var i = 0; i < CachedRuns; i++)
        {
            cached.Add(await TimeAsync(() => session.CallAsync("table_query", query)));
            peerSeconds.Add(PeerRun(await NodeAsync(peer, "query", format, copy, "1"), ours, format));
            sandboxSeconds.Add(PeerRun(await NodeAsync(peer, "sandbox", format, copy, "1"), ours, format));
        }
        // After the fetch: a CSV describe reads the cached copy (a Parquet one only the footer, from S3, whatever is cached).
        var describe = new List<double>();
        for (var i = 0; i < CachedRuns; i++)
            describe.Add(await TimeAsync(() => session.CallAsync("table_describe", new JsonObject { ["uri"] = uri })));
        var peak = session.PeakMegabytes();
        if (s3 is not null)
            await s3.DeleteObjectAsync(bucket, key);
        File.Delete(file);
        var (ourMedian, peerMedian, sandboxMedian) = (BenchRun.Median(cached), BenchRun.Median(peerSeconds), BenchRun.Median(sandboxSeconds));
        return string.Create(CultureInfo.InvariantCulture,
            $"| {format} | {bytes / 1e9:F2} | {count:N0} | {BenchRun.Median(describe):F2} | {first:F2} | {ourMedian:F2} | {peerMedian:F2} | {ourMedian / peerMedian:F2} "
            + $"| {sandboxMedian:F2} | {ourMedian / sandboxMedian:F2} | {peak:F0} |");
    }

    /// <summary>One peer run's seconds, its result checked against ours (first row and total count).</summary>
    private static double PeerRun(JsonElement run, string ours, string format)
    {
        var checksum = run.GetProperty("checksum").GetString();
        if (checksum != ours)
            throw new InvalidOperationException($"{format}: our GROUP BY ({ours}) and DuckDB's ({checksum}) differ.");
        return run.GetProperty("seconds")[0].GetDouble();
    }

    /// <summary>The first row's key and count and the sum of all counts: what the peer prints for the same query.</summary>
    private static string Checksum(JsonElement result)
    {
        var rows = result.GetProperty("rows");
        var total = rows.EnumerateArray().Sum(r => long.Parse(r[1].GetString()!, CultureInfo.InvariantCulture));
        return $"{rows[0][0].GetString()}:{rows[0][1].GetString()}:{total}";
    }

    private static async Task<double> TimeAsync(Func<Task> call)
    {
        var sw = Stopwatch.StartNew();
        await call();
        return sw.Elapsed.TotalSeconds;
    }

    private static async Task<JsonElement> NodeAsync(string peer, params string[] arguments)
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = peer, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("peer.mjs");
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"node peer.mjs {string.Join(' ', arguments)} failed (exit {process.ExitCode}): {await stderr}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return json.RootElement.Clone();
    }

    private static string PeerVersion(string peer)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(peer, "node_modules", "@duckdb", "node-api", "package.json")));
        return json.RootElement.GetProperty("version").GetString() ?? "?";
    }
}
