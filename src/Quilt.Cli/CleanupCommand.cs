using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Quilt.Storage;
using Quilt.Storage.Local;
using Quilt.Storage.S3;

namespace Quilt.Cli;

/// <summary>
/// `quilt-mcp cleanup [s3://bucket[/prefix]]`: aborts the multipart uploads that were left incomplete, whose parts S3
/// keeps (and bills) until they are aborted. Only uploads that are plausibly this tool's are touched unasked: those its
/// journal records for processes of this machine that are gone. Others only under a location the user names, and only
/// when older than --older-than, so that an upload still running elsewhere is left alone.
/// </summary>
internal static class CleanupCommand
{
    public static Command Create()
    {
        var location = new Argument<string?>("location")
        {
            Description = "Also abort incomplete multipart uploads under s3://bucket[/prefix] (anyone's, once older than --older-than).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var olderThan = new Option<string>("--older-than")
        {
            Description = "With a location: only uploads started longer ago than this, such as 90m, 12h or 2d (default 1d).",
            DefaultValueFactory = _ => "1d",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "With a location: list the uploads that would be aborted, abort none of them." };
        var command = new Command("cleanup",
            "Abort multipart uploads left incomplete: those this machine's killed quilt-mcp processes left (from the upload journal), "
            + "and with a location the ones under it older than --older-than. Local storage sweeps its own temp files when it opens.")
        {
            location, olderThan, dryRun, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var age = ParseAge(parse.GetValue(olderThan)!);
            var store = CliSupport.OpenStore(parse);
            if (store is LocalFolderStore local)
            {
                if (parse.GetValue(location) is not null)
                    throw new ArgumentException("A location is for S3 storage: local storage has no multipart uploads (give --storage s3).");
                Report(parse, [], [], age, false, $"local storage at {local.Root}: temp files untouched for an hour were removed when it opened; nothing else to clean.");
                return 0;
            }
            if (store is not S3ObjectStore s3)
            {
                throw new ArgumentException("cleanup needs S3 storage (--storage s3): through a Quilt registry there are no S3 credentials, "
                    + "and the registry aborts the uploads it started once they expire.");
            }

            var abandoned = await s3.AbortAbandonedUploadsAsync(ct).ConfigureAwait(false);
            var incomplete = new List<(IncompleteUpload Upload, bool Aborted)>();
            if (parse.GetValue(location) is { } text)
            {
                var target = CliSupport.ParseObjectUri(text, requireKey: false);
                var cutoff = DateTimeOffset.UtcNow - age;
                foreach (var upload in await s3.ListIncompleteUploadsAsync(target.Bucket, target.Key, ct).ConfigureAwait(false))
                {
                    if (upload.Initiated > cutoff)
                        continue;
                    if (!parse.GetValue(dryRun))
                        await s3.AbortUploadAsync(upload.Bucket, upload.Key, upload.UploadId, ct).ConfigureAwait(false);
                    incomplete.Add((upload, !parse.GetValue(dryRun)));
                }
            }
            Report(parse, abandoned, incomplete, age, parse.GetValue(dryRun), null);
            return 0;
        }));
        return command;
    }

    /// <summary>A duration such as 45s, 90m, 12h or 2d.</summary>
    internal static TimeSpan ParseAge(string text)
    {
        var value = text.Trim();
        if (value.Length >= 2 && long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            switch (value[^1])
            {
                case 's':
                    return TimeSpan.FromSeconds(n);
                case 'm':
                    return TimeSpan.FromMinutes(n);
                case 'h':
                    return TimeSpan.FromHours(n);
                case 'd':
                    return TimeSpan.FromDays(n);
            }
        }
        throw new ArgumentException($"--older-than '{text}' is not a duration: give a whole number with s, m, h or d, such as 90m, 12h or 2d.");
    }

    private static void Report(ParseResult parse, IReadOnlyList<JournaledUpload> abandoned, IReadOnlyList<(IncompleteUpload Upload, bool Aborted)> incomplete,
        TimeSpan age, bool dryRun, string? note)
    {
        if (parse.GetValue(CliSupport.Json))
        {
            CliSupport.WriteJson(new JsonObject
            {
                ["abandoned"] = new JsonArray(abandoned.Select(u => (JsonNode)new JsonObject
                {
                    ["uri"] = $"s3://{u.Bucket}/{u.Key}",
                    ["upload_id"] = u.UploadId,
                    ["started"] = u.Started.ToString("O", CultureInfo.InvariantCulture),
                    ["pid"] = u.ProcessId,
                    ["aborted"] = true,
                }).ToArray()),
                ["incomplete"] = new JsonArray(incomplete.Select(i => (JsonNode)new JsonObject
                {
                    ["uri"] = $"s3://{i.Upload.Bucket}/{i.Upload.Key}",
                    ["upload_id"] = i.Upload.UploadId,
                    ["initiated"] = i.Upload.Initiated.ToString("O", CultureInfo.InvariantCulture),
                    ["aborted"] = i.Aborted,
                }).ToArray()),
                ["older_than_seconds"] = (long)age.TotalSeconds,
                ["dry_run"] = dryRun,
                ["note"] = note,
            });
            return;
        }
        if (note is not null)
            Console.WriteLine(note);
        foreach (var u in abandoned)
            Console.WriteLine($"aborted s3://{u.Bucket}/{u.Key} (upload {u.UploadId}, started {u.Started:yyyy-MM-dd HH:mm:ss}Z by process {u.ProcessId}, which is gone)");
        foreach (var (upload, aborted) in incomplete)
            Console.WriteLine($"{(aborted ? "aborted" : "would abort")} s3://{upload.Bucket}/{upload.Key} (upload {upload.UploadId}, initiated {upload.Initiated:yyyy-MM-dd HH:mm:ss}Z)");
        if (note is null)
            Console.WriteLine($"{abandoned.Count} abandoned upload(s) of this machine aborted; {incomplete.Count} incomplete upload(s) under the location {(dryRun ? "found (dry run)" : "aborted")}.");
    }
}
