using System.Text.Json;
using System.Text.Json.Serialization;
using Quilt.Operations.Models;

namespace Quilt.Mcp.Resources;

/// <summary>The JSON the resources return (source-generated, as the tools' is).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PackageSummaryResult))]
[JsonSerializable(typeof(ServerBucketsResult))]
[JsonSerializable(typeof(ServerIdentityResult))]
[JsonSerializable(typeof(ServerLimits))]
internal sealed partial class ResourceJsonContext : JsonSerializerContext;

/// <summary>The limits a client must keep within, as quilt-mcp://limits shows them.</summary>
/// <param name="MaxInlineBytes">Largest object a resource read, get_resource or an inline fetch returns, and largest inline put.</param>
/// <param name="MaxTextBytes">Largest byte range one text read takes.</param>
/// <param name="DefaultTextBytes">What a text read takes when no size is given.</param>
/// <param name="MaxMessageBytes">Longest JSON-RPC message the server reads.</param>
/// <param name="MaxSubscriptions">Most resources one session may subscribe to at once; 0 when this transport cannot notify.</param>
/// <param name="SubscriptionPollSeconds">How often a subscribed resource is looked at; null without subscriptions.</param>
public sealed record ServerLimits(
    long MaxInlineBytes,
    int MaxTextBytes,
    int DefaultTextBytes,
    int MaxMessageBytes,
    int MaxPageSize,
    int DefaultPageSize,
    int MaxObjectsPerPut,
    bool ReadOnly,
    IReadOnlyList<string> AllowedBuckets,
    bool LocalFilesAllowed,
    int MaxSubscriptions,
    int? SubscriptionPollSeconds);

/// <summary>What get_resource read; the content itself is the result's content (text, or the embedded blob).</summary>
public sealed record ResourceReadResult(
    [property: System.ComponentModel.Description("The resource read.")] string Uri,
    [property: System.ComponentModel.Description("Its MIME type.")] string? MimeType,
    [property: System.ComponentModel.Description("Bytes read.")] long Size,
    [property: System.ComponentModel.Description("True when the content is text; false for base64 in an embedded resource.")] bool Text);
