using System.CommandLine;
using System.Text.Json.Nodes;
using Quilt.Storage;

namespace Quilt.Cli;

/// <summary>`quilt-mcp object …`: ls, cat, get, put on the configured storage (s3://bucket/key addresses).</summary>
internal static class ObjectCommands
{
    public static Command Create()
    {
        var command = new Command("object", "Objects in buckets: ls, cat, get, put (s3://bucket/key; on local storage a bucket is a folder of the root).");
        command.Subcommands.Add(ListCommand());
        command.Subcommands.Add(CatCommand());
        command.Subcommands.Add(GetCommand());
        command.Subcommands.Add(PutCommand());
        return command;
    }

    private static Command ListCommand()
    {
        var uri = new Argument<string?>("uri") { Description = "s3://bucket/prefix (omit to list buckets).", Arity = ArgumentArity.ZeroOrOne };
        var recursive = new Option<bool>("--recursive") { Description = "List every key below the prefix instead of one folder level." };
        var command = new Command("ls", "List buckets, or the objects and folders under a prefix.") { uri, recursive, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var store = CliSupport.OpenStore(parse);
            var json = parse.GetValue(CliSupport.Json);
            if (parse.GetValue(uri) is not { } text)
            {
                var buckets = await store.ListBucketsAsync(ct).ConfigureAwait(false);
                if (json)
                    CliSupport.WriteJson(new JsonArray(buckets.Select(b => (JsonNode)b.Name).ToArray()));
                else
                    foreach (var b in buckets)
                        Console.WriteLine(b.Name);
                return 0;
            }
            var target = CliSupport.ParseObjectUri(text, requireKey: false);
            var rows = new JsonArray();
            string? token = null;
            do
            {
                var page = await store.ListAsync(new ListRequest(target.Bucket, target.Key, parse.GetValue(recursive) ? null : "/", 1000, token), ct).ConfigureAwait(false);
                foreach (var folder in page.CommonPrefixes)
                {
                    if (json)
                        rows.Add((JsonNode)new JsonObject { ["key"] = folder, ["folder"] = true });
                    else
                        Console.WriteLine($"{"PRE",14}  {folder}");
                }
                foreach (var obj in page.Objects)
                {
                    if (json)
                        rows.Add((JsonNode)new JsonObject { ["key"] = obj.Key, ["size"] = obj.Size, ["last_modified"] = obj.LastModified.ToString("O") });
                    else
                        Console.WriteLine($"{obj.Size,14}  {obj.Key}");
                }
                token = page.NextContinuationToken;
            }
            while (token is not null);
            if (json)
                CliSupport.WriteJson(rows);
            return 0;
        }));
        return command;
    }

    private static Command CatCommand()
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key[?versionId=…]" };
        var command = new Command("cat", "Write an object's bytes to standard output (streamed).") { uri };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var store = CliSupport.OpenStore(parse);
            var source = await store.OpenReadAsync(CliSupport.ParseObjectUri(parse.GetValue(uri)!), null, ct).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var stdout = Console.OpenStandardOutput();
                await using (stdout.ConfigureAwait(false))
                    await source.CopyToAsync(stdout, 1 << 20, ct).ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }

    private static Command GetCommand()
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key[?versionId=…]" };
        var dest = new Argument<string?>("dest") { Description = "The file to write (default: the key's name in the current folder).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("get", "Download an object to a local file (written whole or not at all).") { uri, dest };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var store = CliSupport.OpenStore(parse);
            var obj = CliSupport.ParseObjectUri(parse.GetValue(uri)!);
            var info = await store.HeadAsync(obj, ct).ConfigureAwait(false);
            var path = Path.GetFullPath(parse.GetValue(dest) ?? obj.Key[(obj.Key.LastIndexOf('/') + 1)..]);
            if (Directory.Exists(path))
                path = Path.Combine(path, obj.Key[(obj.Key.LastIndexOf('/') + 1)..]);
            var temp = path + ".partial-" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                using var progress = new ConsoleProgress(info.Size);
                var source = await store.OpenReadAsync(obj, null, ct).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    var file = File.Create(temp);
                    await using (file.ConfigureAwait(false))
                    {
                        var buffer = new byte[1 << 20];
                        long done = 0;
                        int n;
                        while ((n = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                        {
                            await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                            done += n;
                            ((IProgress<long>)progress).Report(done);
                        }
                    }
                }
                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
            Console.WriteLine(path);
            return 0;
        }));
        return command;
    }

    private static Command PutCommand()
    {
        var source = new Argument<string>("source") { Description = "A local file, or - for standard input." };
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key to write." };
        var contentType = new Option<string?>("--content-type") { Description = "The object's content type." };
        var noOverwrite = new Option<bool>("--no-overwrite") { Description = "Fail if the key already exists." };
        var command = new Command("put", "Upload a file (multipart with parallel parts when large; aborted on failure).") { source, uri, contentType, noOverwrite, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var store = CliSupport.OpenStore(parse);
            var target = CliSupport.ParseObjectUri(parse.GetValue(uri)!);
            var path = parse.GetValue(source)!;
            var stdin = path == "-";
            if (!stdin && !File.Exists(path))
                throw new ArgumentException($"'{path}' does not exist.");
            long? length = stdin ? null : new FileInfo(path).Length;
            var content = stdin ? Console.OpenStandardInput() : File.OpenRead(path);
            PutResult result;
            await using (content.ConfigureAwait(false))
            {
                using var progress = new ConsoleProgress(length ?? 0);
                result = await store.PutAsync(new PutRequest(target.Bucket, target.Key)
                {
                    Length = length,
                    ContentType = parse.GetValue(contentType),
                    Overwrite = !parse.GetValue(noOverwrite),
                }, content, progress, ct).ConfigureAwait(false);
            }
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonObject { ["uri"] = store.ToPhysicalKey(result.Ref), ["size"] = result.Size, ["etag"] = result.ETag, ["version_id"] = result.VersionId });
            else
                Console.WriteLine($"{store.ToPhysicalKey(result.Ref)}  {CliSupport.FormatSize(result.Size)}");
            return 0;
        }));
        return command;
    }
}
