using System.ComponentModel;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Quilt.Mcp.Prompts;

/// <summary>
/// The workflows people run, as prompts: each names the tools to call, in order, with the arguments filled in from the
/// prompt's own. Argument names match the completions (bucket, registry, package, revision, from, to, prefix).
/// </summary>
[McpServerPromptType]
public sealed class QuiltPrompts
{
    [McpServerPrompt(Name = "explore_bucket", Title = "Explore a bucket")]
    [Description("Find out what a bucket holds: its folders, file types and sizes, and the Quilt packages in it.")]
    public static string ExploreBucket(
        [Description("The bucket to explore (see buckets_list).")] string bucket,
        [Description("A folder to start in, such as 'raw/2024/'; default the whole bucket.")] string? prefix = null)
    {
        var name = Required(bucket, "bucket");
        var folder = prefix?.Trim() ?? "";
        var where = $"s3://{name}/{folder}";
        return $"""
            Explore {where} and tell me what it holds. Call these tools in order:
            1. bucket_objects_list with bucket "{name}"{(folder.Length == 0 ? "" : $", prefix \"{folder}\"")} and delimiter "/": the top folder level. Go one level down into the main folders (prefix = a folder from 'folders'); when 'truncated' is true, continue with cursor = nextCursor, but stop after about 5 pages per folder.
            2. bucket_object_text (format "auto") on a few representative files: CSV/TSV, JSON, JSON Lines and Parquet files come back as previews (columns and first rows); for any other file use bucket_object_info for its size, type and metadata.
            3. package_list with registry "{name}": the Quilt packages kept in this bucket. For the most relevant ones, package_revisions (limit 5) and package_browse.
            Then summarize: the folder layout, the kinds of files (formats, typical sizes, counts), what the data seems to be about, and the packages with their latest message. Do not change anything.
            """;
    }

    [McpServerPrompt(Name = "summarize_package", Title = "Summarize a package")]
    [Description("Describe a Quilt package revision: purpose, layout, metadata, size and history.")]
    public static string SummarizePackage(
        [Description("The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The registry bucket holding it, when package is a plain name.")] string? registry = null,
        [Description("The revision: 'latest' (default) or a top hash.")] string? revision = null)
    {
        var name = Required(package, "package");
        var args = Arguments(("package", name), ("registry", registry), ("revision", revision));
        return $"""
            Summarize the Quilt package {name}{(revision is { Length: > 0 } ? $" at revision {revision}" : "")}. Call these tools in order:
            1. package_revisions with {Arguments(("package", name), ("registry", registry))} and limit 10: its history (who changed it, when, why).
            2. package_browse with {args}: the top folder level, the revision's message and package metadata. Browse into the main folders (path = a folder) to see the layout.
            3. package_entry_text with {args} and path = a README or other documentation entry, if there is one; then on two or three representative data files (CSV, JSON, Parquet come back as previews).
            Then summarize: what the package is for, its folder layout, the kinds and sizes of its files, its metadata, and how it has changed recently. Do not change anything.
            """;
    }

    [McpServerPrompt(Name = "publish_package", Title = "Publish results as a package")]
    [Description("Publish files (local paths or s3:// URIs) as a new Quilt package revision, with a name, a message and metadata.")]
    public static string PublishPackage(
        [Description("The package name: user/name, such as 'team/results'.")] string package,
        [Description("What goes in: local files or folders (absolute paths) and s3:// objects or prefixes, separated by commas.")] string sources,
        [Description("The revision message: what these results are and how they were made.")] string message,
        [Description("Package metadata as a JSON object, such as {\"experiment\": \"E12\"}; default none.")] string? metadata = null,
        [Description("The registry bucket to publish in; default the server's registry bucket.")] string? registry = null)
    {
        var name = Required(package, "package");
        var text = Required(message, "message");
        var items = Required(sources, "sources").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var meta = metadata is { Length: > 0 } ? JsonObjectText(metadata) : null;
        var sourceList = string.Join(", ", items.Select(s => $"{{\"uri\": {JsonSerializer.Serialize(s, Models.ToolJson.Options.GetTypeInfo(typeof(string)))}}}"));
        return $"""
            Publish these results as the Quilt package {name}{(registry is { Length: > 0 } ? $" in registry bucket {registry}" : "")}: {string.Join(", ", items)}. Call these tools in order:
            1. package_revisions with {Arguments(("package", name), ("registry", registry))} and limit 1. If the package already exists, stop and ask me whether to add a revision with package_patch (changing only what is new) or to replace its contents with package_create and overwrite true.
            2. package_create with {Arguments(("package", name), ("registry", registry))}, sources [{sourceList}] (a folder's files keep their paths below it; give a logicalKey to place an item elsewhere), message {JsonSerializer.Serialize(text, Models.ToolJson.Options.GetTypeInfo(typeof(string)))}{(meta is null ? "" : $" and metadata {meta}")}.
            3. package_browse with {Arguments(("package", name), ("registry", registry))}: check that every entry arrived.
            Then report the new revision's top hash, its entry count and size, and its catalog link if the result has one.
            """;
    }

    [McpServerPrompt(Name = "compare_revisions", Title = "Compare two revisions")]
    [Description("Explain what changed between two revisions of a package: entries added, removed and modified, message and metadata.")]
    public static string CompareRevisions(
        [Description("The package: user/name, or quilt+s3://bucket#package=user/name.")] string package,
        [Description("The older revision (top hash or prefix); default the one before 'to'.")] string? from = null,
        [Description("The newer revision; default 'latest'.")] string? to = null,
        [Description("The registry bucket holding it, when package is a plain name.")] string? registry = null)
    {
        var name = Required(package, "package");
        return $"""
            Compare two revisions of the Quilt package {name}: {(from is { Length: > 0 } ? from : "the previous revision")} and {(to is { Length: > 0 } ? to : "latest")}. Call these tools in order:
            1. package_revisions with {Arguments(("package", name), ("registry", registry))} and limit 20: find both revisions, their times and messages.
            2. package_diff with {Arguments(("package", name), ("registry", registry), ("from", from), ("to", to))}: the entries added, removed and modified, and whether the message or metadata changed.
            3. For the two or three most important modified entries, package_entry_text with path = the entry and revision = each of the two top hashes, to see how the content changed.
            Then explain the change in plain words: what was added, removed and changed, and why it matters. Do not change anything.
            """;
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new McpException($"The prompt needs '{name}'. Give it and get the prompt again.") : value.Trim();

    /// <summary>Tool arguments as the prompt's text names them: package "team/data", registry "bucket" (leaving out those not given).</summary>
    private static string Arguments(params (string Name, string? Value)[] arguments)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in arguments.Where(a => !string.IsNullOrWhiteSpace(a.Value)))
            text.Append(text.Length == 0 ? "" : ", ").Append(name).Append(' ').Append(JsonSerializer.Serialize(value!.Trim(), Models.ToolJson.Options.GetTypeInfo(typeof(string))));
        return text.ToString();
    }

    private static string JsonObjectText(string metadata)
    {
        try
        {
            using var document = JsonDocument.Parse(metadata);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
                return document.RootElement.GetRawText();
        }
        catch (JsonException)
        {
        }
        throw new McpException("metadata must be a JSON object, such as {\"experiment\": \"E12\"}. Correct it and get the prompt again.");
    }
}
