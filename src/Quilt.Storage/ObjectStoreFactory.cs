using Quilt.Storage.Local;
using Quilt.Storage.S3;

namespace Quilt.Storage;

public static class ObjectStoreFactory
{
    /// <summary>
    /// The store the settings name: a local folder (created if missing) or S3, which journals its multipart uploads in the
    /// user's state folder and, in the background, aborts those a killed process left (see <see cref="MultipartJournal"/>).
    /// </summary>
    public static IObjectStore Create(StorageSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        return settings.Kind switch
        {
            StorageKind.S3 => new S3ObjectStore(new S3StoreOptions
            {
                Region = settings.Region,
                EndpointUrl = settings.EndpointUrl,
                Profile = settings.Profile,
                ForcePathStyle = settings.ForcePathStyle,
                UploadJournalFolder = MultipartJournal.DefaultFolder,
            }),
            _ => new LocalFolderStore(settings.LocalRoot ?? StorageSettings.DefaultLocalRoot),
        };
    }
}
