using System.ComponentModel;
using System.Text.Json;

namespace Quilt.Operations.Search;

/// <summary>A typed filter on one package metadata field, flat: the type is inferred from what is set when not given.</summary>
public sealed record MetadataFilter
{
    public string? Path { get; init; }

    public string? Type { get; init; }

    [Description("number or ISO date")]
    public JsonElement? Gte { get; init; }

    [Description("number or ISO date")]
    public JsonElement? Lte { get; init; }

    public IReadOnlyList<string>? Terms { get; init; }

    public string? Wildcard { get; init; }

    public string? Text { get; init; }

    public bool? Value { get; init; }
}

/// <summary>A package search, flat (see SearchOperations).</summary>
public sealed record PackageSearchInput
{
    public string? Query { get; init; }
    public IReadOnlyList<string>? Buckets { get; init; }
    public bool LatestOnly { get; init; }
    public string? Name { get; init; }
    public string? Workflow { get; init; }
    public long? SizeMin { get; init; }
    public long? SizeMax { get; init; }
    public DateTimeOffset? ModifiedAfter { get; init; }
    public DateTimeOffset? ModifiedBefore { get; init; }
    public IReadOnlyList<MetadataFilter>? Metadata { get; init; }
    public string? Order { get; init; }
    public int PageSize { get; init; } = SearchOperations.DefaultPageSize;
    public string? Cursor { get; init; }
}

/// <summary>An object search, flat.</summary>
public sealed record ObjectSearchInput
{
    public string? Query { get; init; }
    public IReadOnlyList<string>? Buckets { get; init; }
    public string? Key { get; init; }
    public IReadOnlyList<string>? Extensions { get; init; }
    public long? SizeMin { get; init; }
    public long? SizeMax { get; init; }
    public DateTimeOffset? ModifiedAfter { get; init; }
    public DateTimeOffset? ModifiedBefore { get; init; }
    public string? Order { get; init; }
    public int PageSize { get; init; } = SearchOperations.DefaultPageSize;
    public string? Cursor { get; init; }
}

/// <summary>
/// A package revision found (its bucket and top hash are in <see cref="Uri"/>); <see cref="Matched"/> says where the
/// words were (name, message, metadata, workflow, entries), <see cref="MatchingEntries"/> the logical keys of entries
/// holding them (at most 10).
/// </summary>
public sealed record PackageSearchHit(
    string Uri, string Package, bool Latest, DateTimeOffset Modified, long Size, string? Message, IReadOnlyList<string> Matched, IReadOnlyList<string>? MatchingEntries);

/// <summary>An object found (bucket and key are in <see cref="Uri"/>); <see cref="Text"/> is the start of its indexed text.</summary>
public sealed record ObjectSearchHit(string Uri, long Size, DateTimeOffset Modified, string? Text);

/// <summary>
/// A package metadata field seen among the hits, with its type and, where it has them, its range (numbers as written,
/// dates ISO 8601) or its few values.
/// </summary>
public sealed record MetadataFacet(string Path, string Type, string? Min, string? Max, IReadOnlyList<string>? Values);

/// <summary>Facets over every hit of a package search (first page only).</summary>
/// <param name="MetadataSample">Null when <see cref="Metadata"/> describes every hit; else how many of the first hits it describes.</param>
public sealed record PackageFacets(DateTimeOffset? ModifiedMin, DateTimeOffset? ModifiedMax, long? SizeMin, long? SizeMax,
    IReadOnlyList<string> Workflows, IReadOnlyList<MetadataFacet> Metadata, bool MetadataTruncated, int? MetadataSample = null);

/// <summary>Facets over every hit of an object search (first page only).</summary>
public sealed record ObjectFacets(DateTimeOffset? ModifiedMin, DateTimeOffset? ModifiedMax, long? SizeMin, long? SizeMax, IReadOnlyList<string> Extensions);

/// <summary>One page of a package search; <see cref="Total"/> and <see cref="Facets"/> come with the first page.</summary>
public sealed record PackageSearchResult(long? Total, IReadOnlyList<PackageSearchHit> Hits, string? NextCursor, PackageFacets? Facets);

/// <summary>One page of an object search; <see cref="Total"/> and <see cref="Facets"/> come with the first page.</summary>
public sealed record ObjectSearchResult(long? Total, IReadOnlyList<ObjectSearchHit> Hits, string? NextCursor, ObjectFacets? Facets);
