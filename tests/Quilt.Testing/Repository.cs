namespace Quilt.Testing;

/// <summary>The clone the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding QuiltMcp.sln above the test binaries, or null when they run from elsewhere.</summary>
    public static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "QuiltMcp.sln")))
                return dir.FullName;
        }
        return null;
    }
}
