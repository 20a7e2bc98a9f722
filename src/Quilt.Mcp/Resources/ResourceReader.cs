using System.Text.Json;
using ModelContextProtocol.Protocol;
using Quilt.Core;
using Quilt.Mcp.Configuration;
using Quilt.Operations;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Mcp.Resources;

/// <summary>
/// Everything the resources serve, read one way for resources/read and for the get_resource tool: objects and package
/// entries (their bytes, hash-checked when an entry is read whole, within the inline limit), a package revision's
/// summary, and the server's own static resources. Failures are the operations' exceptions: each front end maps them.
/// </summary>
public sealed class ResourceReader(ResourceOperations operations, ServerSettings settings, ResourceSubscriptionOptions subscriptionOptions)
{
    public const string StaticScheme = "quilt-mcp://";
    public const string BucketsUri = StaticScheme + "buckets";
    public const string IdentityUri = StaticScheme + "identity";
    public const string LimitsUri = StaticScheme + "limits";
    public const string SyntaxUri = StaticScheme + "syntax";

    /// <summary>Package summaries listed per page of resources/list (the first page also holds the static resources).</summary>
    public const int PackagesPerPage = 100;

    private const string Json = "application/json";

    private const string TooLargeAdvice = "A resource is read whole: use bucket_object_fetch (or package_entry_fetch) with 'destination' to stream it "
        + "to a file, or bucket_object_text to read part of it or preview it.";

    public ResourceOperations Operations { get; } = operations;

    /// <summary>The static resources: they exist whatever the storage holds.</summary>
    public static IReadOnlyList<Resource> StaticResources { get; } =
    [
        new() { Uri = BucketsUri, Name = "buckets", Title = "Buckets this server may use", MimeType = Json,
            Description = "The buckets this server may use and what the caller may do in them (registry mode: as the registry lists them for your role)." },
        new() { Uri = IdentityUri, Name = "identity", Title = "Current identity", MimeType = Json,
            Description = "The storage in use and, in registry mode, the current user and role. Never keys or tokens." },
        new() { Uri = LimitsUri, Name = "limits", Title = "Server limits", MimeType = Json,
            Description = "Inline, text and message sizes, page sizes, read-only and the subscription limits." },
        new() { Uri = SyntaxUri, Name = "syntax", Title = "URI and filter syntax", MimeType = "text/markdown",
            Description = "The object and package URIs, revisions, and the listing filters this server understands." },
    ];

    /// <summary>The URI templates of objects, package entries and package summaries; the URIs the tools return fill them.</summary>
    public static IReadOnlyList<ResourceTemplate> Templates { get; } =
    [
        new() { UriTemplate = "s3://{bucket}/{+key}", Name = "object", Title = "Object in a bucket",
            Description = "An object's bytes: text, or base64 for binary data, up to the inline limit (quilt-mcp://limits). Add ?versionId=ID for an older version." },
        new() { UriTemplate = "quilt+s3://{bucket}#package={+name}@{hash}&path={+key}", Name = "package-entry", Title = "Entry of a package revision",
            Description = "A package entry's bytes, checked against the size and hash its manifest records." },
        new() { UriTemplate = "quilt+s3://{bucket}#package={+name}&path={+key}", Name = "package-entry-latest", Title = "Entry of a package's latest revision",
            Description = "The entry as the package's latest revision has it; subscribe to hear when it changes." },
        new() { UriTemplate = "quilt+s3://{bucket}#package={+name}@{hash}", Name = "package-revision", Title = "Package revision summary", MimeType = Json,
            Description = "A revision's message, metadata, entry count, total size and top-level folders." },
        new() { UriTemplate = "quilt+s3://{bucket}#package={+name}", Name = "package", Title = "Package summary (latest)", MimeType = Json,
            Description = "The summary of a package's latest revision; subscribe to hear when latest moves." },
    ];

