using System.CommandLine;
using System.Text.Json.Nodes;
using Quilt.Core;
using Quilt.Core.Hashing;
using Quilt.Core.Json;
using Quilt.Core.Manifests;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Cli;

/// <summary>`quilt-mcp package …`: create, push, browse, get, list, revisions, diff, verify, delete, tophash.</summary>
internal static class PackageCommands
{
    // --registry is the deprecated name (StorageOptions.Resolve notes it).
    private static readonly Option<string?> Registry = new("--registry-bucket", "--registry", "-r")
    {
        Description = "The bucket holding the packages: a bucket name or s3://bucket (env QUILT_MCP_REGISTRY; on local storage the default is 'local'). "
            + "--registry is its deprecated name.",
        Recursive = true,
    };

    private static readonly Option<string?> Revision = new("--revision")
    {
        Description = "A revision: 'latest' (default), a top hash or a unique prefix of at least 6 characters (or @hash), or :TAG for a pointer "
            + "file such as a revision's unix timestamp.",
    };

    public static Command Create()
    {
        var package = new Command("package", "Quilt data packages: create, patch, push, promote, browse, get, list, revisions, diff, link, verify, delete, tophash.");
        package.Options.Add(Registry);
        package.Subcommands.Add(CreateCommand());
        package.Subcommands.Add(PatchCommand());
        package.Subcommands.Add(PushCommand());
        package.Subcommands.Add(PromoteCommand());
        package.Subcommands.Add(BrowseCommand());
        package.Subcommands.Add(GetCommand());
        package.Subcommands.Add(ListCommand());
        package.Subcommands.Add(RevisionsCommand());
        package.Subcommands.Add(DiffCommand());
        package.Subcommands.Add(LinkCommand());
        package.Subcommands.Add(VerifyCommand());
        package.Subcommands.Add(DeleteCommand());
        package.Subcommands.Add(TopHashCommand());
        return package;
    }

    private static Argument<string> NameArgument() => new("package")
    {
        Description = "The package name (user/name), or a quilt+s3://bucket#package=user/name[@hash|:tag][&path=key] URI.",
    };

    /// <summary>The operations over the store the options name, with --registry-bucket as the bucket when a command names none.</summary>
    private static PackageOperations Open(ParseResult parse) => CliSupport.Operations(parse, parse.GetValue(Registry)).Packages;

