using System.ComponentModel;
using System.Globalization;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Mcp.Models;
using Quilt.Mcp.Services;
using Quilt.Operations.Search;
using Quilt.Storage;

namespace Quilt.Mcp.Tools;

/// <summary>Search for packages and objects (by words, fields and typed metadata); they only read.</summary>
[McpServerToolType]
public sealed class SearchTools(SearchOperations operations)
{
    private const string QueryArgument = "Search syntax (quilt-mcp://syntax): words, \"phrase\", OR, -word, field:value, pre*.";
    private const string BucketsArgument = "Buckets to search; default the server's.";
    private const string CursorArgument = "nextCursor of the previous page.";

    [McpServerTool(Name = "search_packages", Title = "Search packages", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(PackageSearchResult))]
    [Description("Find package revisions by name, message, metadata, workflow and entry keys; filter by metadata type and range. Open hits with package_browse.")]
    public async Task<CallToolResult> SearchPackages(
        [Description(QueryArgument + " Fields: name, comment, meta, meta.<path>, workflow, entry.")] string? query = null,
        [Description(BucketsArgument)] string[]? buckets = null,
        [Description("Only each package's latest revision.")] bool latestOnly = false,
        [Description("Package name, exact or with * and ?.")] string? name = null,
        [Description("Workflow id.")] string? workflow = null,
        [Description("Min total bytes.")] long? sizeMin = null,
        [Description("Max total bytes.")] long? sizeMax = null,
        [Description("ISO time.")] DateTimeOffset? modifiedAfter = null,
        [Description("ISO time.")] DateTimeOffset? modifiedBefore = null,
        [Description("Typed filters: {path:'/a/b', gte/lte | terms/wildcard | text | value}.")] MetadataFilter[]? metadata = null,
        [Description("BEST_MATCH, NEWEST, OLDEST, LEX_ASC, LEX_DESC.")] string? order = null,
        [Description("1-100; default 20.")] int pageSize = SearchOperations.DefaultPageSize,
        [Description(CursorArgument)] string? cursor = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var progress = ProgressNotifier.For(context);
        var result = await operations.SearchPackagesAsync(new PackageSearchInput
        {
            Query = query, Buckets = buckets, LatestOnly = latestOnly, Name = name, Workflow = workflow, SizeMin = sizeMin, SizeMax = sizeMax,
            ModifiedAfter = modifiedAfter, ModifiedBefore = modifiedBefore, Metadata = metadata, Order = order, PageSize = pageSize, Cursor = cursor,
        }, progress, cancellationToken);
        await progress.FlushAsync();
        var text = new StringBuilder();
        Header(text, result.Total, result.Hits.Count, "package revision", result.NextCursor);
        foreach (var hit in result.Hits)
        {
            text.Append(CultureInfo.InvariantCulture, $"{hit.Uri} {hit.Modified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}{(hit.Latest ? " latest" : "")}");
            if (hit.Matched.Count > 0)
                text.Append(" matched ").AppendJoin(',', hit.Matched);
            if (hit.Message is { Length: > 0 } message)
                text.Append(": \"").Append(message.Length > 120 ? message[..120] + "…" : message).Append('"');
            text.Append('\n');
        }
        if (result.Facets is { Metadata.Count: > 0 } facets)
            text.Append("metadata fields: ").AppendJoin(", ", facets.Metadata.Select(f => $"{f.Path} ({f.Type})")).Append('\n');
        var content = new List<ContentBlock> { new TextContentBlock { Text = text.ToString() } };
        content.AddRange(result.Hits.Take(CompactResults.MaxLinks).Select(hit => new ResourceLinkBlock
        {
            Uri = hit.Uri,
            Name = hit.Package,
            Description = hit.Message,
        }));
        return new CallToolResult { Content = content, StructuredContent = ToolJson.ToElement(result) };
    }

    [McpServerTool(Name = "search_objects", Title = "Search objects", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false,
        UseStructuredContent = true, OutputSchemaType = typeof(ObjectSearchResult))]
    [Description("Find objects by key and by the text of small text files; filter by extension, size and time. Read hits with bucket_object_text.")]
    public async Task<CallToolResult> SearchObjects(
        [Description(QueryArgument + " Fields: key, ext, content.")] string? query = null,
        [Description(BucketsArgument)] string[]? buckets = null,
        [Description("Key, exact or with * and ?.")] string? key = null,
        [Description("Extensions, e.g. ['.csv'].")] string[]? extensions = null,
        [Description("Min bytes.")] long? sizeMin = null,
        [Description("Max bytes.")] long? sizeMax = null,
        [Description("ISO time.")] DateTimeOffset? modifiedAfter = null,
        [Description("ISO time.")] DateTimeOffset? modifiedBefore = null,
        [Description("BEST_MATCH, NEWEST, OLDEST, LEX_ASC, LEX_DESC.")] string? order = null,
        [Description("1-100; default 20.")] int pageSize = SearchOperations.DefaultPageSize,
        [Description(CursorArgument)] string? cursor = null,
        RequestContext<CallToolRequestParams>? context = null,
        CancellationToken cancellationToken = default)
    {
        var progress = ProgressNotifier.For(context);
        var result = await operations.SearchObjectsAsync(new ObjectSearchInput
        {
            Query = query, Buckets = buckets, Key = key, Extensions = extensions, SizeMin = sizeMin, SizeMax = sizeMax,
            ModifiedAfter = modifiedAfter, ModifiedBefore = modifiedBefore, Order = order, PageSize = pageSize, Cursor = cursor,
        }, progress, cancellationToken);
        await progress.FlushAsync();
        var text = new StringBuilder();
        Header(text, result.Total, result.Hits.Count, "object", result.NextCursor);
        if (result.Hits.Count > 0)
            text.Append("bytes modified uri\n");
        foreach (var hit in result.Hits)
            text.Append(CultureInfo.InvariantCulture, $"{hit.Size} {hit.Modified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {hit.Uri}\n");
        var content = new List<ContentBlock> { new TextContentBlock { Text = text.ToString() } };
        content.AddRange(result.Hits.Take(CompactResults.MaxLinks).Select(hit => new ResourceLinkBlock
        {
            Uri = hit.Uri,
            Name = hit.Uri,
            MimeType = ContentTypes.Guess(hit.Uri),
            Size = hit.Size,
        }));
        return new CallToolResult { Content = content, StructuredContent = ToolJson.ToElement(result) };
    }

    private static void Header(StringBuilder text, long? total, int shown, string noun, string? cursor)
    {
        text.Append(total is { } all
            ? string.Create(CultureInfo.InvariantCulture, $"{all} {noun}{(all == 1 ? "" : "s")} found; {shown} here")
            : string.Create(CultureInfo.InvariantCulture, $"{shown} more {noun}s"));
        text.Append(cursor is null ? ".\n" : $"; more with cursor \"{cursor}\".\n");
    }
}
