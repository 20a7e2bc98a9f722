using System.Text.Json;

namespace Quilt.Operations.Models;

/// <summary>A package revision at a glance: what its manifest says, without listing every entry.</summary>
/// <param name="Folders">The top-level folders (at most <see cref="ResourceOperations.MaxSummaryItems"/>), each with its entry count and size.</param>
/// <param name="TopLevelFiles">How many files sit at the root; null when there are more folders than are listed (then it is not known).</param>
/// <param name="TopLevelFileKeys">The first of them (at most <see cref="ResourceOperations.MaxSummaryFileKeys"/>), in key order.</param>
/// <param name="Truncated">True when the root holds more folders than are listed.</param>
public sealed record PackageSummaryResult(
    string Package,
    string Registry,
    string TopHash,
    string Uri,
    string? Message,
    JsonElement? Metadata,
    int Entries,
    long Size,
    IReadOnlyList<PackageFolderItem> Folders,
    int? TopLevelFiles,
    IReadOnlyList<string> TopLevelFileKeys,
    bool Truncated,
    string? CatalogUrl);

/// <summary>The buckets this server may use and what the caller may do in them; never credentials.</summary>
/// <param name="Access">What the caller may do in these buckets, as far as this server knows.</param>
/// <param name="Role">Registry mode: the caller's current role, by which the registry chose the buckets listed.</param>
public sealed record ServerBucketsResult(BucketsListResult Buckets, string Access, string? Role);

/// <summary>Who and what this server works as: the storage and, in registry mode, the caller. Never a secret.</summary>
/// <param name="Storage">'local', 's3' or 'registry'.</param>
/// <param name="Location">The local root, the S3 endpoint (null for AWS's own), or the registry URL.</param>
/// <param name="Region">S3: the region configured, when one is.</param>
/// <param name="Profile">S3: the AWS profile named, when one is (its keys are never shown).</param>
/// <param name="User">Registry mode: the caller as the registry knows them.</param>
public sealed record ServerIdentityResult(string Storage, string? Location, string? Region, string? Profile, RegistryUserInfo? User, string Note);

/// <summary>The caller as a Quilt registry reports them (its <c>me</c> query).</summary>
public sealed record RegistryUserInfo(string Name, string Email, bool IsAdmin, string? Role, IReadOnlyList<string> Roles);

/// <summary>The role that acts now, every role the caller may switch to, and whether this call switched.</summary>
public sealed record RoleSwitchResult(string? Role, IReadOnlyList<string> Roles, bool Switched);