    /// <summary>One page of resources: the static ones first, then a page of the default registry's packages, when there is one.</summary>
    public async Task<ListResourcesResult> ListAsync(string? cursor, CancellationToken cancellationToken)
    {
        var resources = cursor is null ? StaticResources.ToList() : [];
        string? next = null;
        try
        {
            // Names only: a listing reads no revision (package_list reads each one's latest manifest).
            var page = PageRequest.Of(PackagesPerPage, cursor, "cursor");
            var (registry, names) = await Operations.Packages.NamesAsync(null, null, cancellationToken);
            resources.AddRange(names.Skip(page.Offset).Take(page.Size).Select(name => new Resource
            {
                Uri = new QuiltUri { Bucket = registry, PackageName = name }.ToString(),
                Name = name,
                Title = $"Package {name} (latest)",
                MimeType = Json,
            }));
            next = page.NextCursor(names.Count);
        }
        catch (Exception e) when (cursor is null && e is OperationException or StorageException or PackageException)
        {
            // No default registry (or it cannot be listed): the static resources alone. A later page was asked for by
            // cursor, so its failure is the caller's to see.
        }
        return new ListResourcesResult { Resources = resources, NextCursor = next };
    }

    /// <summary>Reads a resource whole: text for text-like types, base64 otherwise, with its MIME type.</summary>
    public async Task<ResourceContents> ReadAsync(string? uri, CancellationToken cancellationToken)
    {
        var text = ObjectUriResolver.Require(uri, "uri");
        if (text.StartsWith(StaticScheme, StringComparison.Ordinal))
            return await ReadStaticAsync(text, cancellationToken);
        if (ResourceOperations.IsPackageUri(text))
        {
            var summary = await Operations.PackageSummaryAsync(text, cancellationToken);
            return JsonContents(text, summary, ResourceJsonContext.Default.PackageSummaryResult);
        }
        if (!QuiltUri.IsQuiltUri(text) && !text.StartsWith("s3://", StringComparison.Ordinal))
        {
            throw new OperationException($"uri '{text}' is not a resource this server serves. Give s3://bucket/key, "
                + "quilt+s3://bucket#package=user/name[@hash][&path=key], or one of resources/list's quilt-mcp:// URIs.");
        }
        var objects = Operations.Objects;
        var source = await objects.ReadableAsync(text, "uri", cancellationToken);
        var (result, bytes) = await objects.FetchInlineAsync(source, TooLargeAdvice, cancellationToken);
        var mimeType = ContentTypes.Essence(result.ContentType);
        return ContentTypes.IsText(result.ContentType) && Tools.BucketReadTools.TryUtf8(bytes) is { } decoded
            ? new TextResourceContents { Uri = text, MimeType = mimeType, Text = decoded }
            : BlobResourceContents.FromBytes(bytes, text, mimeType);
    }

    /// <summary>A mark of what <paramref name="uri"/> holds now (see <see cref="ResourceOperations.ChangeMarkAsync"/>); the static resources that never change are refused.</summary>
    public async Task<string> ChangeMarkAsync(string? uri, CancellationToken cancellationToken)
    {
        var text = ObjectUriResolver.Require(uri, "uri");
        if (text == BucketsUri)
            return JsonSerializer.Serialize(await Operations.BucketsAsync(cancellationToken), ResourceJsonContext.Default.ServerBucketsResult);
        if (text.StartsWith(StaticScheme, StringComparison.Ordinal))
        {
            _ = await ReadStaticAsync(text, cancellationToken);
            throw new OperationException($"{text} does not change while the server runs: read it again instead of subscribing.");
        }
        return await Operations.ChangeMarkAsync(text, cancellationToken);
    }

    private async Task<ResourceContents> ReadStaticAsync(string uri, CancellationToken cancellationToken) => uri switch
    {
        BucketsUri => JsonContents(uri, await Operations.BucketsAsync(cancellationToken), ResourceJsonContext.Default.ServerBucketsResult),
        IdentityUri => JsonContents(uri, await Operations.IdentityAsync(cancellationToken), ResourceJsonContext.Default.ServerIdentityResult),
        LimitsUri => JsonContents(uri, Limits(), ResourceJsonContext.Default.ServerLimits),
        SyntaxUri => new TextResourceContents { Uri = uri, MimeType = "text/markdown", Text = Syntax },
        _ => throw new OperationException($"uri '{uri}' is not one of this server's resources: use {string.Join(", ", StaticResources.Select(r => r.Uri))}."),
    };

