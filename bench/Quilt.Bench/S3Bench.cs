using System.Security.Cryptography;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Quilt.Mcp.Configuration;
using Quilt.Packages;
using Quilt.Storage;
using static Quilt.Bench.BenchRun;

namespace Quilt.Bench;

/// <summary>
/// Issue 5: package_create of objects already in the loopback S3 server (10,000 × 64 KiB), hashed by streaming them and
/// referenced in place, through the MCP tool itself (in-process client); then the same create again, where the hashes
/// recorded for the same object versions are reused. Set beside the S3 server's own GET throughput for the same objects,
/// measured in the same run, and the raw SHA-256 speed of the machine.
/// </summary>
public static class S3Bench
{
    private const int ObjectSize = 64 * 1024;

    /// <summary>Requests in flight for the setup upload and the GET baseline: enough to keep a loopback server busy.</summary>
    private const int BaselineConcurrency = 32;

    public static async Task RunAsync(TextWriter output)
    {
        var endpoint = S3Endpoint;
        if (endpoint is null)
        {
            await output.WriteLineAsync("S3 package create: skipped, no S3 server. Start one and run again: eval \"$(bash scripts/s3-server.sh start /tmp/quilt-s3 7490)\"; export QUILT_TEST_S3_ENDPOINT=$AWS_ENDPOINT_URL_S3");
            return;
        }
        var count = Quick ? 1_000 : 10_000;
        var megabytes = (double)count * ObjectSize / 1e6;
        var createConcurrency = new BuildOptions().Concurrency;
        using var s3 = CreateS3Client(endpoint);
        var bucket = "s3bench-" + Guid.NewGuid().ToString("N")[..12];
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        // Versioned, as a data bucket usually is: a versioned key names immutable bytes, which is what lets a hash be reused.
        await s3.PutBucketVersioningAsync(new PutBucketVersioningRequest
        {
            BucketName = bucket,
            VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled },
        });
        var keys = Enumerable.Range(0, count).Select(i => $"data/part-{i / 500:D2}/object-{i:D5}.bin").ToArray();

        var upload = await SecondsAsync(() => Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = BaselineConcurrency }, async (key, ct) =>
        {
            using var content = new MemoryStream(RandomNumberGenerator.GetBytes(ObjectSize), writable: false);
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = content, AutoCloseStream = false }, ct);
        }));
        // Warm up connections and code paths first, so the timed passes measure the server, not the first request.
        await GetAllAsync(s3, bucket, keys[..Math.Min(200, count)], BaselineConcurrency);
        var getWide = await GetAllAsync(s3, bucket, keys, BaselineConcurrency);
        var getNarrow = await GetAllAsync(s3, bucket, keys, createConcurrency);

        var settings = new ServerSettings
        {
            Storage = new StorageSettings { Kind = StorageKind.S3, EndpointUrl = endpoint, Region = S3SigningRegion, ForcePathStyle = true },
            AllowedBuckets = [bucket],
        };
        var arguments = $$"""{"package": "bench/objects", "registry": "{{bucket}}", "sources": [{"uri": "s3://{{bucket}}/data/"}], "copy": false, "overwrite": true}""";
        double create, reuse;
        await using (var mcp = await InProcessMcp.StartAsync(settings))
        {
            JsonElement result = default;
            create = await SecondsAsync(async () => result = await mcp.CallAsync("package_create", arguments));
            Check(result, count);
            reuse = await SecondsAsync(async () => result = await mcp.CallAsync("package_create", arguments));
            Check(result, count);
        }

        var ceiling = RawSha256OneCore * Environment.ProcessorCount;
        var getRate = megabytes / getWide;
        await output.WriteLineAsync($"S3 package create (issue 5): {count:N0} objects × 64 KiB ({megabytes:F0} MB) in a versioned bucket on the loopback S3 server; "
            + $"package_create through the MCP tool (in-process client), data referenced in place (copy false), hashed by streaming each object. "
            + $"% of raw SHA-256: of one core ({F(RawSha256OneCore)} MB/s) × {Environment.ProcessorCount} cores; % of S3 GET: of the {BaselineConcurrency}-at-once GET row.");
        await output.WriteLineAsync();
        await output.WriteLineAsync("| what | seconds | objects/s | MB/s | % of raw SHA-256 × cores | % of S3 GET |");
        await output.WriteLineAsync("| --- | ---: | ---: | ---: | ---: | ---: |");
        Row(output, $"setup: PUT the objects, {BaselineConcurrency} at once (AWS SDK)", upload);
        Row(output, $"S3 GET of every object, whole, {BaselineConcurrency} at once, read and discarded (AWS SDK)", getWide);
        Row(output, $"S3 GET of every object, {createConcurrency} at once (package_create's concurrency here)", getNarrow);
        Row(output, "package_create, hashing every object (first revision)", create);
        Row(output, "package_create again, same object versions (hashes reused, only HEADs)", reuse);

        void Row(TextWriter w, string what, double seconds) =>
            w.WriteLine($"| {what} | {F(seconds, 2)} | {F(count / seconds)} | {F(megabytes / seconds)} | {F(100 * megabytes / seconds / ceiling)} % | {F(100 * megabytes / seconds / getRate)} % |");
    }

    /// <summary>Seconds to GET every object whole, <paramref name="concurrency"/> at once, reading the bytes and dropping them.</summary>
    private static Task<double> GetAllAsync(AmazonS3Client s3, string bucket, string[] keys, int concurrency) =>
        SecondsAsync(() => Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (key, ct) =>
        {
            var buffer = new byte[ObjectSize];
            using var response = await s3.GetObjectAsync(bucket, key, ct);
            while (await response.ResponseStream.ReadAsync(buffer, ct) > 0)
            {
            }
        }));

    private static void Check(JsonElement result, int count)
    {
        var entries = result.GetProperty("entries").GetInt32();
        if (entries != count)
            throw new InvalidOperationException($"package_create made {entries} entries, expected {count}.");
    }
}
