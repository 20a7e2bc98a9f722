using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Search;
using Quilt.Search.Indexing;
using Quilt.Search.Sqlite;
using Quilt.Storage;
using Quilt.Storage.Local;

namespace Quilt.Bench;

/// <summary>
/// The embedded search index over a local registry of 10,000 package revisions (5,000 packages, two revisions each)
/// and 100,000 objects: the first index (time, peak memory), query latency over 1,000 mixed queries, and an
/// incremental refresh after 100 new revisions. Run this suite alone for a meaningful peak. QUILT_BENCH_QUICK=1: a
/// tenth of the size; QUILT_BENCH_KEEP=1: the corpus folder and its index are kept (their path printed) to inspect.
/// </summary>
public static class SearchBench
{
    private static readonly string[] Topics = ["genome", "atlas", "survey", "imaging", "climate", "proteome", "cohort", "trial"];
    private static readonly string[] Words = ["crimson", "teal", "ochre", "violet", "amber", "jade", "indigo", "umber", "sepia", "azure"];
    private static readonly string[] Exts = [".csv", ".json", ".md", ".bin", ".parquet"];
    private static readonly string[] KindNames =
    [
        "packages, two words", "packages, name prefix + latest + number range", "objects, one word", "objects, key word + extension",
        "packages, phrase OR workflow, newest first",
    ];

