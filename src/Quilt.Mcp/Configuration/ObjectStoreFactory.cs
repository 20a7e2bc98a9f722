using Quilt.Storage;
using Quilt.Storage.Local;

namespace Quilt.Mcp.Configuration;

/// <summary>Opens the object store that <see cref="StorageSettings"/> describe.</summary>
public static class ObjectStoreFactory
{
    public static IObjectStore Create(StorageSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Kind switch
        {
            StorageKind.Local => new LocalFolderStore(settings.Root!),
            _ => throw new NotSupportedException("S3 storage is not available in this build yet."),
        };
    }
}
