using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Quilt.Storage;

namespace Quilt.Registry;

/// <summary>A browsing session: read access to one S3 folder (or one object) for a while.</summary>
internal sealed record BrowsingSession(string Id, DateTimeOffset Expires, string Folder);

/// <summary>
/// Browsing sessions per caller, bucket and folder, made on first use and refreshed before they expire. A session
/// covers the object's folder (s3://bucket/folder/), so reading many objects of one folder needs one session; when the
/// role may read only the object itself, the session covers just that object.
/// </summary>
internal sealed class BrowsingSessions(RegistryApiClient client, RegistryStoreOptions options, TimeProvider time)
{
    // Registries cap session lifetimes (Quilt's default ttl is 180 s); asked for when a longer one is refused.
    private static readonly TimeSpan FallbackLifetime = TimeSpan.FromSeconds(180);
    private readonly ConcurrentDictionary<(string Caller, string Scope), BrowsingSession> _sessions = new();
    private readonly ConcurrentDictionary<(string Caller, string Bucket, string Folder), bool> _folderRefused = new();

    public static string FolderOf(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash < 0 ? "" : key[..(slash + 1)];
    }

    /// <summary>A session whose scope holds <paramref name="obj"/> and that lives at least <paramref name="atLeast"/> more.</summary>
    public async Task<BrowsingSession> ForObjectAsync(ObjectRef obj, TimeSpan atLeast, CancellationToken cancellationToken)
    {
        var caller = client.CallerKey;
        var folder = FolderOf(obj.Key);
        var scope = _folderRefused.ContainsKey((caller, obj.Bucket, folder))
            ? $"s3://{obj.Bucket}/{obj.Key}"
            : $"s3://{obj.Bucket}/{folder}";
        var needed = atLeast + options.SessionRefreshMargin;

        if (_sessions.TryGetValue((caller, scope), out var cached))
        {
            var left = cached.Expires - time.GetUtcNow();
            if (left >= needed)
                return cached;
            if (left > TimeSpan.Zero)
            {
                try
                {
                    var refreshed = await RunAsync(RegistryOperations.BrowsingSessionRefresh, "browsingSessionRefresh",
                        new JsonObject { ["id"] = cached.Id }, Longest(needed), $"refresh the browsing session for {scope}", folder, cancellationToken).ConfigureAwait(false);
                    _sessions[(caller, scope)] = refreshed;
                    return refreshed;
                }
                catch (RegistryException)
                {
                    // Gone on the registry's side (disposed, expired meanwhile): make a new one below.
                }
            }
            _sessions.TryRemove((caller, scope), out _);
        }

        BrowsingSession session;
        try
        {
            session = await CreateAsync(scope, folder, needed, cancellationToken).ConfigureAwait(false);
        }
        catch (AccessDeniedException) when (scope.EndsWith('/'))
        {
            // The role may read some keys of the folder but not all of it: ask for the one object.
            _folderRefused[(caller, obj.Bucket, folder)] = true;
            scope = $"s3://{obj.Bucket}/{obj.Key}";
            session = await CreateAsync(scope, folder, needed, cancellationToken).ConfigureAwait(false);
        }
        _sessions[(caller, scope)] = session;
        return session;
    }

    /// <summary>Forgets a session the registry no longer knows (a 404 on /browse).</summary>
    public void Forget(BrowsingSession session)
    {
        foreach (var entry in _sessions)
        {
            if (entry.Value.Id == session.Id)
                _sessions.TryRemove(entry.Key, out _);
        }
    }

    private Task<BrowsingSession> CreateAsync(string scope, string folder, TimeSpan needed, CancellationToken cancellationToken) =>
        RunAsync(RegistryOperations.BrowsingSessionCreate, "browsingSessionCreate", new JsonObject { ["scope"] = scope },
            Longest(needed), $"open a browsing session for {scope}", folder, cancellationToken);

    private TimeSpan Longest(TimeSpan needed) => needed > options.SessionLifetime ? needed : options.SessionLifetime;

    private async Task<BrowsingSession> RunAsync(string document, string field, JsonObject variables, TimeSpan lifetime, string operation, string folder,
        CancellationToken cancellationToken)
    {
        JsonObject result;
        try
        {
            result = await RunOnceAsync(document, field, variables, lifetime, operation, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryInputException ex) when (ex.Argument == "ttl" && lifetime > FallbackLifetime)
        {
            result = await RunOnceAsync(document, field, variables, FallbackLifetime, operation, cancellationToken).ConfigureAwait(false);
        }
        var expires = DateTimeOffset.Parse(result["expires"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        return new BrowsingSession(result["id"]!.GetValue<string>(), expires, folder);
    }

    private async Task<JsonObject> RunOnceAsync(string document, string field, JsonObject variables, TimeSpan lifetime, string operation, CancellationToken cancellationToken)
    {
        var vars = (JsonObject)variables.DeepClone();
        vars["ttl"] = (int)Math.Ceiling(lifetime.TotalSeconds);
        var data = await client.ExecuteAsync(document, vars, operation, cancellationToken).ConfigureAwait(false);
        return RegistryApiClient.Expect(data[field], "BrowsingSession", operation);
    }
}
