namespace Quilt.Testing;

/// <summary>A fresh, empty folder under the system temp folder, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string? prefix = null)
    {
        var name = $"{prefix ?? "quilt-test"}-{Guid.NewGuid():N}";
        Path = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), name)).FullName;
    }

    /// <summary>The folder's absolute path.</summary>
    public string Path { get; }

    /// <summary>The absolute path of <paramref name="relative"/> inside this folder (not created).</summary>
    public string Combine(params string[] relative) => System.IO.Path.Combine([Path, .. relative]);

    public override string ToString() => Path;

    public void Dispose()
    {
        try
        {
            // Recursive delete removes symbolic links themselves, never what they point to.
            if (Directory.Exists(Path))
                Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open elsewhere: the OS temp cleanup will get it; failing the test here would hide its result.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
