namespace Quilt.Storage;

/// <summary>Checking that an upload's content had exactly the length it was declared with.</summary>
public static class UploadStreams
{
    /// <summary>Checks that a stream with a declared length ended exactly there.</summary>
    public static async Task CheckLengthAsync(Stream content, long read, long declared, CancellationToken cancellationToken)
    {
        if (read < declared)
            throw new StorageException($"The stream ended after {read} bytes, but its length was given as {declared}. Nothing was written.");
        var probe = new byte[1];
        if (await content.ReadAsync(probe, cancellationToken) > 0)
            throw new StorageException($"The stream has more bytes than its declared length of {declared}. Nothing was written.");
    }
}
