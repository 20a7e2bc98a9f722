using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Quilt.Core;
using Quilt.Core.Manifests;
using Quilt.Gateway.Configuration;
using Quilt.Gateway.Data;
using Quilt.Gateway.Policy;
using Quilt.Gateway.Storage;
using Quilt.Packages;
using Quilt.Storage;

namespace Quilt.Gateway.Services;

public sealed record BrowsingSessionInfo(string Id, DateTimeOffset Expires);

/// <summary>An object a browsing session lets the caller read, with the role to read it as.</summary>
public sealed record ScopedObject(ObjectRef Object, string Role, BrowsingSessionRecord Session);

public sealed record ObjectLink(Uri Url, DateTimeOffset Expires, ObjectInfo Info);

/// <summary>
/// Browsing sessions: time-limited read access to one bucket prefix, one object or one package revision, for the user
/// who created it. Objects inside the scope download through the gateway (with Range) or through short-lived presigned
/// GETs; anything outside is refused and audited.
/// </summary>
public sealed class BrowsingService(GatewayOptions options, RolePolicy policy, S3Access s3, AuditLog audit, IStateStore state, TimeProvider time)
{
    private const int ManifestCacheSize = 64;
    // Manifests are named by their content hash, so a cached one is never stale.
    private readonly ConcurrentDictionary<(string Bucket, string TopHash), Manifest> _manifests = new();

    public async Task<BrowsingSessionInfo> CreateAsync(Caller caller, string scope, int ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "browsingSessionCreate";
        await CheckTtlAsync(caller, Action, scope, ttl, cancellationToken).ConfigureAwait(false);
        var parsed = await ParseScopeAsync(caller, scope, cancellationToken).ConfigureAwait(false);
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.GetUtcNow();
        var record = parsed with { IdHash = Hash(id), Subject = caller.Subject, Role = caller.Role, Created = now, Expires = now.AddSeconds(ttl) };
        await audit.AllowedAsync(caller, Action, record.Scope,
            SqlGatewayStore.Details(("session", record.IdHash[..16]), ("expires", record.Expires), ("ttl", ttl)), cancellationToken).ConfigureAwait(false);
        await state.CreateSessionAsync(record, cancellationToken).ConfigureAwait(false);
        return new BrowsingSessionInfo(id, record.Expires);
    }

    public async Task<BrowsingSessionInfo> RefreshAsync(Caller caller, string id, int ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "browsingSessionRefresh";
        var session = await FindAsync(caller, Action, id, cancellationToken).ConfigureAwait(false);
        await CheckTtlAsync(caller, Action, session.Scope, ttl, cancellationToken).ConfigureAwait(false);
        var expires = time.GetUtcNow().AddSeconds(ttl);
        await audit.AllowedAsync(caller, Action, session.Scope,
            SqlGatewayStore.Details(("session", session.IdHash[..16]), ("expires", expires), ("ttl", ttl)), cancellationToken).ConfigureAwait(false);
        await state.SetSessionExpiryAsync(session.IdHash, expires, cancellationToken).ConfigureAwait(false);
        return new BrowsingSessionInfo(id, expires);
    }