    private static Command CreateCommand()
    {
        var name = new Argument<string>("name") { Description = "The package name, user/name." };
        var sources = new Argument<string[]>("sources")
        {
            Description = "What goes in: local files or folders, s3://bucket/key objects, s3://bucket/prefix/ prefixes. "
                + "Prefix one with KEY= to place it at that logical key or folder (e.g. data/=./out).",
            Arity = ArgumentArity.OneOrMore,
        };
        var message = new Option<string?>("--message", "-m") { Description = "The revision message." };
        var meta = new Option<string?>("--meta") { Description = "Package metadata as JSON ('null' writes \"user_meta\": null, as quilt3's set_meta(None))." };
        var entryMeta = new Option<string[]>("--entry-meta") { Description = "Metadata of one entry: KEY=JSON (repeatable; KEY=null writes \"user_meta\": null)." };
        var dirMeta = new Option<string[]>("--dir-meta")
        {
            Description = "Metadata of one folder, as quilt3's set_dir(FOLDER, meta=...): FOLDER/=JSON (repeatable; the folder must hold an entry).",
        };
        var workflow = new Option<string?>("--workflow")
        {
            Description = "The workflow of the registry's .quilt/workflows/config.yml to validate against and record (a name; '' for none). "
                + "Default: the config's default_workflow.",
        };
        var noCopy = new Option<bool>("--no-copy")
        {
            Description = "Reference the data where it is instead of copying it into the registry (local files only in a local registry: elsewhere they are copied).",
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Publish a new revision even if the package exists (its history stays)." };
        var command = new Command("create", "Create a package revision from files, folders and S3 objects, hashing them as quilt3 does.")
        {
            name, sources, message, meta, entryMeta, dirMeta, workflow, noCopy, overwrite, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var target = operations.Target(parse.GetValue(name), null, write: true);
            var userMeta = CliSupport.ParseJsonOption(parse.GetValue(meta), "--meta");
            var input = new PackageCreateInput(SourceSpecs(parse.GetValue(sources)!))
            {
                Message = parse.GetValue(message),
                Metadata = userMeta,
                NullMetadata = userMeta is null && parse.GetValue(meta) is not null,
                EntryMetadata = ParseKeyedJson(parse.GetValue(entryMeta) ?? [], "--entry-meta", "KEY=JSON"),
                EntryMetadataArgument = "--entry-meta",
                DirectoryMetadata = ParseKeyedJson(parse.GetValue(dirMeta) ?? [], "--dir-meta", "FOLDER/=JSON"),
                Workflow = CliSupport.ParseWorkflowOption(parse.GetValue(workflow)),
                Copy = !parse.GetValue(noCopy),
                // --no-copy in a local registry references local files where they are.
                AlwaysCopyLocalFiles = false,
                Overwrite = parse.GetValue(overwrite),
            };
            PackageWritten written;
            using (var progress = new ConsoleProgress())
                written = await operations.CreateAsync(target, input, progress, ct).ConfigureAwait(false);
            PrintWrite(parse, written);
            return 0;
        }));
        return command;
    }

    private static Command PatchCommand()
    {
        var name = NameArgument();
        var add = new Option<string[]>("--add")
        {
            Description = "An entry to add or replace, as create's sources: a local file or folder, s3://bucket/key or s3://bucket/prefix/, "
                + "optionally KEY=SOURCE (repeatable).",
        };
        var remove = new Option<string[]>("--remove") { Description = "A logical key or folder to remove (repeatable)." };
        var rename = new Option<string[]>("--rename") { Description = "An entry to rename: OLD=NEW (repeatable)." };
        var message = new Option<string?>("--message", "-m") { Description = "The new revision's message." };
        var meta = new Option<string?>("--meta") { Description = "New package metadata as JSON (leave out to keep it; 'null' writes \"user_meta\": null)." };
        var entryMeta = new Option<string[]>("--entry-meta")
        {
            Description = "New metadata of an entry the package has: KEY=JSON (repeatable; KEY=null writes \"user_meta\": null).",
        };
        var dirMeta = new Option<string[]>("--dir-meta") { Description = "Metadata of one folder: FOLDER/=JSON (repeatable; null or {} removes it)." };
        var workflow = new Option<string?>("--workflow")
        {
            Description = "The workflow of the registry's config for the new revision (a name; '' for none). Default: the config's default_workflow.",
        };
        var noCopy = new Option<bool>("--no-copy") { Description = "Reference added S3 objects where they are instead of copying them into the registry." };
        var command = new Command("patch", "Publish a new revision of an existing package from its latest (or --revision) revision, with the changes given; "
            + "everything not named stays as it was.")
        {
            name, Revision, add, remove, rename, message, meta, entryMeta, dirMeta, workflow, noCopy, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var target = operations.Target(parse.GetValue(name), null, parse.GetValue(Revision), write: true);
            var userMeta = CliSupport.ParseJsonOption(parse.GetValue(meta), "--meta");
            var renames = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in parse.GetValue(rename) ?? [])
            {
                var eq = item.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || eq == item.Length - 1)
                    throw new ArgumentException($"--rename '{item}' must be OLD=NEW.");
                renames[item[..eq]] = item[(eq + 1)..];
            }
            var input = new PackagePatchInput
            {
                Add = SourceSpecs(parse.GetValue(add) ?? []),
                Remove = parse.GetValue(remove) ?? [],
                Rename = renames,
                EntryMetadata = ParseKeyedJson(parse.GetValue(entryMeta) ?? [], "--entry-meta", "KEY=JSON"),
                DirectoryMetadata = ParseKeyedJson(parse.GetValue(dirMeta) ?? [], "--dir-meta", "FOLDER/=JSON"),
                Message = parse.GetValue(message),
                Metadata = userMeta,
                NullMetadata = userMeta is null && parse.GetValue(meta) is not null,
                Workflow = parse.GetValue(workflow),
                Copy = !parse.GetValue(noCopy),
            };
            PackageWritten written;
            using (var progress = new ConsoleProgress())
                written = await operations.PatchAsync(target, input, progress, ct).ConfigureAwait(false);
            PrintWrite(parse, written);
            return 0;
        }));
        return command;
    }

    private static void PrintWrite(ParseResult parse, PackageWritten written)
    {
        var (registry, result, uri) = (written.Target.Registry, written.Write, written.Result.Uri);
        if (parse.GetValue(CliSupport.Json))
        {
            var json = new JsonObject
            {
                ["name"] = result.Revision.Name,
                ["registry"] = registry.Bucket,
                ["top_hash"] = result.Revision.TopHash,
                ["uri"] = uri,
                ["entries"] = result.Manifest.Entries.Count,
                ["size"] = result.Manifest.TotalSize,
            };
            if (result.ChangesFromPrevious is { } d)
            {
                json["changes"] = new JsonObject
                {
                    ["added"] = new JsonArray(d.Added.Select(e => (JsonNode)e.LogicalKey).ToArray()),
                    ["removed"] = new JsonArray(d.Removed.Select(e => (JsonNode)e.LogicalKey).ToArray()),
                    ["modified"] = new JsonArray(d.Modified.Select(e => (JsonNode)e.LogicalKey).ToArray()),
                    ["renamed"] = new JsonArray(d.Renamed.Select(r => (JsonNode)new JsonObject { ["from"] = r.Before.LogicalKey, ["to"] = r.After.LogicalKey }).ToArray()),
                    ["unchanged"] = d.Unchanged,
                };
            }
            CliSupport.WriteJson(json);
            return;
        }
        Console.WriteLine($"{result.Revision.Name}@{result.Revision.TopHash}");
        Console.WriteLine($"  {result.Manifest.Entries.Count} entries, {CliSupport.FormatSize(result.Manifest.TotalSize)}");
        Console.WriteLine($"  {uri}");
        if (result.ChangesFromPrevious is { } diff)
            Console.WriteLine($"  since the previous revision: {diff.Added.Count} added, {diff.Removed.Count} removed, {diff.Renamed.Count} renamed, {diff.Modified.Count} modified, {diff.Unchanged} unchanged");
    }

    /// <summary>
    /// KEY=SOURCE arguments as what goes in the package: local paths (made absolute from the current folder), s3://
    /// objects and prefixes, quilt+s3:// entries; KEY= places one at that logical key, or in that folder when it ends in '/'.
    /// </summary>
    private static List<PackageSourceSpec> SourceSpecs(string[] args) => args.Select(arg =>
    {
        string? key = null;
        var source = arg;
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0 && !IsStoreUri(arg) && !File.Exists(arg) && !Directory.Exists(arg))
        {
            key = arg[..eq];
            source = arg[(eq + 1)..];
        }
        return new PackageSourceSpec("source") { Uri = IsStoreUri(source) ? source : Path.GetFullPath(source), LogicalKey = key, UriName = "source" };
    }).ToList();

    private static bool IsStoreUri(string text) => text.StartsWith("s3://", StringComparison.Ordinal) || QuiltUri.IsQuiltUri(text);

    /// <summary>KEY=JSON option values by key (JSON null kept as a null value); the last of a key given twice wins.</summary>
    private static Dictionary<string, JsonNode?> ParseKeyedJson(string[] items, string optionName, string form)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new ArgumentException($"{optionName} '{item}' must be {form}.");
            result[item[..eq]] = CliSupport.ParseJsonOption(item[(eq + 1)..], optionName);
        }
        return result;
    }

    private static Command PushCommand()
    {
        var name = NameArgument();
        var to = new Option<string>("--to") { Description = "The destination registry: s3://bucket or a bucket name.", Required = true };
        var destName = new Option<string?>("--dest-name") { Description = "The name in the destination (default: the same name)." };
        var noCopy = new Option<bool>("--no-copy") { Description = "Reference the data where it is instead of copying it into the destination." };
        var destStorage = new Option<string?>("--to-storage") { Description = "Storage of the destination: local or s3 (default: the same storage)." };
        var command = new Command("push", "Copy a revision into another registry (data to <user>/<name>/<key>), verifying hashes on the way.")
        {
            name, Revision, to, destName, noCopy, destStorage, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var source = operations.Target(parse.GetValue(name), null, parse.GetValue(Revision));
            var destinationStore = parse.GetValue(destStorage) is { } kind
                ? ObjectStoreFactory.Create(StorageOptions.Read(parse) with { Kind = StorageSettings.ParseKind(kind) })
                : null;
            PackageWritten written;
            using (var progress = new ConsoleProgress())
            {
                written = await operations.PushAsync(source, parse.GetValue(to)!, destinationStore, parse.GetValue(destName),
                    !parse.GetValue(noCopy), progress, ct).ConfigureAwait(false);
            }
            PrintWrite(parse, written);
            return 0;
        }));
        return command;
    }

    private static Command PromoteCommand()
    {
        var name = NameArgument();
        var to = new Option<string>("--to") { Description = "The destination registry: s3://bucket or a bucket name.", Required = true };
        var destName = new Option<string?>("--dest-name") { Description = "The name in the destination (default: the same name)." };
        var message = new Option<string?>("--message", "-m") { Description = "The new revision's message (default: the source's)." };
        var meta = new Option<string?>("--meta") { Description = "The new revision's package metadata as JSON (default: the source's)." };
        var workflow = new Option<string?>("--workflow") { Description = "Workflow of the destination's .quilt/workflows/config.yml (\"\" for none)." };
        var noCopy = new Option<bool>("--no-copy") { Description = "Reference the data where it is (not through a registry, which always copies)." };
        var command = new Command("promote", "Promote a revision to another registry (or name) as a new revision there, data copied to <user>/<name>/ "
            + "(registry mode: the registry's packagePromote).")
        {
            name, Revision, to, destName, message, meta, workflow, noCopy, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var source = operations.Target(parse.GetValue(name), null, parse.GetValue(Revision), write: true);
            PackageWritten written;
            using (var progress = new ConsoleProgress())
            {
                written = await operations.PromoteAsync(source, parse.GetValue(to)!, parse.GetValue(destName), !parse.GetValue(noCopy),
                    parse.GetValue(message), CliSupport.ParseJsonOption(parse.GetValue(meta), "--meta"), parse.GetValue(workflow), progress, ct).ConfigureAwait(false);
            }
            PrintWrite(parse, written);
            return 0;
        }));
        return command;
    }

    private static Command BrowseCommand()
    {
        var name = NameArgument();
        var prefix = new Option<string?>("--prefix") { Description = "Only entries below this logical key prefix (a folder)." };
        var command = new Command("browse", "List the entries of a revision (size, hash, logical key) and its folders' directory metadata; "
            + "a URI's &path= shows that entry or folder.") { name, Revision, prefix, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var nameOrUri = parse.GetValue(name)!;
            var operations = Open(parse);
            var target = operations.Target(nameOrUri, null, parse.GetValue(Revision));
            var (uriPath, pkg) = (target.Path, target.Name);
            if (uriPath is not null && parse.GetValue(prefix) is not null)
                throw new ArgumentException($"'{nameOrUri}' names a path (&path=) and --prefix names another; give one of them.");
            var (_, hash, manifest) = await operations.RevisionAsync(target, ct).ConfigureAwait(false);
            List<ManifestEntry> entries;
            if (uriPath is not null)
            {
                // The entry or folder the URI names, as the catalog opens it.
                entries = [.. manifest.EntriesAt(uriPath)];
                if (entries.Count == 0)
                    throw new PackageException($"'{uriPath}' is not in {pkg}@{hash[..10]}; browse the package to see its keys.");
            }
            else
            {
                // As given when entries start with it (quilt3 keeps keys such as '/abs'), else without a leading '/'.
                var p = parse.GetValue(prefix) is { } given && !manifest.Entries.Any(e => e.LogicalKey.StartsWith(given, StringComparison.Ordinal))
                    ? given.TrimStart('/') : parse.GetValue(prefix);
                entries = manifest.Entries.Where(e => p is null || e.LogicalKey.StartsWith(p, StringComparison.Ordinal)).ToList();
            }
            // The metadata of the folders the listed entries are in (quilt3's directory metadata lines).
            var dirs = manifest.DirectoryMetadata.Where(d => entries.Any(e => e.LogicalKey.StartsWith(d.LogicalKey, StringComparison.Ordinal))).ToList();
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["name"] = pkg,
                    ["top_hash"] = hash,
                    ["message"] = manifest.Message,
                    ["user_meta"] = manifest.UserMeta?.DeepClone(),
                    ["directories"] = new JsonArray(dirs.Select(d => (JsonNode)new JsonObject { ["logical_key"] = d.LogicalKey, ["meta"] = d.Meta?.DeepClone() }).ToArray()),
                    ["entries"] = new JsonArray(entries.Select(e => (JsonNode)CliSupport.EntryJson(e)).ToArray()),
                });
                return 0;
            }
            Console.WriteLine($"{pkg}@{hash}" + (manifest.Message is { } m ? $"  \"{Names.Escaped(m)}\"" : ""));
            foreach (var d in dirs)
                Console.WriteLine($"{"folder",14}  {Names.Escaped(d.LogicalKey)}  {Names.Escaped(PythonJson.Serialize(d.Meta, PythonJsonStyle.Manifest))}");
            // One line per entry: a tab or newline quilt3 allowed in a key is shown escaped, never printed as itself.
            foreach (var e in entries)
                Console.WriteLine($"{e.Size,14}  {Names.Escaped(e.LogicalKey)}");
            Console.WriteLine($"{entries.Count} entries, {CliSupport.FormatSize(entries.Sum(e => e.Size))}");
            return 0;
        }));
        return command;
    }

    private static Command GetCommand()
    {
        var name = NameArgument();
        var path = new Argument<string?>("path")
        {
            Description = "A logical key or folder to fetch (default: the URI's &path=, else the whole package).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var dest = new Option<string>("--dest", "-o") { Description = "The folder to write into (default: the current folder).", DefaultValueFactory = _ => "." };
        var command = new Command("get", "Download package entries to a local folder, verifying each hash.") { name, path, Revision, dest, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var target = operations.Target(parse.GetValue(name), null, parse.GetValue(Revision));
            var download = await operations.GetAsync(target, parse.GetValue(path), parse.GetValue(dest)!, null, ct).ConfigureAwait(false);
            var written = download.Written;
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonArray(written.Select(w => (JsonNode)w).ToArray()));
            else
                foreach (var w in written)
                    Console.WriteLine(w);
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var filter = new Option<string?>("--filter") { Description = "Only names containing this text." };
        var namesOnly = new Option<bool>("--names-only") { Description = "Only the names (no revision is read: fast for a registry of many packages)." };
        var command = new Command("list", "List the packages in a registry, each with its latest revision: time, top hash, message, entries, size.")
        {
            filter, namesOnly, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var json = parse.GetValue(CliSupport.Json);
            if (parse.GetValue(namesOnly))
            {
                var (_, names) = await operations.NamesAsync(null, parse.GetValue(filter), ct).ConfigureAwait(false);
                if (json)
                    CliSupport.WriteJson(new JsonArray(names.Select(n => (JsonNode)n).ToArray()));
                else
                    foreach (var n in names)
                        Console.WriteLine(Names.Escaped(n));
                return 0;
            }
            var rows = new JsonArray();
            string? cursor = null;
            do
            {
                var page = await operations.ListAsync(null, parse.GetValue(filter), PageRequest.Of(PageRequest.MaxSize, cursor), ct).ConfigureAwait(false);
                foreach (var p in page.Packages)
                {
                    if (json)
                    {
                        rows.Add((JsonNode)new JsonObject
                        {
                            ["name"] = p.Name, ["top_hash"] = p.TopHash, ["time"] = p.Time?.ToString("O"), ["message"] = p.Message,
                            ["user_meta"] = p.Metadata is { } m ? JsonNode.Parse(m.GetRawText()) : null, ["user_meta_truncated"] = p.MetadataTruncated,
                            ["entries"] = p.Entries, ["size"] = p.Size, ["note"] = p.Note,
                        });
                    }
                    else if (p.TopHash is null)
                    {
                        Console.WriteLine($"{p.Name}  ({p.Note})");
                    }
                    else
                    {
                        Console.WriteLine($"{p.Name}  {(p.Time is { } t ? $"{t:yyyy-MM-dd HH:mm:ss}Z" : "?"),-20}  {p.TopHash[..12]}  "
                            + $"{p.Entries} entries, {CliSupport.FormatSize(p.Size ?? 0)}" + (p.Message is { } message ? $"  \"{Names.Escaped(message)}\"" : ""));
                    }
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

    private static Command RevisionsCommand()
    {
        var name = NameArgument();
        var command = new Command("revisions", "List a package's revisions, newest first: time, top hash, message.") { name, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var history = await operations.RevisionsAsync(operations.Target(parse.GetValue(name), null), null, ct).ConfigureAwait(false);
            var rows = new JsonArray();
            foreach (var (r, manifest) in history.Revisions)
            {
                rows.Add((JsonNode)new JsonObject { ["top_hash"] = r.TopHash, ["time"] = r.Time.ToString("O"), ["message"] = manifest.Message, ["user_meta"] = manifest.UserMeta?.DeepClone() });
                if (!parse.GetValue(CliSupport.Json))
                    Console.WriteLine($"{r.Time:yyyy-MM-dd HH:mm:ss}Z  {r.TopHash}  {manifest.Message}");
            }
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(rows);
            return 0;
        }));
        return command;
    }

    private static Command DiffCommand()
    {
        var name = NameArgument();
        var from = new Argument<string>("from") { Description = "The older revision (top hash, prefix or tag)." };
        var to = new Argument<string?>("to") { Description = "The newer revision (default: latest).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("diff", "What changed between two revisions: entries added, removed, renamed, modified (with why); message and metadata.") { name, from, to, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var (a, b, d, result) = await operations.DiffAsync(operations.Target(parse.GetValue(name), null), parse.GetValue(from), parse.GetValue(to), ct).ConfigureAwait(false);
            // Every change (the tools' result lists at most 200 of each kind), each with why, as the tools give it.
            var renamed = d.Renamed.Select(PackageDiffDetails.Rename).ToList();
            var modified = d.Modified.Select(PackageDiffDetails.Change).ToList();
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["from"] = result.From,
                    ["to"] = result.To,
                    ["added"] = new JsonArray(d.Added.Select(e => (JsonNode)e.LogicalKey).ToArray()),
                    ["removed"] = new JsonArray(d.Removed.Select(e => (JsonNode)e.LogicalKey).ToArray()),
                    ["renamed"] = new JsonArray(renamed.Select(r => (JsonNode)new JsonObject
                    {
                        ["from"] = r.From, ["to"] = r.To, ["metadata"] = KeysJson(r.Metadata),
                    }).ToArray()),
                    ["modified"] = new JsonArray(modified.Select(m => (JsonNode)new JsonObject
                    {
                        ["logical_key"] = m.Path,
                        ["hash"] = m.Hash is { } h ? new JsonObject { ["from"] = h.From, ["to"] = h.To } : null,
                        ["size"] = m.Size is { } s ? new JsonObject { ["from"] = s.From, ["to"] = s.To } : null,
                        ["metadata"] = KeysJson(m.Metadata),
                    }).ToArray()),
                    ["unchanged"] = d.Unchanged,
                    ["message_changed"] = d.MessageChanged,
                    ["metadata_changed"] = d.MetadataChanged,
                    ["message"] = result.Message is { } msg ? new JsonObject { ["from"] = msg.From, ["to"] = msg.To } : null,
                    ["user_meta"] = KeysJson(result.Metadata),
                    ["workflow_changed"] = result.WorkflowChanged,
                    ["folder_metadata_changed"] = new JsonArray(PackageDiffDetails.FolderMetadataChanged(a, b).Select(k => (JsonNode)k).ToArray()),
                });
                return 0;
            }
            foreach (var e in d.Added)
                Console.WriteLine($"+ {Names.Escaped(e.LogicalKey)}");
            foreach (var e in d.Removed)
                Console.WriteLine($"- {Names.Escaped(e.LogicalKey)}");
            foreach (var r in renamed)
                Console.WriteLine($"R {Names.Escaped(r.From)} -> {Names.Escaped(r.To)}" + (r.Metadata is { } rm ? $"  metadata {KeysText(rm)}" : ""));
            foreach (var m in modified)
            {
                var why = new List<string>();
                if (m.Size is { } s)
                    why.Add($"size {s.From} -> {s.To}");
                if (m.Hash is { } h)
                    why.Add($"hash {ShortHash(h.From)} -> {ShortHash(h.To)}");
                if (m.Metadata is { } mm)
                    why.Add($"metadata {KeysText(mm)}");
                Console.WriteLine($"M {Names.Escaped(m.Path)}  {string.Join(", ", why)}");
            }
            if (result.Message is { } message)
                Console.WriteLine($"message: \"{Names.Escaped(message.From ?? "")}\" -> \"{Names.Escaped(message.To ?? "")}\"");
            if (result.Metadata is { } meta)
                Console.WriteLine($"package metadata: {KeysText(meta)}");
            if (result.WorkflowChanged)
                Console.WriteLine("workflow changed");
            if (result.FolderMetadataChanged.Count > 0)
                Console.WriteLine($"folder metadata: {string.Join(", ", result.FolderMetadataChanged.Select(Names.Escaped))}");
            Console.WriteLine($"{d.Added.Count} added, {d.Removed.Count} removed, {d.Renamed.Count} renamed, {d.Modified.Count} modified, {d.Unchanged} unchanged");
            return 0;
        }));
        return command;
    }

    private static JsonObject? KeysJson(Quilt.Operations.Models.MetadataKeyChanges? keys) => keys is null ? null : new JsonObject
    {
        ["added"] = new JsonArray(keys.Added.Select(k => (JsonNode)k).ToArray()),
        ["removed"] = new JsonArray(keys.Removed.Select(k => (JsonNode)k).ToArray()),
        ["changed"] = new JsonArray(keys.Changed.Select(k => (JsonNode)k).ToArray()),
    };

    /// <summary>Metadata keys as one line: +added -removed ~changed.</summary>
    private static string KeysText(Quilt.Operations.Models.MetadataKeyChanges keys) => string.Join(' ',
        keys.Added.Select(k => "+" + Names.Escaped(k)).Concat(keys.Removed.Select(k => "-" + Names.Escaped(k))).Concat(keys.Changed.Select(k => "~" + Names.Escaped(k))));

    // type:value, the value cut to 12 characters: enough to tell two apart on a line.
    private static string ShortHash(string? hash) => hash is null ? "" : hash.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 && hash.Length > colon + 13
        ? hash[..(colon + 13)] + "…" : hash;

    private static Command LinkCommand()
    {
        var name = NameArgument();
        var path = new Argument<string?>("path")
        {
            Description = "An entry's logical key or a folder (default: the URI's &path=, else the whole revision).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var expires = new Option<int?>("--expires") { Description = "For an entry: seconds its download URL works; default 3600." };
        var command = new Command("link", "Print links to a revision (pinned at its top hash) or an entry or folder in it: the quilt+s3 URI, "
            + "the catalog page (with --catalog) and, for an entry, a download URL.")
        {
            name, path, Revision, expires, CliSupport.Catalog, CliSupport.Json,
        };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var all = CliSupport.Operations(parse, parse.GetValue(Registry), withCatalog: true);
            var operations = all.Packages;
            var target = operations.Target(parse.GetValue(name), null, parse.GetValue(Revision));
            var link = await operations.LinkAsync(target, parse.GetValue(path), parse.GetValue(expires), all.Objects, ct).ConfigureAwait(false);
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["name"] = link.Package, ["registry"] = link.Registry, ["top_hash"] = link.TopHash, ["path"] = link.Path, ["uri"] = link.Uri,
                    ["catalog_url"] = link.CatalogUrl, ["url"] = link.Download?.Url, ["expires_at"] = link.Download?.ExpiresAt.ToString("O"),
                    ["note"] = link.Download?.Note,
                });
                return 0;
            }
            Console.WriteLine(link.Uri);
            if (link.CatalogUrl is { } page)
                Console.WriteLine(page);
            if (link.Download is { } download)
            {
                Console.WriteLine(download.Url);
                if (download.Note is { } note)
                    Console.Error.WriteLine("note: " + note);
            }
            return 0;
        }));
        return command;
    }

    private static Command VerifyCommand()
    {
        var name = NameArgument();
        var command = new Command("verify", "Re-hash every entry's data and compare with the manifest; exits 1 on any mismatch.") { name, Revision, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var target = operations.Target(parse.GetValue(name), null, parse.GetValue(Revision));
            PackageVerification verification;
            using (var progress = new ConsoleProgress())
                verification = await operations.VerifyAsync(target, progress, ct).ConfigureAwait(false);
            var (pkg, hash, result) = (target.Name, verification.TopHash, verification.Result);
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(new JsonObject
                {
                    ["top_hash"] = hash,
                    ["ok"] = result.Ok,
                    ["checked"] = result.Checked,
                    ["mismatched"] = new JsonArray(result.Mismatched.Select(k => (JsonNode)k).ToArray()),
                    ["missing"] = new JsonArray(result.Missing.Select(k => (JsonNode)k).ToArray()),
                });
            }
            else
            {
                foreach (var k in result.Mismatched)
                    Console.WriteLine($"MISMATCH {k}");
                foreach (var k in result.Missing)
                    Console.WriteLine($"MISSING  {k}");
                Console.WriteLine(result.Ok ? $"ok: {result.Checked} entries match {pkg}@{hash}" : $"{result.Mismatched.Count} mismatched, {result.Missing.Count} missing of {result.Checked}");
            }
            return result.Ok ? 0 : 1;
        }));
        return command;
    }

    private static Command DeleteCommand()
    {
        var name = NameArgument();
        var revision = new Argument<string>("revision") { Description = "The revision to delete: its top hash or a unique prefix." };
        var command = new Command("delete", "Delete one revision of a package (its pointers; 'latest' moves to the newest remaining).") { name, revision, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var operations = Open(parse);
            var deleted = await operations.DeleteRevisionAsync(operations.Target(parse.GetValue(name), null, write: true), parse.GetValue(revision), ct).ConfigureAwait(false);
            var (pkg, hash) = (deleted.Result.Package, deleted.Result.TopHash);
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonObject { ["name"] = pkg, ["deleted"] = hash, ["pointers"] = deleted.Pointers });
            else
                Console.WriteLine($"deleted {pkg}@{hash}" + (deleted.Result.Latest is null ? $" (its last revision: {pkg} is gone)" : $" (latest is now {deleted.Result.Latest})"));
            return 0;
        }));
        return command;
    }

    private static Command TopHashCommand()
    {
        var file = new Argument<string>("manifest") { Description = "A manifest file (JSON Lines)." };
        var command = new Command("tophash", "Print a manifest file's top hash as quilt3 computes it.") { file, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
                throw new ArgumentException($"'{path}' does not exist.");
            await using var stream = File.OpenRead(path);
            Manifest manifest;
            try
            {
                manifest = await ManifestReader.ReadAsync(stream, ct).ConfigureAwait(false);
            }
            catch (ManifestFormatException ex)
            {
                throw new PackageException($"'{path}' is not a valid manifest: {ex.Message}", ex);
            }
            if (parse.GetValue(CliSupport.Json))
                CliSupport.WriteJson(new JsonObject { ["top_hash"] = manifest.TopHash, ["entries"] = manifest.Entries.Count, ["size"] = manifest.TotalSize });
            else
                Console.WriteLine(manifest.TopHash);
            return 0;
        }));
        return command;
    }
}
