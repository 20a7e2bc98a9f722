namespace Quilt.Operations;

/// <summary>
/// The folders on this machine that the caller lets operations read and write (an MCP client's roots). A front end
/// that has no such limit passes none; <see cref="LocalFiles.EnsureUnderRootsAsync"/> applies it.
/// </summary>
public interface ILocalRoots
{
    /// <summary>The allowed folders as absolute local paths, or null when the caller sets no limit (an empty list allows nothing).</summary>
    ValueTask<IReadOnlyList<string>?> GetAsync(CancellationToken cancellationToken);
}
