using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Quilt.Mcp.Models;
using Quilt.Operations;
using Quilt.Operations.Search;

namespace Quilt.Cli;

/// <summary>`quilt-mcp search packages|objects`: adapters over <see cref="SearchOperations"/>, the same index, syntax and messages as the MCP search tools.</summary>
internal static class SearchCommands
{
    public static Command Create()
    {
        var command = new Command("search", "Search packages (name, message, metadata, workflow, entry keys) or objects (key, text of small text files).");
        command.Subcommands.Add(PackagesCommand());
        command.Subcommands.Add(ObjectsCommand());
        return command;
    }

    private static SearchOperations Operations(ParseResult parse)
    {
        var choice = StorageOptions.Resolve(parse);
        var settings = new OperationSettings { Storage = choice.Storage, RegistryUrl = choice.RegistryUrl, DefaultRegistry = choice.RegistryBucket };
        return SearchOperations.Create(CliSupport.Connect(parse), settings, new SearchSettings());
    }

    private static Argument<string?> QueryArgument() => new("query")
    {
        Description = "Words, \"phrases\", AND/OR/NOT, -word, field:value, prefix* (see docs/search.md). Leave out to match everything.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static readonly Option<string[]> Buckets = new("--bucket") { Description = "A bucket to search (repeatable); default the server's buckets.", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<long?> SizeMin = new("--size-min") { Description = "Smallest size in bytes." };
    private static readonly Option<long?> SizeMax = new("--size-max") { Description = "Largest size in bytes." };
    private static readonly Option<DateTimeOffset?> After = new("--modified-after") { Description = "Modified at or after this ISO time." };
    private static readonly Option<DateTimeOffset?> Before = new("--modified-before") { Description = "Modified at or before this ISO time." };
    private static readonly Option<string?> Order = new("--order") { Description = "BEST_MATCH (default), NEWEST, OLDEST, LEX_ASC, LEX_DESC." };
    private static readonly Option<int> PageSize = new("--page-size") { Description = "Hits per page, 1 to 100 (default 20).", DefaultValueFactory = _ => SearchOperations.DefaultPageSize };
    private static readonly Option<string?> Cursor = new("--cursor") { Description = "The cursor a previous page printed." };

    private static Command PackagesCommand()
    {
        var query = QueryArgument();
        var latest = new Option<bool>("--latest-only") { Description = "Only each package's latest revision." };
        var name = new Option<string?>("--name") { Description = "Package name, exact or with * and ?." };
        var workflow = new Option<string?>("--workflow") { Description = "Workflow id." };
        var meta = new Option<string[]>("--meta")
        {
            Description = "A metadata filter as JSON, repeatable: '{\"path\":\"/experiment/temperature\",\"gte\":10}' (see docs/search.md).",
        };
        var command = new Command("packages", "Search package revisions.") { query, Buckets, latest, name, workflow, SizeMin, SizeMax, After, Before, meta, Order, PageSize, Cursor, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            var filters = (parse.GetValue(meta) ?? []).Select(ParseFilter).ToList();
            using var progress = new ConsoleProgress();
            var result = await Operations(parse).SearchPackagesAsync(new PackageSearchInput
            {
                Query = parse.GetValue(query), Buckets = parse.GetValue(Buckets), LatestOnly = parse.GetValue(latest), Name = parse.GetValue(name),
                Workflow = parse.GetValue(workflow), SizeMin = parse.GetValue(SizeMin), SizeMax = parse.GetValue(SizeMax), ModifiedAfter = parse.GetValue(After),
                ModifiedBefore = parse.GetValue(Before), Metadata = filters, Order = parse.GetValue(Order), PageSize = parse.GetValue(PageSize), Cursor = parse.GetValue(Cursor),
            }, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(JsonNode.Parse(ToolJson.ToElement(result).GetRawText())!);
                return 0;
            }
            if (result.Total is { } total)
                Console.WriteLine($"{total.ToString(CultureInfo.InvariantCulture)} revisions found");
            foreach (var hit in result.Hits)
            {
                Console.WriteLine($"{hit.Uri}  {hit.Modified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}{(hit.Latest ? " latest" : "")}{(hit.Matched.Count > 0 ? "  matched " + string.Join(',', hit.Matched) : "")}");
                if (hit.Message is { Length: > 0 } message)
                    Console.WriteLine($"  {message}");
            }
            if (result.NextCursor is { } next)
                Console.WriteLine($"more: --cursor {next}");
            return 0;
        }));
        return command;
    }

    private static Command ObjectsCommand()
    {
        var query = QueryArgument();
        var key = new Option<string?>("--key") { Description = "Key, exact or with * and ?." };
        var ext = new Option<string[]>("--ext") { Description = "An extension such as .csv (repeatable)." };
        var command = new Command("objects", "Search objects.") { query, Buckets, key, ext, SizeMin, SizeMax, After, Before, Order, PageSize, Cursor, CliSupport.Json };
        command.SetAction((parse, ct) => CliSupport.RunAsync(async () =>
        {
            using var progress = new ConsoleProgress();
            var result = await Operations(parse).SearchObjectsAsync(new ObjectSearchInput
            {
                Query = parse.GetValue(query), Buckets = parse.GetValue(Buckets), Key = parse.GetValue(key), Extensions = parse.GetValue(ext),
                SizeMin = parse.GetValue(SizeMin), SizeMax = parse.GetValue(SizeMax), ModifiedAfter = parse.GetValue(After), ModifiedBefore = parse.GetValue(Before),
                Order = parse.GetValue(Order), PageSize = parse.GetValue(PageSize), Cursor = parse.GetValue(Cursor),
            }, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            if (parse.GetValue(CliSupport.Json))
            {
                CliSupport.WriteJson(JsonNode.Parse(ToolJson.ToElement(result).GetRawText())!);
                return 0;
            }
            if (result.Total is { } total)
                Console.WriteLine($"{total.ToString(CultureInfo.InvariantCulture)} objects found");
            foreach (var hit in result.Hits)
                Console.WriteLine($"{hit.Size,12} {hit.Modified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {hit.Uri}");
            if (result.NextCursor is { } next)
                Console.WriteLine($"more: --cursor {next}");
            return 0;
        }));
        return command;
    }

    private static MetadataFilter ParseFilter(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new OperationException($"--meta '{json}' is not a JSON object such as {{\"path\":\"/a\",\"gte\":1}}.");
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            JsonElement? Element(string name) => root.TryGetProperty(name, out var value) ? value.Clone() : null;
            return new MetadataFilter
            {
                Path = Text("path"),
                Type = Text("type"),
                Gte = Element("gte"),
                Lte = Element("lte"),
                Terms = root.TryGetProperty("terms", out var terms) && terms.ValueKind == JsonValueKind.Array ? [.. terms.EnumerateArray().Select(t => t.ToString())] : null,
                Wildcard = Text("wildcard"),
                Text = Text("text"),
                Value = root.TryGetProperty("value", out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null,
            };
        }
        catch (JsonException e)
        {
            throw new OperationException($"--meta '{json}' is not JSON ({e.Message}).", e);
        }
    }
}
