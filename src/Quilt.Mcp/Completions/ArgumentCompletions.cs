using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Quilt.Operations;
using Quilt.Storage;

namespace Quilt.Mcp.Completions;

/// <summary>
/// completion/complete for prompt and resource-template arguments, chosen by the argument's name (so any template that
/// names its parts bucket, name/package, hash/revision, key/path works): buckets, package names, revisions (newest
/// first, and 'latest'), and logical keys or object keys one folder level at a time. At most <see cref="MaxValues"/>
/// values, within <see cref="TimeLimit"/>; any failure is an empty completion (a completion is a hint, never an error).
/// </summary>
internal static class ArgumentCompletions
{
    public const int MaxValues = 100;

    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(5);

    private static readonly string[] BucketArguments = ["bucket", "registry"];
    private static readonly string[] PackageArguments = ["package", "name"];
    private static readonly string[] RevisionArguments = ["revision", "hash", "tophash", "from", "to", "baserevision"];
    private static readonly string[] KeyArguments = ["key", "path", "logicalkey", "prefix"];

    public static async ValueTask<CompleteResult> HandleAsync(RequestContext<CompleteRequestParams> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var argument = request.Params?.Argument;
        if (argument is null || request.Services is not { } services)
            return Result([]);
        var context = new Dictionary<string, string>(request.Params!.Context?.Arguments ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeLimit);
        try
        {
            return Result(await ValuesAsync(services, argument.Name, argument.Value ?? "", context, timeout.Token));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Unknown bucket, no such package, storage unreachable, too slow: no suggestions, and the reason on the server's log.
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger("quilt-mcp");
            if (logger?.IsEnabled(LogLevel.Debug) == true)
                logger.LogDebug("completion of {Argument}: {Message}", argument.Name, e.Message);
            return Result([]);
        }
    }

    private static async Task<IReadOnlyList<string>> ValuesAsync(IServiceProvider services, string name, string value,
        Dictionary<string, string> context, CancellationToken ct)
    {
        var argument = name.ToLowerInvariant();
        var objects = services.GetRequiredService<ObjectOperations>();
        var packages = services.GetRequiredService<PackageOperations>();
        if (BucketArguments.Contains(argument))
            return Matching(await BucketsAsync(objects, ct), value);
        if (PackageArguments.Contains(argument))
        {
            var (_, names) = await packages.NamesAsync(First(context, BucketArguments), null, ct);
            return Matching(names, value);
        }
        if (RevisionArguments.Contains(argument) && First(context, PackageArguments) is { } package)
        {
            var target = packages.Target(package, First(context, BucketArguments));
            var revisions = await target.Registry.ListRevisionsAsync(target.Name, ct);
            return Matching(["latest", .. revisions.Select(r => r.TopHash)], value);
        }
        if (KeyArguments.Contains(argument))
        {
            if (First(context, PackageArguments) is { } entryPackage)
            {
                var target = packages.Target(entryPackage, First(context, BucketArguments), First(context, RevisionArguments));
                var (_, manifest) = await packages.Targets.BrowseAsync(target, ct);
                return NextLevel(manifest.Entries.Select(e => e.LogicalKey), value);
            }
            if (First(context, BucketArguments) is { } bucket)
                return await ObjectKeysAsync(objects, bucket, value, ct);
        }
        return [];
    }

    private static async Task<IReadOnlyList<string>> BucketsAsync(ObjectOperations objects, CancellationToken ct) =>
        objects.Policy.AllowedBuckets.Count > 0
            ? objects.Policy.AllowedBuckets
            : (await objects.Store.ListBucketsAsync(ct)).Select(b => b.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>The keys and folders (ending in '/') one level below the folder part of <paramref name="value"/>, as a listing with delimiter '/' shows them.</summary>
    private static async Task<IReadOnlyList<string>> ObjectKeysAsync(ObjectOperations objects, string bucket, string value, CancellationToken ct)
    {
        var (name, _) = objects.Uris.ForListing(bucket, "bucket");
        objects.Policy.EnsureCanRead(name, "bucket");
        // One more than is shown, so that a longer listing says it has more.
        var listing = await objects.Store.ListAsync(new ListRequest(name, value, "/", MaxValues + 1), ct);
        return [.. listing.CommonPrefixes.Concat(listing.Objects.Select(o => o.Key)).Order(StringComparer.Ordinal)];
    }

    internal static IReadOnlyList<string> NextLevel(IEnumerable<string> keys, string value)
    {
        var folder = value[..(value.LastIndexOf('/') + 1)];
        return keys
            .Where(k => k.StartsWith(value, StringComparison.Ordinal))
            .Select(k => k.IndexOf('/', folder.Length) is var slash and >= 0 ? k[..(slash + 1)] : k)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static List<string> Matching(IEnumerable<string> values, string value) =>
        [.. values.Where(v => v.StartsWith(value, StringComparison.OrdinalIgnoreCase))];

    private static string? First(Dictionary<string, string> context, string[] names) =>
        names.Select(n => context.GetValueOrDefault(n)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    private static CompleteResult Result(IReadOnlyList<string> values) => new()
    {
        Completion = new Completion { Values = [.. values.Take(MaxValues)], Total = values.Count > MaxValues ? null : values.Count, HasMore = values.Count > MaxValues },
    };
}
