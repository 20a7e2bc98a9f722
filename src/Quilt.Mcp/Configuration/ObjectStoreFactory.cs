using Quilt.Storage;

namespace Quilt.Mcp.Configuration;

/// <summary>Opens the object store that <see cref="StorageSettings"/> describe.</summary>
public static class ObjectStoreFactory
{
    public static IObjectStore Create(StorageSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        throw new NotImplementedException("Waiting for the storage implementations to land.");
    }
}
