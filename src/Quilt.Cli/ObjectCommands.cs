using System.CommandLine;
using System.Text.Json.Nodes;
using Quilt.Operations;
using Quilt.Operations.Models;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Cli;

/// <summary>
/// `quilt-mcp object …`: ls, cat, get, put on the configured storage (s3://bucket/key addresses). Adapters over
/// <see cref="ObjectOperations"/>: the same name checks, messages and overwrite rules as the MCP object tools.
/// </summary>
internal static class ObjectCommands
{
    public static Command Create()
    {
        var command = new Command("object", "Objects in buckets: ls, cat, get, put (s3://bucket/key; on local storage a bucket is a folder of the root).");
        command.Subcommands.Add(ListCommand());
        command.Subcommands.Add(CatCommand());
        command.Subcommands.Add(GetCommand());
        command.Subcommands.Add(PutCommand());
        command.Subcommands.Add(CopyCommand());
        command.Subcommands.Add(RemoveCommand());
        command.Subcommands.Add(LinkCommand());
        return command;
    }

    private static ObjectOperations Operations(ParseResult parse) => CliSupport.Operations(parse).Objects;

    private static Command ListCommand()
    {
        var uri = new Argument<string?>("uri") { Description = "s3://bucket/prefix (omit to list buckets).", Arity = ArgumentArity.ZeroOrOne };
        var recursive = new Option<bool>("--recursive") { Description = "List every key below the prefix instead of one folder level." };
        var command = new Command("ls", "List buckets, or the objects and folders under a prefix.") { uri, recursive, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var objects = Operations(parse);
            var json = parse.GetValue(CliSupport.Json);
            if (parse.GetValue(uri) is not { } text)
            {
                var buckets = (await objects.ListBucketsAsync(ct).ConfigureAwait(false)).Buckets;
                if (json)
                    CliSupport.WriteJson(new JsonArray(buckets.Select(b => (JsonNode)b.Name).ToArray()));
                else
                    foreach (var b in buckets)
                        Console.WriteLine(b.Name);
                return 0;
            }
            var rows = new JsonArray();
            string? cursor = null;
            do
            {
                var page = await objects.ListObjectsAsync(text, null, parse.GetValue(recursive) ? null : "/", PageRequest.Of(PageRequest.MaxSize, cursor), ct)
                    .ConfigureAwait(false);
                // The listing gives names relative to its prefix; the command prints whole keys, as it always has.
                foreach (var folder in page.Folders.Select(f => page.Prefix + f))
                {
                    if (json)
                        rows.Add((JsonNode)new JsonObject { ["key"] = folder, ["folder"] = true });
                    else
                        Console.WriteLine($"{"PRE",14}  {folder}");
                }
                foreach (var obj in page.Objects)
                {
                    var key = page.Prefix + obj.Name;
                    if (json)
                        rows.Add((JsonNode)new JsonObject { ["key"] = key, ["size"] = obj.Size, ["last_modified"] = obj.LastModified.ToString("O") });
                    else
                        Console.WriteLine($"{obj.Size,14}  {key}");
                }
                cursor = page.NextCursor;
            }
            while (cursor is not null);
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
            var objects = Operations(parse);
            var source = await objects.ReadableAsync(parse.GetValue(uri), "uri", ct).ConfigureAwait(false);
            var stdout = Console.OpenStandardOutput();
            await using (stdout.ConfigureAwait(false))
                await objects.CopyToAsync(source, stdout, ct).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static Command GetCommand()
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key[?versionId=…]" };
        var dest = new Argument<string?>("dest") { Description = "The file to write (default: the key's name in the current folder).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("get", "Download an object to a local file (written whole or not at all).") { uri, dest, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var objects = Operations(parse);
            var source = await objects.ReadableAsync(parse.GetValue(uri), "uri", ct).ConfigureAwait(false);
            // Relative to the user's working folder, which the operation (absolute paths only) does not guess.
            var path = Path.GetFullPath(parse.GetValue(dest) ?? source.Object.Key[(source.Object.Key.LastIndexOf('/') + 1)..]);
            ObjectFetchResult saved;
            using (var progress = new ConsoleProgress())
                saved = await objects.FetchToFileAsync(source, path, overwrite: true, progress, ct).ConfigureAwait(false);
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["uri"] = saved.Uri, ["path"] = saved.Path, ["size"] = saved.Size, ["sha256"] = saved.Sha256, ["version_id"] = saved.VersionId,
                });
                return 0;
            }
            Console.WriteLine(saved.Path);
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
            var objects = Operations(parse);
            var target = objects.Uris.ForWrite(parse.GetValue(uri), "uri");
            var path = parse.GetValue(source)!;
            var overwrite = !parse.GetValue(noOverwrite);
            PutObjectEntry written;
            if (path == "-")
            {
                var stdin = Console.OpenStandardInput();
                await using (stdin.ConfigureAwait(false))
                {
                    using var progress = new ConsoleProgress();
                    written = await objects.PutStreamAsync(target, stdin, parse.GetValue(contentType), overwrite, progress, ct).ConfigureAwait(false);
                }
            }
            else
            {
                var item = new PutObjectInput { Uri = ObjectUriResolver.FormatUri(target), LocalPath = Path.GetFullPath(path), ContentType = parse.GetValue(contentType) };
                using var progress = new ConsoleProgress();
                written = (await objects.PutAsync([item], overwrite, progress, ct).ConfigureAwait(false)).Objects[0];
            }
            var physicalKey = objects.Store.ToPhysicalKey(target);
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonObject { ["uri"] = physicalKey, ["size"] = written.Size, ["etag"] = written.ETag, ["version_id"] = written.VersionId });
            else
                Console.WriteLine($"{physicalKey}  {CliSupport.FormatSize(written.Size)}");
            return 0;
        }));
        return command;
    }

    private static Command CopyCommand()
    {
        var source = new Argument<string>("source") { Description = "s3://bucket/key[?versionId=…] (or a package entry's quilt+s3 URI) to copy." };
        var destination = new Argument<string>("destination") { Description = "s3://bucket/key, or s3://bucket/folder/ to keep the source's file name." };
        var noOverwrite = new Option<bool>("--no-overwrite") { Description = "Fail if the destination already exists." };
        var command = new Command("cp", "Copy an object on the storage side (no download).") { source, destination, noOverwrite, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var objects = Operations(parse);
            var from = await objects.ReadableAsync(parse.GetValue(source), "source", ct).ConfigureAwait(false);
            var copied = await objects.CopyAsync(from, parse.GetValue(destination), !parse.GetValue(noOverwrite), ct).ConfigureAwait(false);
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonObject { ["source"] = copied.Source, ["destination"] = copied.Destination, ["size"] = copied.Size, ["version_id"] = copied.VersionId });
            else
                Console.WriteLine($"{copied.Source} -> {copied.Destination}  {CliSupport.FormatSize(copied.Size)}");
            return 0;
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key, or s3://bucket/key?versionId=ID to delete that version for good." };
        var command = new Command("rm", "Delete one object (without ?versionId= a versioned bucket keeps older versions); deleting what is not there is not an error.")
        {
            uri, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var objects = Operations(parse);
            var deleted = await objects.DeleteAsync(objects.Uris.ForWrite(parse.GetValue(uri), "uri", allowVersion: true), ct).ConfigureAwait(false);
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonObject { ["uri"] = deleted.Uri, ["existed"] = deleted.Existed });
            else
                Console.WriteLine(deleted.Existed ? $"deleted {deleted.Uri}" : $"{deleted.Uri} was not there; nothing to delete");
            return 0;
        }));
        return command;
    }

    private static Command LinkCommand()
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key[?versionId=…] (or a package entry's quilt+s3 URI)." };
        var expires = new Option<int?>("--expires") { Description = "Seconds the link works; default 3600, at most 7 days (604800)." };
        var command = new Command("link", "Print a URL that downloads the object without credentials until it expires (a presigned GET on S3).")
        {
            uri, expires, CliSupport.Catalog, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var objects = CliSupport.Operations(parse, withCatalog: true).Objects;
            var source = await objects.ReadableAsync(parse.GetValue(uri), "uri", ct).ConfigureAwait(false);
            var link = await objects.LinkAsync(source, parse.GetValue(expires), ct).ConfigureAwait(false);
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["uri"] = link.Uri, ["url"] = link.Url, ["expires_at"] = link.ExpiresAt.ToString("O"), ["catalog_url"] = link.CatalogUrl, ["note"] = link.Note,
                });
                return 0;
            }
            Console.WriteLine(link.Url);
            if (link.CatalogUrl is { } page)
                Console.WriteLine(page);
            if (link.Note is { } note)
                Console.Error.WriteLine("note: " + note);
            return 0;
        }));
        return command;
    }
}
