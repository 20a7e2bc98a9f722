using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Manifests;
using Quilt.Storage;

namespace Quilt.Search.Tests;

/// <summary>One package revision of the corpus, as the test knows it (the expected hits are computed from these, not by the index).</summary>
public sealed record CorpusRevision(string Name, string Topic, string Team, int Number, string Hash, long Seconds, bool Latest, string Message,
    double Temperature, DateTimeOffset Date, string Lab, string? Workflow, IReadOnlyList<string> EntryKeys);

/// <summary>One object of the corpus.</summary>
public sealed record CorpusObject(string Key, string Ext, string? Word, long Size);

/// <summary>
/// A corpus of 220 packages (a third with an older revision too: 294 revisions) and 5,000 objects written straight into
/// a bucket (manifests and pointers as quilt3 lays them out, with chosen timestamps), with nested metadata holding
/// numbers, dates and keywords, unicode messages, workflows and entry metadata.
/// </summary>
public sealed class SearchCorpus
{
    public static readonly string[] Topics = ["genome", "atlas", "survey", "imaging", "climate"];
    public static readonly string[] Teams = ["alpha", "beta", "gamma", "delta"];
    public static readonly string[] Labs = ["north", "south", "east"];
    public static readonly string[] Exts = [".csv", ".json", ".md", ".bin", ".parquet"];
    public static readonly string[] Words = ["crimson", "teal", "ochre", "violet", "amber", "jade", "indigo"];
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const int PackageCount = 220;
    public const int ObjectCount = 5000;

    public List<CorpusRevision> Revisions { get; } = [];

    public List<CorpusObject> Objects { get; } = [];

    public static async Task<SearchCorpus> WriteAsync(IObjectStore store, string bucket, CancellationToken cancellationToken)
    {
        var corpus = new SearchCorpus();
        var puts = new List<(string Key, byte[] Content)>();
        for (var i = 0; i < PackageCount; i++)
        {
            var topic = Topics[i % Topics.Length];
            var team = Teams[i % Teams.Length];
            var name = $"{team}/{topic}-{i:D3}";
            var revisions = i % 3 == 0 ? 2 : 1;
            string? latestHash = null;
            for (var r = 0; r < revisions; r++)
            {
                var latest = r == revisions - 1;
                var message = $"Run {i} of the {topic} study" + (i % 7 == 0 ? " über Zürich" : "") + (latest ? "" : " (draft)");
                var temperature = i % 40 + (latest ? 0 : 0.5);
                var date = Epoch.AddDays(i);
                var lab = Labs[i % Labs.Length];
                var workflow = (i % 4) switch { 0 => "curated", 1 => "raw", _ => null };
                var userMeta = new JsonObject
                {
                    ["experiment"] = new JsonObject { ["temperature"] = temperature, ["date"] = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["lab"] = lab },
                    ["tags"] = new JsonArray(topic, team),
                    ["approved"] = i % 2 == 0,
                };
                if (i % 10 == 0)
                    userMeta["note"] = "A longer free-text note about this package that is well over sixty-four characters long, so it is text.";
                var workflowNode = workflow is null ? null : new JsonObject { ["config"] = $"s3://{bucket}/.quilt/workflows/config.yml", ["id"] = workflow };
                var entryKeys = new[] { $"data/{topic}_{i:D3}.csv", "README.md", $"images/scan-{i:D3}.png" };
                var entries = entryKeys.Select((key, k) => new ManifestEntry(key, [$"s3://{bucket}/raw/{key}"], 100 + k + r, new ObjectHash("SHA256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name + key + r)))),
                    key == "README.md" && i % 5 == 0 ? new JsonObject { ["user_meta"] = new JsonObject { ["reviewer"] = "ana" } } : null)).ToList();
                var manifest = new Manifest(Manifest.CreatePackageMeta(message, userMeta, workflowNode), entries);
                var seconds = Epoch.AddDays(i).AddHours(r).ToUnixTimeSeconds();
                puts.Add((RegistryLayout.ManifestKey(manifest.TopHash), ManifestWriter.ToBytes(manifest)));
                puts.Add((RegistryLayout.PointerKey(name, seconds.ToString(CultureInfo.InvariantCulture)), Encoding.ASCII.GetBytes(manifest.TopHash)));
                latestHash = manifest.TopHash;
                corpus.Revisions.Add(new CorpusRevision(name, topic, team, i, manifest.TopHash, seconds, latest, message, temperature, date, lab, workflow, entryKeys));
            }
            puts.Add((RegistryLayout.LatestKey(name), Encoding.ASCII.GetBytes(latestHash!)));
        }
        for (var i = 0; i < ObjectCount; i++)
        {
            var topic = Topics[i % Topics.Length];
            var ext = Exts[i / Topics.Length % Exts.Length];
            var key = $"raw/{topic}/{i:D4}{ext}";
            var textLike = ext is ".csv" or ".json" or ".md";
            var word = textLike ? Words[i % Words.Length] : null;
            var content = textLike
                ? Encoding.UTF8.GetBytes($"sample {i} measured {word} in the {topic} series\n")
                : [(byte)0, (byte)1, (byte)2, (byte)(i % 256)];
            puts.Add((key, content));
            corpus.Objects.Add(new CorpusObject(key, ext, word, content.Length));
        }
        await Parallel.ForEachAsync(puts, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (put, ct) =>
        {
            using var stream = new MemoryStream(put.Content, writable: false);
            await store.PutAsync(new PutRequest(bucket, put.Key) { Length = put.Content.Length }, stream, null, ct);
        });
        return corpus;
    }
}
