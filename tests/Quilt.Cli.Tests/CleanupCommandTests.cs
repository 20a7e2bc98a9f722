using System.Text.Json.Nodes;
using Amazon.S3.Model;
using Quilt.Testing;

namespace Quilt.Cli.Tests;

/// <summary>Multipart uploads left incomplete on the real S3 server: by a killed quilt-mcp, and by anyone under a prefix.</summary>
public sealed class CleanupCommandTests : IDisposable
{
    private readonly TempDirectory _scratch = new("quilt-cli-cleanup");

    public void Dispose() => _scratch.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<MultipartUpload>> PendingAsync(S3TestServer server, string bucket) =>
        (await server.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket }, Ct)).MultipartUploads ?? [];

    private static string[] S3Args(S3TestServer server) => ["--storage", "s3", "--endpoint", server.EndpointUrl, "--region", server.Region, "--path-style"];

    [Fact]
    public async Task An_upload_of_a_process_killed_midway_is_aborted_by_the_next_run()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var cli = new CliRunner(_scratch.Combine("root"));
        var journal = Path.Combine(cli.StateHome, "quilt-mcp", "uploads");

        using (var put = cli.Start([.. S3Args(server), "object", "put", "-", $"s3://{bucket}/killed.bin"]))
        {
            // More than one part from standard input, which then stays open: the upload is under way and waits for the rest.
            await put.StandardInput.BaseStream.WriteAsync(TestStreams.Bytes(9 * 1024 * 1024), Ct);
            await put.StandardInput.BaseStream.FlushAsync(Ct);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(Directory.Exists(journal) && Directory.GetFiles(journal, "*.json").Length == 1))
            {
                Assert.False(put.HasExited, $"object put ended early: {await put.StandardError.ReadToEndAsync(Ct)}");
                Assert.True(DateTime.UtcNow < deadline, "the upload never started");
                await Task.Delay(100, Ct);
            }
            put.Kill(); // SIGKILL: no chance to abort its upload
            await put.WaitForExitAsync(Ct);
        }
        var left = Assert.Single(await PendingAsync(server, bucket));
        Assert.Equal("killed.bin", left.Key);

        var result = JsonNode.Parse(await cli.OkAsync([.. S3Args(server), "cleanup", "--json"]))!;
        var aborted = Assert.Single(result["abandoned"]!.AsArray());
        Assert.Equal($"s3://{bucket}/killed.bin", aborted!["uri"]!.GetValue<string>());
        Assert.Equal(left.UploadId, aborted["upload_id"]!.GetValue<string>());
        Assert.Empty(await PendingAsync(server, bucket));
        Assert.Empty(Directory.GetFiles(journal));
    }

    [Fact]
    public async Task Uploads_under_a_location_are_aborted_only_once_older_than_asked_and_not_in_a_dry_run()
    {
        var server = await S3TestServer.GetAsync();
        var bucket = await server.CreateBucketAsync(versioned: false, Ct);
        var other = await server.Client.InitiateMultipartUploadAsync(bucket, "raw/someone-elses.bin", Ct);
        var outside = await server.Client.InitiateMultipartUploadAsync(bucket, "kept/elsewhere.bin", Ct);
        var cli = new CliRunner(_scratch.Combine("root"));

        // Younger than the default day: left alone, it may still be running.
        var young = JsonNode.Parse(await cli.OkAsync([.. S3Args(server), "cleanup", $"s3://{bucket}/raw/", "--json"]))!;
        Assert.Empty(young["incomplete"]!.AsArray());
        var dry = JsonNode.Parse(await cli.OkAsync([.. S3Args(server), "cleanup", $"s3://{bucket}/raw/", "--older-than", "0s", "--dry-run", "--json"]))!;
        Assert.False(Assert.Single(dry["incomplete"]!.AsArray())!["aborted"]!.GetValue<bool>());
        Assert.Equal(2, (await PendingAsync(server, bucket)).Count);

        var done = JsonNode.Parse(await cli.OkAsync([.. S3Args(server), "cleanup", $"s3://{bucket}/raw/", "--older-than", "0s", "--json"]))!;
        Assert.Equal(other.UploadId, Assert.Single(done["incomplete"]!.AsArray())!["upload_id"]!.GetValue<string>());
        Assert.Equal([outside.UploadId], (await PendingAsync(server, bucket)).Select(u => u.UploadId));
        await server.Client.AbortMultipartUploadAsync(bucket, "kept/elsewhere.bin", outside.UploadId, Ct);

        var bad = await cli.RunAsync([.. S3Args(server), "cleanup", $"s3://{bucket}", "--older-than", "soon"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--older-than 'soon' is not a duration", bad.Stderr, StringComparison.Ordinal);
    }
}
