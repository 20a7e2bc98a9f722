using Quilt.Packages;

namespace Quilt.Operations;

/// <summary>
/// What can be done to packages (list, revisions, browse, diff, create, patch, delete a revision, push, get, verify),
/// with package arguments resolved once by <see cref="PackageTargets"/> and sources by <see cref="PackageSourceResolver"/>.
/// The MCP tools and the CLI's package commands are adapters over it.
/// </summary>
public sealed class PackageOperations(PackageTargets targets, PackageSourceResolver sources, PackageService packages, OperationSettings settings)
{
    public PackageTargets Targets { get; } = targets;
    public PackageSourceResolver Sources { get; } = sources;
    public PackageService Packages { get; } = packages;
    public OperationSettings Settings { get; } = settings;
}