    public async Task DisposeAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "browsingSessionDispose";
        var session = await FindAsync(caller, Action, id, cancellationToken, allowExpired: true).ConfigureAwait(false);
        await state.DeleteSessionAsync(session.IdHash, cancellationToken).ConfigureAwait(false);
        await audit.AllowedAsync(caller, Action, session.Scope, SqlGatewayStore.Details(("session", session.IdHash[..16])), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The object at <paramref name="path"/> (one version of it when <paramref name="versionId"/> is given; s3:// scopes
    /// only, since a package scope already pins versions) inside the session's scope; refuses (and audits) anything else.
    /// </summary>
    public async Task<ScopedObject> ResolveAsync(Caller caller, string action, string id, string path, CancellationToken cancellationToken, string? versionId = null)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var session = await FindAsync(caller, action, id, cancellationToken).ConfigureAwait(false);
        if (!caller.User.HasRole(session.Role))
            throw await DenyAsync(caller, action, session.Scope, GatewayException.Denied($"This session was created as role '{session.Role}', which is no longer granted to you."), cancellationToken).ConfigureAwait(false);

        ObjectRef obj;
        if (session.PackageName is not null)
        {
            var manifest = await ManifestAsync(session, cancellationToken).ConfigureAwait(false);
            var entry = string.IsNullOrEmpty(path) ? null : manifest.Find(path);
            if (entry is null)
                throw await DenyAsync(caller, action, session.Scope, GatewayException.Missing($"'{path}' is not an entry of {session.Scope}. Browse the package to see its logical keys.", "path"), cancellationToken).ConfigureAwait(false);
            if (versionId is not null)
                throw await DenyAsync(caller, action, session.Scope, GatewayException.Invalid("versionId is not taken in a package session: the package revision already names each entry's version.", "versionId"), cancellationToken).ConfigureAwait(false);
            if (!PhysicalKey.TryParse(entry.PhysicalKey, out var physical) || physical!.IsLocal)
                throw await DenyAsync(caller, action, session.Scope, GatewayException.Denied($"'{path}' points outside S3 ({entry.PhysicalKey}); the gateway serves only S3 objects."), cancellationToken).ConfigureAwait(false);
            obj = new ObjectRef(physical.Bucket!, physical.Path, physical.VersionId);
        }
        else
        {
            var key = session.Key is not null ? FolderOf(session.Key) + path : session.Prefix + path;
            if (ObjectKeys.Validate(key) is { } bad)
                throw await DenyAsync(caller, action, session.Scope, GatewayException.Invalid($"'{path}' is not a valid path: {bad}.", "path"), cancellationToken).ConfigureAwait(false);
            var inside = session.Key is not null ? key == session.Key : key.StartsWith(session.Prefix ?? "", StringComparison.Ordinal);
            if (!inside)
                throw await DenyAsync(caller, action, session.Scope, GatewayException.Denied($"'{path}' is outside this session's scope {session.Scope}."), cancellationToken).ConfigureAwait(false);
            obj = new ObjectRef(session.Bucket, key, string.IsNullOrEmpty(versionId) ? null : versionId);
        }

        // The role's own rights still apply inside a session (a package may point into buckets the role cannot read).
        var decision = policy.CheckObject(session.Role, obj.Bucket, obj.Key, AccessKind.Read);
        if (!decision.Allowed)
            throw await DenyAsync(caller, action, $"s3://{obj.Bucket}/{obj.Key}", GatewayException.Denied(decision.Reason!), cancellationToken).ConfigureAwait(false);
        return new ScopedObject(obj, session.Role, session);
    }

    /// <summary>A presigned GET for an object in the session, valid for <paramref name="ttl"/> seconds but never past the session.</summary>
    public async Task<ObjectLink> LinkAsync(Caller caller, string id, string path, int ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        const string Action = "browsingSessionLink";
        if (ttl < 1 || ttl > options.Browsing.MaxLinkTtlSeconds)
            throw await DenyAsync(caller, Action, null, GatewayException.Invalid($"ttl {ttl} is out of range: use 1 to {options.Browsing.MaxLinkTtlSeconds} seconds.", "ttl"), cancellationToken).ConfigureAwait(false);
        var scoped = await ResolveAsync(caller, Action, id, path, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var lifetime = TimeSpan.FromSeconds(Math.Min(ttl, Math.Max(1, (scoped.Session.Expires - now).TotalSeconds)));
        var store = s3.StoreFor(scoped.Role);
        ObjectInfo info;
        Uri url;
        try
        {
            info = await store.HeadAsync(scoped.Object, cancellationToken).ConfigureAwait(false);
            url = await store.GetDownloadUrlAsync(scoped.Object with { VersionId = scoped.Object.VersionId ?? info.VersionId }, lifetime, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException ex)
        {
            throw GatewayException.Missing(ex.Message, "path");
        }
        var expires = now + lifetime;
        await audit.AllowedAsync(caller with { Role = scoped.Role }, Action, scoped.Object.ToString(),
            SqlGatewayStore.Details(("session", scoped.Session.IdHash[..16]), ("expires", expires), ("scope", scoped.Session.Scope)), cancellationToken).ConfigureAwait(false);
        return new ObjectLink(url, expires, info);
    }

    private async Task<BrowsingSessionRecord> FindAsync(Caller caller, string action, string id, CancellationToken cancellationToken, bool allowExpired = false)
    {
        var session = string.IsNullOrEmpty(id) ? null : await state.GetSessionAsync(Hash(id), cancellationToken).ConfigureAwait(false);
        // Someone else's session is reported exactly like a missing one.
        if (session is null || session.Subject != caller.Subject)
            throw await DenyAsync(caller, action, null, GatewayException.Missing("No such browsing session of yours (it may have been disposed). Create one with browsingSessionCreate.", "id"), cancellationToken).ConfigureAwait(false);
        if (!allowExpired && time.GetUtcNow() >= session.Expires)
            throw await DenyAsync(caller, action, session.Scope, GatewayException.Denied($"The browsing session for {session.Scope} expired at {session.Expires:O}. Refresh it before it expires, or create a new one.", "id"), cancellationToken).ConfigureAwait(false);
        return session;
    }

    private async Task CheckTtlAsync(Caller caller, string action, string? scope, int ttl, CancellationToken cancellationToken)
    {
        if (ttl < 1 || ttl > options.Browsing.MaxTtlSeconds)
            throw await DenyAsync(caller, action, scope, GatewayException.Invalid($"ttl {ttl} is out of range: use 1 to {options.Browsing.MaxTtlSeconds} seconds.", "ttl"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A session record (without id, user and times) for a scope the caller's role may read.</summary>
    private async Task<BrowsingSessionRecord> ParseScopeAsync(Caller caller, string scope, CancellationToken cancellationToken)
    {
        const string Action = "browsingSessionCreate";
        BrowsingSessionRecord Record(string normalized, string bucket, string? prefix, string? key, string? package, string? hash) =>
            new("", "", "", normalized, bucket, prefix, key, package, hash, default, default);

        if (QuiltUri.IsQuiltUri(scope))
        {
            QuiltUri uri;
            try
            {
                uri = QuiltUri.Parse(scope);
            }
            catch (FormatException ex)
            {
                throw await DenyAsync(caller, Action, scope, GatewayException.Invalid(ex.Message, "scope"), cancellationToken).ConfigureAwait(false);
            }
            if (uri.PackageName is null || uri.Path is not null)
                throw await DenyAsync(caller, Action, scope, GatewayException.Invalid("A package scope names a package and no path: quilt+s3://bucket#package=user/name[@hash|:tag].", "scope"), cancellationToken).ConfigureAwait(false);
            if (!ObjectKeys.IsValidBucketName(uri.Bucket))
                throw await DenyAsync(caller, Action, scope, GatewayException.Invalid($"'{uri.Bucket}' is not a valid bucket name.", "scope"), cancellationToken).ConfigureAwait(false);
            var pointer = RegistryLayout.PointersPrefix(uri.PackageName);
            var decision = policy.CheckObject(caller, uri.Bucket, pointer, AccessKind.Read);
            if (!decision.Allowed)
                throw await DenyAsync(caller, Action, scope, GatewayException.Denied(decision.Reason!, "scope"), cancellationToken).ConfigureAwait(false);
            string topHash;
            try
            {
                var registry = new PackageRegistry(s3.StoreFor(caller.Role), uri.Bucket);
                topHash = await registry.ResolveTopHashAsync(uri.PackageName, uri.Revision, cancellationToken).ConfigureAwait(false);
            }
            catch (PackageException ex)
            {
                throw await DenyAsync(caller, Action, scope, GatewayException.Missing(ex.Message, "scope"), cancellationToken).ConfigureAwait(false);
            }
            var pinned = new QuiltUri { Bucket = uri.Bucket, PackageName = uri.PackageName, TopHash = topHash }.ToString();
            return Record(pinned, uri.Bucket, null, null, uri.PackageName, topHash);
        }

        if (!scope.StartsWith("s3://", StringComparison.Ordinal) || !PhysicalKey.TryParse(scope, out var key) || key!.VersionId is not null)
        {
            throw await DenyAsync(caller, Action, scope, GatewayException.Invalid(
                "scope must be s3://bucket/prefix/ (a folder), s3://bucket/key (one object) or quilt+s3://bucket#package=user/name[@hash].", "scope"), cancellationToken).ConfigureAwait(false);
        }
        if (!ObjectKeys.IsValidBucketName(key.Bucket))
            throw await DenyAsync(caller, Action, scope, GatewayException.Invalid($"'{key.Bucket}' is not a valid bucket name.", "scope"), cancellationToken).ConfigureAwait(false);
        var path = key.Path;
        if (ObjectKeys.ValidatePrefix(path) is { } bad)
            throw await DenyAsync(caller, Action, scope, GatewayException.Invalid($"'{scope}' is not a valid scope: {bad}.", "scope"), cancellationToken).ConfigureAwait(false);
        var isFolder = path.Length == 0 || path.EndsWith('/');
        var check = policy.CheckObject(caller, key.Bucket!, path, AccessKind.Read);
        if (!check.Allowed)
            throw await DenyAsync(caller, Action, scope, GatewayException.Denied(check.Reason!, "scope"), cancellationToken).ConfigureAwait(false);
        var normalized = PhysicalKey.S3(key.Bucket!, path).ToString();
        return isFolder ? Record(normalized, key.Bucket!, path, null, null, null) : Record(normalized, key.Bucket!, null, path, null, null);
    }

    private async Task<Manifest> ManifestAsync(BrowsingSessionRecord session, CancellationToken cancellationToken)
    {
        var cacheKey = (session.Bucket, session.TopHash!);
        if (_manifests.TryGetValue(cacheKey, out var cached))
            return cached;
        var registry = new PackageRegistry(s3.StoreFor(session.Role), session.Bucket);
        Manifest manifest;
        try
        {
            manifest = await registry.GetManifestAsync(session.TopHash!, cancellationToken).ConfigureAwait(false);
        }
        catch (PackageException ex)
        {
            throw GatewayException.Missing(ex.Message);
        }
        if (_manifests.Count >= ManifestCacheSize)
            _manifests.Clear();
        _manifests[cacheKey] = manifest;
        return manifest;
    }

    private static string FolderOf(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash < 0 ? "" : key[..(slash + 1)];
    }

    private async Task<GatewayException> DenyAsync(Caller caller, string action, string? target, GatewayException error, CancellationToken cancellationToken)
    {
        await audit.DeniedAsync(caller, action, target, error.Message, null, cancellationToken).ConfigureAwait(false);
        return error;
    }

    /// <summary>The stored form of a session id.</summary>
    public static string Hash(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