    private ServerLimits Limits()
    {
        var subscriptions = settings.Http is null;
        return new ServerLimits(settings.MaxInlineBytes, settings.MaxTextBytes, Math.Min(ObjectOperations.DefaultTextBytes, settings.MaxTextBytes),
            settings.MaxMessageBytes, PageRequest.MaxSize, 100, ObjectOperations.MaxObjectsPerPut, settings.ReadOnly, settings.AllowedBuckets,
            settings.LocalFilesAllowed, subscriptions ? ResourceSubscriptions.MaxSubscriptions : 0,
            subscriptions ? (int)Math.Ceiling(subscriptionOptions.PollInterval.TotalSeconds) : null);
    }

    private static TextResourceContents JsonContents<T>(string uri, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        new() { Uri = uri, MimeType = Json, Text = JsonSerializer.Serialize(value, type) };

    private const string Syntax = """
        # URIs and filters this server understands

        ## Objects
        - `s3://bucket/key`: an object (keys percent-encoded as quilt3 writes them); `s3://bucket/key?versionId=ID` for an older version.
        - `quilt+s3://bucket#path=key` also names an object.

        ## Packages
        - `quilt+s3://bucket#package=user/name`: the package at its latest revision.
        - `@TOPHASH` after the name pins a revision: `quilt+s3://bucket#package=user/name@TOPHASH`.
        - `:TAG` after the name reads a pointer file, such as `:latest` or a revision's unix timestamp.
        - `&path=key` names one entry: `quilt+s3://bucket#package=user/name@TOPHASH&path=data/file.csv`.
        - Tools that take a `revision` argument accept `latest`, a top hash, a unique prefix of 6 or more of its characters, or `:TAG`.

        ## Resources
        - resources/read (or the get_resource tool) reads an object or entry whole, within the inline limit (quilt-mcp://limits):
          text for text types, base64 otherwise. A package URI without `&path=` reads the revision's summary (JSON).
        - resources/subscribe, or subscriptions/listen (stdio only), reports when an object, an entry at latest, or a package's latest revision changes.

        ## Listing filters
        - bucket_objects_list: `prefix` keeps keys that start with it; `delimiter` `/` shows one folder level.
        - package_list: `filter` keeps package names that contain the text, ignoring case. For full-text search, use search_packages.

        ## Search (search_packages, search_objects)
        - Words must all match (AND is the default); case and accents do not matter: `cell atlas`, `zurich` finds "Zürich".
        - `"single cell"`: a phrase. `gene*`: a prefix (only at a word's end).
        - `OR`, `AND`, `NOT` (upper case), `-word`, and parentheses: `(rna OR dna) -draft`.
        - `field:value` searches one field. Packages: `name`, `comment` (or `message`), `meta`, `meta.<path>` (`meta.experiment.lab:north`),
          `workflow`, `entry` (entry keys and entry metadata). Objects: `key`, `ext` (`ext:csv`), `content` (the first 64 KiB of small text files).
        - `\` escapes the next character (`a\:b`); quote words with `:` or `*` to search them literally.
        - Filters beside the query: name/key (exact, or `*` and `?` wildcards), workflow, extensions, size and modified ranges, latestOnly,
          and typed metadata filters `{path: "/experiment/temperature", gte: 10, lte: 20}`, `{path: "/lab", terms: ["north"]}`,
          `{path: "/date", gte: "2024-01-01"}`, `{path: "/note", text: "words"}`, `{path: "/approved", value: true}`.
        - Results carry facets (the metadata fields seen, with types and ranges) to refine with, and a cursor for the next page.
        """;
}