    public static async Task RunAsync(TextWriter output)
    {
        var packages = BenchRun.Quick ? 500 : 5_000;
        var objects = BenchRun.Quick ? 10_000 : 100_000;
        var root = Path.Combine(Path.GetTempPath(), "quilt-bench-search-" + Guid.NewGuid().ToString("N")[..8]);
        const string bucket = "bench";
        try
        {
            Directory.CreateDirectory(Path.Combine(root, bucket));
            var store = new LocalFolderStore(root);
            var write = Stopwatch.StartNew();
            await WriteCorpusAsync(store, bucket, packages, objects);
            write.Stop();

            var index = await SqliteSearchIndex.OpenAsync(Path.Combine(root, "index", "search.db"));
            var indexer = new StoreIndexer(index, store);
            var process = Process.GetCurrentProcess();
            process.Refresh();
            var before = process.PeakWorkingSet64;
            var first = Stopwatch.StartNew();
            var refresh = await indexer.RefreshAsync(bucket, null, CancellationToken.None);
            first.Stop();
            process.Refresh();
            var peak = process.PeakWorkingSet64;

            var scope = SearchScope.Whole([bucket]);
            var latencies = new List<double>();
            var byKind = Enumerable.Range(0, 5).Select(_ => new List<double>()).ToArray();
            var random = new Random(7);
            for (var i = 0; i < 1000; i++)
            {
                var watch = Stopwatch.StartNew();
                switch (i % 5)
                {
                    case 0:
                        await index.SearchPackagesAsync(new PackageSearchRequest([], Topics[random.Next(Topics.Length)] + " " + Words[random.Next(Words.Length)]), scope, CancellationToken.None);
                        break;
                    case 1:
                        await index.SearchPackagesAsync(new PackageSearchRequest([], "name:" + Topics[random.Next(Topics.Length)][..3] + "*", LatestOnly: true,
                            UserMetaFilters: [new UserMetaPredicate("/experiment/temperature", MetaFieldType.Number, Number: new NumberRange(random.Next(20), 30))]), scope, CancellationToken.None);
                        break;
                    case 2:
                        await index.SearchObjectsAsync(new ObjectSearchRequest([], Words[random.Next(Words.Length)]), scope, CancellationToken.None);
                        break;
                    case 3:
                        await index.SearchObjectsAsync(new ObjectSearchRequest([], "key:" + Topics[random.Next(Topics.Length)], new ObjectSearchFilter(Ext: new KeywordMatch([".csv"]))), scope, CancellationToken.None);
                        break;
                    default:
                        await index.SearchPackagesAsync(new PackageSearchRequest([], $"comment:\"run {random.Next(packages)}\" OR workflow:curated", Order: SearchOrder.Newest), scope, CancellationToken.None);
                        break;
                }
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                byKind[i % 5].Add(watch.Elapsed.TotalMilliseconds);
            }
            latencies.Sort();
            foreach (var kind in byKind)
                kind.Sort();

            // 100 new revisions (of 100 packages), then an incremental refresh.
            var puts = new List<(string Key, byte[] Content)>();
            for (var i = 0; i < 100; i++)
                AddRevision(puts, bucket, i, 2, latest: true);
            await PutAllAsync(store, bucket, puts);
            var incremental = Stopwatch.StartNew();
            var second = await indexer.RefreshAsync(bucket, null, CancellationToken.None);
            incremental.Stop();

            await output.WriteLineAsync("| measure | value | target |");
            await output.WriteLineAsync("| --- | --- | --- |");
            await output.WriteLineAsync($"| corpus | {refresh.RevisionsAdded:N0} revisions, {refresh.ObjectsAdded:N0} objects (written in {BenchRun.F(write.Elapsed.TotalSeconds, 1)} s) | 10,000 revisions, 100,000 objects |");
            await output.WriteLineAsync($"| first index | {BenchRun.F(first.Elapsed.TotalSeconds, 1)} s | < 30 s |");
            await output.WriteLineAsync($"| peak working set (process) | {BenchRun.F(peak / 1048576.0)} MB (before indexing: {BenchRun.F(before / 1048576.0)} MB) | |");
            await output.WriteLineAsync($"| index file | {BenchRun.F(new FileInfo(index.FilePath).Length / 1048576.0)} MB | |");
            await output.WriteLineAsync($"| query p50 (1,000 mixed) | {BenchRun.F(Percentile(latencies, 0.50), 1)} ms | |");
            await output.WriteLineAsync($"| query p99 (1,000 mixed) | {BenchRun.F(Percentile(latencies, 0.99), 1)} ms | < 50 ms |");
            for (var kind = 0; kind < byKind.Length; kind++)
                await output.WriteLineAsync($"| query p50 / p99: {KindNames[kind]} | {BenchRun.F(Percentile(byKind[kind], 0.50), 1)} / {BenchRun.F(Percentile(byKind[kind], 0.99), 1)} ms | |");
            await output.WriteLineAsync($"| refresh after 100 new revisions | {BenchRun.F(incremental.Elapsed.TotalSeconds, 2)} s ({second.RevisionsAdded} added) | < 2 s |");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Environment.GetEnvironmentVariable("QUILT_BENCH_KEEP") is "1")
                await output.WriteLineAsync($"(QUILT_BENCH_KEEP=1: the corpus and its index are kept in {root})");
            else
                DeleteQuietly(root);
        }
    }

    private static void DeleteQuietly(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task WriteCorpusAsync(IObjectStore store, string bucket, int packages, int objects)
    {
        var puts = new List<(string Key, byte[] Content)>();
        for (var i = 0; i < packages; i++)
        {
            AddRevision(puts, bucket, i, 0, latest: false);
            AddRevision(puts, bucket, i, 1, latest: true);
        }
        for (var i = 0; i < objects; i++)
        {
            var topic = Topics[i % Topics.Length];
            var ext = Exts[i / Topics.Length % Exts.Length];
            var content = ext is ".csv" or ".json" or ".md"
                ? Encoding.UTF8.GetBytes($"sample {i} measured {Words[i % Words.Length]} in the {topic} series\n")
                : [0, 1, 2, (byte)(i % 256)];
            puts.Add(($"raw/{topic}/{i / 1000:D3}/{i:D6}{ext}", content));
        }
        await PutAllAsync(store, bucket, puts);
    }

    private static void AddRevision(List<(string Key, byte[] Content)> puts, string bucket, int i, int revision, bool latest)
    {
        var topic = Topics[i % Topics.Length];
        var name = $"team{i % 50}/{topic}-{i:D5}";
        var userMeta = new JsonObject
        {
            ["experiment"] = new JsonObject { ["temperature"] = i % 40, ["date"] = new DateTime(2024, 1, 1).AddDays(i % 365).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["lab"] = "lab" + (i % 7) },
            ["tags"] = new JsonArray(topic, Words[i % Words.Length]),
        };
        var workflow = i % 4 == 0 ? new JsonObject { ["config"] = $"s3://{bucket}/.quilt/workflows/config.yml", ["id"] = "curated" } : null;
        var entries = Enumerable.Range(0, 5).Select(k => new ManifestEntry($"data/{topic}_{k}.csv", [$"s3://{bucket}/raw/{i}/{k}.csv"], 100 + k,
            new ObjectHash("SHA256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{name}/{k}/{revision}")))))).ToList();
        var manifest = new Manifest(Manifest.CreatePackageMeta($"Run {i} of the {topic} study, revision {revision}", userMeta, workflow), entries);
        var seconds = 1_700_000_000L + i * 10 + revision;
        puts.Add((RegistryLayout.ManifestKey(manifest.TopHash), ManifestWriter.ToBytes(manifest)));
        puts.Add((RegistryLayout.PointerKey(name, seconds.ToString(CultureInfo.InvariantCulture)), Encoding.ASCII.GetBytes(manifest.TopHash)));
        if (latest)
            puts.Add((RegistryLayout.LatestKey(name), Encoding.ASCII.GetBytes(manifest.TopHash)));
    }

    private static Task PutAllAsync(IObjectStore store, string bucket, List<(string Key, byte[] Content)> puts) =>
        Parallel.ForEachAsync(puts, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (put, ct) =>
        {
            using var stream = new MemoryStream(put.Content, writable: false);
            await store.PutAsync(new PutRequest(bucket, put.Key) { Length = put.Content.Length }, stream, null, ct);
        });
}
